import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `migrate-set-capabilities`: Enable or disable migration capabilities. */
export const migrateSetCapabilities = defineCommand({
  name: 'migrate-set-capabilities',
  summary: 'Enable or disable migration capabilities.',
  args: z.strictObject({
    capabilities: z.array(z.strictObject({ capability: z.string().min(1), state: z.boolean() })),
  }),
  reply: emptyReply,
});
