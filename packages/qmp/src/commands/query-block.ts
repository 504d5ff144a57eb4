import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `query-block`: Block devices attached to guest devices. */
export const queryBlock = defineCommand({
  name: 'query-block',
  summary: 'Block devices attached to guest devices.',
  args: undefined,
  reply: z.array(z.looseObject({ device: z.string(), qdev: z.string().optional(), locked: z.boolean() })),
});
