import { describe, expect, it } from 'vitest';
import { goFields, goParseUint64 } from './go-parse.js';

describe('goParseUint64 (strconv.ParseUint(s, 0, 64))', () => {
  it.each([
    ['0', 0n],
    ['1', 1n],
    ['24684084', 24684084n],
    ['0x10', 16n],
    ['0X1f', 31n],
    ['0xFFFFFFFFFFFFFFFF', 18446744073709551615n],
    ['010', 8n],
    ['0o17', 15n],
    ['0O17', 15n],
    ['0b101', 5n],
    ['0B1', 1n],
    ['00', 0n],
    ['1_000', 1000n],
    ['0x_1f', 31n],
    ['0_7', 7n],
    ['18446744073709551615', 18446744073709551615n],
  ])('%s -> %s', (s, want) => {
    expect(goParseUint64(s)).toBe(want);
  });

  it.each([
    ['', 'empty'],
    ['18446744073709551616', 'overflow by one'],
    ['0x10000000000000000', 'hex overflow'],
    ['-1', 'sign'],
    ['+1', 'sign'],
    ['08', 'octal digit 8'],
    ['09', 'octal digit 9'],
    ['0x', 'bare hex prefix'],
    ['0b', 'bare binary prefix'],
    ['0o', 'bare octal prefix'],
    ['0b2', 'binary digit 2'],
    ['0xg', 'hex digit g'],
    ['1a', 'letter in decimal'],
    ['_1', 'leading underscore'],
    ['1_', 'trailing underscore'],
    ['1__0', 'double underscore'],
    ['0x_', 'underscore without digit'],
    [' 1', 'space'],
    ['1.0', 'dot'],
    ['١', 'non-ASCII digit'],
  ])('%s is rejected (%s)', (s) => {
    expect(goParseUint64(s)).toBeUndefined();
  });
});

describe('goFields (strings.Fields)', () => {
  it('splits on Go white space and drops empty runs', () => {
    expect(goFields('  MemTotal:\t 1 kB \n')).toEqual(['MemTotal:', '1', 'kB']);
    expect(goFields('')).toEqual([]);
    expect(goFields(' \t ')).toEqual([]);
  });
  it('treats U+0085 and U+00A0 as space but not U+FEFF (unlike JavaScript \\s)', () => {
    expect(goFields('a\u0085b\u00a0c')).toEqual(['a', 'b', 'c']);
    expect(goFields('a\ufeffb')).toEqual(['a\ufeffb']);
  });
});
