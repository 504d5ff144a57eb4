/**
 * One density round for one side, in its own fresh Node process, so that the peak RSS it reports is
 * that of a manager process: plain `node` running the built `@vmm/sandbox` (no tsx loader, no bench
 * harness, no memory left over from the other side's round). Driven by `index.bench.ts`.
 *
 *   node density/round.mjs '<json: { side, n, parallel, stateDir, config, accel }>'
 *
 * Prints one JSON line: { startMs, stopMs, cpuMs, rssBeforeMiB, hwmMiB, fdsBefore, fdsAfter } (cpuMs:
 * this process's user+system CPU over the round, create included). `hwmMiB` is the
 * kernel's high-water mark of this process's resident set (VmHWM), which no sampling can miss.
 * Both sides import `@vmm/sandbox` before measuring (the bare side uses it only to compose the argv),
 * so the difference between them is what the library holds while managing the VMs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sandbox } from '@vmm/sandbox';

const { side, n, parallel, stateDir, config, accel } = JSON.parse(process.argv[2] ?? '{}');

/** @param {string} field a /proc/self/status field measured in kB, e.g. VmHWM; returns MiB. */
function statusMiB(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (m === null) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]) / 1024;
}

const openFds = () => readdirSync('/proc/self/fd').length;

/**
 * Run `fn` over `items` with at most `limit` in flight.
 * @template T, R
 * @param {readonly T[]} items
 * @param {number} limit
 * @param {(item: T) => Promise<R>} fn
 * @returns {Promise<R[]>}
 */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/**
 * Raw QMP on a fresh connection: greeting, `qmp_capabilities`, then `cmds` in order.
 * @param {string} path
 * @param {readonly string[]} cmds
 */
async function rawQmp(path, cmds) {
  const sock = createConnection(path);
  sock.setEncoding('utf8');
  let buf = '';
  const want = [null, 'qmp_capabilities', ...cmds];
  let answered = 0;
  try {
    await new Promise((resolve, reject) => {
      sock.on('error', reject);
      sock.on('close', () => reject(new Error('QMP closed')));
      sock.on('data', (d) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const m = JSON.parse(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if ('event' in m) continue;
          if ('error' in m) return reject(new Error(JSON.stringify(m.error)));
          answered++;
          if (answered === want.length) return resolve(undefined);
          sock.write(`${JSON.stringify({ execute: want[answered] })}\n`);
        }
      });
    });
  } finally {
    sock.destroy();
  }
}

/**
 * @param {string} path
 * @param {readonly string[]} cmds
 * @param {import('node:child_process').ChildProcess} child
 */
async function connectWithRetry(path, cmds, child) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await rawQmp(path, cmds);
    } catch (err) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`QEMU exited: ${err}`);
      if (Date.now() > deadline) throw err;
      await sleep(10);
    }
  }
}

const ids = Array.from({ length: n }, (_, i) => `d${i}`);
const createOptions = (id) => ({ stateDir, id, host: { accel } });
const fdsBefore = openFds();
const cpu0 = process.cpuUsage();
const rssBeforeMiB = statusMiB('VmRSS');
let startMs;
let stopMs;
if (side === 'sandbox') {
  // Create (validation, asset checks, argv) is outside the timing on both sides.
  const boxes = await pool(ids, parallel, (id) => Sandbox.create(config, createOptions(id)));
  const t0 = performance.now();
  await pool(boxes, parallel, async (sb) => {
    await sb.start();
    await sb.pause();
  });
  startMs = performance.now() - t0;
  const t1 = performance.now();
  await pool(boxes, parallel, (sb) => sb.stop({ graceMs: 5_000 }));
  stopMs = performance.now() - t1;
} else {
  // Bare: argv from created (never started) sandboxes, outside the timing.
  const plans = await pool(ids, parallel, async (id) => {
    const sb = await Sandbox.create(config, createOptions(id));
    return { sb, path: sb.hypervisor.qemuPath, argv: [...sb.hypervisor.argv] };
  });
  const t0 = performance.now();
  const kids = await pool(plans, parallel, async (p) => {
    const fd = openSync(p.sb.paths.stderr, 'a', 0o600);
    const child = spawn(p.path, p.argv, { stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    const exited = once(child, 'exit');
    await connectWithRetry(p.sb.paths.qmp, ['stop'], child);
    return { ...p, child, exited };
  });
  startMs = performance.now() - t0;
  const t1 = performance.now();
  await pool(kids, parallel, async (k) => {
    await rawQmp(k.sb.paths.qmp, ['quit']).catch(() => undefined);
    const timer = setTimeout(() => k.child.kill('SIGKILL'), 5_000);
    await k.exited;
    clearTimeout(timer);
  });
  stopMs = performance.now() - t1;
  // Remove the run directories (the sandbox side's stop does this inside its timing).
  await pool(plans, parallel, (p) => p.sb.stop());
}
const cpu = process.cpuUsage(cpu0);
await sleep(100);
process.stdout.write(
  `${JSON.stringify({ startMs, stopMs, cpuMs: (cpu.user + cpu.system) / 1000, rssBeforeMiB, hwmMiB: statusMiB('VmHWM'), fdsBefore, fdsAfter: openFds() })}\n`,
);
