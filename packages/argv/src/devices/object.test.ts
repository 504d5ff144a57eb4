import { describe, expect, it } from 'vitest';
import { encodeDevice } from '../encode.js';

describe('objects', () => {
  it('memory-backend-file nvdimm: device first (govmm parity)', () => {
    expect(
      encodeDevice({
        kind: 'memory-backend-file',
        id: 'mem0',
        deviceId: 'nv0',
        memPath: '/root',
        size: 1 << 30,
      }).argv,
    ).toEqual([
      '-device',
      'nvdimm,id=nv0,memdev=mem0',
      '-object',
      'memory-backend-file,id=mem0,mem-path=/root,size=1073741824',
    ]);
  });
  it('memory-backend-file read-only: unarmed + readonly', () => {
    expect(
      encodeDevice({
        kind: 'memory-backend-file',
        driver: 'nvdimm',
        id: 'm',
        deviceId: 'n',
        memPath: '/img,1',
        size: 4096,
        readOnly: true,
      }).argv,
    ).toEqual([
      '-device',
      'nvdimm,id=n,memdev=m,unarmed=on',
      '-object',
      'memory-backend-file,id=m,mem-path=/img,,1,size=4096,readonly=on',
    ]);
  });
  it('memory-backend-file with labelSize and uuid: label-size= and uuid= on the device (pseries form)', () => {
    expect(
      encodeDevice(
        {
          kind: 'memory-backend-file',
          id: 'mem0',
          deviceId: 'nv0',
          memPath: '/img/rootfs.img',
          size: 268566528,
          labelSize: 131072,
          uuid: '6c1f9e0a-5a8d-4c1e-9d0b-2f3a4b5c6d7e',
        },
        { arch: 'ppc64le', machineType: 'pseries' },
      ).argv,
    ).toEqual([
      '-device',
      'nvdimm,id=nv0,memdev=mem0,label-size=131072,uuid=6c1f9e0a-5a8d-4c1e-9d0b-2f3a4b5c6d7e',
      '-object',
      'memory-backend-file,id=mem0,mem-path=/img/rootfs.img,size=268566528',
    ]);
  });
  it('memory-backend-file labelSize alone, before unarmed', () => {
    expect(
      encodeDevice({
        kind: 'memory-backend-file',
        id: 'm',
        deviceId: 'n',
        memPath: '/img',
        size: 1 << 20,
        labelSize: 1 << 17,
        readOnly: true,
      }).argv,
    ).toEqual([
      '-device',
      'nvdimm,id=n,memdev=m,label-size=131072,unarmed=on',
      '-object',
      'memory-backend-file,id=m,mem-path=/img,size=1048576,readonly=on',
    ]);
  });
  it.each([
    ['zero', 0],
    ['below QEMU minimum of 128 KiB', 131071],
    ['negative', -131072],
    ['fractional', 131072.5],
    ['not a number', '131072'],
    ['beyond safe integers', 2 ** 53],
    ['not less than size', 1 << 20],
  ])('memory-backend-file labelSize %s is refused naming labelSize', (_, labelSize) => {
    expect(() =>
      encodeDevice({
        kind: 'memory-backend-file',
        id: 'm',
        deviceId: 'n',
        memPath: '/img',
        size: 1 << 20,
        labelSize,
      } as never),
    ).toThrow(expect.objectContaining({ name: 'ArgvError', code: 'ARGV_INVALID_DEVICE', path: 'labelSize' }));
  });
  it('memory-backend-file uuid must be a UUID', () => {
    expect(() =>
      encodeDevice({
        kind: 'memory-backend-file',
        id: 'm',
        deviceId: 'n',
        memPath: '/img',
        size: 1 << 20,
        uuid: 'not-a-uuid,x=1',
      }),
    ).toThrow(expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'uuid' }));
  });
  it('memory-backend-epc', () => {
    expect(
      encodeDevice({ kind: 'memory-backend-epc', id: 'epc0', size: 1 << 20, prealloc: true }).argv,
    ).toEqual(['-object', 'memory-backend-epc,id=epc0,size=1048576,prealloc=on']);
    expect(encodeDevice({ kind: 'memory-backend-epc', id: 'epc0', size: 4096 }).argv).toEqual([
      '-object',
      'memory-backend-epc,id=epc0,size=4096',
    ]);
  });
  it('sev-guest with its pflash firmware', () => {
    expect(
      encodeDevice({
        kind: 'sev-guest',
        id: 'sev',
        file: '/usr/share/OVMF.fd',
        cBitPos: 47,
        reducedPhysBits: 1,
      }).argv,
    ).toEqual([
      '-object',
      'sev-guest,id=sev,cbitpos=47,reduced-phys-bits=1',
      '-drive',
      'if=pflash,format=raw,readonly=on,file=/usr/share/OVMF.fd',
    ]);
  });
  it('sev-snp-guest: firmware becomes -bios', () => {
    expect(
      encodeDevice({
        kind: 'sev-snp-guest',
        id: 'snp',
        file: '/fw/OVMF.fd',
        cBitPos: 51,
        reducedPhysBits: 1,
        idBlock: 'aWQ=',
        idAuth: 'YXV0aA==',
        policy: 196608,
        hostData: 'aG9zdA==',
      }).argv,
    ).toEqual([
      '-object',
      'sev-snp-guest,id=snp,cbitpos=51,reduced-phys-bits=1,kernel-hashes=on,id-block=aWQ=,id-auth=YXV0aA==,policy=196608,host-data=aG9zdA==',
      '-bios',
      '/fw/OVMF.fd',
    ]);
  });
  it('tdx-guest (G22 form with a loader)', () => {
    expect(
      encodeDevice({ kind: 'tdx-guest', id: 'tdx', deviceId: 'fw', file: '/fw/TDVF.fd', debug: true }).argv,
    ).toEqual(['-device', 'loader,id=fw,file=/fw/TDVF.fd', '-object', 'tdx-guest,id=tdx,debug=on']);
  });
  it('s390-pv-guest and pef-guest', () => {
    expect(encodeDevice({ kind: 's390-pv-guest', id: 'pv0' }).argv).toEqual([
      '-object',
      's390-pv-guest,id=pv0',
    ]);
    expect(
      encodeDevice({ kind: 'pef-guest', id: 'pef0', deviceId: 'proxy', file: '/dev/tpmrm0' }).argv,
    ).toEqual(['-device', 'spapr-tpm-proxy,id=proxy,host-path=/dev/tpmrm0', '-object', 'pef-guest,id=pef0']);
  });
  it('rejects zero sizes and missing files', () => {
    expect(() => encodeDevice({ kind: 'memory-backend-epc', id: 'e', size: 0 })).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'size' }),
    );
    expect(() =>
      encodeDevice({ kind: 'sev-guest', id: 's', file: '', cBitPos: 47, reducedPhysBits: 1 }),
    ).toThrow(expect.objectContaining({ path: 'file' }));
  });
});
