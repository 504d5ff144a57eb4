import { z } from 'zod';
import { qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-migrate`: Migration status (`MigrationInfo`; `status` absent before any migration). */
export const queryMigrate = defineCommand({
  name: 'query-migrate',
  summary: 'Migration status (`MigrationInfo`; `status` absent before any migration).',
  args: undefined,
  reply: z.looseObject({
    status: z.string().optional(),
    'total-time': qint.optional(),
    ram: z.looseObject({ transferred: qint, total: qint, remaining: qint }).optional(),
    'error-desc': z.string().optional(),
  }),
});
