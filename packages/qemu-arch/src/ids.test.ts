import { describe, expect, it } from 'vitest';
import { QemuArchError } from './errors.js';
import {
  MAX_DEVICE_ID_LENGTH,
  makeNameId,
  scsiAddress,
  scsiIdLun,
  truncateId,
  virtDriveName,
} from './ids.js';

describe('makeNameId (Kata MakeNameID)', () => {
  it('joins type and id', () => {
    expect(makeNameId('char', 'abc')).toBe('char-abc');
  });
  it('cuts to 31 characters by default', () => {
    const id = makeNameId('char', 'x'.repeat(40));
    expect(id).toBe(`char-${'x'.repeat(26)}`);
    expect(id).toHaveLength(MAX_DEVICE_ID_LENGTH);
  });
  it('honours maxLength', () => {
    expect(makeNameId('net', 'abcdef', 5)).toBe('net-a');
  });
  it.each([
    ['', 'x', 8, 'type'],
    ['t', '', 8, 'id'],
    ['t', 'x', 0, 'maxLength'],
  ])('rejects makeNameId(%j, %j, %j)', (t, id, max, path) => {
    const e = (() => {
      try {
        makeNameId(t, id, max);
      } catch (err) {
        return err;
      }
    })();
    expect(QemuArchError.is(e) && e.code === 'QEMU_ARCH_INVALID_OPTIONS' && e.path === path).toBe(true);
  });
  it('truncateId leaves short ids alone', () => {
    expect(truncateId('abc')).toBe('abc');
    expect(truncateId('abcdef', 3)).toBe('abc');
  });
});

describe('virtDriveName (Kata GetVirtDriveName)', () => {
  it.each([
    [0, 'vda'],
    [1, 'vdb'],
    [25, 'vdz'],
    [26, 'vdaa'],
    [27, 'vdab'],
    [51, 'vdaz'],
    [52, 'vdba'],
    [701, 'vdzz'],
    [702, 'vdaaa'],
    [18277, 'vdzzz'],
    [18278, 'vdaaaa'],
  ])('%i -> %s', (i, name) => {
    expect(virtDriveName(i)).toBe(name);
  });
  it.each([-1, 1.5, Number.NaN])('rejects %s', (i) => {
    expect(() => virtDriveName(i)).toThrow(expect.objectContaining({ code: 'QEMU_ARCH_INVALID_INDEX' }));
  });
});

describe('scsiIdLun (Kata GetSCSIIdLun)', () => {
  it.each([
    [0, 0, 0],
    [1, 0, 1],
    [255, 0, 255],
    [256, 1, 0],
    [257, 1, 1],
    [65535, 255, 255],
  ])('%i -> id %i lun %i', (i, id, lun) => {
    expect(scsiIdLun(i)).toEqual({ id, lun });
    expect(scsiAddress(i)).toBe(`${id}:${lun}`);
  });
  it.each([-1, 65536, 0.5])('rejects %s', (i) => {
    expect(() => scsiIdLun(i)).toThrow(
      expect.objectContaining({ code: 'QEMU_ARCH_INVALID_INDEX', path: 'index' }),
    );
  });
});
