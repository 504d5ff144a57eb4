/**
 * `encodeQemuArgv(config)`: validate a {@link QemuConfig} and assemble the QEMU command line in govmm's
 * order (name, uuid, machine, cpu, qmp, memory, devices, rtc, global, pflash, vga, knobs, kernel, bios,
 * iothreads, incoming, pidfile, logfile, fw_cfg, sandbox, smp), then `extraParams`.
 */
import type { z } from 'zod';
import { type QemuConfig, qemuConfigSchema } from './config.js';
import { type ContextState, createContext, type EncodeContext, type FdSpec } from './context.js';
import { type Device, deviceSchema, encodeDeviceWith } from './devices/index.js';
import { ArgvError, type ArgvErrorCode, type ArgvIssue } from './errors.js';
import {
  buildOptions,
  encodeOptionString,
  escapeOptionValue,
  type OptionPair,
  parseOptionString,
} from './option-string.js';
import { blockFilename } from './paths.js';
import type { Arch } from './transport.js';
import type { ArgvIssueParams } from './values.js';

/** What {@link encodeQemuArgv} returns. */
export interface QemuArgv {
  /** Arguments after the binary name. */
  argv: string[];
  /**
   * File descriptors QEMU must inherit, numbered from 3 in call order (QMP fd sockets, then per net
   * device vhost fds before tap fds, vsock vhost fds, the incoming-migration fd). Pass them with execa:
   * `stdio: ['ignore', 'pipe', 'pipe', ...fds.map((f) => f.hostFd)]`.
   */
  fds: FdSpec[];
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function issueCode(issue: z.core.$ZodIssue, inDevices: boolean): ArgvErrorCode {
  if (issue.code === 'custom') {
    const params = issue.params as Partial<ArgvIssueParams> | undefined;
    if (params?.argvCode !== undefined) return params.argvCode;
  }
  if (issue.code === 'unrecognized_keys') return 'ARGV_UNKNOWN_FIELD';
  if (issue.code === 'invalid_union' && (issue as { discriminator?: unknown }).discriminator === 'kind') {
    return 'ARGV_UNKNOWN_KIND';
  }
  return inDevices ? 'ARGV_INVALID_DEVICE' : 'ARGV_INVALID_CONFIG';
}

/**
 * Map a zod error to an {@link ArgvError} (first issue = the error's code and path; all kept in
 * `issues`; the `ZodError` is the `cause`). With `device`, `input` is one device and paths start at it.
 */
function toArgvError(error: z.ZodError, input: unknown, device = false): ArgvError {
  const issues: ArgvIssue[] = [];
  let deviceIndex: number | undefined;
  let kind: string | undefined;
  for (const issue of error.issues) {
    let segs: PropertyKey[] = [...issue.path];
    if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) segs = [...segs, issue.keys[0]!];
    if (
      issue.code === 'invalid_union' &&
      (issue as { discriminator?: unknown }).discriminator === 'kind' &&
      segs.at(-1) !== 'kind'
    ) {
      segs = [...segs, 'kind'];
    }
    const inDevices = device || (segs[0] === 'devices' && typeof segs[1] === 'number');
    const code = issueCode(issue, inDevices);
    const path = formatPath(segs);
    let message = issue.message;
    if (code === 'ARGV_UNKNOWN_FIELD') message = `unknown field ${JSON.stringify(String(segs.at(-1)))}`;
    if (code === 'ARGV_UNKNOWN_KIND') {
      const given = device ? kindOf(input) : kindAt(input, segs);
      message = given === undefined ? 'missing device kind' : `unknown device kind ${JSON.stringify(given)}`;
    }
    if (code !== 'ARGV_UNKNOWN_KIND' && code !== 'ARGV_UNKNOWN_FIELD')
      message += gotValue(input, segs, device);
    issues.push({ code, path, message });
    if (issues.length === 1 && device) kind = kindOf(input);
    else if (issues.length === 1 && inDevices) {
      deviceIndex = segs[1] as number;
      kind = kindAt(input, segs);
    }
  }
  const first = issues[0] ?? { code: 'ARGV_INVALID_CONFIG' as const, path: '', message: 'invalid config' };
  const where = first.path === '' ? 'config' : first.path;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new ArgvError(
    first.code,
    `${where}${kind === undefined || first.code === 'ARGV_UNKNOWN_KIND' ? '' : ` (${kind})`}: ${first.message}${more}`,
    {
      cause: error,
      path: first.path,
      issues,
      ...(deviceIndex === undefined ? {} : { deviceIndex }),
      ...(kind === undefined ? {} : { kind }),
    },
  );
}

/** ` (got "value")` for a scalar at `segs` in `input` (JSON-quoted, so control characters stay visible). */
function gotValue(input: unknown, segs: readonly PropertyKey[], device: boolean): string {
  let cur: unknown = input;
  for (const seg of segs) {
    if (typeof cur !== 'object' || cur === null) return '';
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  if (segs.length === 0 && !device && typeof cur === 'object') return '';
  if (typeof cur !== 'string' && typeof cur !== 'number' && typeof cur !== 'boolean') return '';
  const text = JSON.stringify(cur);
  return ` (got ${text.length > 80 ? `${text.slice(0, 77)}...` : text})`;
}

function kindOf(device: unknown): string | undefined {
  if (typeof device !== 'object' || device === null) return undefined;
  const k = (device as { kind?: unknown }).kind;
  return typeof k === 'string' ? k : undefined;
}

function kindAt(input: unknown, segs: readonly PropertyKey[]): string | undefined {
  if (segs[0] !== 'devices' || typeof input !== 'object' || input === null) return undefined;
  const devices = (input as { devices?: unknown }).devices;
  return Array.isArray(devices) ? kindOf(devices[segs[1] as number]) : undefined;
}

/**
 * Validate an untrusted value (parsed JSON, user input) as a {@link QemuConfig}.
 * @throws {ArgvError} with `ARGV_INVALID_CONFIG`, `ARGV_INVALID_DEVICE`, `ARGV_UNKNOWN_KIND`,
 *   `ARGV_INVALID_ID`, `ARGV_UNKNOWN_FIELD` or `ARGV_UNESCAPABLE_VALUE`, naming the field path.
 */
export function validateQemuConfig(config: unknown): QemuConfig {
  const r = qemuConfigSchema.safeParse(config);
  if (!r.success) throw toArgvError(r.error, config);
  return r.data;
}

/**
 * Validate one device.
 * @throws {ArgvError} as {@link validateQemuConfig}; paths start at the device (`id`, `fds[0]`).
 */
export function validateDevice(device: unknown): Device {
  const r = deviceSchema.safeParse(device);
  if (!r.success) throw toArgvError(r.error, device, true);
  return r.data;
}

/** QEMU keeps one id namespace per option kind; the same id twice in one is refused at start-up. */
type IdSpace = 'device' | 'object' | 'chardev' | 'netdev' | 'drive' | 'fsdev';

/** The ids each device kind defines, with their namespace and field. */
function deviceIds(d: Device): Array<[IdSpace, string, string | undefined]> {
  switch (d.kind) {
    case 'memory-backend-file':
      return [
        ['object', 'id', d.id],
        ['device', 'deviceId', d.deviceId],
      ];
    case 'tdx-guest':
    case 'pef-guest':
      return [
        ['object', 'id', d.id],
        ['device', 'deviceId', d.deviceId],
      ];
    case 'memory-backend-epc':
    case 'sev-guest':
    case 'sev-snp-guest':
    case 's390-pv-guest':
    case 'rng':
      return [['object', 'id', d.id]];
    case 'fs':
      return [['fsdev', 'id', d.id]];
    case 'char':
      return [
        ['chardev', 'id', d.id],
        ['device', 'deviceId', d.deviceId],
      ];
    case 'net':
      return [['netdev', 'id', d.id]];
    case 'block':
      return [['drive', 'id', d.id]];
    case 'vhost-user-net':
      return [
        ['chardev', 'charDevId', d.charDevId],
        ['netdev', 'typeDevId', d.typeDevId],
      ];
    case 'vhost-user-scsi':
    case 'vhost-user-blk':
      return [
        ['chardev', 'charDevId', d.charDevId],
        ['device', 'typeDevId', d.typeDevId],
      ];
    case 'vhost-user-fs':
      return [['chardev', 'charDevId', d.charDevId]];
    case 'serial':
    case 'pcie-root-port':
    case 'pcie-switch-upstream-port':
    case 'pcie-switch-downstream-port':
    case 'pxb-pcie':
    case 'vfio':
    case 'scsi-controller':
    case 'bridge':
    case 'vsock':
    case 'balloon':
    case 'loader':
      return [['device', 'id', d.id]];
    case 'legacy-serial':
    case 'iommu':
    case 'pvpanic':
      return [];
  }
}

/**
 * Refuse an id used twice in one QEMU namespace (QEMU would refuse to start), and ids that collide with
 * the ones the encoder itself writes (`dimm1`, `numa-mem<N>`).
 * @throws {ArgvError} `ARGV_CONFLICT` at the second occurrence.
 */
function checkUniqueIds(cfg: QemuConfig): void {
  const seen = new Map<string, string>();
  const claim = (space: IdSpace, id: string | undefined, path: string): void => {
    if (id === undefined) return;
    const key = `${space}\0${id}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ArgvError(
        'ARGV_CONFLICT',
        `${path}: ${space} id ${JSON.stringify(id)} is already used by ${first}`,
        {
          path,
        },
      );
    }
    seen.set(key, path);
  };
  if (cfg.memory !== undefined) {
    const nodes = cfg.numaNodes?.length ?? 0;
    if (nodes === 0) claim('object', 'dimm1', 'memory');
    for (let i = 0; i < nodes; i++) claim('object', `numa-mem${i}`, `numaNodes[${i}]`);
  }
  cfg.ioThreads?.forEach((t, i) => {
    claim('object', t.id, `ioThreads[${i}].id`);
  });
  cfg.devices?.forEach((d, i) => {
    for (const [space, field, id] of deviceIds(d)) claim(space, id, `devices[${i}].${field}`);
  });
}

const DIMM_ARCHES: readonly Arch[] = ['amd64', '386', 'ppc64le', 'arm64'];

function pushMemoryKnobs(out: string[], cfg: QemuConfig, arch: Arch, ctx: EncodeContext): void {
  const mem = cfg.memory;
  if (mem === undefined) return;
  const k = cfg.knobs ?? {};
  if ((cfg.numaNodes?.length ?? 0) > 0) {
    cfg.numaNodes!.forEach((node, i) => {
      const memPath =
        node.memPath ?? (k.hugePages ? '/dev/hugepages' : k.fileBackedMem ? mem.path : undefined);
      const type =
        node.memBackendType ?? (memPath !== undefined ? 'memory-backend-file' : 'memory-backend-ram');
      if (type === 'memory-backend-file' && memPath === undefined) {
        ctx.fail(`numaNodes[${i}].memPath`, 'memory-backend-file needs memPath');
      }
      const hostNodes = node.hostNodes === undefined ? [] : [node.hostNodes].flat();
      const cpus = node.cpus === undefined ? [] : [node.cpus].flat();
      out.push(
        '-object',
        buildOptions(type, [
          ['id', `numa-mem${i}`],
          ['size', node.size],
          type === 'memory-backend-file' && memPath !== undefined && ['mem-path', memPath],
          ...hostNodes.map((h): OptionPair => ['host-nodes', h]),
          hostNodes.length > 0 && ['policy', 'bind'],
          k.memShared === true && ['share', 'on'],
          k.memPrealloc === true && ['prealloc', 'on'],
        ]),
        '-numa',
        buildOptions('node', [
          ['nodeid', i],
          ['memdev', `numa-mem${i}`],
          ...cpus.map((c): OptionPair => ['cpus', c]),
        ]),
      );
    });
    return;
  }
  const dimm = 'dimm1';
  let obj: string;
  const tail: OptionPair[] = [
    k.memShared === true && ['share', 'on'],
    k.memPrealloc === true && ['prealloc', 'on'],
  ];
  if (k.hugePages === true) {
    obj = buildOptions('memory-backend-file', [
      ['id', dimm],
      ['size', mem.size],
      ['mem-path', '/dev/hugepages'],
      ...tail,
    ]);
  } else if (k.fileBackedMem === true && mem.path !== undefined) {
    obj = buildOptions('memory-backend-file', [
      ['id', dimm],
      ['size', mem.size],
      ['mem-path', mem.path],
      ...tail,
    ]);
  } else {
    obj = buildOptions('memory-backend-ram', [['id', dimm], ['size', mem.size], ...tail]);
  }
  out.push('-object', obj);
  if (DIMM_ARCHES.includes(arch) && cfg.machine?.type !== 'microvm') out.push('-numa', `node,memdev=${dimm}`);
  else out.push('-machine', `memory-backend=${dimm}`);
}

function machineOptions(options: NonNullable<QemuConfig['machine']>['options'], ctx: EncodeContext): string {
  if (options === undefined) return '';
  if (typeof options === 'string') {
    const entries = parseOptionString(options);
    for (const e of entries) {
      if (e.key === '') ctx.fail('machine.options', `empty option in ${JSON.stringify(options)}`);
    }
    return entries.length === 0 ? '' : `,${encodeOptionString(entries)}`;
  }
  const pairs = Object.entries(options).map(
    ([key, v]): OptionPair => [key, typeof v === 'boolean' ? (v ? 'on' : 'off') : v],
  );
  return pairs.length === 0 ? '' : `,${buildOptions(undefined, pairs)}`;
}

/** Options for {@link encodeQemuArgv}. */
export interface EncodeOptions {
  /** Skip validation because `config` already came from {@link validateQemuConfig}. @default false */
  trusted?: boolean;
}

/**
 * Encode a VM description as QEMU argv plus the fds QEMU must inherit. Pure: no I/O, no global state.
 * @throws {ArgvError} `ARGV_INVALID_CONFIG`, `ARGV_INVALID_DEVICE`, `ARGV_UNKNOWN_KIND`, `ARGV_INVALID_ID`,
 *   `ARGV_UNKNOWN_FIELD`, `ARGV_UNESCAPABLE_VALUE` (validation) or `ARGV_CONFLICT` (e.g. two firmware
 *   files), with the field path (`devices[3].id`), device index and kind.
 */
export function encodeQemuArgv(config: QemuConfig, options: EncodeOptions = {}): QemuArgv {
  const cfg = options.trusted === true ? config : validateQemuConfig(config);
  checkUniqueIds(cfg);
  const arch = cfg.arch ?? 'amd64';
  const { ctx, state } = createContext({
    arch,
    machineType: cfg.machine?.type ?? '',
    iommuPlatform: cfg.knobs?.iommuPlatform === true,
  });
  const out: string[] = [];

  if (cfg.name !== undefined) {
    out.push(
      '-name',
      cfg.name.includes('=') ? `guest=${escapeOptionValue(cfg.name)}` : escapeOptionValue(cfg.name),
    );
  }
  if (cfg.uuid !== undefined) out.push('-uuid', cfg.uuid);
  if (cfg.machine !== undefined) {
    const m = cfg.machine;
    out.push(
      '-machine',
      `${m.type}${m.acceleration === undefined ? '' : `,accel=${m.acceleration}`}${machineOptions(m.options, ctx)}`,
    );
  }
  if (cfg.cpuModel !== undefined) out.push('-cpu', cfg.cpuModel);
  cfg.qmpSockets?.forEach((q, i) => {
    const flag = q.protocol === 'qmp-pretty' ? '-qmp-pretty' : q.protocol === 'hmp' ? '-monitor' : '-qmp';
    const where =
      q.fd !== undefined
        ? `fd=${ctx.allocFds([q.fd], `qmpSockets[${i}].fd`, true)[0]}`
        : q.name!.includes('=')
          ? `path=${escapeOptionValue(q.name!)}`
          : escapeOptionValue(q.name!);
    const server = q.server === true ? `,server=on${q.noWait === true ? ',wait=off' : ''}` : '';
    out.push(flag, `unix:${where}${server}`);
  });
  if (cfg.memory !== undefined) {
    const m = cfg.memory;
    out.push(
      '-m',
      `${m.size}${m.slots === undefined ? '' : `,slots=${m.slots}`}${m.maxMem === undefined ? '' : `,maxmem=${m.maxMem}`}`,
    );
  }
  cfg.devices?.forEach((device, i) => {
    encodeDeviceAt(out, device, i, ctx, state);
  });
  state.prefix = '';
  state.deviceIndex = undefined;
  state.kind = undefined;

  if (cfg.rtc !== undefined) {
    const r = cfg.rtc;
    const s = buildOptions(undefined, [
      r.base !== undefined && ['base', r.base],
      r.driftFix !== undefined && ['driftfix', r.driftFix],
      r.clock !== undefined && ['clock', r.clock],
    ]);
    if (s !== '') out.push('-rtc', s);
  }
  if (cfg.globalParam !== undefined) out.push('-global', cfg.globalParam);
  for (const p of cfg.pflash ?? []) out.push('-pflash', blockFilename(p));
  if (cfg.vga !== undefined) out.push('-vga', cfg.vga);

  const k = cfg.knobs ?? {};
  if (k.noUserConfig === true) out.push('-no-user-config');
  if (k.noDefaults === true) out.push('-nodefaults');
  if (k.noGraphic === true) out.push('-nographic');
  if (k.noReboot === true) out.push('--no-reboot');
  if (k.noShutdown === true) out.push('--no-shutdown');
  if (k.daemonize === true) out.push('-daemonize');
  pushMemoryKnobs(out, cfg, arch, ctx);
  for (const d of cfg.numaDistances ?? []) out.push('-numa', `dist,src=${d.src},dst=${d.dst},val=${d.val}`);
  if (k.mlock === true) out.push('-overcommit', 'mem-lock=on');
  if (k.stopped === true) out.push('-S');

  if (cfg.kernel !== undefined) {
    out.push('-kernel', cfg.kernel.path);
    if (cfg.kernel.initrdPath !== undefined) out.push('-initrd', cfg.kernel.initrdPath);
    if (cfg.kernel.params !== undefined && cfg.kernel.params !== '') out.push('-append', cfg.kernel.params);
  }
  const firmware = state.firmware;
  if (cfg.bios !== undefined && firmware !== undefined && firmware.file !== cfg.bios) {
    ctx.fail(
      'bios',
      `conflicts with firmware ${JSON.stringify(firmware.file)} from ${firmware.path}`,
      'ARGV_CONFLICT',
    );
  }
  const bios = cfg.bios ?? firmware?.file;
  if (bios !== undefined) out.push('-bios', bios);
  for (const t of cfg.ioThreads ?? []) out.push('-object', buildOptions('iothread', [['id', t.id]]));
  if (cfg.incoming !== undefined) {
    const m = cfg.incoming;
    const uri =
      m.migrationType === 'fd'
        ? `fd:${ctx.allocFds([m.fd!], 'incoming.fd', true)[0]}`
        : m.migrationType === 'exec'
          ? `exec:${m.exec!}`
          : 'defer';
    out.push('-S', '-incoming', uri);
  }
  if (cfg.pidFile !== undefined) out.push('-pidfile', cfg.pidFile);
  if (cfg.logFile !== undefined) out.push('-D', cfg.logFile);
  for (const f of cfg.fwCfg ?? []) {
    out.push(
      '-fw_cfg',
      buildOptions(undefined, [
        ['name', f.name],
        f.file !== undefined ? ['file', f.file] : ['string', f.str ?? ''],
      ]),
    );
  }
  if (cfg.seccompSandbox !== undefined) out.push('-sandbox', cfg.seccompSandbox);
  if (cfg.smp !== undefined) {
    const s = cfg.smp;
    out.push(
      '-smp',
      buildOptions(String(s.cpus), [
        s.cores !== undefined && ['cores', s.cores],
        s.threads !== undefined && ['threads', s.threads],
        s.sockets !== undefined && ['sockets', s.sockets],
        s.maxCpus !== undefined && ['maxcpus', s.maxCpus],
      ]),
    );
  }
  if (cfg.extraParams !== undefined) out.push(...cfg.extraParams);
  return { argv: out, fds: state.fds };
}

function encodeDeviceAt(
  out: string[],
  device: Device,
  index: number,
  ctx: EncodeContext,
  state: ContextState,
): void {
  state.prefix = `devices[${index}]`;
  state.deviceIndex = index;
  state.kind = device.kind;
  out.push(...encodeDeviceWith(device, ctx));
}

/** Options for {@link encodeDevice}. */
export interface EncodeDeviceOptions {
  /** Target architecture. @default 'amd64' */
  arch?: Arch;
  /** Machine type (decides `mmio` for microvm). @default '' */
  machineType?: string;
  /** `knobs.iommuPlatform`. @default false */
  iommuPlatform?: boolean;
  /** First fd number QEMU sees (when other fds come before). @default 3 */
  firstFd?: number;
}

/**
 * Encode one device on its own (for composing argv piecemeal or for tests).
 * @throws {ArgvError} as {@link encodeQemuArgv}; paths start at the device.
 */
export function encodeDevice(device: Device, options: EncodeDeviceOptions = {}): QemuArgv {
  const d = validateDevice(device);
  const { ctx, state } = createContext({
    arch: options.arch ?? 'amd64',
    machineType: options.machineType ?? '',
    iommuPlatform: options.iommuPlatform ?? false,
    ...(options.firstFd === undefined ? {} : { firstFd: options.firstFd }),
  });
  state.deviceIndex = 0;
  state.kind = d.kind;
  const argv = encodeDeviceWith(d, ctx);
  if (state.firmware !== undefined) argv.push('-bios', state.firmware.file);
  return { argv, fds: state.fds };
}
