import { z } from 'zod';
import { emptyReply, qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `balloon`: Set the balloon target size, in bytes (needs a balloon device). */
export const balloon = defineCommand({
  name: 'balloon',
  summary: 'Set the balloon target size, in bytes (needs a balloon device).',
  args: z.strictObject({ value: qint.min(0) }),
  reply: emptyReply,
});
