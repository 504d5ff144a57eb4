/** The addon against a real QEMU 7.2: QEMU accepts a descriptor sent with SCM_RIGHTS (getfd, add-fd). */
import { closeSync, openSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { killAllQemus, qmpAccel, spawnQemu } from '@vmm/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { writeWithFds } from '../src/index.js';

/** A minimal line-based QMP reader for this test (the real client lives in @vmm/qmp). */
function reader(s: Socket): () => Promise<Record<string, unknown>> {
  let buf = '';
  const queue: Record<string, unknown>[] = [];
  const waiters: Array<(m: Record<string, unknown>) => void> = [];
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      const m = JSON.parse(line) as Record<string, unknown>;
      if ('event' in m) continue;
      const w = waiters.shift();
      if (w) w(m);
      else queue.push(m);
    }
  });
  return () => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiters.push(resolve)));
}

afterAll(killAllQemus);

describe(`@vmm/fdpass with QEMU 7.2 (${qmpAccel().accel})`, () => {
  it('getfd and add-fd receive the descriptor sent on the same sendmsg', async () => {
    const q = await spawnQemu();
    const s = createConnection(q.qmpPath);
    await new Promise<void>((r) => s.once('connect', () => r()));
    const next = reader(s);
    try {
      expect(await next()).toHaveProperty('QMP');
      s.write('{"execute":"qmp_capabilities"}\n');
      expect(await next()).toEqual({ return: {} });
      const fd = openSync('/dev/null', 'r');
      await writeWithFds(s, Buffer.from('{"execute":"getfd","arguments":{"fdname":"nul"},"id":1}\n'), [fd]);
      expect(await next()).toEqual({ return: {}, id: 1 });
      await writeWithFds(s, Buffer.from('{"execute":"add-fd","arguments":{"opaque":"x"},"id":2}\n'), [fd]);
      const added = await next();
      closeSync(fd);
      expect(added).toMatchObject({
        return: { 'fdset-id': expect.any(Number), fd: expect.any(Number) },
        id: 2,
      });
      s.write('{"execute":"query-fdsets","id":3}\n');
      expect(await next()).toMatchObject({ return: [{ fds: [{ opaque: 'x' }] }], id: 3 });
      s.write('{"execute":"getfd","arguments":{"fdname":"none"},"id":4}\n');
      expect(await next()).toMatchObject({
        error: { desc: 'No file descriptor supplied via SCM_RIGHTS' },
        id: 4,
      });
    } finally {
      s.destroy();
      await q.kill();
    }
  });
});
