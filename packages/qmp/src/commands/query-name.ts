import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `query-name`: The VM name given with `-name`, if any. */
export const queryName = defineCommand({
  name: 'query-name',
  summary: 'The VM name given with `-name`, if any.',
  args: undefined,
  reply: z.looseObject({ name: z.string().optional() }),
});
