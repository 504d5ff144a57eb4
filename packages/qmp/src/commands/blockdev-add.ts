import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `blockdev-add`: Create a block node graph (`BlockdevOptions`; common members typed, the rest passed through). */
export const blockdevAdd = defineCommand({
  name: 'blockdev-add',
  summary: 'Create a block node graph (`BlockdevOptions`; common members typed, the rest passed through).',
  args: z.looseObject({
    driver: z.string(),
    'node-name': z.string().optional(),
    discard: z.enum(['ignore', 'unmap']).optional(),
    cache: z.strictObject({ direct: z.boolean().optional(), 'no-flush': z.boolean().optional() }).optional(),
    'read-only': z.boolean().optional(),
    'auto-read-only': z.boolean().optional(),
    'force-share': z.boolean().optional(),
    'detect-zeroes': z.enum(['off', 'on', 'unmap']).optional(),
    /** Protocol child: a node name or nested options (`{ driver: 'file' | 'host_device', filename, aio }`). */
    file: z.union([z.string(), z.looseObject({ driver: z.string() })]).optional(),
    filename: z.string().optional(),
    aio: z.enum(['threads', 'native', 'io_uring']).optional(),
    locking: z.enum(['auto', 'on', 'off']).optional(),
  }),
  reply: emptyReply,
});
