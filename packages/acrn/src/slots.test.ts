import { describe, expect, it } from 'vitest';
import { AcrnError } from './errors.js';
import { AcrnSlotTable, slotForPosition } from './slots.js';

describe('slotForPosition', () => {
  it('counts from 0 and skips 2', () => {
    expect(Array.from({ length: 6 }, (_, i) => slotForPosition(i))).toEqual([0, 1, 3, 4, 5, 6]);
    expect(slotForPosition(30)).toBe(31);
  });

  it('refuses position 31 (no slot 32) and bad positions', () => {
    expect(() => slotForPosition(31)).toThrow(expect.objectContaining({ code: 'ACRN_TOO_MANY_DEVICES' }));
    expect(() => slotForPosition(-1)).toThrow(expect.objectContaining({ code: 'ACRN_INVALID_CONFIG' }));
  });
});

describe('AcrnSlotTable', () => {
  it('maps indexes to slots and round-trips through JSON', () => {
    const t = new AcrnSlotTable();
    t.set(1, 5);
    t.set(0, 4);
    expect(t.get(0)).toBe(4);
    expect(t.require(1)).toBe(5);
    expect(t.get(9)).toBeUndefined();
    expect(t.size).toBe(2);
    expect(JSON.parse(JSON.stringify(t))).toEqual([
      { index: 0, slot: 4 },
      { index: 1, slot: 5 },
    ]);
    expect(AcrnSlotTable.fromEntries(t.entries()).entries()).toEqual(t.entries());
  });

  it('names the known indexes when an index has no slot', () => {
    const t = AcrnSlotTable.fromEntries([{ index: 0, slot: 4 }]);
    try {
      t.require(8);
      expect.unreachable();
    } catch (e) {
      expect(AcrnError.is(e) && e.code).toBe('ACRN_NO_SLOT');
      expect((e as Error).message).toMatch(/block index 8 has no slot.*\(indexes: 0\)/);
    }
  });

  it.each([
    [0, 2],
    [0, 32],
    [0, -1],
    [-1, 3],
    [0.5, 3],
  ])('rejects set(%d, %d)', (index, slot) => {
    expect(() => new AcrnSlotTable().set(index, slot)).toThrow(
      expect.objectContaining({ code: 'ACRN_INVALID_CONFIG' }),
    );
  });

  it('rejects reusing an index or a slot', () => {
    const t = AcrnSlotTable.fromEntries([{ index: 0, slot: 4 }]);
    expect(() => t.set(0, 5)).toThrow(/already has slot 4/);
    expect(() => t.set(1, 4)).toThrow(/slot 4 is already used by block index 0/);
  });
});
