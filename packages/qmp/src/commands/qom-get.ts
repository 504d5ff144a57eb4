import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `qom-get`: Read a QOM property (the value is whatever the property holds). */
export const qomGet = defineCommand({
  name: 'qom-get',
  summary: 'Read a QOM property (the value is whatever the property holds).',
  args: z.strictObject({ path: z.string().min(1), property: z.string().min(1) }),
  reply: z.unknown(),
});
