/**
 * Density: N sandboxes (default 50) of the default guest with 64 MiB each, started and stopped from
 * one Node process (created first, untimed, on both sides). Each is paused as soon as QMP answers, to
 * spare the CPUs. Reported: total start + pause and stop times, the manager process's peak RSS, open
 * fds before and after, and what is left behind (QEMU processes naming the state directory, files and
 * sockets in it).
 *
 * Each round of each side runs in a fresh `node density/round.mjs` process on the built packages, so
 * the RSS is a manager's (the kernel's VmHWM: no sampling gaps), not this harness's or tsx's. The
 * baseline does the same with the identical argv spawned by `node:child_process` and QMP written by
 * hand (greeting, `qmp_capabilities`, `stop`; then `quit`, SIGKILL after 5 s), same concurrency.
 * Rounds alternate the two sides. Targets: RSS <= 150 MB, fds equal before/after, nothing left.
 *
 *   cd bench && node --import tsx density/index.bench.ts     # DENSITY_N=50 DENSITY_ROUNDS=2 DENSITY_PARALLEL=8
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureGuest } from '@vmm/guest';
import { guestAccel, makeTempDir } from '@vmm/test-utils';

const N = Number(process.env.DENSITY_N ?? 50);
const ROUNDS = Number(process.env.DENSITY_ROUNDS ?? 2);
const PARALLEL = Number(process.env.DENSITY_PARALLEL ?? 8);

/** Live processes whose command line mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle)) pids.push(Number(e));
    } catch {
      // exited
    }
  }
  return pids;
}

/** Every file left under `dir` (recursively). */
async function leftovers(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => `${e.parentPath}/${e.name}`);
}

interface Sample {
  side: 'sandbox' | 'bare';
  startMs: number;
  stopMs: number;
  cpuMs: number;
  hwmMiB: number;
  rssBeforeMiB: number;
  fdsBefore: number;
  fdsAfter: number;
  leftProcs: number;
  leftFiles: number;
}

const guest = await ensureGuest();
const accel = guestAccel();
const config = {
  kernelPath: guest.kernel,
  initrdPath: guest.initrd,
  kernelParams: guest.defaultAppend.join(' '),
  memorySize: 64,
  defaultMaxVcpus: 1,
};

const run = promisify(execFile);

async function round(side: 'sandbox' | 'bare'): Promise<Sample> {
  const tmp = await makeTempDir(`vmm-bench-density-${side}-`);
  const stateDir = tmp.join('s');
  try {
    const spec = { side, n: N, parallel: PARALLEL, stateDir, config, accel: accel.accel };
    const { stdout } = await run(
      process.execPath,
      [join(import.meta.dirname, 'round.mjs'), JSON.stringify(spec)],
      {
        maxBuffer: 1 << 20,
      },
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Omit<
      Sample,
      'side' | 'leftProcs' | 'leftFiles'
    >;
    return {
      side,
      ...r,
      leftProcs: processesMentioning(stateDir).length,
      leftFiles: (await leftovers(stateDir)).length,
    };
  } finally {
    await tmp.remove();
  }
}

console.log(
  `density: ${N} x default guest (${guest.release}, pc, 64 MiB, paused once QMP answers), accel=${accel.accel} (${accel.reason}), ${PARALLEL} in flight, ${ROUNDS} round(s) per side, alternating`,
);
const samples: Sample[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? (['sandbox', 'bare'] as const) : (['bare', 'sandbox'] as const);
  for (const side of order) {
    const s = await round(side);
    samples.push(s);
    console.log(
      `  round ${r + 1} ${side.padEnd(7)} start+pause ${(s.startMs / 1000).toFixed(2)} s, stop ${(s.stopMs / 1000).toFixed(2)} s, manager CPU ${(s.cpuMs / 1000).toFixed(2)} s, peak RSS ${s.hwmMiB.toFixed(0)} MiB (${s.rssBeforeMiB.toFixed(0)} before the round), fds ${s.fdsBefore} -> ${s.fdsAfter}, left: ${s.leftProcs} processes, ${s.leftFiles} files`,
    );
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const of = (side: Sample['side'], k: 'startMs' | 'stopMs' | 'hwmMiB' | 'rssBeforeMiB'): number =>
  median(samples.filter((s) => s.side === side).map((s) => s[k]));
const total = (side: Sample['side']): number => of(side, 'startMs') + of(side, 'stopMs');
const sbx = samples.filter((s) => s.side === 'sandbox');
console.log(
  `median total (start+pause+stop): sandbox ${(total('sandbox') / 1000).toFixed(2)} s, bare ${(total('bare') / 1000).toFixed(2)} s, ratio ${(total('sandbox') / total('bare')).toFixed(3)}`,
);
const maxHwm = (side: Sample['side']): number =>
  Math.max(...samples.filter((s) => s.side === side).map((s) => s.hwmMiB));
console.log(
  `manager peak RSS (VmHWM): sandbox max ${maxHwm('sandbox').toFixed(1)} MiB = ${((maxHwm('sandbox') * 2 ** 20) / 1e6).toFixed(1)} MB (target <= 150 MB; +${(of('sandbox', 'hwmMiB') - of('sandbox', 'rssBeforeMiB')).toFixed(1)} MiB median over its RSS before the round), bare max ${maxHwm('bare').toFixed(1)} MiB (+${(of('bare', 'hwmMiB') - of('bare', 'rssBeforeMiB')).toFixed(1)})`,
);
console.log(
  `sandbox fds equal before/after: ${sbx.every((s) => s.fdsAfter === s.fdsBefore)}; leftovers: ${sbx.reduce((n, s) => n + s.leftProcs, 0)} processes, ${sbx.reduce((n, s) => n + s.leftFiles, 0)} files`,
);
