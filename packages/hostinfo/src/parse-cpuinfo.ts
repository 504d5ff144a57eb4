import { ARM_IMPLEMENTERS, ARM_PARTS, S390_MACHINES } from './cpu-names.js';
import { HostinfoError } from './errors.js';
import { dict, forEachLine, isTextLine, splitKeyValue } from './lines.js';

/** Layouts of /proc/cpuinfo the parser recognises, one per kernel architecture. */
export const CPUINFO_FORMATS = ['x86', 'arm64', 'ppc64', 's390x', 'unknown'] as const;

/** One of {@link CPUINFO_FORMATS}. */
export type CpuinfoFormat = (typeof CPUINFO_FORMATS)[number];

/** One logical CPU's block. */
export interface CpuinfoProcessor {
  /** The CPU number (`processor : N` on x86/arm64/ppc64, `cpu number : N` / `processor N:` on s390x). */
  index: number;
  /** Every `key : value` of the block, keys as printed (`model name`, `Features`, `CPU part`). */
  fields: Record<string, string>;
}

/** /proc/cpuinfo, per processor and summarised. */
export interface CpuinfoInfo {
  /** Which kernel layout the text is in, from the keys it contains. */
  format: CpuinfoFormat;
  /** Per-processor entries in file order. */
  processors: CpuinfoProcessor[];
  /**
   * Fields outside any processor block: ppc64's `timebase`/`platform`/`model`/`machine`/`MMU`,
   * s390x's `vendor_id`/`# processors`/`features`/`facilities`/`cacheN`, old arm64 `Hardware`.
   */
  global: Record<string, string>;
  /** Number of logical CPUs: processor entries, else s390x's `# processors`. */
  count: number;
  /**
   * Human model name: x86 `model name`; arm64 from `CPU implementer`/`CPU part` (e.g.
   * `ARM Neoverse-N1`); ppc64 `cpu` (e.g. `POWER9 (architected), altivec supported`); s390x from
   * the `machine` type (e.g. `IBM z15 (8561)`). `null` when the text has none.
   */
  modelName: string | null;
  /** x86 `vendor_id`, arm64 implementer name, s390x `vendor_id`, `IBM` for POWER; else `null`. */
  vendor: string | null;
  /**
   * CPU feature tokens of the first processor: x86 `flags`, arm64 `Features`, s390x `features`.
   * ppc64 prints none: empty.
   */
  flags: string[];
  /** Non-blank lines that were not `key : value` text (no colon, control bytes), skipped. */
  skippedLines: number;
}

const INTEGER = /^[0-9]{1,9}$/;
const S390_PROCESSOR_KEY = /^processor ([0-9]{1,9})$/;

function detectFormat(processors: CpuinfoProcessor[], global: Record<string, string>): CpuinfoFormat {
  const first = processors[0]?.fields ?? dict<string>();
  if (global.vendor_id?.startsWith('IBM/S390') || ('features' in global && 'facilities' in global)) {
    return 's390x';
  }
  if ('flags' in first || 'vendor_id' in first) return 'x86';
  if ('CPU implementer' in first || 'Features' in first || 'CPU implementer' in global) return 'arm64';
  if ('cpu' in first || 'platform' in global || 'timebase' in global) return 'ppc64';
  return 'unknown';
}

function tokens(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out = value.split(/[ \t]+/);
  return out.filter((t) => t !== '');
}

function summarise(
  format: CpuinfoFormat,
  processors: CpuinfoProcessor[],
  global: Record<string, string>,
): Pick<CpuinfoInfo, 'modelName' | 'vendor' | 'flags'> {
  const first = processors[0]?.fields ?? dict<string>();
  switch (format) {
    case 'x86':
      return {
        modelName: first['model name'] ?? null,
        vendor: first.vendor_id ?? null,
        flags: tokens(first.flags),
      };
    case 'arm64': {
      const implementer = (first['CPU implementer'] ?? global['CPU implementer'])?.toLowerCase();
      const part = (first['CPU part'] ?? global['CPU part'])?.toLowerCase();
      const vendor = implementer === undefined ? null : (ARM_IMPLEMENTERS[implementer] ?? implementer);
      let modelName: string | null = first['model name'] ?? null;
      if (modelName === null && implementer !== undefined && part !== undefined) {
        const core = ARM_PARTS[`${implementer}/${part}`];
        modelName = core === undefined ? `${vendor} part ${part}` : `${vendor} ${core}`;
      }
      return { modelName, vendor, flags: tokens(first.Features ?? global.Features) };
    }
    case 'ppc64': {
      const cpu = first.cpu ?? null;
      return { modelName: cpu, vendor: cpu?.startsWith('POWER') ? 'IBM' : null, flags: [] };
    }
    case 's390x': {
      const machine = processors.find((p) => p.fields.machine !== undefined)?.fields.machine;
      const model = machine === undefined ? undefined : S390_MACHINES[machine];
      return {
        modelName: machine === undefined ? null : `${model ?? 'IBM Z'} (${machine})`,
        vendor: global.vendor_id ?? null,
        flags: tokens(global.features),
      };
    }
    default:
      return { modelName: first['model name'] ?? null, vendor: null, flags: [] };
  }
}

/** `version = FF,  identification = 0133E8,  machine = 8561` → its three fields. */
function parseS390ProcessorLine(value: string, into: Record<string, string>): void {
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    if (k !== '' && !(k in into)) into[k] = part.slice(eq + 1).trim();
  }
}

/**
 * Parse /proc/cpuinfo text from an x86, arm64, ppc64(le) or s390x kernel into per-processor
 * entries, global fields and a summary. One linear pass; blank lines end blocks; within a block
 * the first occurrence of a key wins. Lines that are not `key : value` text are skipped and
 * counted, so a truncated file gives the processors it contains.
 *
 * @param text - the file's contents.
 * @param options.file - file name for error messages. @default '/proc/cpuinfo'
 * @throws {HostinfoError} `HOSTINFO_PARSE` when not a single line is `key : value` text.
 */
export function parseCpuinfo(text: string, options: { file?: string } = {}): CpuinfoInfo {
  const processors: CpuinfoProcessor[] = [];
  const byIndex = new Map<number, CpuinfoProcessor>();
  const global = dict<string>();
  let current: CpuinfoProcessor | undefined;
  let skipped = 0;
  let parsed = 0;

  const entry = (index: number, reuse: boolean): CpuinfoProcessor => {
    const existing = reuse ? byIndex.get(index) : undefined;
    if (existing !== undefined) return existing;
    const p: CpuinfoProcessor = { index, fields: dict<string>() };
    processors.push(p);
    if (!byIndex.has(index)) byIndex.set(index, p);
    return p;
  };

  forEachLine(text, (line) => {
    if (line.trim() === '') {
      current = undefined;
      return;
    }
    const kv = isTextLine(line) ? splitKeyValue(line) : undefined;
    if (kv === undefined) {
      skipped += 1;
      return;
    }
    parsed += 1;
    const { key, value } = kv;
    if (key === 'processor' && INTEGER.test(value)) {
      current = entry(Number(value), false);
      current.fields.processor = value;
      return;
    }
    if (key === 'cpu number' && INTEGER.test(value)) {
      current = entry(Number(value), true);
      if (!('cpu number' in current.fields)) current.fields['cpu number'] = value;
      return;
    }
    const s390 = key.startsWith('processor ') ? S390_PROCESSOR_KEY.exec(key) : null;
    if (s390 !== null) {
      parseS390ProcessorLine(value, entry(Number(s390[1]), true).fields);
      return;
    }
    const target = current === undefined ? global : current.fields;
    if (!(key in target)) target[key] = value;
  });

  if (parsed === 0) {
    const file = options.file ?? '/proc/cpuinfo';
    throw new HostinfoError(
      'HOSTINFO_PARSE',
      `${file}: no "key : value" line (${text.length === 0 ? 'empty file' : 'not cpuinfo text'})`,
      { path: file },
    );
  }
  const format = detectFormat(processors, global);
  const declared = global['# processors'];
  const count =
    processors.length > 0 ? processors.length : declared && INTEGER.test(declared) ? Number(declared) : 0;
  return {
    format,
    processors,
    global,
    count,
    ...summarise(format, processors, global),
    skippedLines: skipped,
  };
}
