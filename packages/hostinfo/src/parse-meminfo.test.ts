import { describe, expect, it } from 'vitest';
import { HostinfoError } from './errors.js';
import { parseMeminfo, parseMemTotalKiB } from './parse-meminfo.js';

const SAMPLE = `MemTotal:       24684084 kB
MemFree:        23815984 kB
MemAvailable:   24298016 kB
Active(anon):       1560 kB
SwapTotal:             0 kB
HugePages_Total:      16
HugePages_Free:       12
HugePages_Rsvd:        3
HugePages_Surp:        1
Hugepagesize:       2048 kB
`;

describe('parseMeminfo', () => {
  it('reads every field: kB as KiB numbers, unit-less as counts', () => {
    const m = parseMeminfo(SAMPLE);
    expect(m.kib).toEqual({
      MemTotal: 24684084,
      MemFree: 23815984,
      MemAvailable: 24298016,
      'Active(anon)': 1560,
      SwapTotal: 0,
      Hugepagesize: 2048,
    });
    expect(m.counts).toEqual({
      HugePages_Total: 16,
      HugePages_Free: 12,
      HugePages_Rsvd: 3,
      HugePages_Surp: 1,
    });
    expect(m.memTotalKiB).toBe(24684084);
    expect(m.memAvailableKiB).toBe(24298016);
    expect(m.hugePages).toEqual({ total: 16, free: 12, reserved: 3, surplus: 1, sizeKiB: 2048 });
    expect(m.skippedLines).toBe(0);
  });

  it('keeps the first of duplicate names and skips malformed lines, counting them', () => {
    const m = parseMeminfo(
      'MemTotal: 5 kB\nMemTotal: 7 kB\nno colon here\nBad: 12 MB\nHex: 0x10 kB\nNeg: -1 kB\nBig: 99999999999999999 kB\nExtra: 1 kB x\n',
    );
    expect(m.kib).toEqual({ MemTotal: 5 });
    expect(m.skippedLines).toBe(6);
  });

  it('handles CRLF, no final newline, and field names like __proto__ as plain data', () => {
    const m = parseMeminfo('MemTotal: 5 kB\r\n__proto__: 3 kB\r\nconstructor: 4');
    expect(m.kib.MemTotal).toBe(5);
    expect(Object.getOwnPropertyDescriptor(m.kib, '__proto__')?.value).toBe(3);
    expect(m.counts.constructor).toBe(4);
    expect(Object.getPrototypeOf(m.kib)).toBeNull();
  });

  it('reports absent optional fields as null', () => {
    const m = parseMeminfo('MemTotal: 1 kB\n');
    expect(m.memAvailableKiB).toBeNull();
    expect(m.hugePages).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['blank lines', '\n\n  \n'],
    ['binary', '\u0000\u0001\u0002\ufffd\ufffd'],
    ['another file', 'flags\t\t: fpu vme\nmodel name\t: AMD EPYC\n'],
  ])('throws HOSTINFO_PARSE on %s', (_name, text) => {
    expect(() => parseMeminfo(text, { file: '/x/meminfo' })).toThrowError(
      expect.objectContaining({ code: 'HOSTINFO_PARSE', path: '/x/meminfo' }),
    );
  });
});

describe('parseMemTotalKiB (Kata getHostMemorySizeKb parity)', () => {
  it.each([
    ['MemTotal: 1 kB', 1n],
    ['MemTotal:       24684084 kB', 24684084n],
    ['MemTotal: 0x10 kB', 16n],
    ['MemTotal: 010 kB', 8n],
    ['MemTotal: 0o10 kB', 8n],
    ['MemTotal: 0b11 kB', 3n],
    ['MemTotal: 1_024 kB', 1024n],
    ['MemTotal: 18446744073709551615 kB', 18446744073709551615n],
    // Kata checks len(parts) < 3, so trailing fields are accepted.
    ['MemTotal: 5 kB trailing', 5n],
  ])('%s -> %s', (line, want) => {
    expect(parseMemTotalKiB(`MemFree: 3 kB\n${line}\n`)).toBe(want);
  });

  it('skips malformed MemTotal lines and takes the first well-formed one', () => {
    const text = [
      'MemTotal: 08 kB', // bad octal
      'MemTotal: 12 MB', // wrong unit
      'MemTotal:12 kB', // one field "MemTotal:12"
      'MemTotal 12 kB', // no colon
      'memtotal: 12 kB', // case matters
      'MemTotal: 18446744073709551616 kB', // overflows uint64
      'MemTotal: 12', // two fields
      '  MemTotal:\t 42   kB  ', // well-formed: Fields ignores spacing
      'MemTotal: 7 kB',
    ].join('\n');
    expect(parseMemTotalKiB(text)).toBe(42n);
  });

  it('throws HOSTINFO_NO_MEMTOTAL naming the file when no line qualifies', () => {
    const err = (() => {
      try {
        parseMemTotalKiB('MemFree: 1 kB\nMemTotal: x kB\n', { file: '/fixture/meminfo' });
      } catch (e) {
        return e;
      }
    })();
    expect(HostinfoError.is(err)).toBe(true);
    expect(err).toMatchObject({ code: 'HOSTINFO_NO_MEMTOTAL', path: '/fixture/meminfo' });
    expect((err as Error).message).toContain('/fixture/meminfo');
  });

  it('throws on an empty file', () => {
    expect(() => parseMemTotalKiB('')).toThrowError(
      expect.objectContaining({ code: 'HOSTINFO_NO_MEMTOTAL' }),
    );
  });
});
