import { z } from 'zod';
import { RUN_STATES } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-status`: Run state of the VM (`running`, `paused`, `prelaunch`, ...). */
export const queryStatus = defineCommand({
  name: 'query-status',
  summary: 'Run state of the VM (`running`, `paused`, `prelaunch`, ...).',
  args: undefined,
  reply: z.looseObject({
    running: z.boolean(),
    singlestep: z.boolean().optional(),
    status: z.enum(RUN_STATES),
  }),
});
