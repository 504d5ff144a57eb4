import { z } from 'zod';
import { emptyReply, qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `dump-guest-memory`: Dump guest memory to `protocol` (`file:<path>` or `fd:<name>`), optionally in the background. */
export const dumpGuestMemory = defineCommand({
  name: 'dump-guest-memory',
  summary: 'Dump guest memory to `protocol` (`file:<path>` or `fd:<name>`), optionally in the background.',
  args: z.strictObject({
    paging: z.boolean(),
    protocol: z.string().min(1),
    detach: z.boolean().optional(),
    begin: qint.optional(),
    length: qint.optional(),
    format: z.enum(['elf', 'kdump-zlib', 'kdump-lzo', 'kdump-snappy', 'win-dmp']).optional(),
  }),
  reply: emptyReply,
});
