import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, openFds } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultQemuSearchDirs, findQemu, QEMU_EXTRA_DIRS, readQemuVersion } from './qemu.js';

let dir: string;
const script = (path: string, body: string, mode = 0o755): string => {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hostinfo-qemu-'));
  for (const d of ['a', 'b', 'c']) mkdirSync(join(dir, d));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('defaultQemuSearchDirs', () => {
  it('PATH first (absolute entries only), then the distribution dirs, without repeats', () => {
    expect(defaultQemuSearchDirs({ PATH: '/opt/q/bin::relative:/usr/bin' })).toEqual([
      '/opt/q/bin',
      '/usr/bin',
      '/usr/libexec',
      '/usr/local/bin',
    ]);
    expect(defaultQemuSearchDirs({})).toEqual([...QEMU_EXTRA_DIRS]);
  });
});

describe('findQemu', () => {
  it('returns the first executable qemu-system-<arch> in search order, skipping non-executables', async () => {
    script(join(dir, 'a/qemu-system-aarch64'), 'exit 0', 0o644); // not executable
    const want = script(join(dir, 'b/qemu-system-aarch64'), 'exit 0');
    script(join(dir, 'c/qemu-system-aarch64'), 'exit 0');
    const found = await findQemu({
      arch: 'arm64',
      searchDirs: [join(dir, 'a'), join(dir, 'b'), join(dir, 'c')],
    });
    expect(found.path).toBe(want);
    expect(found.searched).toHaveLength(3);
  });

  it('HOSTINFO_QEMU_NOT_FOUND names every path tried', async () => {
    const err = await findQemu({ arch: 's390x', searchDirs: [join(dir, 'a')] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HOSTINFO_QEMU_NOT_FOUND' });
    expect((err as Error).message).toContain(join(dir, 'a/qemu-system-s390x'));
  });

  it('an explicit path must exist and be executable (a directory is not)', async () => {
    await expect(findQemu({ arch: 'amd64', path: join(dir, 'a') })).rejects.toMatchObject({
      code: 'HOSTINFO_QEMU_NOT_FOUND',
      message: expect.stringContaining('explicit path'),
    });
  });
});

describe('readQemuVersion', () => {
  it('parses what the binary prints', async () => {
    const q = script(join(dir, 'q-ok'), 'echo "QEMU emulator version 8.2.1 (test build)"; echo "Copyright"');
    await expect(readQemuVersion(q)).resolves.toMatchObject({
      major: 8,
      minor: 2,
      micro: 1,
      package: 'test build',
    });
  });

  it('a failing binary is HOSTINFO_QEMU_VERSION with the cause kept', async () => {
    const q = script(join(dir, 'q-fail'), 'echo broken >&2; exit 3');
    const err = await readQemuVersion(q).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HOSTINFO_QEMU_VERSION', path: q });
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('unrecognisable output is HOSTINFO_QEMU_VERSION', async () => {
    const q = script(join(dir, 'q-garbage'), 'echo hello');
    await expect(readQemuVersion(q)).rejects.toMatchObject({ code: 'HOSTINFO_QEMU_VERSION' });
  });

  it('a hanging binary is killed at the timeout', async () => {
    const q = script(join(dir, 'q-hang'), 'exec sleep 30');
    await expect(readQemuVersion(q, { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'HOSTINFO_QEMU_VERSION',
      message: expect.stringContaining('timed out after 200 ms'),
    });
  });

  it('an abort kills it and rejects with HOSTINFO_ABORTED', async () => {
    const q = script(join(dir, 'q-hang2'), 'exec sleep 30');
    const ac = new AbortController();
    const p = readQemuVersion(q, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user')), 50);
    await expect(p).rejects.toMatchObject({ code: 'HOSTINFO_ABORTED' });
    const pre = new AbortController();
    pre.abort();
    await expect(readQemuVersion(q, { signal: pre.signal })).rejects.toMatchObject({
      code: 'HOSTINFO_ABORTED',
    });
  });

  it('leaves no child process or file descriptor behind', async () => {
    const fds = openFds().length;
    const q = script(join(dir, 'q-hang3'), 'exec sleep 30');
    await readQemuVersion(q, { timeoutMs: 100 }).catch(() => undefined);
    await readQemuVersion(join(dir, 'q-ok')).catch(() => undefined);
    // SIGKILLed children are reaped asynchronously; give the event loop a moment.
    for (let i = 0; i < 50 && childPids().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(childPids()).toEqual([]);
    expect(openFds().length).toBeLessThanOrEqual(fds);
  });
});
