/**
 * Bridges and the device address allocator (Kata `types/bridges.go` + `addDeviceToBridge`). One
 * {@link BridgeAllocator} per sandbox: nothing is shared between allocators.
 */
import { z } from 'zod';
import { QemuArchError } from './errors.js';

/** Bridge types. */
export const BRIDGE_TYPES = ['pci', 'pcie', 'ccw'] as const;
/** One of {@link BRIDGE_TYPES}. */
export type BridgeType = (typeof BRIDGE_TYPES)[number];

/** Slots per bridge: PCI/PCIe 30 (1..30), CCW 0xffff (1..0xffff). Slot 0 is never used. */
export const BRIDGE_CAPACITY: Readonly<Record<BridgeType, number>> = Object.freeze({
  pci: 30,
  pcie: 30,
  ccw: 0xffff,
});

/** PCI slot of the first bridge on the root bus (0 and 1 belong to the platform on x86). */
export const BRIDGE_PCI_START_ADDR = 2;

/** Most PCI bridges a sandbox may have (Kata's `maxPCIBridges`). */
export const MAX_PCI_BRIDGES = 5;

/** Most CCW bridges: one per subchannel set (0..3). */
export const MAX_CCW_BRIDGES = 4;

/** A bridge, without its devices. */
export interface BridgeInfo {
  /** QEMU id, `<type>-bridge-<n>` (`pci-bridge-0`). */
  readonly id: string;
  readonly type: BridgeType;
  /** PCI: the bridge's slot on the root bus (2, 3, ...). CCW: the subchannel set id (0..3). */
  readonly addr: number;
}

/** Where a device was placed. */
export interface BridgePlacement {
  readonly deviceId: string;
  readonly bridge: BridgeInfo;
  /** Slot on the bridge, 1-based. */
  readonly slot: number;
  /** The slot as Kata formats it: `%02x` for PCI/PCIe (`"01"`), `%04x` for CCW (`"0001"`). */
  readonly addr: string;
  /** CCW only: `fe.<bridge addr %x>.<addr>` (`fe.0.0001`), the `devno=` QEMU takes. */
  readonly devno?: string;
  /** PCI only: `<bridge slot %02x>/<addr>` (`02/01`), the PCI path the Kata agent takes. */
  readonly pciPath?: string;
}

/** Serializable allocator state (for a sandbox's state file); slots map to device ids. */
export interface BridgeState {
  readonly id: string;
  readonly type: BridgeType;
  readonly addr: number;
  readonly devices: Readonly<Record<string, string>>;
}

/** zod schema of a {@link BridgeState} list (as stored). */
export const bridgeStateSchema: z.ZodType<BridgeState[]> = z.array(
  z.strictObject({
    id: z.string(),
    type: z.enum(BRIDGE_TYPES),
    addr: z.number().int().nonnegative().max(0xff),
    devices: z.record(z.string().regex(/^[1-9][0-9]*$/), z.string().min(1)),
  }),
);

/** Format a slot as Kata does: `%02x` for PCI/PCIe, `%04x` for CCW. */
export function formatBridgeSlot(type: BridgeType, slot: number): string {
  return slot.toString(16).padStart(type === 'ccw' ? 4 : 2, '0');
}

/**
 * Kata's `AddressFormatCCW`: `fe.<bridge addr %x>.<addr>` (0xfe is the virtual channel subsystem).
 *
 * @throws {QemuArchError} `QEMU_ARCH_NOT_CCW` when the bridge is not CCW.
 */
export function ccwDevno(bridge: BridgeInfo, addr: string): string {
  if (bridge.type !== 'ccw') {
    throw new QemuArchError('QEMU_ARCH_NOT_CCW', `bridge ${bridge.id} is ${bridge.type}, not ccw`, {
      path: 'bridge',
    });
  }
  return `fe.${bridge.addr.toString(16)}.${addr}`;
}

/**
 * Kata's `AddressFormatCCWForVirtServer`: `0.<bridge addr %x>.<addr>`, the bus id the guest sees.
 *
 * @throws {QemuArchError} `QEMU_ARCH_NOT_CCW` when the bridge is not CCW.
 */
export function ccwBusId(bridge: BridgeInfo, addr: string): string {
  if (bridge.type !== 'ccw') {
    throw new QemuArchError('QEMU_ARCH_NOT_CCW', `bridge ${bridge.id} is ${bridge.type}, not ccw`, {
      path: 'bridge',
    });
  }
  return `0.${bridge.addr.toString(16)}.${addr}`;
}

interface MutableBridge {
  readonly info: BridgeInfo;
  readonly slots: Map<number, string>;
  readonly capacity: number;
}

/**
 * Places devices on bridges: the first free slot (from 1) of the first bridge of the wanted type.
 * Mutable, and owned by one sandbox; two allocators never share anything.
 */
export class BridgeAllocator {
  readonly #bridges: MutableBridge[];

  /** Use {@link createBridgeAllocator} or {@link BridgeAllocator.fromState}. */
  private constructor(bridges: MutableBridge[]) {
    this.#bridges = bridges;
  }

  /**
   * An allocator over new, empty bridges.
   *
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` for duplicate ids or addresses.
   */
  static create(bridges: readonly BridgeInfo[]): BridgeAllocator {
    return BridgeAllocator.#build(bridges.map((info) => ({ info, devices: {} })));
  }

  /**
   * Re-create an allocator from {@link BridgeAllocator.toState} output.
   *
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` when `state` is malformed (slot out of range,
   *   duplicate ids, a device twice).
   */
  static fromState(state: unknown): BridgeAllocator {
    const parsed = bridgeStateSchema.safeParse(state);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = ['state', ...(issue?.path ?? [])].map(String).join('.');
      throw new QemuArchError(
        'QEMU_ARCH_INVALID_OPTIONS',
        `bridge state: ${path}: ${issue?.message ?? 'invalid'}`,
        {
          path,
          cause: parsed.error,
        },
      );
    }
    return BridgeAllocator.#build(
      parsed.data.map((b) => ({ info: { id: b.id, type: b.type, addr: b.addr }, devices: b.devices })),
    );
  }

  static #build(
    list: readonly { info: BridgeInfo; devices: Readonly<Record<string, string>> }[],
  ): BridgeAllocator {
    const ids = new Set<string>();
    const addrs = new Set<string>();
    const placed = new Set<string>();
    const bridges = list.map(({ info, devices }, i) => {
      const path = `bridges[${i}]`;
      if (ids.has(info.id))
        throw new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', `duplicate bridge id ${info.id}`, { path });
      const addrKey = `${info.type === 'ccw' ? 'ccw' : 'pci'}:${info.addr}`;
      if (addrs.has(addrKey)) {
        throw new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', `two bridges at address ${info.addr}`, { path });
      }
      ids.add(info.id);
      addrs.add(addrKey);
      const capacity = BRIDGE_CAPACITY[info.type];
      const slots = new Map<number, string>();
      for (const [key, deviceId] of Object.entries(devices)) {
        const slot = Number(key);
        if (slot < 1 || slot > capacity) {
          throw new QemuArchError(
            'QEMU_ARCH_INVALID_OPTIONS',
            `slot ${slot} of ${info.id} is outside 1..${capacity}`,
            {
              path: `${path}.devices.${key}`,
            },
          );
        }
        if (placed.has(deviceId)) {
          throw new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', `device ${deviceId} is on two slots`, {
            path: `${path}.devices.${key}`,
          });
        }
        placed.add(deviceId);
        slots.set(slot, deviceId);
      }
      return { info: Object.freeze({ ...info }), slots, capacity };
    });
    return new BridgeAllocator(bridges);
  }

  /** The bridges, in order. */
  get bridges(): readonly BridgeInfo[] {
    return Object.freeze(this.#bridges.map((b) => b.info));
  }

  /**
   * Place `deviceId` on the first free slot of the first bridge of `type` (Kata `addDeviceToBridge`).
   *
   * @throws {QemuArchError} `QEMU_ARCH_NO_BRIDGE` when there is no bridge of that type,
   *   `QEMU_ARCH_BRIDGE_FULL` when all their slots are taken, `QEMU_ARCH_DUPLICATE_DEVICE` when
   *   `deviceId` is already placed, `QEMU_ARCH_INVALID_OPTIONS` for an empty id.
   */
  add(deviceId: string, type: BridgeType): BridgePlacement {
    if (deviceId === '')
      throw new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', 'device id is empty', { path: 'deviceId' });
    const existing = this.find(deviceId);
    if (existing !== undefined) {
      throw new QemuArchError(
        'QEMU_ARCH_DUPLICATE_DEVICE',
        `device ${deviceId} is already on ${existing.bridge.id} slot ${existing.addr}`,
        { path: 'deviceId' },
      );
    }
    const candidates = this.#bridges.filter((b) => b.info.type === type);
    if (candidates.length === 0) {
      throw new QemuArchError('QEMU_ARCH_NO_BRIDGE', `no ${type} bridge to place ${deviceId} on`, {
        path: 'type',
      });
    }
    for (const b of candidates) {
      for (let slot = 1; slot <= b.capacity; slot++) {
        if (!b.slots.has(slot)) {
          b.slots.set(slot, deviceId);
          return placement(deviceId, b.info, slot);
        }
      }
    }
    throw new QemuArchError('QEMU_ARCH_BRIDGE_FULL', `no free slot on any ${type} bridge for ${deviceId}`, {
      path: 'type',
    });
  }

  /**
   * Free the slot of `deviceId` (Kata `removeDeviceFromBridge`); returns where it was.
   *
   * @throws {QemuArchError} `QEMU_ARCH_DEVICE_NOT_FOUND` when it is on no bridge.
   */
  remove(deviceId: string): BridgePlacement {
    for (const b of this.#bridges) {
      for (const [slot, id] of b.slots) {
        if (id === deviceId) {
          b.slots.delete(slot);
          return placement(deviceId, b.info, slot);
        }
      }
    }
    throw new QemuArchError('QEMU_ARCH_DEVICE_NOT_FOUND', `device ${deviceId} is not on any bridge`, {
      path: 'deviceId',
    });
  }

  /** Where `deviceId` is, if placed. */
  find(deviceId: string): BridgePlacement | undefined {
    for (const b of this.#bridges) {
      for (const [slot, id] of b.slots) if (id === deviceId) return placement(deviceId, b.info, slot);
    }
    return undefined;
  }

  /** Every placed device, bridge by bridge, slot by slot. */
  placements(): BridgePlacement[] {
    return this.#bridges.flatMap((b) =>
      [...b.slots.entries()].sort(([a], [c]) => a - c).map(([slot, id]) => placement(id, b.info, slot)),
    );
  }

  /** Serializable state; {@link BridgeAllocator.fromState} restores it. */
  toState(): BridgeState[] {
    return this.#bridges.map((b) => ({
      id: b.info.id,
      type: b.info.type,
      addr: b.info.addr,
      devices: Object.fromEntries(
        [...b.slots.entries()].sort(([a], [c]) => a - c).map(([s, id]) => [String(s), id]),
      ),
    }));
  }
}

function placement(deviceId: string, bridge: BridgeInfo, slot: number): BridgePlacement {
  const addr = formatBridgeSlot(bridge.type, slot);
  return Object.freeze(
    bridge.type === 'ccw'
      ? { deviceId, bridge, slot, addr, devno: ccwDevno(bridge, addr) }
      : { deviceId, bridge, slot, addr, pciPath: `${formatBridgeSlot('pci', bridge.addr)}/${addr}` },
  );
}

/**
 * `count` bridges of `type`, as Kata's `bridges(number)` makes them: ids `<type>-bridge-<i>`; PCI/PCIe
 * bridges at root-bus slot `2 + i`; CCW bridges on subchannel set `i`.
 *
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` when `count` is negative, not an integer, above
 *   {@link MAX_PCI_BRIDGES} (PCI/PCIe) or {@link MAX_CCW_BRIDGES} (CCW).
 */
export function defaultBridges(type: BridgeType, count: number): BridgeInfo[] {
  const max = type === 'ccw' ? MAX_CCW_BRIDGES : MAX_PCI_BRIDGES;
  if (!Number.isInteger(count) || count < 0 || count > max) {
    throw new QemuArchError(
      'QEMU_ARCH_INVALID_OPTIONS',
      `bridge count must be an integer in 0..${max} for ${type}, got ${count}`,
      {
        path: 'count',
      },
    );
  }
  return Array.from({ length: count }, (_, i) =>
    Object.freeze({ id: `${type}-bridge-${i}`, type, addr: type === 'ccw' ? i : BRIDGE_PCI_START_ADDR + i }),
  );
}

/**
 * A new allocator over {@link defaultBridges}.
 *
 * @throws {QemuArchError} as {@link defaultBridges}.
 */
export function createBridgeAllocator(type: BridgeType, count: number): BridgeAllocator {
  return BridgeAllocator.create(defaultBridges(type, count));
}
