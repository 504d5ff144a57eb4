import { describe, expect, it } from 'vitest';
import { encodeDevice } from '../encode.js';
import type { FsDeviceConfig } from './fs-9p.js';

const fs: FsDeviceConfig = {
  kind: 'fs',
  fsDriver: 'local',
  id: 'workload9p',
  path: '/var/lib/docker/devicemapper/mnt/e31ebda2',
  mountTag: 'rootfs',
  securityModel: 'none',
};

describe('fs (9p)', () => {
  it('pci (govmm parity)', () => {
    expect(
      encodeDevice({ ...fs, disableModern: true, romfile: 'efi-virtio.rom', multidevs: 'remap' }).argv,
    ).toEqual([
      '-device',
      'virtio-9p-pci,disable-modern=true,fsdev=workload9p,mount_tag=rootfs,romfile=efi-virtio.rom',
      '-fsdev',
      'local,id=workload9p,path=/var/lib/docker/devicemapper/mnt/e31ebda2,security_model=none,multidevs=remap',
    ]);
  });
  it('ccw with iommu_platform: one comma (govmm G22 writes two)', () => {
    expect(encodeDevice({ ...fs, devno: 'fe.0.0001' }, { arch: 's390x', iommuPlatform: true }).argv[1]).toBe(
      'virtio-9p-ccw,fsdev=workload9p,mount_tag=rootfs,iommu_platform=on,devno=fe.0.0001',
    );
  });
  it('mmio; commas in path and tag are escaped', () => {
    expect(
      encodeDevice({ ...fs, path: '/srv/a,b', mountTag: 't,1' }, { machineType: 'microvm' }).argv,
    ).toEqual([
      '-device',
      'virtio-9p-device,fsdev=workload9p,mount_tag=t,,1',
      '-fsdev',
      'local,id=workload9p,path=/srv/a,,b,security_model=none',
    ]);
  });
});
