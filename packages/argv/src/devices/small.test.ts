import { describe, expect, it } from 'vitest';
import { encodeDevice } from '../encode.js';

describe('scsi-controller', () => {
  it('pci (govmm parity) with every field', () => {
    expect(encodeDevice({ kind: 'scsi-controller', id: 'foo' }).argv).toEqual([
      '-device',
      'virtio-scsi-pci,id=foo',
    ]);
    expect(
      encodeDevice({
        kind: 'scsi-controller',
        id: 'foo',
        bus: 'pci.0',
        addr: '0x4',
        disableModern: true,
        ioThread: 'iothread1',
        numQueues: 4,
        romfile: 'efi-virtio.rom',
      }).argv,
    ).toEqual([
      '-device',
      'virtio-scsi-pci,id=foo,bus=pci.0,addr=0x4,disable-modern=true,iothread=iothread1,num_queues=4,romfile=efi-virtio.rom',
    ]);
  });
  it("refuses govmm's test address 00:04.0, which QEMU's addr= parser rejects", () => {
    expect(() => encodeDevice({ kind: 'scsi-controller', id: 'foo', addr: '00:04.0' })).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'addr' }),
    );
  });
  it('ccw and mmio', () => {
    expect(
      encodeDevice(
        { kind: 'scsi-controller', id: 's', devno: 'fe.0.0007' },
        { arch: 's390x', iommuPlatform: true },
      ).argv,
    ).toEqual(['-device', 'virtio-scsi-ccw,id=s,iommu_platform=on,devno=fe.0.0007']);
    expect(encodeDevice({ kind: 'scsi-controller', id: 's' }, { machineType: 'microvm' }).argv).toEqual([
      '-device',
      'virtio-scsi-device,id=s',
    ]);
  });
});

describe('vsock', () => {
  it('pci with vhostfd (govmm parity)', () => {
    const r = encodeDevice({
      kind: 'vsock',
      id: 'vhost-vsock-pci0',
      contextId: 4,
      vhostFd: 42,
      disableModern: true,
      romfile: 'r.rom',
    });
    expect(r.argv).toEqual([
      '-device',
      'vhost-vsock-pci,disable-modern=true,vhostfd=3,id=vhost-vsock-pci0,guest-cid=4,romfile=r.rom',
    ]);
    expect(r.fds).toEqual([{ childFd: 3, hostFd: 42, path: 'vhostFd' }]);
  });
  it('ccw and mmio', () => {
    expect(
      encodeDevice(
        { kind: 'vsock', id: 'v', contextId: 3, devno: 'fe.0.0008' },
        { arch: 's390x', iommuPlatform: true },
      ).argv,
    ).toEqual(['-device', 'vhost-vsock-ccw,id=v,guest-cid=3,iommu_platform=on,devno=fe.0.0008']);
    expect(encodeDevice({ kind: 'vsock', id: 'v', contextId: 3 }, { machineType: 'microvm' }).argv).toEqual([
      '-device',
      'vhost-vsock-device,id=v,guest-cid=3',
    ]);
  });
  it('context id bounds', () => {
    expect(() => encodeDevice({ kind: 'vsock', id: 'v', contextId: 2 })).toThrow(
      expect.objectContaining({ path: 'contextId' }),
    );
    expect(() => encodeDevice({ kind: 'vsock', id: 'v', contextId: 2 ** 32 - 1 })).toThrow(
      expect.objectContaining({ path: 'contextId' }),
    );
    expect(encodeDevice({ kind: 'vsock', id: 'v', contextId: 2 ** 32 - 2 }).argv[1]).toBe(
      'vhost-vsock-pci,id=v,guest-cid=4294967294',
    );
  });
});

describe('rng', () => {
  it('pci (govmm parity)', () => {
    expect(
      encodeDevice({
        kind: 'rng',
        id: 'rng0',
        filename: '/dev/urandom',
        maxBytes: 1024,
        period: 1000,
        romfile: 'r.rom',
      }).argv,
    ).toEqual([
      '-object',
      'rng-random,id=rng0,filename=/dev/urandom',
      '-device',
      'virtio-rng-pci,rng=rng0,romfile=r.rom,max-bytes=1024,period=1000',
    ]);
    expect(encodeDevice({ kind: 'rng', id: 'rng0' }).argv).toEqual([
      '-object',
      'rng-random,id=rng0',
      '-device',
      'virtio-rng-pci,rng=rng0',
    ]);
  });
  it('ccw and mmio', () => {
    expect(
      encodeDevice({ kind: 'rng', id: 'r', devno: 'fe.0.0009' }, { arch: 's390x', iommuPlatform: true })
        .argv[3],
    ).toBe('virtio-rng-ccw,rng=r,iommu_platform=on,devno=fe.0.0009');
    expect(encodeDevice({ kind: 'rng', id: 'r' }, { machineType: 'microvm' }).argv[3]).toBe(
      'virtio-rng-device,rng=r',
    );
  });
});

describe('balloon', () => {
  it('pci (govmm parity: deflate-on-oom, then disable-modern)', () => {
    expect(
      encodeDevice({
        kind: 'balloon',
        id: 'balloon0',
        deflateOnOOM: true,
        disableModern: true,
        romfile: 'r.rom',
      }).argv,
    ).toEqual([
      '-device',
      'virtio-balloon-pci,id=balloon0,romfile=r.rom,deflate-on-oom=on,disable-modern=true',
    ]);
    expect(encodeDevice({ kind: 'balloon', freePageReporting: true }).argv).toEqual([
      '-device',
      'virtio-balloon-pci,deflate-on-oom=off,free-page-reporting=on',
    ]);
  });
  it('ccw has devno but no iommu_platform; mmio', () => {
    expect(
      encodeDevice({ kind: 'balloon', id: 'b', devno: 'fe.0.000a' }, { arch: 's390x', iommuPlatform: true })
        .argv,
    ).toEqual(['-device', 'virtio-balloon-ccw,id=b,devno=fe.0.000a,deflate-on-oom=off']);
    expect(encodeDevice({ kind: 'balloon' }, { machineType: 'microvm' }).argv).toEqual([
      '-device',
      'virtio-balloon-device,deflate-on-oom=off',
    ]);
  });
});

describe('iommu, pvpanic, loader', () => {
  it('intel-iommu', () => {
    expect(encodeDevice({ kind: 'iommu' }).argv).toEqual([
      '-device',
      'intel-iommu,intremap=off,device-iotlb=off,caching-mode=off',
    ]);
    expect(
      encodeDevice({ kind: 'iommu', intremap: true, deviceIotlb: true, cachingMode: true }).argv,
    ).toEqual(['-device', 'intel-iommu,intremap=on,device-iotlb=on,caching-mode=on']);
  });
  it('pvpanic', () => {
    expect(encodeDevice({ kind: 'pvpanic' }).argv).toEqual(['-device', 'pvpanic']);
    expect(encodeDevice({ kind: 'pvpanic', noShutdown: true }).argv).toEqual([
      '-device',
      'pvpanic',
      '-no-shutdown',
    ]);
  });
  it('loader', () => {
    expect(encodeDevice({ kind: 'loader', id: 'loader0', file: '/tmp/a,b' }).argv).toEqual([
      '-device',
      'loader,file=/tmp/a,,b,id=loader0',
    ]);
  });
});
