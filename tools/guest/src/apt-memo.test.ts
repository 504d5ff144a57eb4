import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedPackages } from './apt.js';
import { aptStateKey, readAptMemo, writeAptMemo } from './apt-memo.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmm-guest-memo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const resolved: ResolvedPackages = {
  kernel: { name: 'linux-image-6.1.0-56-amd64', version: '6.1.192-2' },
  busybox: { name: 'busybox-static', version: '1:1.35.0-4+deb12u1+b1' },
  release: '6.1.0-56-amd64',
};

describe('apt resolution memo', () => {
  it('keys on names, sizes and mtimes of the apt state, entries of directories included', async () => {
    const lists = join(dir, 'lists');
    await rm(lists, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(lists));
    await writeFile(join(lists, 'a_Packages'), 'one');
    const paths = [lists, join(dir, 'missing')];
    const k1 = await aptStateKey(paths);
    expect(await aptStateKey(paths)).toBe(k1);
    await writeFile(join(lists, 'a_Packages'), 'two!');
    const k2 = await aptStateKey(paths);
    expect(k2).not.toBe(k1);
    await utimes(join(lists, 'a_Packages'), new Date(0), new Date(0));
    expect(await aptStateKey(paths)).not.toBe(k2);
    await writeFile(join(lists, 'b_Packages'), '');
    expect(await aptStateKey(paths)).not.toBe(k2);
  });

  it('returns the memo only for the same key, and ignores garbage', async () => {
    const file = join(dir, 'memo.json');
    expect(await readAptMemo(file, 'k')).toBeUndefined();
    await writeAptMemo(file, 'k', resolved);
    expect(await readAptMemo(file, 'k')).toEqual(resolved);
    expect(await readAptMemo(file, 'other')).toBeUndefined();
    await writeFile(file, '{"aptState":"k","kernel":{"name":"BAD NAME","version":"1"}}');
    expect(await readAptMemo(file, 'k')).toBeUndefined();
    await writeFile(file, 'not json');
    expect(await readAptMemo(file, 'k')).toBeUndefined();
  });
});
