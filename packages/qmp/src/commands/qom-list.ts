import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `qom-list`: List the properties of a QOM object. */
export const qomList = defineCommand({
  name: 'qom-list',
  summary: 'List the properties of a QOM object.',
  args: z.strictObject({ path: z.string().min(1) }),
  reply: z.array(z.looseObject({ name: z.string(), type: z.string() })),
});
