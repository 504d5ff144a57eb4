import { describe, expect, it } from 'vitest';
import { encodeDevice } from '../encode.js';
import type { BlockDeviceConfig } from './block.js';

const base: BlockDeviceConfig = {
  kind: 'block',
  id: 'hd0',
  file: '/var/lib/vm/disk.img',
  format: 'qcow2',
  aio: 'threads',
};

describe('block', () => {
  it('pci (govmm parity)', () => {
    expect(encodeDevice({ ...base, disableModern: true, romfile: 'efi-virtio.rom' }).argv).toEqual([
      '-device',
      'virtio-blk-pci,disable-modern=true,drive=hd0,scsi=off,config-wce=off,romfile=efi-virtio.rom,serial=hd0',
      '-drive',
      'id=hd0,file=/var/lib/vm/disk.img,aio=threads,format=qcow2,if=none',
    ]);
  });
  it('ccw with devno (no iommu_platform for block)', () => {
    expect(
      encodeDevice({ ...base, devno: 'fe.0.0001' }, { arch: 's390x', iommuPlatform: true }).argv,
    ).toEqual([
      '-device',
      'virtio-blk-ccw,drive=hd0,scsi=off,config-wce=off,devno=fe.0.0001,serial=hd0',
      '-drive',
      'id=hd0,file=/var/lib/vm/disk.img,aio=threads,format=qcow2,if=none',
    ]);
  });
  it('mmio on microvm', () => {
    expect(encodeDevice(base, { machineType: 'microvm' }).argv[1]).toBe(
      'virtio-blk-device,drive=hd0,scsi=off,config-wce=off,serial=hd0',
    );
  });
  it('every option and defaults', () => {
    expect(
      encodeDevice({
        kind: 'block',
        id: 'd1',
        file: '/dev/sdb',
        scsi: true,
        wce: true,
        readOnly: true,
        shareRW: true,
        discard: true,
        interface: 'none',
        aio: 'native',
        format: 'raw',
      }).argv,
    ).toEqual([
      '-device',
      'virtio-blk-pci,drive=d1,share-rw=on,serial=d1',
      '-drive',
      'id=d1,file=/dev/sdb,aio=native,format=raw,if=none,readonly=on,discard=unmap',
    ]);
    expect(encodeDevice({ kind: 'block', id: 'd2', file: 'x.img' }).argv[3]).toBe(
      'id=d2,file=x.img,aio=threads,format=raw,if=none',
    );
  });
  it('scsi-hd on a virtio-scsi bus', () => {
    expect(
      encodeDevice({
        kind: 'block',
        driver: 'scsi-hd',
        id: 's0',
        file: '/i.img',
        bus: 'scsi0.0',
        interface: 'scsi',
      }).argv,
    ).toEqual([
      '-device',
      'scsi-hd,drive=s0,bus=scsi0.0,serial=s0',
      '-drive',
      'id=s0,file=/i.img,aio=threads,format=raw,if=scsi',
    ]);
  });
  it('escapes commas in the file and protects protocol-looking relative paths', () => {
    expect(encodeDevice({ kind: 'block', id: 'd', file: '/tmp/a,b=c.img' }).argv[3]).toBe(
      'id=d,file=/tmp/a,,b=c.img,aio=threads,format=raw,if=none',
    );
    expect(encodeDevice({ kind: 'block', id: 'd', file: 'json:{"driver":"nbd"}' }).argv[3]).toBe(
      'id=d,file=./json:{"driver":"nbd"},aio=threads,format=raw,if=none',
    );
  });
  it('rejects transport fields that do not apply', () => {
    expect(() => encodeDevice({ ...base, devno: 'fe.0.0001' })).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'devno' }),
    );
    expect(() => encodeDevice({ ...base, romfile: 'x.rom' }, { arch: 's390x' })).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'romfile' }),
    );
    expect(() => encodeDevice({ kind: 'block', driver: 'scsi-hd', id: 's', file: 'f', wce: true })).toThrow(
      expect.objectContaining({ path: 'wce' }),
    );
  });
});
