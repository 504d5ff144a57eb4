import { z } from 'zod';
import { qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-pci`: PCI buses and devices (for finding free slots). */
export const queryPci = defineCommand({
  name: 'query-pci',
  summary: 'PCI buses and devices (for finding free slots).',
  args: undefined,
  reply: z.array(
    z.looseObject({
      bus: qint,
      devices: z.array(z.looseObject({ slot: qint, function: qint, qdev_id: z.string() })),
    }),
  ),
});
