import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `chardev-remove`: Remove a character device backend. */
export const chardevRemove = defineCommand({
  name: 'chardev-remove',
  summary: 'Remove a character device backend.',
  args: z.strictObject({ id: z.string().min(1) }),
  reply: emptyReply,
});
