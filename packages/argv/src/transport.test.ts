import { describe, expect, it } from 'vitest';
import { defaultTransport, virtioDriverName } from './transport.js';

describe('transport', () => {
  it.each([
    ['amd64', 'q35', 'pci'],
    ['amd64', 'microvm', 'mmio'],
    ['386', 'microvm', 'mmio'],
    ['arm64', 'microvm', 'pci'],
    ['arm64', 'virt', 'pci'],
    ['ppc64le', 'pseries', 'pci'],
    ['s390x', 's390-ccw-virtio', 'ccw'],
    ['riscv64', 'virt', 'pci'],
  ] as const)('%s/%s -> %s (from the config, not the host)', (arch, machine, t) => {
    expect(defaultTransport(arch, machine)).toBe(t);
  });
  it('driver names', () => {
    expect(virtioDriverName('virtio-blk', 'pci')).toBe('virtio-blk-pci');
    expect(virtioDriverName('virtio-blk', 'ccw')).toBe('virtio-blk-ccw');
    expect(virtioDriverName('virtio-blk', 'mmio')).toBe('virtio-blk-device');
  });
});
