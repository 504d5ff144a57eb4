/**
 * Density: N sandboxes (default 50) of the default guest with 64 MiB each, started and stopped from
 * this one Node process (created first, untimed, on both sides). Each is paused as soon as QMP answers, to spare the CPUs. Reported: total
 * start + pause and stop times, this process's peak RSS (sampled every 50 ms), open fds before and
 * after, and what is left behind (QEMU processes naming the state directory, files and sockets in it).
 *
 * The baseline does the same with the identical argv spawned by `node:child_process` and QMP written
 * by hand (greeting, `qmp_capabilities`, `stop`; then `quit`, SIGKILL after 5 s), same concurrency.
 * Rounds alternate the two sides. Targets: RSS <= 150 MB, fds equal before/after, nothing left.
 *
 *   cd bench && node --import tsx density/index.bench.ts     # DENSITY_N=50 DENSITY_ROUNDS=2 DENSITY_PARALLEL=8
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureGuest } from '@vmm/guest';
import { type QemuHypervisor, Sandbox } from '@vmm/sandbox';
import { guestAccel, makeTempDir, openFds } from '@vmm/test-utils';

const N = Number(process.env.DENSITY_N ?? 50);
const ROUNDS = Number(process.env.DENSITY_ROUNDS ?? 2);
const PARALLEL = Number(process.env.DENSITY_PARALLEL ?? 8);

/** Run `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

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

/** Peak RSS while `fn` runs, sampled every 50 ms. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakMiB: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakMiB: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** Raw QMP on a fresh connection: greeting, capabilities, then `cmds` in order. */
async function rawQmp(path: string, cmds: readonly string[]): Promise<void> {
  const sock = createConnection(path);
  sock.setEncoding('utf8');
  let buf = '';
  const want = [null, 'qmp_capabilities', ...cmds];
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const m = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        if ('event' in m) continue;
        if ('error' in m) return reject(new Error(JSON.stringify(m.error)));
        sent++;
        if (sent === want.length) return resolve();
        sock.write(`${JSON.stringify({ execute: want[sent] })}\n`);
      }
    });
  });
  sock.destroy();
}

async function connectWithRetry(path: string, cmds: readonly string[], child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await rawQmp(path, cmds);
    } catch (err) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`QEMU exited: ${err}`);
      if (Date.now() > deadline) throw err;
      await sleep(20);
    }
  }
}

interface Sample {
  side: 'sandbox' | 'bare';
  startMs: number;
  stopMs: number;
  peakMiB: number;
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

async function round(side: 'sandbox' | 'bare'): Promise<Sample> {
  const tmp = await makeTempDir(`vmm-bench-density-${side}-`);
  const stateDir = tmp.join('s');
  const ids = Array.from({ length: N }, (_, i) => `d${i}`);
  try {
    const fdsBefore = openFds().length;
    const rssBeforeMiB = process.memoryUsage.rss() / 2 ** 20;
    const { value, peakMiB } = await withPeakRss(async () => {
      if (side === 'sandbox') {
        // Create (validation, asset checks, argv) is outside the timing on both sides.
        const boxes = await pool(ids, PARALLEL, (id) =>
          Sandbox.create(config, { stateDir, id, host: { accel: accel.accel } }),
        );
        const t0 = performance.now();
        await pool(boxes, PARALLEL, async (sb) => {
          await sb.start();
          await sb.pause();
        });
        const startMs = performance.now() - t0;
        const t1 = performance.now();
        await pool(boxes, PARALLEL, (sb) => sb.stop({ graceMs: 5_000 }));
        return { startMs, stopMs: performance.now() - t1 };
      }
      // Bare: argv from created (never started) sandboxes, outside the timing.
      const plans = await pool(ids, PARALLEL, async (id) => {
        const sb = await Sandbox.create(config, { stateDir, id, host: { accel: accel.accel } });
        const hv = sb.hypervisor as QemuHypervisor;
        return { sb, path: hv.qemuPath, argv: [...hv.argv] };
      });
      const t0 = performance.now();
      const kids = await pool(plans, PARALLEL, async (p) => {
        const fd = openSync(p.sb.paths.stderr, 'a', 0o600);
        const child = spawn(p.path, p.argv, { stdio: ['ignore', 'ignore', fd] });
        closeSync(fd);
        const exited = once(child, 'exit');
        await connectWithRetry(p.sb.paths.qmp, ['stop'], child);
        return { ...p, child, exited };
      });
      const startMs = performance.now() - t0;
      const t1 = performance.now();
      await pool(kids, PARALLEL, async (k) => {
        await rawQmp(k.sb.paths.qmp, ['quit']).catch(() => undefined);
        const timer = setTimeout(() => k.child.kill('SIGKILL'), 5_000);
        await k.exited;
        clearTimeout(timer);
      });
      const stopMs = performance.now() - t1;
      // Remove the run directories (the sandbox side's stop does this inside its timing).
      await pool(plans, PARALLEL, (p) => p.sb.stop());
      return { startMs, stopMs };
    });
    await sleep(100);
    return {
      side,
      ...value,
      peakMiB,
      rssBeforeMiB,
      fdsBefore,
      fdsAfter: openFds().length,
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
      `  round ${r + 1} ${side.padEnd(7)} start+pause ${(s.startMs / 1000).toFixed(2)} s, stop ${(s.stopMs / 1000).toFixed(2)} s, peak RSS ${s.peakMiB.toFixed(0)} MiB (${s.rssBeforeMiB.toFixed(0)} before), fds ${s.fdsBefore} -> ${s.fdsAfter}, left: ${s.leftProcs} processes, ${s.leftFiles} files`,
    );
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const of = (side: Sample['side'], k: 'startMs' | 'stopMs' | 'peakMiB' | 'rssBeforeMiB'): number =>
  median(samples.filter((s) => s.side === side).map((s) => s[k]));
const total = (side: Sample['side']): number => of(side, 'startMs') + of(side, 'stopMs');
const sbx = samples.filter((s) => s.side === 'sandbox');
console.log(
  `median total (start+pause+stop): sandbox ${(total('sandbox') / 1000).toFixed(2)} s, bare ${(total('bare') / 1000).toFixed(2)} s, ratio ${(total('sandbox') / total('bare')).toFixed(3)}`,
);
console.log(
  `peak RSS of this process: sandbox ${of('sandbox', 'peakMiB').toFixed(0)} MiB (+${(of('sandbox', 'peakMiB') - of('sandbox', 'rssBeforeMiB')).toFixed(0)} over its start; target <= 150 MB), bare ${of('bare', 'peakMiB').toFixed(0)} MiB (+${(of('bare', 'peakMiB') - of('bare', 'rssBeforeMiB')).toFixed(0)})`,
);
console.log(
  `sandbox fds equal before/after: ${sbx.every((s) => s.fdsAfter === s.fdsBefore)}; leftovers: ${sbx.reduce((n, s) => n + s.leftProcs, 0)} processes, ${sbx.reduce((n, s) => n + s.leftFiles, 0)} files`,
);
