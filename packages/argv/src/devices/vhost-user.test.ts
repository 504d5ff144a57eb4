import { describe, expect, it } from 'vitest';
import { encodeDevice, encodeQemuArgv } from '../encode.js';

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
  describe('net, scsi and blk on ccw and mmio', () => {
    const net = {
      kind: 'vhost-user-net',
      socketPath: '/run/vu,net.sock',
      charDevId: 'char1',
      typeDevId: 'net1',
      address: '02:00:00:00:00:01',
    } as const;
    const scsi = {
      kind: 'vhost-user-scsi',
      socketPath: '/run/vu.scsi',
      charDevId: 'c2',
      typeDevId: 'scsi1',
    } as const;
    const blk = {
      kind: 'vhost-user-blk',
      socketPath: '/run/vu.blk',
      charDevId: 'c3',
      typeDevId: 'blk1',
    } as const;
    const s390 = { arch: 's390x' } as const;

    it('net on ccw: virtio-net-ccw with iommu_platform (knob) and devno (when set), unlike govmm', () => {
      expect(encodeDevice({ ...net, devno: 'fe.0.0007' }, { ...s390, iommuPlatform: true }).argv).toEqual([
        '-chardev',
        'socket,id=char1,path=/run/vu,,net.sock',
        '-netdev',
        'type=vhost-user,id=net1,chardev=char1,vhostforce=on',
        '-device',
        'virtio-net-ccw,netdev=net1,mac=02:00:00:00:00:01,iommu_platform=on,devno=fe.0.0007',
      ]);
      // without the knob and without devno the device string is govmm's
      expect(encodeDevice(net, s390).argv).toEqual([
        '-chardev',
        'socket,id=char1,path=/run/vu,,net.sock',
        '-netdev',
        'type=vhost-user,id=net1,chardev=char1,vhostforce=on',
        '-device',
        'virtio-net-ccw,netdev=net1,mac=02:00:00:00:00:01',
      ]);
      // an explicit transport wins over the machine's default
      expect(encodeDevice({ ...net, transport: 'ccw' }).argv[5]).toBe(
        'virtio-net-ccw,netdev=net1,mac=02:00:00:00:00:01',
      );
    });

    it('net on mmio: virtio-net-device, no iommu_platform or devno', () => {
      expect(encodeDevice(net, { machineType: 'microvm', iommuPlatform: true }).argv).toEqual([
        '-chardev',
        'socket,id=char1,path=/run/vu,,net.sock',
        '-netdev',
        'type=vhost-user,id=net1,chardev=char1,vhostforce=on',
        '-device',
        'virtio-net-device,netdev=net1,mac=02:00:00:00:00:01',
      ]);
      expect(() => encodeDevice({ ...net, devno: 'fe.0.0001' }, { machineType: 'microvm' })).toThrow(
        expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'devno' }),
      );
      expect(() => encodeDevice({ ...net, romfile: 'r.rom' }, { machineType: 'microvm' })).toThrow(
        expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'romfile' }),
      );
    });

    it('scsi and blk on mmio: the bare virtio-bus devices vhost-user-scsi / vhost-user-blk', () => {
      expect(encodeDevice(scsi, { machineType: 'microvm' }).argv).toEqual([
        '-chardev',
        'socket,id=c2,path=/run/vu.scsi',
        '-device',
        'vhost-user-scsi,id=scsi1,chardev=c2',
      ]);
      expect(encodeDevice(blk, { machineType: 'microvm' }).argv).toEqual([
        '-chardev',
        'socket,id=c3,path=/run/vu.blk',
        '-device',
        'vhost-user-blk,id=blk1,chardev=c3',
      ]);
      expect(encodeDevice({ ...blk, typeDevId: undefined, transport: 'mmio' }).argv).toEqual([
        '-chardev',
        'socket,id=c3,path=/run/vu.blk',
        '-device',
        'vhost-user-blk,chardev=c3',
      ]);
    });

    it.each([
      ['vhost-user-scsi', scsi],
      ['vhost-user-blk', blk],
    ] as const)('%s on ccw is refused: QEMU has no %s-ccw', (kind, dev) => {
      const refusal = expect.objectContaining({
        name: 'ArgvError',
        code: 'ARGV_INVALID_DEVICE',
        path: 'transport',
        kind,
        message: `transport (${kind}): QEMU has no ${kind}-ccw device: ${kind} needs the pci or mmio transport`,
      });
      // the s390x default transport, an explicit one, and with a devno (which ccw alone would take)
      expect(() => encodeDevice(dev, s390)).toThrow(refusal);
      expect(() => encodeDevice({ ...dev, transport: 'ccw' })).toThrow(refusal);
      expect(() => encodeDevice({ ...dev, devno: 'fe.0.0001' }, { ...s390, iommuPlatform: true })).toThrow(
        refusal,
      );
      // in a whole config the path names the device
      expect(() =>
        encodeQemuArgv({ arch: 's390x', machine: { type: 's390-ccw-virtio' }, devices: [dev] }),
      ).toThrow(
        expect.objectContaining({
          code: 'ARGV_INVALID_DEVICE',
          path: 'devices[0].transport',
          deviceIndex: 0,
        }),
      );
      // on s390x, pci is still there for whoever asks for it
      expect(encodeDevice({ ...dev, transport: 'pci' }, s390).argv[3]).toMatch(new RegExp(`^${kind}-pci,`));
    });
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
