import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `getfd`: Receive a file descriptor (sent with SCM_RIGHTS on the same write) and name it. Pass `fds: [fd]` in the call options. */
export const getfd = defineCommand({
  name: 'getfd',
  summary:
    'Receive a file descriptor (sent with SCM_RIGHTS on the same write) and name it. Pass `fds: [fd]` in the call options.',
  args: z.strictObject({ fdname: z.string().min(1) }),
  reply: emptyReply,
});
