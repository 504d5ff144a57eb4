/**
 * Without the optional @vmm/fdpass addon (simulated: the module fails to load), fd-passing calls
 * fail with a clear typed error and everything else keeps working.
 */
import { closeSync, openSync } from 'node:fs';
import { type FakeQmpServer, startFakeQmp } from '@vmm/test-utils';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { addFd, connectQmp, passFd, QmpError } from '../src/index.js';

vi.mock('@vmm/fdpass', () => {
  throw new Error("Cannot find module '@vmm/fdpass' (simulated: optional dependency not installed)");
});

let server: FakeQmpServer | undefined;
afterAll(() => server?.close());

describe('fd passing without @vmm/fdpass', () => {
  it('getfd/add-fd reject with QMP_FD_PASSING_UNAVAILABLE; other commands work', async () => {
    server = await startFakeQmp({
      handler: (req) => (req.command === 'query-name' ? { return: { name: 'vm' } } : undefined),
    });
    const qmp = await connectQmp(server.path);
    const fd = openSync('/etc/hostname', 'r');
    try {
      const err = await passFd(qmp, fd, 'f').catch((e: unknown) => e);
      expect(QmpError.is(err)).toBe(true);
      expect((err as QmpError).code).toBe('QMP_FD_PASSING_UNAVAILABLE');
      expect((err as QmpError).message).toMatch(/@vmm\/fdpass/);
      expect((err as QmpError).cause).toBeInstanceOf(Error);
      await expect(addFd(qmp, fd)).rejects.toMatchObject({ code: 'QMP_FD_PASSING_UNAVAILABLE' });
      expect(await qmp.execute('query-name')).toEqual({ name: 'vm' });
      // Nothing fd-related reached the server.
      expect(server.connections[0]!.requests.map((r) => r.command)).toEqual([
        'qmp_capabilities',
        'query-name',
      ]);
    } finally {
      closeSync(fd);
      await qmp.close();
    }
  });
});
