import { z } from 'zod';
import { emptyReply, qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `netdev_add`: Add a network backend (`Netdev`: tap, user, socket, stream, vhost-user, ...). */
export const netdevAdd = defineCommand({
  name: 'netdev_add',
  summary: 'Add a network backend (`Netdev`: tap, user, socket, stream, vhost-user, ...).',
  args: z.looseObject({
    type: z.string().min(1),
    id: z.string().min(1),
    /** tap: colon-separated fd names from `getfd`. */
    fds: z.string().optional(),
    fd: z.string().optional(),
    vhost: z.boolean().optional(),
    vhostfds: z.string().optional(),
    vhostfd: z.string().optional(),
    queues: qint.min(1).optional(),
    ifname: z.string().optional(),
    script: z.string().optional(),
    downscript: z.string().optional(),
    chardev: z.string().optional(),
  }),
  reply: emptyReply,
});
