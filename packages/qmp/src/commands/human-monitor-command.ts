import { z } from 'zod';
import { qint } from './_common.js';
import { defineCommand } from './_define.js';

/** `human-monitor-command`: Run an HMP command line and return its text output (see `client.hmp()`). */
export const humanMonitorCommand = defineCommand({
  name: 'human-monitor-command',
  summary: 'Run an HMP command line and return its text output (see `client.hmp()`).',
  args: z.strictObject({ 'command-line': z.string(), 'cpu-index': qint.min(0).optional() }),
  reply: z.string(),
});
