/**
 * The default guest's console protocol: one line per event, written by its /init to every active
 * console (`/sys/class/tty/console/active`, e.g. ttyS0 and hvc0). {@link parseGuestLine} turns a
 * console line into a typed {@link GuestEvent}; it is pure and never throws.
 */

/**
 * Marker words, keyed by the {@link GuestEvent} `kind` they produce. Lines start with the marker;
 * a hyphenated marker is also found after other text (see {@link parseGuestLine}).
 */
export const GUEST_MARKERS = {
  /** `GUEST-READY cpus=N mem-mb=N blk=[vda,sda] net=[eth0] uptime=S`: /init finished booting. */
  ready: 'GUEST-READY',
  /** `GUEST-POWEROFF`: the ACPI power button was pressed; `poweroff -f` follows. */
  poweroff: 'GUEST-POWEROFF',
  /** `GUEST-ERROR <text>`: /init hit a problem it survived (a module that failed to load, a bad knob). */
  error: 'GUEST-ERROR',
  /** `HOTPLUG-BLK vdX|sdX`: a new block device appeared. */
  hotplugBlk: 'HOTPLUG-BLK',
  /** `UNPLUG-BLK vdX|sdX`: a block device went away. */
  unplugBlk: 'UNPLUG-BLK',
  /** `HOTPLUG-NET ethN`: a new network interface appeared. */
  hotplugNet: 'HOTPLUG-NET',
  /** `UNPLUG-NET ethN`: a network interface went away. */
  unplugNet: 'UNPLUG-NET',
  /** `HOTPLUG-PMEM pmemN BYTES`: an NVDIMM namespace's block device appeared, with its size in bytes. */
  hotplugPmem: 'HOTPLUG-PMEM',
  /** `UNPLUG-PMEM pmemN`: an NVDIMM namespace's block device went away. */
  unplugPmem: 'UNPLUG-PMEM',
  /** `CPUS N`: the number of online CPUs changed (the guest onlines hotplugged CPUs itself). */
  cpus: 'CPUS',
  /** `MEM-MB N`: online memory changed (the guest onlines hotplugged blocks as `online_movable`). */
  memMb: 'MEM-MB',
  /** `CLOCK S`: the guest's CLOCK_MONOTONIC in seconds, each poll, with `probe.clock=1`. */
  clock: 'CLOCK',
} as const;

/** A key of {@link GUEST_MARKERS}. */
export type GuestMarkerKind = keyof typeof GUEST_MARKERS;

/** A marker word, e.g. `'GUEST-READY'`. */
export type GuestMarker = (typeof GUEST_MARKERS)[GuestMarkerKind];

/** A parsed console line of the default guest. */
export type GuestEvent =
  | {
      kind: 'ready';
      /** Online CPUs. */
      cpus: number;
      /** Online memory in MiB (online memory blocks × block size). */
      memMb: number;
      /** Block devices present at boot (`vd*`, `sd*`), sorted. */
      blk: string[];
      /** Network interfaces present at boot (`eth*`), sorted. */
      net: string[];
      /** Guest uptime in seconds when it became ready, if reported. */
      uptime: number | undefined;
    }
  | { kind: 'poweroff' }
  | { kind: 'error'; message: string }
  | { kind: 'hotplugBlk'; device: string }
  | { kind: 'unplugBlk'; device: string }
  | { kind: 'hotplugNet'; device: string }
  | { kind: 'unplugNet'; device: string }
  | {
      kind: 'hotplugPmem';
      /** The block device (`pmem0`, `pmem0.1`, `pmem0s` for BTT). */
      device: string;
      /** Its size in bytes (`/sys/block/<dev>/size` × 512). */
      bytes: number;
    }
  | { kind: 'unplugPmem'; device: string }
  | { kind: 'cpus'; cpus: number }
  | { kind: 'memMb'; memMb: number }
  | { kind: 'clock'; seconds: number }
  | {
      /** The line starts with a marker but its payload does not parse (e.g. a kernel message interleaved). */
      kind: 'malformed';
      marker: GuestMarker;
      line: string;
    };

const BY_WORD: ReadonlyMap<string, GuestMarkerKind> = new Map(
  (Object.entries(GUEST_MARKERS) as [GuestMarkerKind, GuestMarker][]).map(([k, w]) => [w, k]),
);

/**
 * Hyphenated markers after other text on the same line, at a word boundary. Firmware can leave its
 * last line unterminated (SeaBIOS's banner on the `pc` machine ends in `Booting from ROM..`), so the
 * guest's first marker shares that line. The bare words (`CPUS`, `CLOCK`) are only taken at the
 * start of a line, where no kernel message can put them.
 */
const EMBEDDED = new RegExp(
  `(?:^|[^A-Za-z0-9_-])(${[...BY_WORD.keys()].filter((w) => w.includes('-')).join('|')})(?= |$)`,
);

const DEVICE = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const COUNT = /^\d+$/;
const SECONDS = /^\d+(?:\.\d+)?$/;

/**
 * Parse one console line (with or without its line ending; leading whitespace and `\r` ignored).
 * Returns `undefined` when the line is not a guest marker (kernel messages, shell output), a typed
 * event when it is, and `{ kind: 'malformed' }` when it starts with a marker word but the rest does
 * not parse. Never throws.
 *
 * @example parseGuestLine('HOTPLUG-BLK vda') // { kind: 'hotplugBlk', device: 'vda' }
 */
export function parseGuestLine(line: string): GuestEvent | undefined {
  let text = line.replace(/[\r\n]+$/, '').replace(/^[\s\r]+/, '');
  let space = text.indexOf(' ');
  let kind = BY_WORD.get(space < 0 ? text : text.slice(0, space));
  if (kind === undefined) {
    const embedded = EMBEDDED.exec(text);
    if (embedded === null) return undefined;
    text = text.slice(embedded.index + embedded[0].length - (embedded[1] ?? '').length);
    space = text.indexOf(' ');
    kind = BY_WORD.get(space < 0 ? text : text.slice(0, space));
    if (kind === undefined) return undefined;
  }
  const rest = space < 0 ? '' : text.slice(space + 1).trim();
  const marker = GUEST_MARKERS[kind];
  const bad = (): GuestEvent => ({ kind: 'malformed', marker, line: text });
  switch (kind) {
    case 'ready':
      return parseReady(rest) ?? bad();
    case 'poweroff':
      return rest === '' ? { kind } : bad();
    case 'error':
      return { kind, message: rest };
    case 'hotplugBlk':
    case 'unplugBlk':
    case 'hotplugNet':
    case 'unplugNet':
    case 'unplugPmem':
      return DEVICE.test(rest) ? { kind, device: rest } : bad();
    case 'hotplugPmem': {
      const [device = '', bytes = '', ...more] = rest.split(/\s+/);
      return DEVICE.test(device) && COUNT.test(bytes) && more.length === 0
        ? { kind, device, bytes: Number(bytes) }
        : bad();
    }
    case 'cpus':
      return COUNT.test(rest) ? { kind, cpus: Number(rest) } : bad();
    case 'memMb':
      return COUNT.test(rest) ? { kind, memMb: Number(rest) } : bad();
    case 'clock':
      return SECONDS.test(rest) ? { kind, seconds: Number(rest) } : bad();
  }
}

function parseReady(rest: string): GuestEvent | undefined {
  const fields = new Map<string, string>();
  for (const part of rest.split(/\s+/)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const cpus = fields.get('cpus');
  const memMb = fields.get('mem-mb');
  const blk = parseList(fields.get('blk'));
  const net = parseList(fields.get('net'));
  const uptime = fields.get('uptime');
  if (cpus === undefined || !COUNT.test(cpus) || memMb === undefined || !COUNT.test(memMb)) return undefined;
  if (blk === undefined || net === undefined) return undefined;
  if (uptime !== undefined && !SECONDS.test(uptime)) return undefined;
  return {
    kind: 'ready',
    cpus: Number(cpus),
    memMb: Number(memMb),
    blk,
    net,
    uptime: uptime === undefined ? undefined : Number(uptime),
  };
}

function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined || !value.startsWith('[') || !value.endsWith(']')) return undefined;
  const inner = value.slice(1, -1);
  if (inner === '') return [];
  const items = inner.split(',');
  return items.every((d) => DEVICE.test(d)) ? items.sort() : undefined;
}

/**
 * Format an event as the guest prints it (the inverse of {@link parseGuestLine}, for fakes and
 * tests that stand in for a guest). Returns the line without a line ending.
 */
export function formatGuestEvent(event: Exclude<GuestEvent, { kind: 'malformed' }>): string {
  const m = GUEST_MARKERS[event.kind];
  switch (event.kind) {
    case 'ready': {
      const up = event.uptime === undefined ? '' : ` uptime=${event.uptime}`;
      return `${m} cpus=${event.cpus} mem-mb=${event.memMb} blk=[${event.blk.join(',')}] net=[${event.net.join(',')}]${up}`;
    }
    case 'poweroff':
      return m;
    case 'error':
      return `${m} ${event.message}`;
    case 'hotplugBlk':
    case 'unplugBlk':
    case 'hotplugNet':
    case 'unplugNet':
    case 'unplugPmem':
      return `${m} ${event.device}`;
    case 'hotplugPmem':
      return `${m} ${event.device} ${event.bytes}`;
    case 'cpus':
      return `${m} ${event.cpus}`;
    case 'memMb':
      return `${m} ${event.memMb}`;
    case 'clock':
      return `${m} ${event.seconds}`;
  }
}
