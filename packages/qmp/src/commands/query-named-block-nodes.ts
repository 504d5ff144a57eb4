import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `query-named-block-nodes`: Every named block node. */
export const queryNamedBlockNodes = defineCommand({
  name: 'query-named-block-nodes',
  summary: 'Every named block node.',
  args: undefined,
  reply: z.array(
    z.looseObject({ 'node-name': z.string(), drv: z.string(), file: z.string(), ro: z.boolean() }),
  ),
});
