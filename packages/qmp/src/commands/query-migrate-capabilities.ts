import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `query-migrate-capabilities`: Every migration capability and its state. */
export const queryMigrateCapabilities = defineCommand({
  name: 'query-migrate-capabilities',
  summary: 'Every migration capability and its state.',
  args: undefined,
  reply: z.array(z.looseObject({ capability: z.string(), state: z.boolean() })),
});
