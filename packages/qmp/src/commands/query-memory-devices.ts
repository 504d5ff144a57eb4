import { z } from 'zod';
import { defineCommand } from './_define.js';

/** `query-memory-devices`: Plugged memory devices (pc-dimm, nvdimm, virtio-mem, ...). */
export const queryMemoryDevices = defineCommand({
  name: 'query-memory-devices',
  summary: 'Plugged memory devices (pc-dimm, nvdimm, virtio-mem, ...).',
  args: undefined,
  reply: z.array(
    z.looseObject({ type: z.string(), data: z.looseObject({ id: z.string().optional() }).optional() }),
  ),
});
