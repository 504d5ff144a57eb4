/**
 * Lifecycle against recording fakes of acrn-dm and acrnctl (real processes, real signals).
 * ACRN itself is not exercised: it cannot run on these machines.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { activeResources, childPids, isAlive, makeTempDir, type TempDir } from '@vmm/test-utils';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AcrnConfig,
  AcrnError,
  acrnctlBlkrescan,
  createSandboxConfig,
  createUuidPool,
  encodeAcrnArgv,
  hotplugBlock,
  launchAcrnDm,
  stopAcrnDm,
} from '../src/index.js';
import { type Fakes, recordedArgv, recordedCtl, recordedSignals, writeFakes } from './fakes.js';

let tmp: TempDir;
let fakes: Fakes;
let baselineChildren: number[];
let baselineResources: string[];

beforeAll(async () => {
  tmp = await makeTempDir('vmm-acrn-');
  fakes = await writeFakes(tmp.path);
});
afterAll(async () => {
  await tmp.remove();
});
beforeEach(() => {
  baselineChildren = childPids();
  baselineResources = activeResources();
});
afterEach(async () => {
  // no fake left running, no timer/handle left behind
  expect(childPids().filter((p) => !baselineChildren.includes(p))).toEqual([]);
  // handles close asynchronously after a process exits: give them a moment, then insist
  await expect
    .poll(() => activeResources().length, { timeout: 2_000, interval: 20 })
    .toBeLessThanOrEqual(baselineResources.length);
});

/** Generous bound for the node fakes to start on a loaded 2-core machine (never reached normally). */
const SLOW = 30_000;

let seq = 0;
function sandbox(extra: Partial<Parameters<typeof createSandboxConfig>[0]> = {}): AcrnConfig {
  seq++;
  return createSandboxConfig({
    id: `t${seq}`,
    uuid: 'a7ada506-1ab0-4b6b-a0da-e513ca9b8c2f',
    kernelPath: '/boot/vmlinuz',
    imagePath: '/images/kata.img',
    consolePath: tmp.join(`console-${seq}.sock`),
    ...extra,
  });
}
const consoleOf = (c: AcrnConfig): string => {
  const d = c.devices?.find((x) => x.kind === 'console');
  return d !== undefined && 'path' in d && d.path !== undefined ? d.path : '';
};

async function caught(p: Promise<unknown>): Promise<AcrnError> {
  try {
    await p;
  } catch (error) {
    if (AcrnError.is(error)) return error;
    throw error;
  }
  throw new Error('expected an AcrnError');
}

describe('launchAcrnDm', () => {
  it('launches with the encoded argv, reports pid and output, stops with SIGINT', async () => {
    const config = sandbox();
    const vm = await launchAcrnDm(config, {
      path: fakes.acrnDm,
      readyPath: consoleOf(config),
      readyTimeoutMs: SLOW,
      env: { FAKE_ACRN_DM: '' },
    });
    expect(vm.pid).toBeGreaterThan(1);
    expect(isAlive(vm.pid)).toBe(true);
    expect(vm.isRunning()).toBe(true);
    expect(vm.name).toBe(`sandbox-t${seq}`);
    expect(await recordedArgv(fakes.dir, vm.pid)).toEqual(encodeAcrnArgv(config).argv);
    expect(vm.argv).toEqual(encodeAcrnArgv(config).argv);
    expect(vm.slots.get(1)).toBe(5);
    expect(existsSync(consoleOf(config))).toBe(true);
    // output is drained into bounded tails
    await expect.poll(() => vm.stderrTail()).toContain(`fake acrn-dm ${vm.pid} up`);
    await expect.poll(() => vm.stdoutTail()).toContain('com1: guest serial output');

    const result = await vm.stop();
    expect(result).toEqual({ exitCode: 0, signal: undefined, stoppedBy: 'SIGINT' });
    expect(await recordedSignals(fakes.dir)).toContain(`${vm.pid} SIGINT`);
    expect(isAlive(vm.pid)).toBe(false);
    expect(vm.isRunning()).toBe(false);
    // idempotent
    expect(await vm.stop()).toEqual(result);
  });

  it('without a readyPath, is ready once acrn-dm has stayed up for settleMs; await using stops it', async () => {
    let pid: number;
    {
      await using vm = await launchAcrnDm({ name: 'bare' }, { path: fakes.acrnDm, settleMs: 300 });
      pid = vm.pid;
      expect(vm.isRunning()).toBe(true);
      // settleMs only proves the process did not exit; wait for the (slow-starting, node) fake itself
      await expect.poll(() => vm.stderrTail(), { timeout: 20_000 }).toContain('up');
      expect(await recordedArgv(fakes.dir, pid)).toEqual(['bare']);
    }
    expect(isAlive(pid)).toBe(false);
    expect(await recordedSignals(fakes.dir)).toContain(`${pid} SIGINT`);
  });

  it('does not take a console socket left by an earlier run as readiness', async () => {
    const config = sandbox();
    await writeFile(consoleOf(config), 'left over');
    const error = await caught(
      launchAcrnDm(config, {
        path: fakes.acrnDm,
        readyPath: consoleOf(config),
        readyTimeoutMs: 500,
        env: { FAKE_ACRN_DM: 'no-console' },
      }),
    );
    expect(error.code).toBe('ACRN_READY_TIMEOUT');
    // when acrn-dm replaces it, it counts
    const vm = await launchAcrnDm(config, {
      path: fakes.acrnDm,
      readyPath: consoleOf(config),
      readyTimeoutMs: SLOW,
    });
    expect(await readFile(consoleOf(config), 'utf8')).toBe('');
    await vm.stop();
  });

  it('escalates to SIGKILL when acrn-dm ignores SIGINT', async () => {
    const config = sandbox();
    const vm = await launchAcrnDm(config, {
      path: fakes.acrnDm,
      readyPath: consoleOf(config),
      readyTimeoutMs: SLOW,
      env: { FAKE_ACRN_DM: 'ignore-sigint' },
    });
    const started = Date.now();
    const result = await vm.stop({ timeoutMs: 400 });
    expect(result).toEqual({ exitCode: undefined, signal: 'SIGKILL', stoppedBy: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(await recordedSignals(fakes.dir)).toContain(`${vm.pid} SIGINT`);
    expect(isAlive(vm.pid)).toBe(false);
  });

  it('aborting a stop kills at once and reports ACRN_ABORTED', async () => {
    const config = sandbox();
    const vm = await launchAcrnDm(config, {
      path: fakes.acrnDm,
      readyPath: consoleOf(config),
      readyTimeoutMs: SLOW,
      env: { FAKE_ACRN_DM: 'ignore-sigint' },
    });
    const error = await caught(vm.stop({ timeoutMs: 60_000, signal: AbortSignal.timeout(200) }));
    expect(error.code).toBe('ACRN_ABORTED');
    expect(isAlive(vm.pid)).toBe(false);
    expect((await vm.exited).signal).toBe('SIGKILL');
    // a later stop (e.g. await using) does not rethrow: it is already down
    expect(await vm.stop()).toEqual({ exitCode: undefined, signal: 'SIGKILL', stoppedBy: 'none' });
  });

  it('fails with acrn-dm stderr and exit code when it exits during startup', async () => {
    const error = await caught(
      launchAcrnDm(sandbox(), {
        path: fakes.acrnDm,
        settleMs: SLOW,
        readyTimeoutMs: SLOW,
        env: { FAKE_ACRN_DM: 'fail' },
      }),
    );
    expect(error.code).toBe('ACRN_LAUNCH_FAILED');
    expect(error.exitCode).toBe(3);
    expect(error.stderr).toBe('vm_create: /dev/acrn_vhm: No such file or directory\n');
    expect(error.message).toBe(
      'acrn-dm exited during startup (exit code 3): vm_create: /dev/acrn_vhm: No such file or directory',
    );
    expect(error.command?.[0]).toBe(fakes.acrnDm);
  });

  it('fails with the spawn error when the binary does not exist', async () => {
    const error = await caught(launchAcrnDm(sandbox(), { path: tmp.join('no-such-acrn-dm') }));
    expect(error.code).toBe('ACRN_LAUNCH_FAILED');
    expect(error.message).toMatch(/^cannot start .*no-such-acrn-dm: ENOENT$/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('times out the readiness check and stops acrn-dm', async () => {
    const error = await caught(
      launchAcrnDm(sandbox(), {
        path: fakes.acrnDm,
        readyPath: tmp.join('never'),
        readyTimeoutMs: 400,
        env: { FAKE_ACRN_DM: '' },
      }),
    );
    expect(error.code).toBe('ACRN_READY_TIMEOUT');
    expect(error.message).toMatch(/not ready after 400 ms \(.*never does not exist\)/);
  });

  it('aborts the launch and stops acrn-dm', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user gave up')), 150);
    const error = await caught(
      launchAcrnDm(sandbox(), {
        path: fakes.acrnDm,
        readyPath: tmp.join('never'),
        signal: ac.signal,
        env: { FAKE_ACRN_DM: 'no-console' },
      }),
    );
    expect(error.code).toBe('ACRN_ABORTED');
    expect((error.cause as Error).message).toBe('user gave up');
  });

  it('rejects an invalid config before starting anything', async () => {
    const error = await caught(launchAcrnDm({ name: '-x' }, { path: fakes.acrnDm }));
    expect(error.code).toBe('ACRN_INVALID_CONFIG');
    expect(error.path).toEqual(['name']);
    const options = await caught(
      launchAcrnDm({ name: 'x' }, { path: fakes.acrnDm, settleMs: 500, readyTimeoutMs: 100 }),
    );
    expect(options.message).toBe('launch.settleMs: must not exceed readyTimeoutMs');
  });

  it('two concurrent sandboxes get distinct UUIDs and their own slot tables', async () => {
    const pool = createUuidPool({ stateDir: tmp.join('state-concurrent') });
    const [leaseA, leaseB] = await Promise.all([pool.acquire('a'), pool.acquire('b')]);
    expect(leaseA.uuid).not.toBe(leaseB.uuid);
    const configA = sandbox({ uuid: leaseA.uuid });
    const configB = sandbox({ uuid: leaseB.uuid, blockPoolSize: 2 });
    configB.devices?.unshift({
      kind: 'virtio-net',
      type: 'tap',
      ifName: 'tap0',
      macAddress: '02:00:00:00:00:01',
    });
    const [a, b] = await Promise.all([
      launchAcrnDm(configA, { path: fakes.acrnDm, readyPath: consoleOf(configA), readyTimeoutMs: SLOW }),
      launchAcrnDm(configB, { path: fakes.acrnDm, readyPath: consoleOf(configB), readyTimeoutMs: SLOW }),
    ]);
    try {
      await Promise.all([leaseA.setPid(a.pid), leaseB.setPid(b.pid)]);
      const argvA = await recordedArgv(fakes.dir, a.pid);
      const argvB = await recordedArgv(fakes.dir, b.pid);
      expect(argvA[argvA.indexOf('-U') + 1]).toBe(leaseA.uuid);
      expect(argvB[argvB.indexOf('-U') + 1]).toBe(leaseB.uuid);
      expect(a.slots.entries().map((e) => e.slot)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(b.slots.entries()).toEqual([
        { index: 0, slot: 5 },
        { index: 1, slot: 6 },
        { index: 2, slot: 7 },
      ]);
      expect((await pool.list()).map((l) => [l.owner, l.pid])).toEqual(
        expect.arrayContaining([
          ['a', a.pid],
          ['b', b.pid],
        ]),
      );
      // hotplugging index 1 goes to each VM's own slot
      await hotplugBlock(
        { vmName: a.name, slots: a.slots, index: 1, filePath: '/c/a.img' },
        { path: fakes.acrnctl },
      );
      await hotplugBlock(
        { vmName: b.name, slots: b.slots, index: 1, filePath: '/c/b.img' },
        { path: fakes.acrnctl },
      );
      expect((await recordedCtl(fakes.dir)).slice(-2)).toEqual([
        ['blkrescan', a.name, '5,/c/a.img'],
        ['blkrescan', b.name, '6,/c/b.img'],
      ]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    // the leases followed the VMs: once they are gone, the UUIDs are free again
    expect(await pool.list()).toEqual([]);
  });
});

describe('stopAcrnDm (by pid, for a VM this process did not start)', () => {
  it('refuses pid 0, negative pids, pid 1 and its own pid before signalling anything', async () => {
    for (const pid of [0, -1, -4242, 1, process.pid, 1.5, Number.NaN]) {
      const error = await caught(stopAcrnDm(pid));
      expect(error.code).toBe('ACRN_INVALID_PID');
    }
  });

  it('stops by SIGINT, and by SIGKILL when SIGINT is ignored', async () => {
    for (const [flags, expected] of [
      ['', 'SIGINT'],
      ['ignore-sigint', 'SIGKILL'],
    ] as const) {
      const child = execa(
        fakes.acrnDm,
        ['-s', `3,virtio-console,@socket:console0=${tmp.join(`bypid-${flags}`)}`, 'x'],
        {
          env: { FAKE_ACRN_DM: flags },
          reject: false,
        },
      );
      await expect.poll(() => existsSync(tmp.join(`bypid-${flags}`)), { timeout: SLOW }).toBe(true);
      const result = await stopAcrnDm(child.pid!, { timeoutMs: 300 });
      expect(result.stoppedBy).toBe(expected);
      await child;
      expect(isAlive(child.pid!)).toBe(false);
    }
  });

  it('with exe, refuses a pid that runs another program', async () => {
    const other = execa(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { reject: false });
    await expect.poll(() => isAlive(other.pid!)).toBe(true);
    try {
      const error = await caught(stopAcrnDm(other.pid!, { exe: '/usr/bin/acrn-dm' }));
      expect(error.code).toBe('ACRN_INVALID_PID');
      expect(error.message).toBe(
        `refusing to signal pid ${other.pid}: it runs ${process.execPath}, not /usr/bin/acrn-dm`,
      );
      expect(isAlive(other.pid!)).toBe(true);
      // the right program is stopped (node dies of SIGINT by default)
      expect((await stopAcrnDm(other.pid!, { exe: process.execPath })).stoppedBy).toBe('SIGINT');
    } finally {
      other.kill('SIGKILL');
      await other;
    }
  });

  it('treats a pid that is already gone as stopped', async () => {
    const gone = execa(process.execPath, ['-e', '']);
    await gone;
    expect(await stopAcrnDm(gone.pid!)).toEqual({
      exitCode: undefined,
      signal: undefined,
      stoppedBy: 'none',
    });
  });
});

describe('acrnctl blkrescan', () => {
  it('runs acrnctl blkrescan <vm> <slot>,<file>', async () => {
    const result = await acrnctlBlkrescan(
      { vmName: 'sandbox-x', slot: 5, filePath: '/run/c/rootfs.img' },
      { path: fakes.acrnctl },
    );
    expect(result.stdout).toBe('blkrescan done');
    expect((await recordedCtl(fakes.dir)).at(-1)).toEqual(['blkrescan', 'sandbox-x', '5,/run/c/rootfs.img']);
  });

  it("surfaces acrnctl's output and exit code on failure (Kata returned nil)", async () => {
    const error = await caught(
      acrnctlBlkrescan({ vmName: 'sandbox-y', slot: 6, filePath: '/img' }, { path: fakes.acrnctlFail }),
    );
    expect(error.code).toBe('ACRN_BLKRESCAN_FAILED');
    expect(error.exitCode).toBe(1);
    expect(error.stderr).toBe('blkrescan: cannot find vm sandbox-y');
    expect(error.stdout).toBe('acrnctl: sending blkrescan request');
    expect(error.message).toBe(
      'acrnctl blkrescan sandbox-y 6,/img failed (exit code 1): blkrescan: cannot find vm sandbox-y / acrnctl: sending blkrescan request',
    );
    expect(error.command).toEqual([fakes.acrnctlFail, 'blkrescan', 'sandbox-y', '6,/img']);
  });

  it('reports a missing acrnctl', async () => {
    const error = await caught(
      acrnctlBlkrescan({ vmName: 'v', slot: 5, filePath: '/img' }, { path: tmp.join('no-acrnctl') }),
    );
    expect(error.code).toBe('ACRN_BLKRESCAN_FAILED');
    expect(error.message).toMatch(/ENOENT/);
  });

  it('times out and aborts a hung acrnctl without leaking it', async () => {
    const timedOut = await caught(
      acrnctlBlkrescan(
        { vmName: 'v', slot: 5, filePath: '/img' },
        { path: fakes.acrnctlHang, timeoutMs: 300 },
      ),
    );
    expect(timedOut.code).toBe('ACRN_TIMEOUT');
    const aborted = await caught(
      acrnctlBlkrescan(
        { vmName: 'v', slot: 5, filePath: '/img' },
        { path: fakes.acrnctlHang, signal: AbortSignal.timeout(300) },
      ),
    );
    expect(aborted.code).toBe('ACRN_ABORTED');
  });

  it('rejects values that would inject into the blkrescan argument, before running anything', async () => {
    const before = (await recordedCtl(fakes.dir)).length;
    for (const [request, path] of [
      [{ vmName: 'v', slot: 5, filePath: '/a,b' }, ['filePath']],
      [{ vmName: 'v', slot: 5, filePath: '/a\n6,/b' }, ['filePath']],
      [{ vmName: '--help', slot: 5, filePath: '/a' }, ['vmName']],
      [{ vmName: 'v', slot: 2, filePath: '/a' }, ['slot']],
      [{ vmName: 'v', slot: 32, filePath: '/a' }, ['slot']],
    ] as const) {
      const error = await caught(acrnctlBlkrescan(request, { path: fakes.acrnctl }));
      expect(error.code).toBe('ACRN_INVALID_CONFIG');
      expect(error.path).toEqual(path);
    }
    expect((await recordedCtl(fakes.dir)).length).toBe(before);
  });

  it('hotplugBlock needs a slot for the index (all 8 pool drives are usable)', async () => {
    const { slots } = encodeAcrnArgv(sandbox());
    await hotplugBlock({ vmName: 'v', slots, index: 8, filePath: '/c/8.img' }, { path: fakes.acrnctl });
    expect((await recordedCtl(fakes.dir)).at(-1)).toEqual(['blkrescan', 'v', '12,/c/8.img']);
    const error = await caught(
      hotplugBlock({ vmName: 'v', slots, index: 9, filePath: '/x' }, { path: fakes.acrnctl }),
    );
    expect(error.code).toBe('ACRN_NO_SLOT');
  });
});
