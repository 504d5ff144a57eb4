import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { connectTestQmp, isAlive, killAllQemus, liveQemus, qmpAccel, spawnQemu } from '../src/index.js';

describe('spawnQemu', () => {
  afterAll(killAllQemus);

  it(`starts a real QEMU that answers on its QMP socket (accel: ${qmpAccel().accel}, ${qmpAccel().reason})`, async () => {
    const q = await spawnQemu();
    const qmp = await connectTestQmp(q.qmpPath);
    expect(await qmp.execute('query-version')).toHaveProperty('qemu.major', 7);
    expect(await qmp.execute('query-status')).toEqual({
      status: 'prelaunch',
      singlestep: false,
      running: false,
    });
    await expect(qmp.execute('no-such-command')).rejects.toThrow(/CommandNotFound/);
    await qmp.close();
    const pid = q.pid;
    await q.kill();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(q.dir)).toBe(false);
    expect(liveQemus().size).toBe(0);
  });

  it('rejects with QEMU stderr when QEMU refuses its arguments, leaving nothing behind', async () => {
    await expect(spawnQemu({ args: ['-device', 'no-such-device'] })).rejects.toThrow(/no-such-device/);
    expect(liveQemus().size).toBe(0);
  });
});
