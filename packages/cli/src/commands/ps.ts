import { Sandbox, type SandboxInfo } from '@vmm/sandbox';
import { type Command, printJson } from '../command.js';
import { STATE_DIR_FLAG, STATE_DIR_USAGE, stateDirOf } from '../sandbox-common.js';

/** What the STATUS column says: the recorded status, or `orphaned` when a QEMU runs unrecorded. */
function psStatus(s: SandboxInfo): string {
  return s.orphan === undefined ? s.status : 'orphaned';
}

/**
 * The `vmm ps` table: one row per sandbox, columns padded to line up. An orphaned sandbox (a QEMU
 * runs for it that its state does not record, see {@link SandboxInfo.orphan}) shows STATUS
 * `orphaned` and that QEMU's pid, and gets a second, indented line with the reason.
 */
export function formatPs(list: readonly SandboxInfo[]): string {
  if (list.length === 0) return 'no sandboxes\n';
  const header = ['ID', 'STATUS', 'PID', 'VCPUS', 'MEM', 'DEVICES', 'CREATED'];
  const rows = list.map((s) => {
    const pid = s.orphan?.pid ?? s.pid;
    return [
      s.id,
      psStatus(s),
      pid === null ? '-' : String(pid),
      String(s.vcpus),
      `${s.memoryMiB}M`,
      s.devices.length === 0 ? '-' : s.devices.map((d) => d.id).join(','),
      s.createdAt.replace(/\.\d+Z$/, 'Z'),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  const out = [line(header)];
  list.forEach((s, i) => {
    out.push(line(rows[i] ?? []));
    if (s.orphan !== undefined) out.push(`  orphaned: ${s.orphan.reason} (vmm stop ${s.id} kills it)`);
  });
  return `${out.join('\n')}\n`;
}

/** `vmm ps`: the sandboxes in the state directory. */
export const command: Command = {
  name: 'ps',
  summary: 'list sandboxes (status is checked against the live process)',
  usage: `[--json] [--state-dir <dir>]

  STATUS is created, running, paused or stopped (running/paused only while the VM process lives),
  or orphaned: a QEMU runs for the sandbox although its state does not record it (the process
  managing it died while starting it); the reason follows on an indented line, and vmm stop kills it.
  --json             print the list as JSON (an orphan as "orphan": {"pid", "reason"})
${STATE_DIR_USAGE}`,
  options: { ...STATE_DIR_FLAG, json: { type: 'boolean' } },
  async run(ctx) {
    const list = await Sandbox.list({ stateDir: stateDirOf(ctx) });
    if (ctx.values.json === true) printJson(ctx.io, list);
    else ctx.io.stdout.write(formatPs(list));
    return 0;
  },
};
