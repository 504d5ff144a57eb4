import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `netdev_del`: Remove a network backend. */
export const netdevDel = defineCommand({
  name: 'netdev_del',
  summary: 'Remove a network backend.',
  args: z.strictObject({ id: z.string().min(1) }),
  reply: emptyReply,
});
