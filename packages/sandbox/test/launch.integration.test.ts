/** `launchQemu` (govmm's LaunchQemu) against the installed QEMU: spawn, QMP, exit, stderr. */
import { connectQmp } from '@vmm/qmp';
import { childPids, makeTempDir, qmpAccel } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { launchQemu } from '../src/index.js';
import { handleCounts, handlesAdded } from './helpers.js';

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
});
