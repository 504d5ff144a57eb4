import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `qmp_capabilities`: Leave capabilities-negotiation mode, optionally enabling capabilities (only `oob` exists). */
export const qmpCapabilities = defineCommand({
  name: 'qmp_capabilities',
  summary: 'Leave capabilities-negotiation mode, optionally enabling capabilities (only `oob` exists).',
  args: z.strictObject({ enable: z.array(z.enum(['oob'])).optional() }),
  reply: emptyReply,
});
