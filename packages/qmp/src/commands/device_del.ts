import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `device_del`: Request unplug of a device; removal completes with `DEVICE_DELETED` (see `deleteDevice`). */
export const deviceDel = defineCommand({
  name: 'device_del',
  summary: 'Request unplug of a device; removal completes with `DEVICE_DELETED` (see `deleteDevice`).',
  args: z.strictObject({ id: z.string().min(1) }),
  reply: emptyReply,
});
