/**
 * `waitReady` (through `Sandbox.start`) against a QEMU that never becomes ready: one that dies while
 * it is waited for must be reported as `SANDBOX_HYPERVISOR_EXITED` at once, with its stderr tail, not
 * after the timeout; one that stays alive without answering QMP is `SANDBOX_READY_TIMEOUT` at the
 * deadline. Either way `start` leaves no QEMU and no run directory behind.
 *
 * QEMU is held at a chosen point of its start-up by a FIFO it opens (`open()` of a FIFO blocks until
 * the other end is opened): before it creates its QMP socket (an early `-object secret` reading the
 * FIFO), or after (a `-chardev file` writing to it: the socket listens, but the main loop that would
 * greet never runs). The test then lets it go on into a fatal error, or never does.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HypervisorConfig, Sandbox, SandboxError } from '../src/index.js';
import { accel } from './helpers.js';
import { lightConfig, livePidsMentioning, rejection } from './i8-util.js';

let tmp: TempDir;
let config: HypervisorConfig;
let hostAccel: 'kvm' | 'tcg';

beforeAll(async () => {
  tmp = await makeTempDir('vmm-ready-');
  config = await lightConfig();
  hostAccel = accel();
});

afterAll(async () => {
  await tmp?.remove();
});

/** Where {@link heldQemu} holds QEMU: before its QMP socket exists, or with it listening. */
type HoldPoint = 'before-qmp' | 'after-qmp';

/** A sandbox whose QEMU blocks at `point`; `release()` lets it go on into an error that exits 1. */
interface Held {
  sb: Sandbox;
  /** The stderr line QEMU prints when released. */
  fatal: RegExp;
  release(): Promise<void>;
}

async function heldQemu(name: string, point: HoldPoint): Promise<Held> {
  const fifo = tmp.join(`${name}.fifo`);
  execFileSync('mkfifo', ['-m', '0600', fifo]);
  const hypervisorParams =
    point === 'before-qmp'
      ? // Objects like `secret` are created before any chardev: QEMU reads the FIFO before it
        // makes its QMP socket. Released with invalid base64, it exits.
        [{ key: '-object', value: `secret,id=held,file=${fifo},format=base64` }]
      : // Chardevs are opened in order, the QMP one first: QEMU blocks opening the FIFO for writing
        // with the socket listening. Released, it fails on the next chardev and exits.
        [
          { key: '-chardev', value: `file,id=held,path=${fifo}` },
          { key: '-chardev', value: `file,id=doomed,path=${tmp.join('no-such-dir', 'x')}` },
        ];
  const sb = await Sandbox.create(
    { ...config, hypervisorParams },
    { stateDir: tmp.join(name), host: { accel: hostAccel } },
  );
  return {
    sb,
    fatal:
      point === 'before-qmp' ? /Base64 data contains invalid characters/ : /Could not open .*no-such-dir/,
    async release() {
      const fh = await open(fifo, point === 'before-qmp' ? 'w' : 'r');
      if (point === 'before-qmp') await fh.writeFile('!!! not base64 !!!\n');
      await fh.close();
    },
  };
}

/** Nothing of the sandbox is left: no live QEMU mentioning its run directory, no run directory. */
function expectNothingLeft(sb: Sandbox): void {
  expect(livePidsMentioning(sb.paths.runDir)).toEqual([]);
  expect(existsSync(sb.paths.runDir)).toBe(false);
}

describe('QEMU dies during waitReady: SANDBOX_HYPERVISOR_EXITED, at once', () => {
  it('a QMP socket path QEMU cannot use: it exits at startup and the error carries its stderr', async () => {
    const sb = await Sandbox.create(config, {
      stateDir: tmp.join('blocked-qmp'),
      host: { accel: hostAccel },
    });
    // A directory where the QMP socket goes: QEMU cannot unlink it to bind there, and exits 1.
    await mkdir(sb.paths.qmp);
    const { err, ms } = await rejection(sb.start({ timeoutMs: 60_000 }));
    expect(err).toBeInstanceOf(SandboxError);
    expect(err).toMatchObject({
      code: 'SANDBOX_HYPERVISOR_EXITED',
      exit: { code: 1, signal: null },
      stderrTail: expect.arrayContaining([expect.stringMatching(/Failed to unlink socket .*qmp\.sock/)]),
    });
    expect((err as Error).message).toMatch(/qemu stderr: .*Failed to unlink socket/);
    expect(ms).toBeLessThan(10_000);
    expectNothingLeft(sb);
    await sb.stop();
  });

  it.each<[string, HoldPoint]>([
    ['before it has created its QMP socket', 'before-qmp'],
    ['with its QMP socket listening but never greeting', 'after-qmp'],
  ])('QEMU that dies seconds into the wait, %s, is reported as soon as it dies', async (_what, point) => {
    const held = await heldQemu(`dies-${point}`, point);
    const { sb } = held;
    let settled = false;
    const started = sb.start({ timeoutMs: 60_000 }).finally(() => {
      settled = true;
    });
    started.catch(() => undefined);
    // Wait until QEMU runs (and, after-qmp, listens), then some more: waitReady is surely waiting.
    for (let i = 0; i < 600 && livePidsMentioning(sb.paths.runDir).length === 0; i++) await sleep(50);
    if (point === 'after-qmp') for (let i = 0; i < 600 && !existsSync(sb.paths.qmp); i++) await sleep(50);
    await sleep(1_500);
    expect(settled).toBe(false);
    expect(livePidsMentioning(sb.paths.runDir)).toHaveLength(1);
    expect(existsSync(sb.paths.qmp)).toBe(point === 'after-qmp');
    const t0 = performance.now();
    await held.release();
    const { err } = await rejection(started);
    const ms = performance.now() - t0;
    expect(err).toMatchObject({
      code: 'SANDBOX_HYPERVISOR_EXITED',
      exit: { code: 1, signal: null },
      stderrTail: expect.arrayContaining([expect.stringMatching(held.fatal)]),
    });
    // Well before both the 60 s timeout and the 10 s QMP greeting timeout.
    expect(ms).toBeLessThan(5_000);
    expectNothingLeft(sb);
    await sb.stop();
  });
});

describe('QEMU does not answer QMP in time: SANDBOX_READY_TIMEOUT', () => {
  it.each<[string, HoldPoint, string]>([
    ['never creates its QMP socket', 'before-qmp', 'QMP_CONNECT_FAILED'],
    ['listens on its QMP socket but never greets', 'after-qmp', 'QMP_GREETING'],
  ])('alive but %s: times out at the deadline, then nothing is left', async (_what, point, cause) => {
    const { sb } = await heldQemu(`hangs-${point}`, point);
    const timeoutMs = 2_000;
    const { err, ms } = await rejection(sb.start({ timeoutMs }));
    expect(err).toMatchObject({
      code: 'SANDBOX_READY_TIMEOUT',
      message: expect.stringContaining(`timeout ${timeoutMs} ms`),
      cause: expect.objectContaining({ code: cause }),
    });
    // It waited for the deadline (not an early failure); stopping the wedged QEMU after it is bounded.
    expect(ms).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(ms).toBeLessThan(timeoutMs + 20_000);
    expectNothingLeft(sb);
    await sb.stop();
  });

  it('a healthy QEMU given too short a timeout: SANDBOX_READY_TIMEOUT, and it is stopped', async () => {
    const sb = await Sandbox.create(config, { stateDir: tmp.join('tiny'), host: { accel: hostAccel } });
    const { err } = await rejection(sb.start({ timeoutMs: 1 }));
    expect(err).toMatchObject({
      code: 'SANDBOX_READY_TIMEOUT',
      message: expect.stringContaining('timeout 1 ms'),
      // Depending on how far QEMU got in 1 ms: no socket yet, no greeting yet, or no answer yet.
      cause: expect.objectContaining({ code: expect.stringMatching(/^QMP_/) }),
    });
    expectNothingLeft(sb);
    await sb.stop();
  });
});
