import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `query-commands`: Every command this QEMU accepts (used for completion). */
export const queryCommands = defineCommand({
  name: 'query-commands',
  summary: 'Every command this QEMU accepts (used for completion).',
  args: undefined,
  reply: z.array(z.looseObject({ name: z.string() })),
});
