import { AcrnError } from './errors.js';
import { ACRN_GVTG_SLOT, ACRN_MAX_SLOT } from './schema.js';

/**
 * The slot the device at `position` (0-based, in command-line order) gets: positions count up
 * from slot 0 and skip slot 2, which acrn-dm leaves to GVT-g (0, 1, 3, 4, ...), as Kata does.
 * @throws {AcrnError} `ACRN_TOO_MANY_DEVICES` past slot 31; `ACRN_INVALID_CONFIG` for a bad position.
 */
export function slotForPosition(position: number): number {
  if (!Number.isInteger(position) || position < 0) {
    throw new AcrnError('ACRN_INVALID_CONFIG', `device position must be an integer >= 0, got ${position}`);
  }
  const slot = position >= ACRN_GVTG_SLOT ? position + 1 : position;
  if (slot > ACRN_MAX_SLOT) {
    throw new AcrnError(
      'ACRN_TOO_MANY_DEVICES',
      `device #${position} would need PCI slot ${slot}; acrn-dm has slots 0..${ACRN_MAX_SLOT} and slot ${ACRN_GVTG_SLOT} is GVT-g's (at most ${ACRN_MAX_SLOT} devices)`,
    );
  }
  return slot;
}

/** One row of an {@link AcrnSlotTable}. */
export interface AcrnSlotEntry {
  /** Drive index. */
  index: number;
  /** PCI slot of the virtio-blk device with that index. */
  slot: number;
}

/**
 * Which PCI slot each virtio-blk drive index sits in, for one VM. Filled when the command line is
 * encoded and read when a drive is hotplugged with `acrnctl blkrescan`. Each VM gets its own
 * table (Kata keeps one global array that every sandbox in the process overwrites).
 */
export class AcrnSlotTable {
  readonly #slots = new Map<number, number>();

  /** A table from saved entries (see {@link AcrnSlotTable.toJSON}), e.g. when re-attaching to a VM. */
  static fromEntries(entries: Iterable<AcrnSlotEntry>): AcrnSlotTable {
    const table = new AcrnSlotTable();
    for (const { index, slot } of entries) table.set(index, slot);
    return table;
  }

  /**
   * Record that drive `index` is in `slot`.
   * @throws {AcrnError} `ACRN_INVALID_CONFIG` for a bad index or slot, slot 2, or a slot or index already used.
   */
  set(index: number, slot: number): void {
    if (!Number.isInteger(index) || index < 0) {
      throw new AcrnError('ACRN_INVALID_CONFIG', `block index must be an integer >= 0, got ${index}`);
    }
    if (!Number.isInteger(slot) || slot < 0 || slot > ACRN_MAX_SLOT || slot === ACRN_GVTG_SLOT) {
      throw new AcrnError(
        'ACRN_INVALID_CONFIG',
        `slot must be an integer in 0..${ACRN_MAX_SLOT} other than ${ACRN_GVTG_SLOT}, got ${slot}`,
      );
    }
    if (this.#slots.has(index)) {
      throw new AcrnError(
        'ACRN_INVALID_CONFIG',
        `block index ${index} already has slot ${this.#slots.get(index)}`,
      );
    }
    for (const [other, used] of this.#slots) {
      if (used === slot) {
        throw new AcrnError('ACRN_INVALID_CONFIG', `slot ${slot} is already used by block index ${other}`);
      }
    }
    this.#slots.set(index, slot);
  }

  /** The slot of drive `index`, or undefined. */
  get(index: number): number | undefined {
    return this.#slots.get(index);
  }

  /**
   * The slot of drive `index`.
   * @throws {AcrnError} `ACRN_NO_SLOT` when the index is not on the command line.
   */
  require(index: number): number {
    const slot = this.#slots.get(index);
    if (slot === undefined) {
      const known = [...this.#slots.keys()].sort((a, b) => a - b).join(', ') || 'none';
      throw new AcrnError(
        'ACRN_NO_SLOT',
        `block index ${index} has no slot: acrn-dm cannot hotplug new slots, only replace the backing file of a device on its command line (indexes: ${known})`,
      );
    }
    return slot;
  }

  /** Number of drives in the table. */
  get size(): number {
    return this.#slots.size;
  }

  /** Rows sorted by index. */
  entries(): AcrnSlotEntry[] {
    return [...this.#slots].map(([index, slot]) => ({ index, slot })).sort((a, b) => a.index - b.index);
  }

  /** Rows sorted by index, for persisting with the VM's state. */
  toJSON(): AcrnSlotEntry[] {
    return this.entries();
  }
}
