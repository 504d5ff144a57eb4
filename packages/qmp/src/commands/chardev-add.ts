import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `chardev-add`: Add a character device backend (`ChardevBackend`: socket, file, pipe, null, ...). */
export const chardevAdd = defineCommand({
  name: 'chardev-add',
  summary: 'Add a character device backend (`ChardevBackend`: socket, file, pipe, null, ...).',
  args: z.strictObject({
    id: z.string().min(1),
    backend: z.strictObject({ type: z.string().min(1), data: z.record(z.string(), z.unknown()) }),
  }),
  reply: z.looseObject({ pty: z.string().optional() }),
});
