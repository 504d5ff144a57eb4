import { Sandbox, type SandboxInfo } from '@vmm/sandbox';
import { type Command, printJson } from '../command.js';
import { STATE_DIR_FLAG, STATE_DIR_USAGE, stateDirOf } from '../sandbox-common.js';

/** The `vmm ps` table. */
export function formatPs(list: readonly SandboxInfo[]): string {
  if (list.length === 0) return 'no sandboxes\n';
  const rows = [
    ['ID', 'STATUS', 'PID', 'VCPUS', 'MEM', 'DEVICES', 'CREATED'],
    ...list.map((s) => [
      s.id,
      s.status,
      s.pid === null ? '-' : String(s.pid),
      String(s.vcpus),
      `${s.memoryMiB}M`,
      s.devices.length === 0 ? '-' : s.devices.map((d) => d.id).join(','),
      s.createdAt.replace(/\.\d+Z$/, 'Z'),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n')}\n`;
}

/** `vmm ps`: the sandboxes in the state directory. */
export const command: Command = {
  name: 'ps',
  summary: 'list sandboxes (status is checked against the live process)',
  usage: `[--json] [--state-dir <dir>]

  --json             print the list as JSON
${STATE_DIR_USAGE}`,
  options: { ...STATE_DIR_FLAG, json: { type: 'boolean' } },
  async run(ctx) {
    const list = await Sandbox.list({ stateDir: stateDirOf(ctx) });
    if (ctx.values.json === true) printJson(ctx.io, list);
    else ctx.io.stdout.write(formatPs(list));
    return 0;
  },
};
