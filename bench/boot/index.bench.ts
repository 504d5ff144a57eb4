/**
 * Boot: `Sandbox.start()` to the guest's `GUEST-READY` line, against the identical QEMU argv spawned by
 * a bare script (plain `node:child_process` spawn, stderr to a file as the sandbox does) that reads the
 * console the same way (polling the console log QEMU writes, every 25 ms, from byte 0).
 *
 * Each round boots the default guest once each way; the order alternates between rounds. Create
 * (config validation, asset checks, composing the argv) is outside both timings: both sides time from
 * launch to ready. Target: sandbox <= 1.05 x bare (ratio of medians, and median of per-round ratios).
 *
 *   cd bench && node --import tsx boot/index.bench.ts        # BOOT_BENCH_ROUNDS=6
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureGuest, parseGuestLine } from '@vmm/guest';
import { type QemuHypervisor, Sandbox } from '@vmm/sandbox';
import { guestAccel, makeTempDir } from '@vmm/test-utils';

const ROUNDS = Number(process.env.BOOT_BENCH_ROUNDS ?? 6);
const READY_TIMEOUT_MS = 180_000;
const POLL_MS = 25;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** The guest's ready marker (parseGuestLine also finds it after SeaBIOS's unterminated banner). */
const isReady = (line: string): boolean => parseGuestLine(line)?.kind === 'ready';

/** Poll a growing log file until a line satisfies `pred` (what the bare script does). */
async function pollLog(
  path: string,
  pred: (line: string) => boolean,
  exited: Promise<unknown>,
): Promise<void> {
  let offset = 0;
  let partial = '';
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const fh = await open(path, 'r').catch(() => undefined);
    if (fh !== undefined) {
      try {
        const { size } = await fh.stat();
        if (size > offset) {
          const buf = Buffer.alloc(size - offset);
          const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
          offset += bytesRead;
          const lines = (partial + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          if (lines.some((l) => pred(l.replace(/\r$/, '')))) return;
        }
      } finally {
        await fh.close();
      }
    }
    if (gone) throw new Error(`QEMU exited before GUEST-READY (${path})`);
    if (Date.now() > deadline) throw new Error(`no GUEST-READY in ${READY_TIMEOUT_MS} ms (${path})`);
    await sleep(POLL_MS);
  }
}

const guest = await ensureGuest();
const accel = guestAccel();
const tmp = await makeTempDir('vmm-bench-boot-');
const stateDir = tmp.join('s');
const config = {
  kernelPath: guest.kernel,
  initrdPath: guest.initrd,
  kernelParams: guest.defaultAppend.join(' '),
  memorySize: 256,
  defaultMaxVcpus: 4,
};
const createOptions = { stateDir, host: { accel: accel.accel } };

async function viaSandbox(): Promise<number> {
  const sb = await Sandbox.create(config, createOptions);
  try {
    const t0 = performance.now();
    await sb.start({ timeoutMs: READY_TIMEOUT_MS });
    await sb.console().waitFor((l) => (isReady(l) ? true : undefined), {
      timeoutMs: READY_TIMEOUT_MS,
      exited: sb.exited,
      pollMs: POLL_MS,
    });
    return performance.now() - t0;
  } finally {
    await sb.stop({ graceMs: 1_000 });
  }
}

async function viaBareSpawn(): Promise<number> {
  // A created (never started) sandbox only lends its argv and a fresh run directory.
  const sb = await Sandbox.create(config, createOptions);
  const hv = sb.hypervisor as QemuHypervisor;
  try {
    const stderrFd = openSync(sb.paths.stderr, 'a', 0o600);
    const t0 = performance.now();
    const child = spawn(hv.qemuPath, [...hv.argv], { stdio: ['ignore', 'ignore', stderrFd] });
    closeSync(stderrFd);
    const exited = once(child, 'exit');
    try {
      await pollLog(sb.paths.consoleLog, isReady, exited);
      return performance.now() - t0;
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  } finally {
    await sb.stop({ graceMs: 1_000 });
  }
}

console.log(
  `boot: default guest ${guest.release}, machine pc (the sandbox default), 256 MiB, accel=${accel.accel} (${accel.reason}), ${ROUNDS} rounds, alternating`,
);
const sandboxMs: number[] = [];
const bareMs: number[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['sandbox', 'bare'] as const) : (['bare', 'sandbox'] as const);
    for (const side of order) {
      const ms = side === 'sandbox' ? await viaSandbox() : await viaBareSpawn();
      (side === 'sandbox' ? sandboxMs : bareMs).push(ms);
      console.log(`  round ${r + 1} ${side.padEnd(7)} ${ms.toFixed(0)} ms`);
    }
  }
} finally {
  await tmp.remove();
}
const s = median(sandboxMs);
const b = median(bareMs);
const min = (xs: number[]): number => Math.min(...xs);
console.log(`median launch -> GUEST-READY: sandbox ${s.toFixed(0)} ms, bare spawn ${b.toFixed(0)} ms`);
console.log(
  `min    launch -> GUEST-READY: sandbox ${min(sandboxMs).toFixed(0)} ms, bare spawn ${min(bareMs).toFixed(0)} ms`,
);
// Paired: each round's two boots ran back to back, so their ratio cancels slow drifts in load.
const paired = median(sandboxMs.map((ms, i) => ms / (bareMs[i] as number)));
console.log(
  `ratio sandbox/bare: ${(s / b).toFixed(3)} of medians (overhead ${((s / b - 1) * 100).toFixed(1)}%), ${paired.toFixed(3)} median of per-round ratios; target <= 1.05`,
);
