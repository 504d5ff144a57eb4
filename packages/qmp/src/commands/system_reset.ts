import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `system_reset`: Reset the VM. */
export const systemReset = defineCommand({
  name: 'system_reset',
  summary: 'Reset the VM.',
  args: undefined,
  reply: emptyReply,
});
