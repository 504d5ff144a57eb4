import { z } from 'zod';
import { cpuInstanceProperties, qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-cpus-fast`: Every vCPU, without interrupting them. */
export const queryCpusFast = defineCommand({
  name: 'query-cpus-fast',
  summary: 'Every vCPU, without interrupting them.',
  args: undefined,
  reply: z.array(
    z.looseObject({
      'cpu-index': qint,
      'qom-path': z.string(),
      'thread-id': qint,
      props: cpuInstanceProperties.optional(),
      target: z.string(),
    }),
  ),
});
