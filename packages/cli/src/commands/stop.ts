import type { Command } from '../command.js';
import { attach, intFlag, positional, STATE_DIR_FLAG, STATE_DIR_USAGE } from '../sandbox-common.js';

/**
 * `vmm stop <id>`: stop a sandbox and remove it. An orphan QEMU (one `vmm ps` lists as `orphaned`)
 * is killed too (`Sandbox.stop` does it).
 */
export const command: Command = {
  name: 'stop',
  summary: 'stop a sandbox (QMP quit, then SIGTERM, then SIGKILL) and remove its files',
  usage: `<id> [--grace <s>] [--state-dir <dir>]

  An orphaned sandbox's QEMU (see vmm ps) is killed with SIGKILL.
  --grace <s>        how long each step may take before the next (default 5)
${STATE_DIR_USAGE}`,
  options: { ...STATE_DIR_FLAG, grace: { type: 'string' } },
  allowPositionals: true,
  async run(ctx) {
    const id = positional(ctx, 'stop', 0, 'id');
    const grace = intFlag(ctx, 'stop', 'grace', 0, 600);
    const sb = await attach(ctx, id);
    const orphan = sb.info().orphan;
    const r = await sb.stop({
      signal: ctx.signal,
      ...(grace === undefined ? {} : { graceMs: grace * 1000 }),
    });
    // The library killed the orphan with the rest; say so.
    const note = orphan === undefined ? '' : `; orphan QEMU pid ${orphan.pid} killed`;
    ctx.io.stdout.write(`stopped ${id} (${r.method}${note})\n`);
    return 0;
  },
};
