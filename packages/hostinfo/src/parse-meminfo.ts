import { HostinfoError } from './errors.js';
import { goFields, goParseUint64 } from './go-parse.js';
import { dict, forEachLine, isTextLine, splitKeyValue } from './lines.js';

/** Hugepage pool of the default size, from the `HugePages_*` and `Hugepagesize` lines. */
export interface MeminfoHugePages {
  /** `HugePages_Total`: pages in the pool. */
  total: number;
  /** `HugePages_Free`: pages not yet faulted in. */
  free: number;
  /** `HugePages_Rsvd`: pages promised to mappings but not yet faulted in. */
  reserved: number;
  /** `HugePages_Surp`: pages above `nr_hugepages` (overcommit). */
  surplus: number;
  /** `Hugepagesize` in KiB (the default hugepage size), or `null` when the line is absent. */
  sizeKiB: number | null;
}

/** Everything in /proc/meminfo. Objects have no prototype, so any field name is safe. */
export interface MeminfoInfo {
  /** Every `Name: N kB` field, in KiB (the kernel's `kB` is 1024 bytes). */
  kib: Record<string, number>;
  /** Every unit-less `Name: N` field (`HugePages_Total`, ...), as counts. */
  counts: Record<string, number>;
  /** `MemTotal` in KiB, or `null` when absent. */
  memTotalKiB: number | null;
  /** `MemFree` in KiB, or `null`. */
  memFreeKiB: number | null;
  /** `MemAvailable` in KiB, or `null` (kernels before 3.14 lack it). */
  memAvailableKiB: number | null;
  /** `SwapTotal` in KiB, or `null`. */
  swapTotalKiB: number | null;
  /** The default-size hugepage pool, or `null` when the kernel prints no `HugePages_Total`. */
  hugePages: MeminfoHugePages | null;
  /** Lines that were not `Name: N [kB]` with N a decimal at most 2^53-1 (skipped, counted). */
  skippedLines: number;
}

const DECIMAL = /^[0-9]{1,16}$/;

/**
 * Parse /proc/meminfo text. Every well-formed `Name: N kB` line lands in `kib`, every `Name: N` in
 * `counts`; the first occurrence of a name wins. Malformed lines (other units, non-decimal values,
 * values above `Number.MAX_SAFE_INTEGER`, control bytes) are skipped and counted, never guessed.
 *
 * @param text - the file's contents.
 * @param options.file - file name for error messages. @default '/proc/meminfo'
 * @throws {HostinfoError} `HOSTINFO_PARSE` when not a single line is well formed (empty text,
 * binary data, another file).
 */
export function parseMeminfo(text: string, options: { file?: string } = {}): MeminfoInfo {
  const file = options.file ?? '/proc/meminfo';
  const kib = dict<number>();
  const counts = dict<number>();
  let skipped = 0;
  let parsed = 0;
  forEachLine(text, (line) => {
    if (line.trim() === '') return;
    const kv = isTextLine(line) ? splitKeyValue(line) : undefined;
    const parts = kv === undefined ? [] : kv.value.split(/[ \t]+/);
    const raw = parts[0] ?? '';
    const unit = parts[1];
    if (kv === undefined || parts.length > 2 || !DECIMAL.test(raw) || (unit !== undefined && unit !== 'kB')) {
      skipped += 1;
      return;
    }
    const value = Number(raw);
    if (!Number.isSafeInteger(value)) {
      skipped += 1;
      return;
    }
    parsed += 1;
    const target = unit === 'kB' ? kib : counts;
    if (!(kv.key in target)) target[kv.key] = value;
  });
  if (parsed === 0) {
    throw new HostinfoError(
      'HOSTINFO_PARSE',
      `${file}: no "Name: value" line (${text.length === 0 ? 'empty file' : 'not meminfo text'})`,
      { path: file },
    );
  }
  const total = counts.HugePages_Total;
  return {
    kib,
    counts,
    memTotalKiB: kib.MemTotal ?? null,
    memFreeKiB: kib.MemFree ?? null,
    memAvailableKiB: kib.MemAvailable ?? null,
    swapTotalKiB: kib.SwapTotal ?? null,
    hugePages:
      total === undefined
        ? null
        : {
            total,
            free: counts.HugePages_Free ?? 0,
            reserved: counts.HugePages_Rsvd ?? 0,
            surplus: counts.HugePages_Surp ?? 0,
            sizeKiB: kib.Hugepagesize ?? null,
          },
    skippedLines: skipped,
  };
}

/**
 * Host memory in KiB exactly as Kata's `getHostMemorySizeKb` computes it: the first line whose
 * Go `strings.Fields` are `["MemTotal:", N, "kB", ...]` with N accepted by Go's
 * `strconv.ParseUint(N, 0, 64)` (so `0x10` is 16 and `010` is 8). Lines that fail are skipped.
 *
 * @returns the size as a `bigint`: uint64 values above 2^53-1 do not fit a `number` exactly.
 * @param options.file - file name for the error message. @default '/proc/meminfo'
 * @throws {HostinfoError} `HOSTINFO_NO_MEMTOTAL` when no line qualifies.
 */
export function parseMemTotalKiB(text: string, options: { file?: string } = {}): bigint {
  let found: bigint | undefined;
  forEachLine(text, (line) => {
    // Cheap pre-filter: only lines containing "MemTotal:" can qualify.
    if (!line.includes('MemTotal:')) return;
    const parts = goFields(line);
    if (parts.length < 3 || parts[0] !== 'MemTotal:' || parts[2] !== 'kB') return;
    found = goParseUint64(parts[1]!);
    return found === undefined;
  });
  if (found === undefined) {
    const file = options.file ?? '/proc/meminfo';
    throw new HostinfoError('HOSTINFO_NO_MEMTOTAL', `unable to get MemTotal from ${file}`, { path: file });
  }
  return found;
}
