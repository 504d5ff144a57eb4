import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `qom-set`: Write a QOM property. */
export const qomSet = defineCommand({
  name: 'qom-set',
  summary: 'Write a QOM property.',
  args: z.strictObject({ path: z.string().min(1), property: z.string().min(1), value: z.unknown() }),
  reply: emptyReply,
});
