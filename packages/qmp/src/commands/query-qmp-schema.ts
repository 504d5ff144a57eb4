import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `query-qmp-schema`: The QAPI schema of this QEMU (`SchemaInfo[]`; use `client.schema()` for the cached helpers). */
export const queryQmpSchema = defineCommand({
  name: 'query-qmp-schema',
  summary: 'The QAPI schema of this QEMU (`SchemaInfo[]`; use `client.schema()` for the cached helpers).',
  args: undefined,
  reply: z.array(z.looseObject({ name: z.string(), 'meta-type': z.string() })),
});
