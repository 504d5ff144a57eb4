/**
 * Line iteration shared by the parsers: one pass, `indexOf` only, no regular expressions over the
 * whole text, so a 10 MB input costs one linear scan.
 */

/**
 * Calls `fn(line, lineNumber)` for each line, as Go's `bufio.ScanLines` yields them: split on
 * `\n`, one trailing `\r` dropped, a final line without `\n` included, no empty line after a final
 * `\n`. Return `false` from `fn` to stop early.
 */
export function forEachLine(text: string, fn: (line: string, lineNumber: number) => unknown): void {
  let start = 0;
  let n = 0;
  const len = text.length;
  while (start < len) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = len;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 0x0d) stop -= 1;
    n += 1;
    if (fn(text.slice(start, stop), n) === false) return;
    start = end + 1;
  }
}

/** A `key : value` line split at its first `:`; key and value trimmed. `undefined` when no `:`. */
export function splitKeyValue(line: string): { key: string; value: string } | undefined {
  const colon = line.indexOf(':');
  if (colon <= 0) return undefined;
  const key = line.slice(0, colon).trim();
  if (key === '') return undefined;
  return { key, value: line.slice(colon + 1).trim() };
}

/** Printable ASCII plus tab, and any non-ASCII text; `false` for NUL and other control bytes. */
export function isTextLine(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c === 0xfffd) return false;
  }
  return true;
}

/** An object without a prototype, so keys such as `__proto__` from hostile input stay plain data. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
