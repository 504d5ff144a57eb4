import { z } from 'zod';
import { qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-dump`: Progress of a detached `dump-guest-memory`. */
export const queryDump = defineCommand({
  name: 'query-dump',
  summary: 'Progress of a detached `dump-guest-memory`.',
  args: undefined,
  reply: z.looseObject({ status: z.string(), completed: qint, total: qint }),
});
