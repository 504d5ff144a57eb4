import { z } from 'zod';
import { cpuInstanceProperties, qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-hotpluggable-cpus`: vCPU slots that can be hotplugged, with their topology properties. */
export const queryHotpluggableCpus = defineCommand({
  name: 'query-hotpluggable-cpus',
  summary: 'vCPU slots that can be hotplugged, with their topology properties.',
  args: undefined,
  reply: z.array(
    z.looseObject({
      type: z.string(),
      'vcpus-count': qint,
      props: cpuInstanceProperties,
      'qom-path': z.string().optional(),
    }),
  ),
});
