import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUILDER_VERSION,
  computeStamp,
  defaultGuestCacheDir,
  findGuest,
  type GuestManifest,
} from '../src/index.js';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir('vmm-guest-find-');
});
afterAll(async () => {
  await tmp.remove();
});

/** A synthetic release directory: tiny files and a manifest that describes them. */
async function fakeRelease(root: string, release: string, builtAt: string): Promise<GuestManifest> {
  const dir = join(root, release);
  await mkdir(dir, { recursive: true });
  const kernel = { name: `linux-image-${release}`, version: '6.1.192-2' };
  const busybox = { name: 'busybox-static', version: '1:1.35.0-4' };
  const initSha256 = '1'.repeat(64);
  const files = { vmlinux: 'ELF', vmlinuz: 'MZbz', 'initramfs.cpio': '070701' };
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
  const m: GuestManifest = {
    manifestVersion: 1,
    release,
    arch: 'amd64',
    packages: { kernel, busybox },
    initSha256,
    builderVersion: BUILDER_VERSION,
    stamp: computeStamp({ kernel, busybox, initSha256, builderVersion: BUILDER_VERSION }),
    builtAt,
    buildMs: 1,
    files: {
      vmlinux: { name: 'vmlinux', size: 3, sha256: 'a'.repeat(64) },
      vmlinuz: { name: 'vmlinuz', size: 4, sha256: 'a'.repeat(64) },
      initramfs: { name: 'initramfs.cpio', size: 6, sha256: 'a'.repeat(64) },
    },
    modules: { included: [], sets: {}, boot: [] },
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
  return m;
}

describe('findGuest', () => {
  it('returns undefined for a missing or empty cache', async () => {
    expect(await findGuest({ cacheDir: tmp.join('nothing-here') })).toBeUndefined();
    await mkdir(tmp.join('empty'));
    expect(await findGuest({ cacheDir: tmp.join('empty') })).toBeUndefined();
  });

  it('picks the most recently built valid release, or the one asked for', async () => {
    const root = tmp.join('two');
    await fakeRelease(root, '6.1.0-55-amd64', '2026-01-01T00:00:00.000Z');
    const newer = await fakeRelease(root, '6.1.0-56-amd64', '2026-02-01T00:00:00.000Z');
    await mkdir(join(root, 'debs'));
    await mkdir(join(root, '.build-x'));
    const image = await findGuest({ cacheDir: root });
    expect(image).toEqual({
      kernel: join(root, '6.1.0-56-amd64', 'vmlinux'),
      bzImage: join(root, '6.1.0-56-amd64', 'vmlinuz'),
      initrd: join(root, '6.1.0-56-amd64', 'initramfs.cpio'),
      release: '6.1.0-56-amd64',
      dir: join(root, '6.1.0-56-amd64'),
      manifest: newer,
      defaultAppend: ['console=ttyS0', 'quiet', 'panic=-1'],
    });
    expect((await findGuest({ cacheDir: root, release: '6.1.0-55-amd64' }))?.release).toBe('6.1.0-55-amd64');
    expect(await findGuest({ cacheDir: root, release: '6.1.0-99-amd64' })).toBeUndefined();
  });

  it('skips a release whose files are missing or have the wrong size, or whose manifest is bad', async () => {
    const root = tmp.join('broken');
    await fakeRelease(root, '6.1.0-1-amd64', '2026-01-01T00:00:00.000Z');
    await fakeRelease(root, '6.1.0-2-amd64', '2026-02-01T00:00:00.000Z');
    await fakeRelease(root, '6.1.0-3-amd64', '2026-03-01T00:00:00.000Z');
    await writeFile(join(root, '6.1.0-3-amd64', 'vmlinux'), 'ELF+more');
    await rm(join(root, '6.1.0-2-amd64', 'initramfs.cpio'));
    expect((await findGuest({ cacheDir: root }))?.release).toBe('6.1.0-1-amd64');
    await writeFile(join(root, '6.1.0-1-amd64', 'manifest.json'), '{"manifestVersion":1}');
    expect(await findGuest({ cacheDir: root })).toBeUndefined();
  });

  it('ignores a manifest copied into a directory of another name', async () => {
    const root = tmp.join('moved');
    await fakeRelease(root, '6.1.0-7-amd64', '2026-01-01T00:00:00.000Z');
    const { rename } = await import('node:fs/promises');
    await rename(join(root, '6.1.0-7-amd64'), join(root, '6.1.0-8-amd64'));
    expect(await findGuest({ cacheDir: root })).toBeUndefined();
  });
});

describe('defaultGuestCacheDir', () => {
  it('follows XDG_CACHE_HOME when absolute, else ~/.cache', () => {
    expect(defaultGuestCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/vmm/guest');
    expect(defaultGuestCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' })).toBe(
      '/home/u/.cache/vmm/guest',
    );
    expect(defaultGuestCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/vmm/guest');
  });
});
