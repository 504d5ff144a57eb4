import { z } from 'zod';
import { emptyReply } from './_common.js';
import { defineCommand } from './_define.js';

/** `device_add`: Hotplug a device (`driver`, optional `id` and `bus`, then driver properties). */
export const deviceAdd = defineCommand({
  name: 'device_add',
  summary: 'Hotplug a device (`driver`, optional `id` and `bus`, then driver properties).',
  args: z
    .looseObject({
      driver: z.string().min(1),
      id: z.string().optional(),
      bus: z.string().optional(),
    })
    .catchall(
      z.union([z.string(), z.number(), z.boolean(), z.array(z.unknown()), z.record(z.string(), z.unknown())]),
    ),
  reply: emptyReply,
});
