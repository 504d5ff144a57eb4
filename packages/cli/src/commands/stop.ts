import type { Command } from '../command.js';
import { attach, intFlag, positional, STATE_DIR_FLAG, STATE_DIR_USAGE } from '../sandbox-common.js';

/** `vmm stop <id>`: stop a sandbox and remove it. */
export const command: Command = {
  name: 'stop',
  summary: 'stop a sandbox (QMP quit, then SIGTERM, then SIGKILL) and remove its files',
  usage: `<id> [--grace <s>] [--state-dir <dir>]

  --grace <s>        how long each step may take before the next (default 5)
${STATE_DIR_USAGE}`,
  options: { ...STATE_DIR_FLAG, grace: { type: 'string' } },
  allowPositionals: true,
  async run(ctx) {
    const id = positional(ctx, 'stop', 0, 'id');
    const grace = intFlag(ctx, 'stop', 'grace', 0, 600);
    const sb = await attach(ctx, id);
    const r = await sb.stop({
      signal: ctx.signal,
      ...(grace === undefined ? {} : { graceMs: grace * 1000 }),
    });
    ctx.io.stdout.write(`stopped ${id} (${r.method})\n`);
    return 0;
  },
};
