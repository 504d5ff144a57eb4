import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `object-del`: Delete a QOM object created with `object-add`. */
export const objectDel = defineCommand({
  name: 'object-del',
  summary: 'Delete a QOM object created with `object-add`.',
  args: z.strictObject({ id: z.string().min(1) }),
  reply: emptyReply,
});
