import { z } from 'zod';
import { qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-fdsets`: Every fd set and its descriptors. */
export const queryFdsets = defineCommand({
  name: 'query-fdsets',
  summary: 'Every fd set and its descriptors.',
  args: undefined,
  reply: z.array(
    z.looseObject({
      'fdset-id': qint,
      fds: z.array(z.looseObject({ fd: qint, opaque: z.string().optional() })),
    }),
  ),
});
