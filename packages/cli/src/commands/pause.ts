import type { Command } from '../command.js';
import { attach, positional, STATE_DIR_FLAG, STATE_DIR_USAGE } from '../sandbox-common.js';

/** `vmm pause <id>`: stop the vCPUs. */
export const command: Command = {
  name: 'pause',
  summary: "pause a sandbox's vCPUs (QMP stop)",
  usage: `<id> [--state-dir <dir>]

${STATE_DIR_USAGE}`,
  options: { ...STATE_DIR_FLAG },
  allowPositionals: true,
  async run(ctx) {
    const id = positional(ctx, 'pause', 0, 'id');
    await (await attach(ctx, id)).pause({ signal: ctx.signal });
    ctx.io.stdout.write(`paused ${id}\n`);
    return 0;
  },
};
