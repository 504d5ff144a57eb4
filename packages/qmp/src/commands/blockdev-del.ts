import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `blockdev-del`: Delete a top-level block node created with `blockdev-add`. */
export const blockdevDel = defineCommand({
  name: 'blockdev-del',
  summary: 'Delete a top-level block node created with `blockdev-add`.',
  args: z.strictObject({ 'node-name': z.string() }),
  reply: emptyReply,
});
