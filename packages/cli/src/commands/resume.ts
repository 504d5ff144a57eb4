import type { Command } from '../command.js';
import { attach, positional, STATE_DIR_FLAG, STATE_DIR_USAGE } from '../sandbox-common.js';

/** `vmm resume <id>`: continue the vCPUs. */
export const command: Command = {
  name: 'resume',
  summary: "resume a paused sandbox's vCPUs (QMP cont)",
  usage: `<id> [--state-dir <dir>]

${STATE_DIR_USAGE}`,
  options: { ...STATE_DIR_FLAG },
  allowPositionals: true,
  async run(ctx) {
    const id = positional(ctx, 'resume', 0, 'id');
    await (await attach(ctx, id)).resume({ signal: ctx.signal });
    ctx.io.stdout.write(`resumed ${id}\n`);
    return 0;
  },
};
