import { describe, expect, it } from 'vitest';
import { encodeDevice } from '../encode.js';

describe('net (tap)', () => {
  it('pci with ifname, scripts, bus and decimal addr (govmm parity)', () => {
    expect(
      encodeDevice({
        kind: 'net',
        type: 'tap',
        id: 'tap0',
        ifName: 'ceth0',
        downScript: 'no',
        script: 'no',
        bus: 'pci.0',
        addr: '255',
        macAddress: '01:02:de:ad:be:ef',
        disableModern: true,
        romfile: 'efi-virtio.rom',
      }).argv,
    ).toEqual([
      '-netdev',
      'tap,id=tap0,ifname=ceth0,downscript=no,script=no',
      '-device',
      'driver=virtio-net-pci,netdev=tap0,mac=01:02:de:ad:be:ef,bus=pci.0,addr=ff,disable-modern=true,romfile=efi-virtio.rom',
    ]);
  });
  it('multiqueue with vhost: vhost fds first, vectors = 2N+2 on pci', () => {
    const r = encodeDevice({
      kind: 'net',
      type: 'tap',
      id: 'n',
      ifName: 'tap0',
      fds: [30, 31],
      vhostFds: [40, 41],
      vhost: true,
      macAddress: '52:54:00:00:00:01',
    });
    expect(r.argv).toEqual([
      '-netdev',
      'tap,id=n,vhost=on,vhostfds=3:4,fds=5:6',
      '-device',
      'driver=virtio-net-pci,netdev=n,mac=52:54:00:00:00:01,mq=on,vectors=6',
    ]);
    expect(r.fds).toEqual([
      { childFd: 3, hostFd: 40, path: 'vhostFds[0]' },
      { childFd: 4, hostFd: 41, path: 'vhostFds[1]' },
      { childFd: 5, hostFd: 30, path: 'fds[0]' },
      { childFd: 6, hostFd: 31, path: 'fds[1]' },
    ]);
  });
  it('ccw: no vectors, iommu_platform and devno', () => {
    expect(
      encodeDevice(
        {
          kind: 'net',
          type: 'macvtap',
          id: 'n',
          fds: [9],
          macAddress: '52:54:00:00:00:02',
          devno: 'fe.0.0002',
        },
        { arch: 's390x', iommuPlatform: true, firstFd: 5 },
      ).argv,
    ).toEqual([
      '-netdev',
      'tap,id=n,fds=5',
      '-device',
      'driver=virtio-net-ccw,netdev=n,mac=52:54:00:00:00:02,mq=on,iommu_platform=on,devno=fe.0.0002',
    ]);
  });
  it('mmio on microvm; hex addr passes through; ipvtap/vethtap are tap', () => {
    expect(
      encodeDevice(
        { kind: 'net', type: 'ipvtap', id: 'n', ifName: 'ip0', addr: '0x3.1' },
        { machineType: 'microvm' },
      ).argv,
    ).toEqual(['-netdev', 'tap,id=n,ifname=ip0', '-device', 'driver=virtio-net-device,netdev=n,addr=0x3.1']);
  });
  it('rejects what govmm drops silently', () => {
    expect(() => encodeDevice({ kind: 'net', type: 'macvtap', id: 'n', ifName: 'x' })).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'fds' }),
    );
    expect(() => encodeDevice({ kind: 'net', type: 'tap', id: 'n', ifName: 'x', addr: 'abc' })).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'addr' }),
    );
    expect(() => encodeDevice({ kind: 'net', type: 'tap', id: 'n', ifName: 'x', vhostFds: [3] })).toThrow(
      expect.objectContaining({ path: 'vhostFds' }),
    );
    expect(() => encodeDevice({ kind: 'net', type: 'tap', id: 'n' })).toThrow(
      expect.objectContaining({ path: 'ifName' }),
    );
    expect(() => encodeDevice({ kind: 'net', type: 'tap', id: 'n', ifName: 'x', macAddress: 'zz' })).toThrow(
      expect.objectContaining({ path: 'macAddress' }),
    );
  });
});
