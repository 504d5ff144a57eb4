import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `closefd`: Close a file descriptor received with `getfd`. */
export const closefd = defineCommand({
  name: 'closefd',
  summary: 'Close a file descriptor received with `getfd`.',
  args: z.strictObject({ fdname: z.string().min(1) }),
  reply: emptyReply,
});
