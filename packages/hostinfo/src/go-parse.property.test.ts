import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goParseUint64 } from './go-parse.js';

const MAX = (1n << 64n) - 1n;
const PREFIX = { 2: '0b', 8: '0o', 10: '', 16: '0x' } as const;

describe('goParseUint64 properties', () => {
  it('round-trips every value in every base prefix, and rejects everything above 2^64-1', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 66n) - 1n }),
        fc.constantFrom(2, 8, 10, 16),
        fc.boolean(),
        (n, base, upper) => {
          let digits = n.toString(base);
          if (upper) digits = digits.toUpperCase();
          const text = `${PREFIX[base as keyof typeof PREFIX]}${digits}`;
          expect(goParseUint64(text)).toBe(n <= MAX ? n : undefined);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a bare leading 0 means octal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX }), (n) => {
        expect(goParseUint64(`0${n.toString(8)}`)).toBe(n);
      }),
    );
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const v = goParseUint64(s);
        expect(v === undefined || (typeof v === 'bigint' && v >= 0n && v <= MAX)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});
