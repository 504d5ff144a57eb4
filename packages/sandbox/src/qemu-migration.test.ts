import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPolling, requireFdPassing } from './qemu.js';

describe('requireFdPassing', () => {
  it('refuses with SANDBOX_UNSUPPORTED (no shell fallback) when the addon is unavailable', () => {
    expect(() => requireFdPassing('save', () => false)).toThrow(
      expect.objectContaining({ code: 'SANDBOX_UNSUPPORTED', message: expect.stringContaining('no shell') }),
    );
  });

  it('passes when fds can be passed (the addon is built in this repo)', () => {
    expect(() => requireFdPassing('restore', () => true)).not.toThrow();
    expect(() => requireFdPassing('restore')).not.toThrow();
  });
});

describe('connectPolling', () => {
  let dir: string | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('connects soon after a late socket appears', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmm-poll-'));
    const path = join(dir, 'qmp.sock');
    const connecting = connectPolling(path, { timeoutMs: 5_000, pid: process.pid });
    await sleep(600); // long enough for a doubling backoff to reach its 200 ms cap
    let listening = 0;
    server = createServer((s) => {
      s.write(
        '{"QMP":{"version":{"qemu":{"major":7,"minor":2,"micro":0},"package":""},"capabilities":[]}}\n',
      );
      s.on('data', (d) => {
        for (const line of d.toString().split('\n').filter(Boolean)) {
          const { id } = JSON.parse(line) as { id?: unknown };
          s.write(`${JSON.stringify({ return: {}, id })}\n`);
        }
      });
    });
    await new Promise<void>((r) => server!.listen(path, r));
    listening = Date.now();
    const client = await connecting;
    const lag = Date.now() - listening;
    await client.close();
    // 10 ms polling; generous margin for a loaded 2-core machine, still below a 200 ms backoff step.
    expect(lag).toBeLessThan(150);
  });

  it('gives up with QMP_CONNECT_FAILED at the deadline', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmm-poll-'));
    await expect(
      connectPolling(join(dir, 'none.sock'), { timeoutMs: 100, pid: process.pid }),
    ).rejects.toMatchObject({ code: 'QMP_CONNECT_FAILED' });
  });
});
