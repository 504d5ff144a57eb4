import { z } from 'zod';
import { qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-memory-size-summary`: Base and hotplugged memory sizes. */
export const queryMemorySizeSummary = defineCommand({
  name: 'query-memory-size-summary',
  summary: 'Base and hotplugged memory sizes.',
  args: undefined,
  reply: z.looseObject({ 'base-memory': qint, 'plugged-memory': qint.optional() }),
});
