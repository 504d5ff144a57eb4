/**
 * Exact ports of the two Go standard-library behaviours Kata's host probes depend on:
 * `strings.Fields` (split on Unicode white space) and `strconv.ParseUint(s, 0, 64)`.
 */

/**
 * Go's `unicode.IsSpace` set. JavaScript's `\s` differs: it adds U+FEFF and lacks U+0085, so a
 * hand-written class keeps `strings.Fields` parity.
 */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** `strings.Fields(s)`: the non-empty runs between Go white space. */
export function goFields(s: string): string[] {
  const parts = s.split(GO_SPACE);
  // split leaves at most one empty string at each end.
  if (parts.length > 0 && parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const MAX_UINT64 = (1n << 64n) - 1n;

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20; // ASCII lower-case, like Go's lower()
  if (l >= 0x61 && l <= 0x7a) return l - 0x61 + 10;
  return -1;
}

/** Go's `underscoreOK`: `_` only between digits, or between a base prefix and a digit. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0') {
    const p = s[1]!.toLowerCase();
    if (p === 'b' || p === 'o' || p === 'x') {
      i = 2;
      saw = '0';
      hex = p === 'x';
    }
  }
  for (; i < s.length; i++) {
    const ch = s[i]!;
    const lc = ch.toLowerCase();
    if ((ch >= '0' && ch <= '9') || (hex && lc >= 'a' && lc <= 'f')) {
      saw = '0';
      continue;
    }
    if (ch === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/**
 * `strconv.ParseUint(s, 0, 64)`: the base comes from the prefix (`0x`/`0X` hex, `0b`/`0B` binary,
 * `0o`/`0O` or a bare leading `0` octal, else decimal), `_` digit separators are allowed where Go
 * allows them, no sign, and values above 2^64-1 are rejected.
 *
 * @returns the value as a `bigint` (uint64 does not fit a `number`), or `undefined` where Go returns
 * an error (syntax or range).
 */
export function goParseUint64(s: string): bigint | undefined {
  if (s === '') return undefined;
  const s0 = s;
  let base = 10;
  if (s[0] === '0') {
    const p = s.length >= 3 ? s[1]!.toLowerCase() : '';
    if (p === 'b') base = 2;
    else if (p === 'o') base = 8;
    else if (p === 'x') base = 16;
    else base = 8;
    s = base === 8 && p !== 'o' ? s.slice(1) : s.slice(2);
  }
  const bigBase = BigInt(base);
  let underscores = false;
  let n = 0n;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5f) {
      underscores = true; // base 0 always allows '_' here; underscoreOK decides below
      continue;
    }
    const d = digitValue(c);
    if (d < 0 || d >= base) return undefined;
    n = n * bigBase + BigInt(d);
    if (n > MAX_UINT64) return undefined;
  }
  if (underscores && !underscoreOK(s0)) return undefined;
  return n;
}
