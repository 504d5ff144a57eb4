import { z } from 'zod';
import { qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `query-version`: QEMU version (same as the greeting's). */
export const queryVersion = defineCommand({
  name: 'query-version',
  summary: "QEMU version (same as the greeting's).",
  args: undefined,
  reply: z.looseObject({
    qemu: z.looseObject({ major: qint, minor: qint, micro: qint }),
    package: z.string(),
  }),
});
