/**
 * QEMU option strings: the `key=value,key=value` syntax of QemuOpts and keyval (`-device`, `-drive`,
 * `-object`, `-chardev`, `-netdev`, ...). A literal comma inside a value is written `,,`. This module is the
 * only place that builds or reads that syntax.
 */
import { ArgvError } from './errors.js';

/**
 * One element of an option string.
 * - `{ key: 'drive', value: 'd0' }` is `drive=d0`;
 * - `{ key: 'server', value: undefined }` is a bare flag (`server`), QemuOpts reads it as `server=on`;
 * - `{ key: undefined, value: 'virtio-blk-pci' }` is the first element written without its key (the
 *   option's implied key, e.g. `driver` for `-device`).
 */
export interface OptionEntry {
  /** The key; `undefined` for an implied-key value. */
  key: string | undefined;
  /** The value, unescaped; `undefined` for a bare flag. */
  value: string | undefined;
}

/** Options for {@link parseOptionString}. */
export interface ParseOptionStringOptions {
  /**
   * Name of the option's implied first key (`driver` for `-device`, `backend` for `-chardev`). When set,
   * a first element without `=` is that key's value (as QEMU reads it) instead of a bare flag.
   * @default undefined (no implied key)
   */
  impliedKey?: string;
}

/**
 * The implied first key of each QEMU option that uses the option-string syntax, as QEMU 7.2 declares
 * it (`implied_opt_name` / keyval's implied key). Options absent here have none.
 */
export const OPTION_IMPLIED_KEYS: Readonly<Record<string, string>> = {
  '-device': 'driver',
  '-chardev': 'backend',
  '-netdev': 'type',
  '-object': 'qom-type',
  '-machine': 'type',
  '-M': 'type',
  '-smp': 'cpus',
  '-m': 'size',
  '-numa': 'type',
  '-fsdev': 'fsdriver',
  '-name': 'guest',
  '-cpu': 'model',
  '-accel': 'accel',
  '-boot': 'order',
  '-vnc': 'vnc',
  '-display': 'type',
  '-audiodev': 'driver',
  '-tpmdev': 'type',
  '-sandbox': 'enable',
  '-mon': 'chardev',
  '-smbios': 'type',
};

/** Escape one value for an option string: every `,` becomes `,,`. */
export function escapeOptionValue(value: string): string {
  return value.includes(',') ? value.replaceAll(',', ',,') : value;
}

/**
 * Build an option string from entries. Values are escaped; keys are written as given and must not
 * contain `,` or `=` (QEMU cannot read such a key back).
 * @throws {ArgvError} `ARGV_INVALID_OPTION_STRING` for a key holding `,` or `=`, an implied-key
 *   entry that is not first, or an implied-key value QEMU would read as `key=value`.
 */
export function encodeOptionString(entries: readonly OptionEntry[]): string {
  let out = '';
  for (let i = 0; i < entries.length; i++) {
    const { key, value } = entries[i]!;
    if (i > 0) out += ',';
    if (key === undefined) {
      if (i !== 0) {
        throw new ArgvError(
          'ARGV_INVALID_OPTION_STRING',
          `only the first entry may omit its key (entry ${i})`,
        );
      }
      const escaped = escapeOptionValue(value ?? '');
      const eq = escaped.indexOf('=');
      if (eq >= 0 && !escaped.slice(0, eq).includes(',')) {
        throw new ArgvError(
          'ARGV_INVALID_OPTION_STRING',
          `implied-key value ${JSON.stringify(value)} would be read as a key (it holds "=" before any ","); give its key`,
        );
      }
      out += escaped;
      continue;
    }
    if (key.includes(',') || key.includes('=')) {
      throw new ArgvError('ARGV_INVALID_OPTION_STRING', `option key ${JSON.stringify(key)} holds "," or "="`);
    }
    out += value === undefined ? key : `${key}=${escapeOptionValue(value)}`;
  }
  return out;
}

/** Read one value starting at `i` up to an unescaped comma; returns [value, index of that comma or end]. */
function readValue(text: string, i: number): [string, number] {
  let value = '';
  for (;;) {
    const comma = text.indexOf(',', i);
    if (comma < 0) return [value + text.slice(i), text.length];
    if (text[comma + 1] === ',') {
      value += text.slice(i, comma + 1);
      i = comma + 2;
      continue;
    }
    return [value + text.slice(i, comma), comma];
  }
}

/**
 * Parse an option string the way QEMU's QemuOpts parser does (`opts_do_parse`): elements are split on
 * single commas, `,,` is a literal comma inside a value, `key=value` sets a key (the value may contain
 * `=`), a first element without `=` is the implied key's value when `impliedKey` is given, and any other
 * element without `=` is a bare flag. The result re-encodes byte for byte with
 * {@link encodeOptionString} (for strings without a trailing single comma, which QEMU ignores).
 */
export function parseOptionString(text: string, options: ParseOptionStringOptions = {}): OptionEntry[] {
  const entries: OptionEntry[] = [];
  let i = 0;
  let first = true;
  while (i < text.length) {
    let stop = i;
    while (stop < text.length && text[stop] !== '=' && text[stop] !== ',') stop++;
    if (text[stop] === '=') {
      const [value, end] = readValue(text, stop + 1);
      entries.push({ key: text.slice(i, stop), value });
      i = end;
    } else if (first && options.impliedKey !== undefined) {
      const [value, end] = readValue(text, i);
      entries.push({ key: undefined, value });
      i = end;
    } else {
      entries.push({ key: text.slice(i, stop), value: undefined });
      i = stop;
    }
    first = false;
    if (i < text.length) i++; // skip the separating comma
  }
  return entries;
}

/**
 * Parse and resolve keys: implied-key values get the implied key's name, bare flags get `on` (QEMU's
 * reading; `noX` flags become `X=off` as QemuOpts does). Handy for assertions and `--explain`.
 */
export function parseOptionPairs(text: string, impliedKey?: string): Array<[key: string, value: string]> {
  const opts: ParseOptionStringOptions = impliedKey === undefined ? {} : { impliedKey };
  return parseOptionString(text, opts).map(({ key, value }): [string, string] => {
    if (key === undefined) return [impliedKey ?? '', value ?? ''];
    if (value !== undefined) return [key, value];
    return key.startsWith('no') && key.length > 2 ? [key.slice(2), 'off'] : [key, 'on'];
  });
}

/** A `[key, value]` pair for {@link buildOptions}; `undefined`/`false` entries are skipped. */
export type OptionPair = readonly [key: string, value: string | number] | undefined | false;

/**
 * Internal builder used by every encoder: `head` is the implied-key value (driver, backend, object
 * type) and `pairs` the `key=value` list, all values escaped. Keys are the encoders' own literals, so
 * they are not re-checked here (the output equals {@link encodeOptionString} of the same entries).
 */
export function buildOptions(head: string | undefined, pairs: readonly OptionPair[]): string {
  let out = head === undefined ? '' : escapeOptionValue(head);
  let first = head === undefined;
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    if (!p) continue;
    const v = typeof p[1] === 'number' ? String(p[1]) : escapeOptionValue(p[1]);
    out += first ? `${p[0]}=${v}` : `,${p[0]}=${v}`;
    first = false;
  }
  return out;
}

/** `on`/`off` for a boolean, as QEMU spells it. */
export function onOff(value: boolean): 'on' | 'off' {
  return value ? 'on' : 'off';
}
