import { z } from 'zod';
import { qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-balloon`: Current balloon size, in bytes. */
export const queryBalloon = defineCommand({
  name: 'query-balloon',
  summary: 'Current balloon size, in bytes.',
  args: undefined,
  reply: z.looseObject({ actual: qint }),
});
