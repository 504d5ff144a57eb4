import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseState, type SandboxState, STATE_SCHEMA_VERSION, StateStore, writeJsonAtomic } from './state.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('vmm-state-');
});
afterEach(async () => {
  await tmp.remove();
});

function sample(id: string, dir: string): SandboxState {
  return {
    version: STATE_SCHEMA_VERSION,
    id,
    hypervisorType: 'qemu',
    createdAt: new Date(0).toISOString(),
    status: 'created',
    config: { kernelPath: '/k', initrdPath: '/i' },
    pid: null,
    pidStartTime: null,
    paths: {
      runDir: `${dir}/${id}`,
      socketDir: `${dir}/${id}`,
      qmp: `${dir}/${id}/qmp.sock`,
      console: `${dir}/${id}/console.sock`,
      consoleLog: `${dir}/${id}/console.log`,
      stderr: `${dir}/${id}/qemu.stderr`,
    },
    hypervisor: {},
  };
}

describe('StateStore', () => {
  it('creates private directories and files, and reads back what it wrote', async () => {
    const dir = tmp.join('state');
    const store = new StateStore({ stateDir: dir });
    await store.createSandboxDir('sb1');
    await store.write(sample('sb1', dir));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(`${dir}/sb1`)).mode & 0o777).toBe(0o700);
    expect((await stat(`${dir}/sb1/state.json`)).mode & 0o777).toBe(0o600);
    expect(await store.read('sb1')).toEqual(sample('sb1', dir));
    expect(await store.list()).toEqual(['sb1']);
    // no temp files left behind
    expect(await readdir(`${dir}/sb1`)).toEqual(['state.json']);
  });

  it('refuses a second sandbox with the same id', async () => {
    const store = new StateStore({ stateDir: tmp.path });
    await store.createSandboxDir('dup');
    await expect(store.createSandboxDir('dup')).rejects.toMatchObject({ code: 'SANDBOX_EXISTS' });
  });

  it('lists only directories with a state file, sorted', async () => {
    const store = new StateStore({ stateDir: tmp.path });
    for (const id of ['b', 'a', 'empty']) await store.createSandboxDir(id);
    await store.write(sample('b', tmp.path));
    await store.write(sample('a', tmp.path));
    expect(await store.list()).toEqual(['a', 'b']);
    await store.remove('a');
    await store.remove('a');
    expect(await store.list()).toEqual(['b']);
    expect(await new StateStore({ stateDir: tmp.join('missing') }).list()).toEqual([]);
  });

  it('reports a missing sandbox', async () => {
    await expect(new StateStore({ stateDir: tmp.path }).read('nope')).rejects.toMatchObject({
      code: 'SANDBOX_NOT_FOUND',
    });
  });

  it('refuses to write invalid state', async () => {
    const store = new StateStore({ stateDir: tmp.path });
    await store.createSandboxDir('x');
    await expect(
      store.write({ ...sample('x', tmp.path), status: 'exploded' as never }),
    ).rejects.toMatchObject({
      code: 'SANDBOX_STATE_INVALID',
      path: 'status',
    });
  });
});

describe('parseState (validated on read)', () => {
  it.each([
    ['not JSON', '{', ''],
    ['another version', JSON.stringify({ version: 2 }), 'version'],
    ['no version', JSON.stringify({}), 'version'],
    ['bad pid', JSON.stringify({ ...sample('a', '/s'), pid: -3 }), 'pid'],
    ['bad id', JSON.stringify({ ...sample('a', '/s'), id: '../etc' }), 'id'],
    ['extra key', JSON.stringify({ ...sample('a', '/s'), extra: 1 }), ''],
  ])('%s', (_n, text, path) => {
    try {
      parseState(text);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'SANDBOX_STATE_INVALID', path });
    }
  });
});

describe('writeJsonAtomic', () => {
  it('replaces the file whole, readers never see a torn write', async () => {
    const path = tmp.join('f.json');
    await writeFile(path, '{"old":true}');
    const big = { data: 'x'.repeat(1 << 20) };
    const writes = Array.from({ length: 8 }, (_, i) => writeJsonAtomic(path, { ...big, i }));
    const reads: unknown[] = [];
    for (let i = 0; i < 20; i++) reads.push(JSON.parse(await readFile(path, 'utf8')));
    await Promise.all(writes);
    expect(reads.length).toBe(20);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readdir(tmp.path)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('fails with SANDBOX_STATE_IO when the directory is missing', async () => {
    await expect(writeJsonAtomic(tmp.join('no/such/dir/f.json'), {})).rejects.toMatchObject({
      code: 'SANDBOX_STATE_IO',
    });
  });
});
