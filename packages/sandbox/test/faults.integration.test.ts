/**
 * QEMU faults (issue 8): QEMU SIGKILLed, QEMU hung (SIGSTOP) under a QMP call, the QMP socket deleted,
 * and the disk filling up while state is written. Each must surface as a typed `SandboxError` with
 * context (sandbox id, exit, cause chain) within a bounded time, never a hang, and `stop()` must still
 * leave no QEMU, socket or directory behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statfsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { childPids, makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HypervisorConfig, Sandbox, SandboxError } from '../src/index.js';
import { accel, marker } from './helpers.js';
import {
  causeCodes,
  filesUnder,
  lightConfig,
  livePidsMentioning,
  rejection,
  stopProcess,
} from './i8-util.js';

let tmp: TempDir;
let config: HypervisorConfig;
let hostAccel: 'kvm' | 'tcg';
const live: Sandbox[] = [];

beforeAll(async () => {
  tmp = await makeTempDir('vmm-i8f-');
  config = await lightConfig();
  hostAccel = accel();
});

afterEach(async () => {
  for (const sb of live.splice(0)) await sb.stop({ graceMs: 500 }).catch(() => undefined);
});

afterAll(async () => {
  await tmp?.remove();
});

async function started(stateDir: string): Promise<Sandbox> {
  const sb = await Sandbox.create(config, { stateDir, host: { accel: hostAccel } });
  live.push(sb);
  await sb.start();
  return sb;
}

/** Nothing of the sandbox is left: no QEMU naming its directory, no file, no run directory. */
async function expectGone(sb: Sandbox): Promise<void> {
  expect(livePidsMentioning(sb.paths.runDir)).toEqual([]);
  expect(existsSync(sb.paths.runDir)).toBe(false);
  expect(existsSync(sb.paths.qmp)).toBe(false);
  expect(await Sandbox.list({ stateDir: sb.stateDir })).toEqual([]);
}

describe('QEMU killed', () => {
  it('an operation reports SANDBOX_HYPERVISOR_EXITED with the signal; ps says stopped; stop cleans up', async () => {
    const sb = await started(tmp.join('killed'));
    const pid = sb.info().pid as number;
    process.kill(pid, 'SIGKILL');
    await sb.exited;
    const { err, ms } = await rejection(sb.pause());
    expect(SandboxError.is(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'SANDBOX_HYPERVISOR_EXITED',
      sandboxId: sb.id,
      exit: { signal: 'SIGKILL' },
    });
    expect((err as Error).message).toMatch(/^pause: QEMU exited unexpectedly \(killed by SIGKILL\)/);
    expect(ms).toBeLessThan(5_000);
    expect((await Sandbox.list({ stateDir: sb.stateDir }))[0]).toMatchObject({
      id: sb.id,
      status: 'stopped',
      pid: null,
    });
    expect(await sb.stop()).toMatchObject({ method: 'already-stopped' });
    await expectGone(sb);
  });

  it('a process that attached (not QEMU`s parent) sees the death through /proc', async () => {
    const sb = await started(tmp.join('killed2'));
    const other = await Sandbox.attach(sb.id, { stateDir: sb.stateDir });
    process.kill(sb.info().pid as number, 'SIGKILL');
    await sb.exited;
    const { err } = await rejection(other.hotplugAdd({ kind: 'block', id: 'd0', path: '/dev/null' }));
    expect(err).toMatchObject({ code: 'SANDBOX_HYPERVISOR_EXITED', sandboxId: sb.id });
    expect((err as Error).message).toMatch(/^hotplug: QEMU exited unexpectedly/);
    expect(other.status).toBe('stopped');
    expect(await other.stop()).toMatchObject({ method: 'already-stopped' });
    await expectGone(sb);
  });
});

describe('QEMU hung (SIGSTOP)', () => {
  it('a QMP call gives up as SANDBOX_QMP_FAILED (cause QMP_GREETING), and stop escalates to SIGKILL', async () => {
    const sb = await started(tmp.join('hung'));
    const pid = sb.info().pid as number;
    await stopProcess(pid);
    try {
      const { err, ms } = await rejection(sb.pause({ timeoutMs: 2_000 }));
      expect(err).toMatchObject({ code: 'SANDBOX_QMP_FAILED', sandboxId: sb.id });
      expect(causeCodes(err)).toContain('QMP_GREETING');
      expect((err as Error).message).toMatch(/^pause: no QMP greeting from .*qmp\.sock within \d+ ms/);
      // Bounded by the greeting/command timeouts, never a hang.
      expect(ms).toBeLessThan(20_000);
      const t0 = performance.now();
      const r = await sb.stop({ graceMs: 500 });
      expect(r.method).toBe('sigkill');
      expect(r.exit).toMatchObject({ signal: 'SIGKILL' });
      expect(performance.now() - t0).toBeLessThan(15_000);
    } finally {
      if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGCONT');
    }
    await expectGone(sb);
  });
});

describe('QEMU hung in the middle of a QMP exchange', () => {
  it('an unplug waiting for DEVICE_DELETED gives up at timeoutMs (cause QMP_TIMEOUT) and stop still cleans up', async () => {
    const sb = await started(tmp.join('hungmid'));
    await sb.console().waitFor(marker('ready'), { timeoutMs: 120_000, exited: sb.exited });
    await writeFile(tmp.join('hung.img'), Buffer.alloc(1 << 20));
    await sb.hotplugAdd({ kind: 'block', id: 'h0', path: tmp.join('hung.img'), attach: 'virtio-blk' });
    const pid = sb.info().pid as number;
    try {
      // device_del is answered at once; the DEVICE_DELETED event needs QEMU and the guest to run on.
      const removing = rejection(sb.hotplugRemove('h0', { timeoutMs: 3_000 }));
      const deadline = Date.now() + 5_000;
      // Stop QEMU once the unplug is on the wire (the lock is held and the QMP socket is connected).
      while (Date.now() < deadline && !existsSync(`${sb.paths.runDir}/lock`))
        await new Promise((r) => setTimeout(r, 1));
      await new Promise((r) => setTimeout(r, 30));
      await stopProcess(pid);
      const { err, ms } = await removing;
      expect(err).toMatchObject({ code: 'SANDBOX_HOTPLUG_FAILED', sandboxId: sb.id });
      expect(causeCodes(err).some((c) => c === 'QMP_TIMEOUT' || c === 'QMP_GREETING')).toBe(true);
      expect(ms).toBeLessThan(15_000);
      // The record stays: the device was not confirmed gone.
      expect(sb.info().devices.map((d) => d.id)).toEqual(['h0']);
      const r = await sb.stop({ graceMs: 500 });
      expect(r.method).toBe('sigkill');
    } finally {
      if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGCONT');
    }
    await expectGone(sb);
  });
});

describe('QMP socket deleted', () => {
  it('an operation fails as SANDBOX_QMP_FAILED naming ENOENT; stop falls back to signals and cleans up', async () => {
    const sb = await started(tmp.join('nosock'));
    await rm(sb.paths.qmp);
    const { err, ms } = await rejection(sb.resume());
    expect(err).toMatchObject({ code: 'SANDBOX_QMP_FAILED', sandboxId: sb.id });
    expect(causeCodes(err)).toContain('QMP_CONNECT_FAILED');
    expect(causeCodes(err)).toContain('ENOENT');
    expect(ms).toBeLessThan(20_000);
    expect(sb.status).toBe('running');
    const r = await sb.stop({ graceMs: 1_000 });
    expect(r.method).toBe('sigterm');
    await expectGone(sb);
  });
});

describe('disk full while writing state (tmpfs)', () => {
  const mnt = '/tmp/vmm-i8-full';
  let mounted = false;
  let why = '';

  beforeAll(async () => {
    if (process.getuid?.() !== 0) {
      why = 'not root: cannot mount a tmpfs';
      return;
    }
    await mkdir(mnt, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mnt], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      why = `mount -t tmpfs failed: ${(err as Error).message}`;
    }
    if (!mounted) console.log(`disk-full tests skipped: ${why}`);
  });

  afterAll(async () => {
    if (mounted) execFileSync('umount', [mnt], { stdio: 'pipe' });
    await rm(mnt, { recursive: true, force: true });
  });

  /** Fill the tmpfs so that exactly `pages` 4 KiB pages stay free. */
  async function fill(pages: number): Promise<string> {
    const filler = `${mnt}/filler`;
    await rm(filler, { force: true });
    const st = statfsSync(mnt);
    const free = Number(st.bavail) * Number(st.bsize);
    await writeFile(filler, Buffer.alloc(free - pages * 4096));
    expect(Number(statfsSync(mnt).bavail) * Number(statfsSync(mnt).bsize)).toBe(pages * 4096);
    return filler;
  }

  it('create on a full disk fails as SANDBOX_STATE_IO (ENOSPC) and leaves the id free', async ({ skip }) => {
    if (!mounted) skip(why);
    const stateDir = `${mnt}/create`;
    await mkdir(stateDir, { mode: 0o700 });
    const filler = await fill(0);
    const { err } = await rejection(
      Sandbox.create(config, { stateDir, id: 'full0', host: { accel: hostAccel } }).finally(() => rm(filler)),
    );
    expect(err).toMatchObject({ code: 'SANDBOX_STATE_IO' });
    expect(causeCodes(err)).toContain('ENOSPC');
    // The first state is written in a temp directory renamed into place (docs/state-machine.md).
    expect((err as Error).message).toMatch(/^cannot write .*\/\.full0\.[0-9a-f]+\.new\/state\.json: ENOSPC/);
    expect(await filesUnder(stateDir)).toEqual([]);
    const sb = await Sandbox.create(config, { stateDir, id: 'full0', host: { accel: hostAccel } });
    await sb.stop();
    expect(await filesUnder(stateDir)).toEqual([]);
  });

  it('start on a full disk rejects with SANDBOX_STATE_IO and leaves no QEMU behind', async ({ skip }) => {
    if (!mounted) skip(why);
    const stateDir = `${mnt}/start`;
    const sb = await Sandbox.create(config, { stateDir, id: 'full1', host: { accel: hostAccel } });
    live.push(sb);
    expect((await stat(sb.paths.state)).size).toBeGreaterThan(4096);
    // One page free: the lock file fits, the new state file (> 4 KiB) does not.
    const filler = await fill(1);
    const { err } = await rejection(sb.start().finally(() => rm(filler)));
    expect(err).toMatchObject({ code: 'SANDBOX_STATE_IO' });
    expect(causeCodes(err)).toContain('ENOSPC');
    expect(livePidsMentioning(sb.paths.runDir)).toEqual([]);
    expect(childPids().filter((p) => livePidsMentioning(sb.paths.runDir).includes(p))).toEqual([]);
    await sb.stop();
    await expectGone(sb);
  });

  it('pause on a full disk: the QMP step runs, the state write fails typed; after space returns the VM is driven and stopped', async ({
    skip,
  }) => {
    if (!mounted) skip(why);
    const stateDir = `${mnt}/pause`;
    const sb = await Sandbox.create(config, { stateDir, id: 'full2', host: { accel: hostAccel } });
    live.push(sb);
    await sb.start();
    // Let the guest finish booting so its console log stops growing into the last free page.
    await sb.console().waitFor(marker('ready'), { timeoutMs: 120_000, exited: sb.exited });
    const filler = await fill(1);
    const { err } = await rejection(sb.pause().finally(() => rm(filler)));
    expect(err).toMatchObject({ code: 'SANDBOX_STATE_IO' });
    expect(causeCodes(err)).toContain('ENOSPC');
    expect((err as Error).message).toContain(sb.paths.state);
    // The old state file is intact (atomic write), and no temp file is left behind.
    expect((await Sandbox.list({ stateDir }))[0]).toMatchObject({ id: 'full2', status: 'running' });
    expect((await filesUnder(sb.paths.runDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await sb.resume();
    await sb.pause();
    expect(sb.info().status).toBe('paused');
    await sb.stop();
    await expectGone(sb);
  });
});
