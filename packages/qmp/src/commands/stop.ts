import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `stop`: Pause all vCPUs. */
export const stop = defineCommand({
  name: 'stop',
  summary: 'Pause all vCPUs.',
  args: undefined,
  reply: emptyReply,
});
