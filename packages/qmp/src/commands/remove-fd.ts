import { z } from 'zod';
import { emptyReply, qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `remove-fd`: Remove a file descriptor (or a whole set) from the fd sets. */
export const removeFd = defineCommand({
  name: 'remove-fd',
  summary: 'Remove a file descriptor (or a whole set) from the fd sets.',
  args: z.strictObject({ 'fdset-id': qint.min(0), fd: qint.min(0).optional() }),
  reply: emptyReply,
});
