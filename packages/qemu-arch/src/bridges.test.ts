import { describe, expect, it } from 'vitest';
import {
  BridgeAllocator,
  ccwBusId,
  ccwDevno,
  createBridgeAllocator,
  defaultBridges,
  formatBridgeSlot,
  MAX_CCW_BRIDGES,
  MAX_PCI_BRIDGES,
} from './bridges.js';
import { QemuArchError } from './errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return QemuArchError.is(e) ? e.code : 'NOT_A_QEMU_ARCH_ERROR';
  }
  return undefined;
}

describe('defaultBridges (Kata bridges(number))', () => {
  it('PCI bridges pci-bridge-<i> at root-bus slot 2 + i', () => {
    expect(defaultBridges('pci', 3)).toEqual([
      { id: 'pci-bridge-0', type: 'pci', addr: 2 },
      { id: 'pci-bridge-1', type: 'pci', addr: 3 },
      { id: 'pci-bridge-2', type: 'pci', addr: 4 },
    ]);
  });
  it('CCW bridges ccw-bridge-<i> on subchannel set i', () => {
    expect(defaultBridges('ccw', 2)).toEqual([
      { id: 'ccw-bridge-0', type: 'ccw', addr: 0 },
      { id: 'ccw-bridge-1', type: 'ccw', addr: 1 },
    ]);
  });
  it.each([
    ['pci', -1],
    ['pci', MAX_PCI_BRIDGES + 1],
    ['ccw', MAX_CCW_BRIDGES + 1],
    ['pcie', 1.5],
  ] as const)('rejects %s x %s', (t, n) => {
    expect(codeOf(() => defaultBridges(t, n))).toBe('QEMU_ARCH_INVALID_OPTIONS');
  });
});

describe('BridgeAllocator (Kata AddDevice/RemoveDevice/addDeviceToBridge)', () => {
  it('PCI: slots 1..30, formatted %02x, with the PCI path', () => {
    const a = createBridgeAllocator('pci', 1);
    const first = a.add('dev0', 'pci');
    expect(first).toEqual({
      deviceId: 'dev0',
      bridge: { id: 'pci-bridge-0', type: 'pci', addr: 2 },
      slot: 1,
      addr: '01',
      pciPath: '02/01',
    });
    for (let i = 1; i < 30; i++) a.add(`dev${i}`, 'pci');
    expect(a.find('dev15')?.addr).toBe('10');
    expect(a.find('dev29')?.addr).toBe('1e');
    expect(codeOf(() => a.add('dev30', 'pci'))).toBe('QEMU_ARCH_BRIDGE_FULL');
  });
  it('fills the next bridge when the first is full', () => {
    const a = createBridgeAllocator('pci', 2);
    for (let i = 0; i < 30; i++) a.add(`d${i}`, 'pci');
    expect(a.add('x', 'pci')).toMatchObject({
      bridge: { id: 'pci-bridge-1', addr: 3 },
      addr: '01',
      pciPath: '03/01',
    });
  });
  it('CCW: slots 1..0xffff, %04x, devno fe.<bridge>.<addr>', () => {
    const a = createBridgeAllocator('ccw', 2);
    expect(a.add('serial0', 'ccw')).toMatchObject({ addr: '0001', devno: 'fe.0.0001' });
    expect(a.add('image', 'ccw').devno).toBe('fe.0.0002');
    const full = BridgeAllocator.fromState([
      {
        id: 'ccw-bridge-0',
        type: 'ccw',
        addr: 0,
        devices: Object.fromEntries(Array.from({ length: 0xffff }, (_, i) => [String(i + 1), `d${i}`])),
      },
      { id: 'ccw-bridge-1', type: 'ccw', addr: 1, devices: {} },
    ]);
    expect(full.add('next', 'ccw')).toMatchObject({ addr: '0001', devno: 'fe.1.0001' });
  });
  it('reuses the lowest freed slot', () => {
    const a = createBridgeAllocator('pci', 1);
    a.add('a', 'pci');
    a.add('b', 'pci');
    a.add('c', 'pci');
    expect(a.remove('b')).toMatchObject({ deviceId: 'b', addr: '02' });
    expect(a.add('d', 'pci').addr).toBe('02');
    expect(a.find('b')).toBeUndefined();
  });
  it('errors: no bridge of the type, unknown device, duplicate id, empty id', () => {
    const a = createBridgeAllocator('pci', 1);
    expect(codeOf(() => a.add('x', 'ccw'))).toBe('QEMU_ARCH_NO_BRIDGE');
    expect(codeOf(() => createBridgeAllocator('pci', 0).add('x', 'pci'))).toBe('QEMU_ARCH_NO_BRIDGE');
    expect(codeOf(() => a.remove('ghost'))).toBe('QEMU_ARCH_DEVICE_NOT_FOUND');
    a.add('x', 'pci');
    expect(codeOf(() => a.add('x', 'pci'))).toBe('QEMU_ARCH_DUPLICATE_DEVICE');
    expect(codeOf(() => a.add('', 'pci'))).toBe('QEMU_ARCH_INVALID_OPTIONS');
  });
  it('state round-trips and is validated', () => {
    const a = createBridgeAllocator('pci', 2);
    a.add('a', 'pci');
    a.add('b', 'pci');
    a.remove('a');
    const state = a.toState();
    expect(state).toEqual([
      { id: 'pci-bridge-0', type: 'pci', addr: 2, devices: { '2': 'b' } },
      { id: 'pci-bridge-1', type: 'pci', addr: 3, devices: {} },
    ]);
    const b = BridgeAllocator.fromState(JSON.parse(JSON.stringify(state)));
    expect(b.add('c', 'pci').addr).toBe('01');
    expect(b.placements().map((p) => p.deviceId)).toEqual(['c', 'b']);
    expect(a.find('c')).toBeUndefined();
  });
  it.each([
    [[{ id: 'x', type: 'pci', addr: 2, devices: { '31': 'd' } }]],
    [[{ id: 'x', type: 'pci', addr: 2, devices: { '0': 'd' } }]],
    [[{ id: 'x', type: 'pci', addr: 2, devices: { '1': 'd', '2': 'd' } }]],
    [
      [
        { id: 'x', type: 'pci', addr: 2, devices: {} },
        { id: 'x', type: 'pci', addr: 3, devices: {} },
      ],
    ],
    [
      [
        { id: 'x', type: 'pci', addr: 2, devices: {} },
        { id: 'y', type: 'pci', addr: 2, devices: {} },
      ],
    ],
    [[{ id: 'x', type: 'isa', addr: 2, devices: {} }]],
    ['nope'],
  ])('fromState rejects %j', (state) => {
    expect(codeOf(() => BridgeAllocator.fromState(state))).toBe('QEMU_ARCH_INVALID_OPTIONS');
  });
  it('two allocators share nothing', () => {
    const a = createBridgeAllocator('ccw', 1);
    const b = createBridgeAllocator('ccw', 1);
    a.add('x', 'ccw');
    expect(b.add('y', 'ccw').devno).toBe('fe.0.0001');
    expect(a.placements().map((p) => p.deviceId)).toEqual(['x']);
  });
});

describe('address formats', () => {
  it('formatBridgeSlot', () => {
    expect(formatBridgeSlot('pci', 10)).toBe('0a');
    expect(formatBridgeSlot('pcie', 30)).toBe('1e');
    expect(formatBridgeSlot('ccw', 0xabc)).toBe('0abc');
  });
  it('ccwDevno / ccwBusId (AddressFormatCCW / ForVirtServer)', () => {
    const b = { id: 'ccw-bridge-1', type: 'ccw', addr: 1 } as const;
    expect(ccwDevno(b, '0003')).toBe('fe.1.0003');
    expect(ccwBusId(b, '0003')).toBe('0.1.0003');
    const p = { id: 'pci-bridge-0', type: 'pci', addr: 2 } as const;
    expect(codeOf(() => ccwDevno(p, '01'))).toBe('QEMU_ARCH_NOT_CCW');
    expect(codeOf(() => ccwBusId(p, '01'))).toBe('QEMU_ARCH_NOT_CCW');
  });
});
