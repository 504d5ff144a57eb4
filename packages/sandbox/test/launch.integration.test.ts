/**
 * `launchQemu` (govmm's LaunchQemu) against the installed QEMU: spawn, QMP, exit, stderr, extra fds
 * (child fds 3, 4, ... in order) and cancellation through an AbortSignal.
 */
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import type { QemuConfig } from '@vmm/argv';
import { connectQmp } from '@vmm/qmp';
import { childPids, isAlive, makeTempDir, qmpAccel } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { launchQemu } from '../src/index.js';
import { handleCounts, handlesAdded, processesMentioning } from './helpers.js';

/** A QEMU that does nothing but serve QMP on `qmpPath` (paused before the machine runs). */
const idleQemu = (qmpPath: string, extraParams: string[] = []): QemuConfig => ({
  machine: { type: 'q35', acceleration: qmpAccel().accel },
  qmpSockets: [{ type: 'unix', name: qmpPath, server: true, noWait: true }],
  knobs: { noDefaults: true, noUserConfig: true, noGraphic: true, stopped: true },
  memory: { size: '64M' },
  extraParams,
});

describe('launchQemu', () => {
  it('starts QEMU from a QemuConfig; QMP answers; the exit is reported', async () => {
    await using tmp = await makeTempDir('vmm-launch-');
    const before = handleCounts();
    const qmpPath = tmp.join('qmp.sock');
    const q = await launchQemu({
      machine: { type: 'q35', acceleration: qmpAccel().accel },
      qmpSockets: [{ type: 'unix', name: qmpPath, server: true, noWait: true }],
      knobs: { noDefaults: true, noUserConfig: true, noGraphic: true, stopped: true },
      memory: { size: '64M' },
    });
    expect(q.argv).toContain('-S');
    expect(childPids()).toContain(q.pid);
    const qmp = await connectQmp(qmpPath, { connectTimeout: 10_000, pid: q.pid });
    expect((await qmp.execute('query-status')).status).toBe('prelaunch');
    await qmp.execute('quit');
    await qmp.close();
    expect(await q.exited).toEqual({ code: 0, signal: null });
    expect(q.running).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(handlesAdded(before, handleCounts())).toEqual([]);
  });

  it("keeps QEMU's stderr for a command line it refuses", async () => {
    const q = await launchQemu({ machine: { type: 'no-such-machine' }, knobs: { noDefaults: true } });
    expect((await q.exited).code).toBe(1);
    expect(q.stderrTail().join('\n')).toMatch(/unsupported machine type|no-such-machine/);
  });

  it('refuses an invalid config before spawning anything, naming the field', async () => {
    await expect(launchQemu({ memory: { size: 'lots' } })).rejects.toMatchObject({
      code: 'SANDBOX_INVALID_CONFIG',
      path: expect.stringMatching(/^qemuConfig\.memory/),
    });
    await expect(launchQemu({}, { path: '/nonexistent/qemu' })).rejects.toMatchObject({
      code: 'SANDBOX_START_FAILED',
    });
  });

  it('passes `fds` as child fds 3, 4, ... in order: QEMU adds them to fd sets and writes through them', async () => {
    await using tmp = await makeTempDir('vmm-launch-fds-');
    const qmpPath = tmp.join('qmp.sock');
    const first = openSync(tmp.join('first.out'), 'w', 0o600);
    const second = openSync(tmp.join('second.out'), 'w', 0o600);
    try {
      const q = await launchQemu(
        idleQemu(qmpPath, [
          '-add-fd',
          'fd=3,set=1,opaque=first',
          '-add-fd',
          'fd=4,set=2,opaque=second',
          // A file chardev opened through fd set 1, with a human monitor on it: QEMU writes its
          // banner through the fd we passed as the first one.
          '-chardev',
          'file,id=viafd,path=/dev/fdset/1',
          '-mon',
          'chardev=viafd,mode=readline',
        ]),
        { fds: [first, second] },
      );
      try {
        const qmp = await connectQmp(qmpPath, { connectTimeout: 10_000, pid: q.pid });
        try {
          const sets = (await qmp.execute('query-fdsets')) as {
            'fdset-id': number;
            fds: { fd: number; opaque?: string }[];
          }[];
          const byId = new Map(sets.map((s) => [s['fdset-id'], s.fds]));
          expect(byId.get(1)?.map((f) => f.opaque)).toEqual(['first']);
          expect(byId.get(2)?.map((f) => f.opaque)).toEqual(['second']);
          // The fd in each set is QEMU's copy of the one we passed at that position.
          const target = (set: number): string =>
            readlinkSync(`/proc/${q.pid}/fd/${byId.get(set)?.[0]?.fd ?? -1}`);
          expect(target(1)).toBe(tmp.join('first.out'));
          expect(target(2)).toBe(tmp.join('second.out'));
        } finally {
          await qmp.close();
        }
        expect(readFileSync(tmp.join('first.out'), 'utf8')).toMatch(/QEMU .*monitor/);
        expect(readFileSync(tmp.join('second.out'), 'utf8')).toBe('');
      } finally {
        q.kill('SIGKILL');
        await q.exited;
      }
    } finally {
      closeSync(first);
      closeSync(second);
    }
  });

  it('without the fds, the same command line fails: QEMU has no fd 3', async () => {
    await using tmp = await makeTempDir('vmm-launch-nofd-');
    const q = await launchQemu(idleQemu(tmp.join('qmp.sock'), ['-add-fd', 'fd=3,set=1']));
    expect((await q.exited).code).toBe(1);
    expect(q.stderrTail().join('\n')).toMatch(/fd=3.*: fd is not valid/);
  });

  it('aborting the signal SIGKILLs QEMU: `exited` settles with the signal and no process is left', async () => {
    await using tmp = await makeTempDir('vmm-launch-abort-');
    const before = handleCounts();
    const qmpPath = tmp.join('qmp.sock');
    const ac = new AbortController();
    const q = await launchQemu(idleQemu(qmpPath), { signal: ac.signal });
    // QEMU is up and serving QMP before it is cancelled.
    const qmp = await connectQmp(qmpPath, { connectTimeout: 10_000, pid: q.pid });
    expect((await qmp.execute('query-status')).status).toBe('prelaunch');
    await qmp.close();
    expect(q.running).toBe(true);
    const t0 = performance.now();
    ac.abort();
    expect(await q.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(q.running).toBe(false);
    expect(isAlive(q.pid)).toBe(false);
    expect(childPids()).not.toContain(q.pid);
    expect(processesMentioning(qmpPath)).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    expect(handlesAdded(before, handleCounts())).toEqual([]);
  });

  it('a signal aborted before the launch spawns nothing (SANDBOX_ABORTED)', async () => {
    await using tmp = await makeTempDir('vmm-launch-preabort-');
    const qmpPath = tmp.join('qmp.sock');
    const ac = new AbortController();
    ac.abort(new Error('changed my mind'));
    const children = childPids();
    await expect(launchQemu(idleQemu(qmpPath), { signal: ac.signal })).rejects.toMatchObject({
      code: 'SANDBOX_ABORTED',
      cause: ac.signal.reason,
    });
    expect(childPids()).toEqual(children);
    expect(processesMentioning(qmpPath)).toEqual([]);
  });
});
