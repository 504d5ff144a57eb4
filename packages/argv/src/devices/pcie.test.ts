import { describe, expect, it } from 'vitest';
import { encodeDevice } from '../encode.js';

describe('pcie-root-port', () => {
  it('defaults (govmm parity)', () => {
    expect(encodeDevice({ kind: 'pcie-root-port', id: 'rp0' }).argv).toEqual([
      '-device',
      'pcie-root-port,id=rp0,bus=pcie.0,chassis=0x00,slot=0x00,multifunction=off',
    ]);
  });
  it('every field; addr written without multifunction (govmm G22 drops it)', () => {
    expect(
      encodeDevice({
        kind: 'pcie-root-port',
        id: 'rp1',
        bus: 'pcie.0',
        chassis: '0x01',
        slot: 2,
        addr: '0x5',
        multifunction: true,
        busReserve: 1,
        pref64Reserve: '2G',
        memReserve: '1M',
        ioReserve: '4K',
        romfile: 'r.rom',
      }).argv,
    ).toEqual([
      '-device',
      'pcie-root-port,id=rp1,bus=pcie.0,chassis=0x01,slot=2,addr=0x5,multifunction=on,bus-reserve=1,pref64-reserve=2G,mem-reserve=1M,io-reserve=4K,romfile=r.rom',
    ]);
    expect(encodeDevice({ kind: 'pcie-root-port', id: 'rp2', addr: '3', pref32Reserve: '1M' }).argv[1]).toBe(
      'pcie-root-port,id=rp2,bus=pcie.0,chassis=0x00,slot=0x00,addr=3,multifunction=off,pref32-reserve=1M',
    );
  });
  it('addr is QEMU syntax, written verbatim (hex slot, as govmm)', () => {
    expect(encodeDevice({ kind: 'pcie-root-port', id: 'r', addr: '10' }).argv[1]).toContain(',addr=10,');
    expect(encodeDevice({ kind: 'pcie-root-port', id: 'r', addr: '1f.3' }).argv[1]).toContain(',addr=1f.3,');
    expect(() => encodeDevice({ kind: 'pcie-root-port', id: 'r', addr: '00:04.0' })).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'addr' }),
    );
  });
  it('pref32 and pref64 are exclusive', () => {
    expect(() =>
      encodeDevice({ kind: 'pcie-root-port', id: 'r', pref32Reserve: '1M', pref64Reserve: '1G' }),
    ).toThrow(expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'pref32Reserve' }));
  });
});

describe('pcie switch ports and pxb-pcie', () => {
  it('upstream / downstream', () => {
    expect(encodeDevice({ kind: 'pcie-switch-upstream-port', id: 'up0', bus: 'rp0' }).argv).toEqual([
      '-device',
      'x3130-upstream,id=up0,bus=rp0',
    ]);
    expect(
      encodeDevice({
        kind: 'pcie-switch-downstream-port',
        id: 'dn0',
        bus: 'up0',
        chassis: 1,
        slot: 0,
        busReserve: 1,
        memReserve: '1M',
      }).argv,
    ).toEqual(['-device', 'xio3130-downstream,id=dn0,bus=up0,chassis=1,slot=0,bus-reserve=1,mem-reserve=1M']);
  });
  it('pxb-pcie', () => {
    expect(encodeDevice({ kind: 'pxb-pcie', id: 'pxb0', busNr: 32 }).argv).toEqual([
      '-device',
      'pxb-pcie,id=pxb0,bus=pcie.0,bus_nr=32',
    ]);
    expect(
      encodeDevice({ kind: 'pxb-pcie', id: 'pxb1', bus: 'pcie.0', busNr: 64, numaNode: 1 }).argv,
    ).toEqual(['-device', 'pxb-pcie,id=pxb1,bus=pcie.0,bus_nr=64,numa_node=1']);
  });
});

describe('bridge', () => {
  it('pci-bridge with decimal addr written hex (govmm parity)', () => {
    expect(
      encodeDevice({
        kind: 'bridge',
        bridgeType: 'pci',
        bus: 'pci.0',
        id: 'mybridge',
        chassis: 5,
        shpc: true,
        addr: '255',
        romfile: 'r.rom',
      }).argv,
    ).toEqual(['-device', 'pci-bridge,bus=pci.0,id=mybridge,chassis_nr=5,shpc=on,addr=ff,romfile=r.rom']);
    expect(
      encodeDevice({
        kind: 'bridge',
        bridgeType: 'pci',
        bus: 'pci.0',
        id: 'b',
        chassis: 1,
        ioReserve: '4K',
        memReserve: '1M',
        pref64Reserve: '1G',
      }).argv,
    ).toEqual([
      '-device',
      'pci-bridge,bus=pci.0,id=b,chassis_nr=1,shpc=off,io-reserve=4K,mem-reserve=1M,pref64-reserve=1G',
    ]);
  });
  it('pcie-pci-bridge', () => {
    expect(
      encodeDevice({ kind: 'bridge', bridgeType: 'pcie', bus: 'pcie.0', id: 'pb', addr: '0x4' }).argv,
    ).toEqual(['-device', 'pcie-pci-bridge,bus=pcie.0,id=pb,addr=0x4']);
  });
  it('rejects what QEMU or govmm would get wrong', () => {
    expect(() => encodeDevice({ kind: 'bridge', bridgeType: 'pci', bus: 'pci.0', id: 'b' })).toThrow(
      expect.objectContaining({ path: 'chassis' }),
    );
    expect(() =>
      encodeDevice({ kind: 'bridge', bridgeType: 'pci', bus: 'pci.0', id: 'b', chassis: 1, addr: 'x1' }),
    ).toThrow(expect.objectContaining({ code: 'ARGV_INVALID_DEVICE', path: 'addr' }));
    expect(() =>
      encodeDevice({ kind: 'bridge', bridgeType: 'pcie', bus: 'pcie.0', id: 'b', shpc: true }),
    ).toThrow(expect.objectContaining({ path: 'shpc' }));
  });
});
