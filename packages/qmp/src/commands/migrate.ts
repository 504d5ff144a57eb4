import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `migrate`: Start migrating to `uri` (`exec:`, `unix:`, `fd:`, `tcp:`, ...); poll `query-migrate`. */
export const migrate = defineCommand({
  name: 'migrate',
  summary: 'Start migrating to `uri` (`exec:`, `unix:`, `fd:`, `tcp:`, ...); poll `query-migrate`.',
  args: z.strictObject({
    uri: z.string().min(1),
    blk: z.boolean().optional(),
    inc: z.boolean().optional(),
    detach: z.boolean().optional(),
    resume: z.boolean().optional(),
  }),
  reply: emptyReply,
});
