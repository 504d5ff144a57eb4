import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive, killAllQemus, liveQemus, qmpAccel, spawnQemu } from '../src/index.js';

/** Read QMP frames (newline-terminated JSON) until `count` have arrived. */
function qmpExchange(path: string, send: string[], count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const got: unknown[] = [];
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) got.push(JSON.parse(line));
        if (got.length === 1) for (const m of send) s.write(`${m}\n`);
        nl = buf.indexOf('\n');
      }
      if (got.length >= count) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

describe('spawnQemu', () => {
  afterAll(killAllQemus);

  it(`starts a real QEMU that answers on its QMP socket (accel: ${qmpAccel().accel}, ${qmpAccel().reason})`, async () => {
    const q = await spawnQemu();
    const frames = await qmpExchange(
      q.qmpPath,
      ['{"execute":"qmp_capabilities"}', '{"execute":"query-status","id":1}'],
      3,
    );
    expect(frames[0]).toHaveProperty('QMP.version.qemu.major', 7);
    expect(frames[1]).toEqual({ return: {} });
    expect(frames[2]).toEqual({ return: { status: 'prelaunch', singlestep: false, running: false }, id: 1 });
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
