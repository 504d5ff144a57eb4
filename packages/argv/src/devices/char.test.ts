import { describe, expect, it } from 'vitest';
import { encodeDevice } from '../encode.js';

describe('char', () => {
  it('virtserialport on a socket (govmm parity, server=on,wait=off)', () => {
    expect(
      encodeDevice({
        kind: 'char',
        driver: 'virtserialport',
        backend: 'socket',
        deviceId: 'channel0',
        id: 'charch0',
        path: '/tmp/kata.sock',
        name: 'agent.channel.0',
        bus: 'serial0.0',
      }).argv,
    ).toEqual([
      '-device',
      'virtserialport,bus=serial0.0,chardev=charch0,id=channel0,name=agent.channel.0',
      '-chardev',
      'socket,id=charch0,path=/tmp/kata.sock,server=on,wait=off',
    ]);
  });
  it('virtconsole on a pty', () => {
    expect(
      encodeDevice({ kind: 'char', driver: 'virtconsole', backend: 'pty', deviceId: 'con0', id: 'charcon0' })
        .argv,
    ).toEqual(['-device', 'virtconsole,chardev=charcon0,id=con0', '-chardev', 'pty,id=charcon0']);
  });
  it("rejects govmm's virtio-serial char driver (QEMU has no virtio-serial-pci.chardev)", () => {
    expect(() =>
      encodeDevice({
        kind: 'char',
        driver: 'virtio-serial',
        backend: 'file',
        deviceId: 'v',
        id: 'c',
        path: '/l',
      } as never),
    ).toThrow(expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'driver' }));
  });
  it('driver serial: only the chardev; legacy-serial wires it', () => {
    expect(
      encodeDevice({ kind: 'char', driver: 'serial', backend: 'serial', id: 'ser0', path: '/dev/ttyS0' })
        .argv,
    ).toEqual(['-chardev', 'serial,id=ser0,path=/dev/ttyS0']);
    expect(encodeDevice({ kind: 'legacy-serial', chardev: 'ser0' }).argv).toEqual([
      '-serial',
      'chardev:ser0',
    ]);
  });
  it('logfile (escaped) and logappend: output is kept with no client connected', () => {
    expect(
      encodeDevice({
        kind: 'char',
        driver: 'serial',
        backend: 'socket',
        id: 'charserial0',
        path: '/run/vmm/a,b/console.sock',
        logfile: '/run/vmm/a,b/console.log',
        logappend: true,
      }).argv,
    ).toEqual([
      '-chardev',
      'socket,id=charserial0,path=/run/vmm/a,,b/console.sock,server=on,wait=off,logfile=/run/vmm/a,,b/console.log,logappend=on',
    ]);
    expect(() =>
      encodeDevice({ kind: 'char', driver: 'serial', backend: 'pty', id: 'c', logappend: false }),
    ).toThrow(expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'logappend' }));
  });
  it('rejects a missing path, a path on pty, and transport fields on ports', () => {
    expect(() =>
      encodeDevice({ kind: 'char', driver: 'virtconsole', backend: 'socket', deviceId: 'c', id: 'x' }),
    ).toThrow(expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'path' }));
    expect(() =>
      encodeDevice({
        kind: 'char',
        driver: 'virtconsole',
        backend: 'pty',
        deviceId: 'c',
        id: 'x',
        path: '/p',
      }),
    ).toThrow(expect.objectContaining({ path: 'path' }));
    expect(() =>
      encodeDevice({
        kind: 'char',
        driver: 'virtconsole',
        backend: 'pty',
        deviceId: 'c',
        id: 'x',
        romfile: 'r',
      } as never),
    ).toThrow(expect.objectContaining({ code: 'ARGV_UNKNOWN_FIELD', path: 'romfile' }));
  });
});

describe('serial (virtio-serial controller)', () => {
  it('pci: max_ports written even without romfile (govmm drops it)', () => {
    expect(encodeDevice({ kind: 'serial', id: 'serial0', maxPorts: 2 }).argv).toEqual([
      '-device',
      'virtio-serial-pci,id=serial0,max_ports=2',
    ]);
    expect(
      encodeDevice({ kind: 'serial', id: 'serial0', disableModern: true, romfile: 'efi.rom', maxPorts: 4 })
        .argv,
    ).toEqual(['-device', 'virtio-serial-pci,disable-modern=true,id=serial0,romfile=efi.rom,max_ports=4']);
  });
  it('ccw and mmio', () => {
    expect(
      encodeDevice({ kind: 'serial', id: 's', devno: 'fe.0.0004' }, { arch: 's390x', iommuPlatform: true })
        .argv,
    ).toEqual(['-device', 'virtio-serial-ccw,id=s,iommu_platform=on,devno=fe.0.0004']);
    expect(encodeDevice({ kind: 'serial', id: 's' }, { machineType: 'microvm' }).argv).toEqual([
      '-device',
      'virtio-serial-device,id=s',
    ]);
  });
});
