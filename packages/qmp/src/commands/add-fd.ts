import { z } from 'zod';
import { qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `add-fd`: Add a file descriptor (sent with SCM_RIGHTS) to an fd set, usable as `/dev/fdset/<id>`. Pass `fds: [fd]`. */
export const addFd = defineCommand({
  name: 'add-fd',
  summary:
    'Add a file descriptor (sent with SCM_RIGHTS) to an fd set, usable as `/dev/fdset/<id>`. Pass `fds: [fd]`.',
  args: z.strictObject({ 'fdset-id': qint.min(0).optional(), opaque: z.string().optional() }),
  reply: z.looseObject({ 'fdset-id': qint, fd: qint }),
});
