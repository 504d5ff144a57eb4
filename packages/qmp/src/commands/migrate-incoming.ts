import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `migrate-incoming`: Start an incoming migration on a QEMU started with `-incoming defer`. */
export const migrateIncoming = defineCommand({
  name: 'migrate-incoming',
  summary: 'Start an incoming migration on a QEMU started with `-incoming defer`.',
  args: z.strictObject({ uri: z.string().min(1) }),
  reply: emptyReply,
});
