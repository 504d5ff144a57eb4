import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `object-add`: Create a QOM object (`qom-type`, `id`, then its properties: memory backends, secrets, iothreads, ...). */
export const objectAdd = defineCommand({
  name: 'object-add',
  summary:
    'Create a QOM object (`qom-type`, `id`, then its properties: memory backends, secrets, iothreads, ...).',
  args: z.looseObject({
    'qom-type': z.string().min(1),
    id: z.string().min(1),
  }),
  reply: emptyReply,
});
