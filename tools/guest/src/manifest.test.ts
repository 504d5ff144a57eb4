import { describe, expect, it } from 'vitest';
import { GuestError } from './errors.js';
import {
  BUILDER_VERSION,
  computeStamp,
  type GuestManifest,
  parseManifest,
  type StampInputs,
} from './manifest.js';

const inputs: StampInputs = {
  kernel: { name: 'linux-image-6.1.0-56-amd64', version: '6.1.192-2' },
  busybox: { name: 'busybox-static', version: '1:1.35.0-4+deb12u1+b1' },
  initSha256: 'a'.repeat(64),
  builderVersion: BUILDER_VERSION,
};

function manifest(overrides: Partial<GuestManifest> = {}): GuestManifest {
  const base: GuestManifest = {
    manifestVersion: 1,
    release: '6.1.0-56-amd64',
    arch: 'amd64',
    packages: { kernel: inputs.kernel, busybox: inputs.busybox },
    initSha256: inputs.initSha256,
    builderVersion: inputs.builderVersion,
    stamp: computeStamp(inputs),
    builtAt: '2026-11-22T05:20:49.564Z',
    buildMs: 6209,
    files: {
      vmlinux: { name: 'vmlinux', size: 65906612, sha256: 'b'.repeat(64) },
      vmlinuz: { name: 'vmlinuz', size: 8247232, sha256: 'c'.repeat(64) },
      initramfs: { name: 'initramfs.cpio', size: 7255928, sha256: 'd'.repeat(64) },
    },
    modules: { included: ['virtio_pci'], sets: { virtio_pci: ['virtio_pci'] }, boot: ['virtio_pci'] },
  };
  return { ...base, ...overrides };
}

describe('computeStamp', () => {
  it('is a stable sha256 of the inputs', () => {
    expect(computeStamp(inputs)).toMatch(/^[0-9a-f]{64}$/);
    expect(computeStamp({ ...inputs })).toBe(computeStamp(inputs));
  });

  it.each<[string, StampInputs]>([
    ['kernel version', { ...inputs, kernel: { ...inputs.kernel, version: '6.1.192-3' } }],
    ['kernel ABI', { ...inputs, kernel: { name: 'linux-image-6.1.0-57-amd64', version: '6.1.192-2' } }],
    ['busybox version', { ...inputs, busybox: { ...inputs.busybox, version: '1:1.36.1-1' } }],
    ['init scripts', { ...inputs, initSha256: 'e'.repeat(64) }],
    ['builder version', { ...inputs, builderVersion: inputs.builderVersion + 1 }],
  ])('changes when the %s changes', (_what, changed) => {
    expect(computeStamp(changed)).not.toBe(computeStamp(inputs));
  });

  it('cannot be fooled by shifting text between fields', () => {
    const a = computeStamp({ ...inputs, kernel: { name: 'linux-image-6.1.0-56-amd64', version: '1' } });
    const b = computeStamp({ ...inputs, kernel: { name: 'linux-image-6.1.0-56-amd641', version: '' } });
    expect(a).not.toBe(b);
  });
});

describe('parseManifest', () => {
  it('accepts a manifest whose stamp matches its inputs', () => {
    const m = manifest();
    expect(parseManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'hello', '(root)'],
    ['a future manifest version', { ...manifest(), manifestVersion: 2 }, 'manifestVersion'],
    ['another architecture', { ...manifest(), arch: 'arm64' }, 'arch'],
    ['a bad sha256', { ...manifest(), initSha256: 'XYZ' }, 'initSha256'],
    [
      'a bad package name',
      { ...manifest(), packages: { ...manifest().packages, kernel: { name: 'Linux!', version: '1' } } },
      'packages.kernel.name',
    ],
    ['a missing file', { ...manifest(), files: { vmlinux: manifest().files.vmlinux } }, 'files.vmlinuz'],
    [
      'a path in a file name',
      {
        ...manifest(),
        files: { ...manifest().files, vmlinux: { name: '../vmlinux', size: 1, sha256: 'b'.repeat(64) } },
      },
      'files.vmlinux.name',
    ],
    ['a bad date', { ...manifest(), builtAt: 'yesterday' }, 'builtAt'],
  ])('rejects %s, naming the field', (_what, value, path) => {
    let error: unknown;
    try {
      parseManifest(value, 'm.json');
    } catch (e) {
      error = e;
    }
    expect(GuestError.is(error)).toBe(true);
    expect((error as GuestError).code).toBe('GUEST_MANIFEST_INVALID');
    expect((error as GuestError).message).toContain(`m.json: ${path}:`);
    expect((error as GuestError).cause).toBeDefined();
  });

  it('rejects a manifest whose stamp does not match its inputs (edited by hand, or another builder)', () => {
    const m = manifest({ initSha256: 'f'.repeat(64) });
    expect(() => parseManifest(m)).toThrow(/stamp does not match/);
  });
});
