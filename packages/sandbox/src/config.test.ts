import { describe, expect, it } from 'vitest';
import { HYPERVISOR_DEFAULTS, hostArch, MAX_VCPUS_PER_ARCH, parseHypervisorConfig } from './config.js';
import { SandboxConfigError, SandboxError } from './errors.js';

const base = { kernelPath: '/boot/vmlinux', initrdPath: '/boot/initrd' };
const digest = 'a'.repeat(128);

function issueOf(input: unknown): { path: string; message: string } {
  try {
    parseHypervisorConfig(input);
  } catch (err) {
    expect(SandboxError.is(err)).toBe(true);
    expect(err).toBeInstanceOf(SandboxConfigError);
    const e = err as SandboxConfigError;
    expect(e.code).toBe('SANDBOX_INVALID_CONFIG');
    return { path: e.path, message: e.message };
  }
  throw new Error('expected a SandboxConfigError');
}

describe('HypervisorConfig defaults (Kata valid())', () => {
  it('applies Kata defaults', () => {
    const c = parseHypervisorConfig({ ...base, arch: 'amd64' });
    expect(c.numVcpus).toBe(1);
    expect(c.memorySize).toBe(2048);
    expect(c.defaultBridges).toBe(1);
    expect(c.blockDeviceDriver).toBe('virtio-scsi');
    expect(c.defaultMaxVcpus).toBe(240);
    expect(c.msize9p).toBe(8192);
    expect(c.memSlots).toBe(10);
    expect(c.entropySource).toBe('/dev/urandom');
    expect(c.kernelParams).toEqual([]);
  });

  it('treats zero as "use the default", as Kata does', () => {
    const c = parseHypervisorConfig({
      ...base,
      arch: 'amd64',
      numVcpus: 0,
      memorySize: 0,
      defaultBridges: 0,
      defaultMaxVcpus: 0,
    });
    expect([c.numVcpus, c.memorySize, c.defaultBridges, c.defaultMaxVcpus]).toEqual([1, 2048, 1, 240]);
  });

  it.each(Object.entries(MAX_VCPUS_PER_ARCH))('max vCPUs on %s is %i', (arch, max) => {
    expect(parseHypervisorConfig({ ...base, arch }).defaultMaxVcpus).toBe(max);
    expect(issueOf({ ...base, arch, defaultMaxVcpus: max + 1 }).path).toBe('defaultMaxVcpus');
  });

  it('msize9p defaults to 0 with virtio-fs', () => {
    expect(parseHypervisorConfig({ ...base, sharedFs: 'virtio-fs' }).msize9p).toBe(0);
    expect(parseHypervisorConfig({ ...base, sharedFs: 'virtio-9p' }).msize9p).toBe(
      HYPERVISOR_DEFAULTS.msize9p,
    );
  });

  it('turns virtio-blk into virtio-blk-ccw on s390x (MAIN)', () => {
    expect(
      parseHypervisorConfig({ ...base, arch: 's390x', blockDeviceDriver: 'virtio-blk' }).blockDeviceDriver,
    ).toBe('virtio-blk-ccw');
    expect(
      parseHypervisorConfig({ ...base, arch: 'amd64', blockDeviceDriver: 'virtio-blk' }).blockDeviceDriver,
    ).toBe('virtio-blk');
  });

  it('hugePages imply memPrealloc', () => {
    expect(parseHypervisorConfig({ ...base, hugePages: true }).memPrealloc).toBe(true);
  });
});

describe('HypervisorConfig validation (errors name the field)', () => {
  it.each([
    ['no kernel', { initrdPath: '/i' }, 'kernelPath', 'Missing kernel path'],
    ['neither image nor initrd', { kernelPath: '/k' }, 'imagePath', 'Missing image and initrd path'],
    [
      'both image and initrd',
      { ...base, imagePath: '/img' },
      'initrdPath',
      'Image and initrd path cannot be both set',
    ],
    ['relative kernel path', { ...base, kernelPath: 'vmlinux' }, 'kernelPath', 'absolute path'],
    ['negative vCPUs', { ...base, numVcpus: -1 }, 'numVcpus', ''],
    ['fractional memory', { ...base, memorySize: 1.5 }, 'memorySize', ''],
    ['too many bridges', { ...base, defaultBridges: 6 }, 'defaultBridges', ''],
    [
      'vCPUs above max',
      { ...base, numVcpus: 5, defaultMaxVcpus: 4 },
      'numVcpus',
      '5 vCPUs exceed the maximum of 4',
    ],
    ['unknown block driver', { ...base, blockDeviceDriver: 'ide' }, 'blockDeviceDriver', ''],
    [
      'ccw off s390x',
      { ...base, arch: 'amd64', blockDeviceDriver: 'virtio-blk-ccw' },
      'blockDeviceDriver',
      's390x',
    ],
    ['bad msize9p', { ...base, msize9p: 100 }, 'msize9p', '4096'],
    ['unknown field', { ...base, virtioFsDaemon: '/usr/bin/virtiofsd' }, '', 'virtioFsDaemon'],
    [
      'both templates',
      { ...base, bootToBeTemplate: true, bootFromTemplate: true, memoryPath: '/m', devicesStatePath: '/d' },
      'bootFromTemplate',
      "Cannot set both 'to be' and 'from' vm template",
    ],
    [
      'template without memoryPath',
      { ...base, bootToBeTemplate: true },
      'memoryPath',
      'Missing MemoryPath for vm template',
    ],
    [
      'from template without state',
      { ...base, bootFromTemplate: true, memoryPath: '/m' },
      'devicesStatePath',
      'Missing DevicesStatePath to load from vm template',
    ],
    [
      'template with file-backed memory',
      { ...base, bootToBeTemplate: true, memoryPath: '/m', fileBackedMemRootDir: '/dev/shm' },
      'fileBackedMemRootDir',
      'templating',
    ],
    [
      'empty kernel param key',
      { ...base, kernelParams: [{ key: '', value: 'x' }] },
      'kernelParams.0.key',
      'Empty kernel parameter',
    ],
    [
      'kernel param with a space',
      { ...base, kernelParams: [{ key: 'a', value: 'b c' }] },
      'kernelParams.0.value',
      'whitespace',
    ],
    [
      'bad digest',
      { ...base, customAssets: { kernel: { path: '/k2', sha512: 'abc' } } },
      'customAssets.kernel.sha512',
      '128 hex',
    ],
    ['root ports on ppc64le', { ...base, arch: 'ppc64le', pcieRootPort: 2 }, 'pcieRootPort', 'ppc64le'],
  ])('%s', (_name, input, path, message) => {
    const issue = issueOf(input);
    expect(issue.path).toBe(path);
    expect(issue.message).toContain(message);
  });

  it('reports every issue', () => {
    try {
      parseHypervisorConfig({ numVcpus: -1 });
      expect.unreachable();
    } catch (err) {
      const e = err as SandboxConfigError;
      expect(e.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['numVcpus']));
      expect(e.message).toMatch(/and \d+ more/);
    }
  });
});

describe('custom assets and templating', () => {
  it('custom assets override the configured paths', () => {
    const c = parseHypervisorConfig({
      ...base,
      customAssets: {
        kernel: { path: '/custom/kernel', sha512: digest.toUpperCase() },
        initrd: { path: '/custom/initrd' },
        hypervisor: { path: '/custom/qemu' },
        firmware: { path: '/custom/bios' },
      },
    });
    expect([c.kernelPath, c.initrdPath, c.hypervisorPath, c.firmwarePath]).toEqual([
      '/custom/kernel',
      '/custom/initrd',
      '/custom/qemu',
      '/custom/bios',
    ]);
    expect(c.customAssets.kernel?.sha512).toBe(digest);
  });

  it('a custom kernel satisfies the kernel rule; a custom image conflicts with a configured initrd', () => {
    expect(
      parseHypervisorConfig({ initrdPath: '/i', customAssets: { kernel: { path: '/k' } } }).kernelPath,
    ).toBe('/k');
    expect(issueOf({ ...base, customAssets: { image: { path: '/img' } } }).path).toBe('initrdPath');
  });

  it('accepts valid templating configs', () => {
    expect(
      parseHypervisorConfig({ ...base, bootToBeTemplate: true, memoryPath: '/m' }).bootToBeTemplate,
    ).toBe(true);
    expect(
      parseHypervisorConfig({ ...base, bootFromTemplate: true, memoryPath: '/m', devicesStatePath: '/s' })
        .bootFromTemplate,
    ).toBe(true);
  });

  it('kernel params parse from a command line (DeserializeParams)', () => {
    const c = parseHypervisorConfig({ ...base, kernelParams: 'console=ttyS0  quiet a=b=c' });
    expect(c.kernelParams).toEqual([
      { key: 'console', value: 'ttyS0' },
      { key: 'quiet', value: '' },
      { key: 'a', value: 'b=c' },
    ]);
  });

  it('a validated config re-validates to itself (state round trip)', () => {
    const c = parseHypervisorConfig({
      ...base,
      kernelParams: 'quiet',
      customAssets: { kernel: { path: '/k', sha512: digest } },
    });
    expect(parseHypervisorConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });
});

describe('hostArch', () => {
  it.each([
    ['x64', 'amd64'],
    ['arm64', 'arm64'],
    ['ppc64', 'ppc64le'],
    ['s390x', 's390x'],
  ])('%s -> %s', (node, go) => expect(hostArch(node)).toBe(go));
  it('refuses unknown architectures', () => expect(() => hostArch('mips')).toThrow(/not supported/));
});
