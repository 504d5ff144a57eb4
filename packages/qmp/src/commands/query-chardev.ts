import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `query-chardev`: Every character device backend. */
export const queryChardev = defineCommand({
  name: 'query-chardev',
  summary: 'Every character device backend.',
  args: undefined,
  reply: z.array(z.looseObject({ label: z.string(), filename: z.string(), 'frontend-open': z.boolean() })),
});
