import { type HostInfo, type ReadHostInfoOptions, readHostInfo } from '@vmm/hostinfo';
import { type Command, type CommandContext, printJson } from '../command.js';

/** Flags shared by `vmm hostinfo` and `vmm check`. */
export const HOST_FLAGS = {
  json: { type: 'boolean' },
  'proc-root': { type: 'string' },
  'sys-root': { type: 'string' },
  'dev-root': { type: 'string' },
  qemu: { type: 'string' },
} as const satisfies Command['options'];

/** Usage lines for {@link HOST_FLAGS}. */
export const HOST_FLAGS_USAGE = `  --json             print JSON instead of a table
  --proc-root <dir>  read /proc files from <dir> (default /proc; for fixtures and containers)
  --sys-root <dir>   read /sys files from <dir> (default /sys)
  --dev-root <dir>   look for kvm, vhost-net, vhost-vsock in <dir> (default /dev)
  --qemu <path>      the QEMU binary to check instead of searching (also VMM_QEMU)

Environment: VMM_ACCEL=kvm|tcg forces the accelerator; VMM_QEMU names the QEMU binary.`;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `readHostInfo` options from the shared flags and the command's environment. */
export function hostInfoOptions(ctx: CommandContext): ReadHostInfoOptions {
  const o: ReadHostInfoOptions = { env: ctx.io.env, signal: ctx.signal };
  const proc = str(ctx.values['proc-root']);
  const sys = str(ctx.values['sys-root']);
  const dev = str(ctx.values['dev-root']);
  const qemu = str(ctx.values.qemu);
  if (proc !== undefined) o.procRoot = proc;
  if (sys !== undefined) o.sysRoot = sys;
  if (dev !== undefined) o.devRoot = dev;
  if (qemu !== undefined) o.qemuPath = qemu;
  return o;
}

const mib = (kib: number | null): string => (kib === null ? '?' : `${Math.floor(kib / 1024)} MiB`);
const size = (kib: number): string =>
  kib >= 1048576 ? `${kib / 1048576}G` : kib >= 1024 ? `${kib / 1024}M` : `${kib}K`;

function node(n: HostInfo['vhostNet']): string {
  if (!n.present) return `${n.path} missing`;
  const access = n.readable && n.writable ? 'read/write' : n.readable ? 'read-only' : 'no access';
  return `${n.path} present (mode ${n.mode ?? '?'}), ${access}${n.charDevice ? '' : ' (not a character device)'}`;
}

/** The facts as aligned `label  value` lines. */
export function formatHostInfo(info: HostInfo): string {
  const rows: [string, string][] = [];
  rows.push([
    'Architecture',
    `${info.arch ?? 'unsupported'} (${info.machine})${info.kernelRelease ? `, kernel ${info.kernelRelease}` : ''}`,
  ]);
  const cpu = info.cpu;
  rows.push([
    'CPU',
    cpu === null
      ? 'unknown (cpuinfo unreadable)'
      : `${cpu.count} x ${cpu.modelName ?? 'unknown model'}${cpu.vendor ? ` (${cpu.vendor})` : ''}${cpu.truncated ? ' [cpuinfo truncated]' : ''}`,
  ]);
  rows.push([
    'Virtualization',
    cpu?.virtualization ?? (info.arch === 'arm64' ? 'not shown in arm64 cpuinfo' : 'none in cpuinfo'),
  ]);
  const n = info.nested;
  rows.push([
    'Nested',
    `${n.nested === null ? 'unknown' : n.nested ? 'yes, host is a VM' : 'no'}: ${n.evidence} (Kata RunningOnVMM: ${n.kataRunningOnVmm ?? 'error'})`,
  ]);
  const m = info.memory;
  rows.push([
    'Memory',
    m === null
      ? 'unknown (meminfo unreadable)'
      : `${mib(m.totalKiB)} total, ${mib(m.availableKiB)} available, ${mib(m.swapTotalKiB)} swap`,
  ]);
  const hp = info.hugepages;
  rows.push([
    'Hugepages',
    hp.sizes.length === 0
      ? 'none'
      : `${hp.sizes.map((s) => `${size(s.sizeKiB)} ${s.free}/${s.total} free`).join(', ')}${hp.defaultSizeKiB === null ? '' : ` (default ${size(hp.defaultSizeKiB)})`}`,
  ]);
  const mods = Object.entries(info.kvm.modules)
    .filter(([, loaded]) => loaded)
    .map(([name]) => name);
  rows.push([
    'KVM device',
    `${node(info.kvm.device)}; modules: ${mods.length === 0 ? 'none' : mods.join(', ')}`,
  ]);
  rows.push(['Accelerator', `${info.accel.accel}: ${info.accel.reason}`]);
  rows.push(['vhost-net', node(info.vhostNet)]);
  rows.push(['vhost-vsock', node(info.vhostVsock)]);
  const q = info.qemu;
  rows.push([
    'QEMU',
    q.path === null
      ? `not found (${q.error?.message ?? 'not searched'})`
      : `${q.path}${q.version ? `: ${q.version.major}.${q.version.minor}.${q.version.micro}${q.version.package ? ` (${q.version.package})` : ''}` : ` (version unknown: ${q.error?.message ?? ''})`}`,
  ]);
  for (const w of info.warnings) rows.push(['Warning', `${w.message} [${w.code}]`]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return `${rows.map(([k, v]) => `${k.padEnd(width)}${v}`).join('\n')}\n`;
}

/** `vmm hostinfo`: print what vmm knows about this host. */
export const command: Command = {
  name: 'hostinfo',
  summary: 'print host facts: arch, CPU, memory, nesting, KVM, vhost, hugepages, QEMU',
  usage: `[--json] [--proc-root <dir>] [--sys-root <dir>] [--dev-root <dir>] [--qemu <path>]

${HOST_FLAGS_USAGE}`,
  options: HOST_FLAGS,
  async run(ctx) {
    const info = await readHostInfo(hostInfoOptions(ctx));
    if (ctx.values.json === true) printJson(ctx.io, info);
    else ctx.io.stdout.write(formatHostInfo(info));
    return 0;
  },
};
