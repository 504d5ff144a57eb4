import { describe, expect, it } from 'vitest';
import { resolveLoadOrder } from './closure.js';
import type { ModInfo } from './elf.js';
import { GuestError } from './errors.js';

const mod = (depends: string[] = [], softPre: string[] = []): ModInfo => ({
  name: undefined,
  depends,
  softPre,
});

// The real shape of Debian 6.1's virtio closures.
const TABLE: Record<string, ModInfo> = {
  virtio: mod(),
  virtio_ring: mod(),
  virtio_pci_modern_dev: mod(),
  virtio_pci_legacy_dev: mod(),
  virtio_pci: mod(['virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio']),
  scsi_common: mod(),
  scsi_mod: mod(['scsi_common']),
  virtio_scsi: mod(['scsi_mod', 'virtio_ring', 'virtio']),
  crct10dif_common: mod(),
  crct10dif_generic: mod(['crct10dif_common']),
  crc_t10dif: mod(['crct10dif_common'], ['crct10dif']),
  crc64_rocksoft: mod(['crc64']),
  crc64: mod(),
  t10_pi: mod(['crc64_rocksoft', 'crc_t10dif']),
  sd_mod: mod(['scsi_mod', 't10-pi']),
  a: mod(['b']),
  b: mod(['a']),
  broken: mod(['gone']),
};
const lookup = (n: string) => TABLE[n];

describe('resolveLoadOrder', () => {
  it('puts dependencies first, each module once', () => {
    expect(resolveLoadOrder(['virtio_pci'], lookup)).toEqual([
      'virtio_ring',
      'virtio_pci_modern_dev',
      'virtio_pci_legacy_dev',
      'virtio',
      'virtio_pci',
    ]);
    const order = resolveLoadOrder(['virtio_scsi', 'sd_mod'], lookup);
    expect(order).toEqual([
      'scsi_common',
      'scsi_mod',
      'virtio_ring',
      'virtio',
      'virtio_scsi',
      'crc64',
      'crc64_rocksoft',
      'crct10dif_common',
      'crc_t10dif',
      't10_pi',
      'sd_mod',
    ]);
    expect(new Set(order).size).toBe(order.length);
  });

  it('normalises dashes (t10-pi is t10_pi) and skips soft dependencies the package lacks', () => {
    expect(resolveLoadOrder(['sd_mod'], lookup)).toContain('t10_pi');
    expect(resolveLoadOrder(['crc_t10dif'], lookup)).toEqual(['crct10dif_common', 'crc_t10dif']);
  });

  it('survives a dependency cycle', () => {
    expect(resolveLoadOrder(['a'], lookup)).toEqual(['b', 'a']);
  });

  it('names the chain when a hard dependency is missing', () => {
    expect(() => resolveLoadOrder(['broken'], lookup)).toThrow(
      'module gone is not in the kernel package (needed by broken)',
    );
    try {
      resolveLoadOrder(['nope'], lookup);
    } catch (e) {
      expect(GuestError.is(e) && e.code).toBe('GUEST_MODULE_MISSING');
    }
  });
});
