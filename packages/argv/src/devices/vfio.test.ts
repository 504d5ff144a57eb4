import { describe, expect, it } from 'vitest';
import { encodeDevice } from '../encode.js';

describe('vfio', () => {
  it('pci by BDF (govmm parity) and with every pci field', () => {
    expect(encodeDevice({ kind: 'vfio', bdf: '02:10.0' }).argv).toEqual(['-device', 'vfio-pci,host=02:10.0']);
    expect(
      encodeDevice({
        kind: 'vfio',
        bdf: '0000:02:10.0',
        id: 'gpu0',
        vendorId: '0x1234',
        deviceId: '0x5678',
        romfile: 'r.rom',
        bus: 'rp0',
      }).argv,
    ).toEqual([
      '-device',
      'vfio-pci,host=0000:02:10.0,id=gpu0,x-pci-vendor-id=0x1234,x-pci-device-id=0x5678,romfile=r.rom,bus=rp0',
    ]);
  });
  it('mediated device by sysfsdev', () => {
    expect(
      encodeDevice({ kind: 'vfio', sysfsDev: '/sys/bus/mdev/devices/c0f7e2a2-0000-4000-8000-000000000001' })
        .argv,
    ).toEqual(['-device', 'vfio-pci,sysfsdev=/sys/bus/mdev/devices/c0f7e2a2-0000-4000-8000-000000000001']);
  });
  it('ccw (default on s390x) and ap', () => {
    expect(
      encodeDevice(
        { kind: 'vfio', sysfsDev: '/sys/bus/mdev/devices/x', devno: 'fe.0.0006' },
        { arch: 's390x' },
      ).argv,
    ).toEqual(['-device', 'vfio-ccw,sysfsdev=/sys/bus/mdev/devices/x,devno=fe.0.0006']);
    expect(
      encodeDevice({ kind: 'vfio', transport: 'ap', sysfsDev: '/sys/devices/vfio_ap/matrix/m' }).argv,
    ).toEqual(['-device', 'vfio-ap,sysfsdev=/sys/devices/vfio_ap/matrix/m']);
  });
  it('rejects bad combinations', () => {
    expect(() => encodeDevice({ kind: 'vfio' })).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'bdf' }),
    );
    expect(() => encodeDevice({ kind: 'vfio', bdf: '02:10.0', sysfsDev: '/x' })).toThrow(
      expect.objectContaining({ path: 'bdf' }),
    );
    expect(() => encodeDevice({ kind: 'vfio', bdf: 'zz' })).toThrow(expect.objectContaining({ path: 'bdf' }));
    expect(() => encodeDevice({ kind: 'vfio', transport: 'ap', bdf: '02:10.0' })).toThrow(
      expect.objectContaining({ path: 'sysfsDev' }),
    );
    expect(() => encodeDevice({ kind: 'vfio', bdf: '02:10.0', devno: 'fe.0.0001' })).toThrow(
      expect.objectContaining({ path: 'devno' }),
    );
    expect(() => encodeDevice({ kind: 'vfio', sysfsDev: '/x', romfile: 'r' }, { arch: 's390x' })).toThrow(
      expect.objectContaining({ path: 'romfile' }),
    );
  });
});
