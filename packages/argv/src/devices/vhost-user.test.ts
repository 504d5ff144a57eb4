import { describe, expect, it } from 'vitest';
import { encodeDevice } from '../encode.js';

describe('vhost-user', () => {
  it('net (govmm parity, vhostforce=on instead of the deprecated bare flag)', () => {
    expect(
      encodeDevice({
        kind: 'vhost-user-net',
        socketPath: '/tmp/nonexistentsocket.socket',
        charDevId: 'char1',
        typeDevId: 'net1',
        address: '00:11:22:33:44:55',
        romfile: 'efi-virtio.rom',
      }).argv,
    ).toEqual([
      '-chardev',
      'socket,id=char1,path=/tmp/nonexistentsocket.socket',
      '-netdev',
      'type=vhost-user,id=net1,chardev=char1,vhostforce=on',
      '-device',
      'virtio-net-pci,netdev=net1,mac=00:11:22:33:44:55,romfile=efi-virtio.rom',
    ]);
  });
  it('scsi and blk (no size/logical_block_size, which vhost-user-blk lacks)', () => {
    expect(
      encodeDevice({ kind: 'vhost-user-scsi', socketPath: '/s', charDevId: 'c2', typeDevId: 'scsi1' }).argv,
    ).toEqual(['-chardev', 'socket,id=c2,path=/s', '-device', 'vhost-user-scsi-pci,id=scsi1,chardev=c2']);
    expect(encodeDevice({ kind: 'vhost-user-blk', socketPath: '/b,1', charDevId: 'c3' }).argv).toEqual([
      '-chardev',
      'socket,id=c3,path=/b,,1',
      '-device',
      'vhost-user-blk-pci,chardev=c3',
    ]);
  });
  it('fs on pci and ccw', () => {
    const fs = {
      kind: 'vhost-user-fs',
      socketPath: '/run/vfs.sock',
      charDevId: 'c4',
      tag: 'kataShared',
    } as const;
    expect(
      encodeDevice({ ...fs, queueSize: 1024, cacheSize: 8192, sharedVersions: true, romfile: 'r.rom' }).argv,
    ).toEqual([
      '-chardev',
      'socket,id=c4,path=/run/vfs.sock',
      '-device',
      'vhost-user-fs-pci,chardev=c4,tag=kataShared,queue-size=1024,cache-size=8192M,versiontable=/dev/shm/fuse_shared_versions,romfile=r.rom',
    ]);
    expect(encodeDevice({ ...fs, devno: 'fe.0.0005' }, { arch: 's390x', iommuPlatform: true }).argv[3]).toBe(
      'vhost-user-fs-ccw,chardev=c4,tag=kataShared,iommu_platform=on,devno=fe.0.0005',
    );
    expect(encodeDevice(fs, { machineType: 'microvm' }).argv[3]).toBe(
      'vhost-user-fs-device,chardev=c4,tag=kataShared',
    );
  });
  it('requires the ids govmm requires', () => {
    expect(() =>
      encodeDevice({ kind: 'vhost-user-net', socketPath: '/s', charDevId: 'c', typeDevId: 'n' } as never),
    ).toThrow(expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'address' }));
    expect(() =>
      encodeDevice({ kind: 'vhost-user-blk', socketPath: '/s', charDevId: 'c', disableModern: true }),
    ).toThrow(expect.objectContaining({ path: 'disableModern' }));
  });
});
