/**
 * Higher-level operations on a {@link QmpClient}, covering govmm's `Execute*` methods that are more
 * than one wire command: device_del that waits for DEVICE_DELETED, blockdev + device hotplug with
 * rollback, memory/nvdimm hotplug with rollback, CPU hotplug, netdevs by fds, fd passing. Plus
 * builders for govmm's `device_add` argument shapes (booleans and integers, as current QEMU wants).
 */
import type { ExecuteOptions, QmpClient } from './client.js';
import type { QmpArgs } from './commands/index.js';
import { QmpError } from './errors.js';
import type { QmpEvent } from './events.js';

/** `device_add` arguments. */
export type DeviceAddArgs = QmpArgs<'device_add'>;
/** `blockdev-add` arguments. */
export type BlockdevAddArgs = QmpArgs<'blockdev-add'>;

/** Timeout and cancellation for a helper (applies to each step). */
export interface HelperOptions {
  /** Milliseconds per step. @default the client's `commandTimeout` */
  timeout?: number;
  signal?: AbortSignal;
}

const stepOptions = (o: HelperOptions): ExecuteOptions => ({
  ...(o.timeout === undefined ? {} : { timeout: o.timeout }),
  ...(o.signal === undefined ? {} : { signal: o.signal }),
});

function invalid(message: string, command?: string): QmpError {
  return new QmpError('QMP_ENCODE', message, command === undefined ? {} : { command });
}

async function rollback(step: () => Promise<unknown>): Promise<unknown> {
  try {
    await step();
    return undefined;
  } catch (err) {
    return err;
  }
}

function failed(what: string, cause: unknown, rollbackError: unknown, undone: string): QmpError {
  const rb =
    rollbackError === undefined
      ? `rolled back (${undone})`
      : `rollback (${undone}) also failed: ${String(rollbackError)}`;
  return new QmpError('QMP_HOTPLUG_FAILED', `${what} failed: ${(cause as Error).message}; ${rb}`, {
    cause,
  });
}

// --------------------------------------------------------------------------------- device_del

/**
 * `device_del` and wait for `DEVICE_DELETED` for that id, subscribing before the command is sent
 * (race-free; govmm's `ExecuteDeviceDel`). A guest that ignores the unplug request makes this time
 * out with `QMP_TIMEOUT`.
 * @throws Everything `execute` throws.
 */
export async function deleteDevice(
  qmp: QmpClient,
  id: string,
  options: HelperOptions = {},
): Promise<QmpEvent<'DEVICE_DELETED'>> {
  const { event } = await qmp.executeAndWaitFor(
    'device_del',
    { id },
    {
      ...stepOptions(options),
      event: 'DEVICE_DELETED',
      match: (e) => (e.data as { device?: unknown } | undefined)?.device === id,
    },
  );
  return event as QmpEvent<'DEVICE_DELETED'>;
}

/**
 * `system_powerdown` and wait for `POWERDOWN` (govmm's `ExecuteSystemPowerdown`, G22 semantics).
 * @throws Everything `execute` throws.
 */
export async function systemPowerdown(qmp: QmpClient, options: HelperOptions = {}): Promise<void> {
  await qmp.executeAndWaitFor('system_powerdown', undefined, { ...stepOptions(options), event: 'POWERDOWN' });
}

// --------------------------------------------------------------------------------- blockdev

/** A raw-format block node over a file or host device (govmm's `ExecuteBlockdevAdd*`). */
export interface RawBlockdevConfig {
  /** Node name (govmm's `id`). */
  nodeName: string;
  /** Path of the image file or host block device (`/dev/fdset/N` works too). */
  filename: string;
  /** Protocol driver. @default 'host_device' for /dev paths, else 'file' */
  fileDriver?: string;
  /** @default false */
  readOnly?: boolean;
  /** `cache.direct` (O_DIRECT). */
  direct?: boolean;
  /** `cache.no-flush`. */
  noFlush?: boolean;
  /** `discard: unmap` at both levels (MAIN's `DiscardUnmap`). @default false */
  discardUnmap?: boolean;
  /** `file.aio`. */
  aio?: 'threads' | 'native' | 'io_uring';
}

/** Build `blockdev-add` arguments for {@link RawBlockdevConfig}. */
export function rawBlockdev(config: RawBlockdevConfig): BlockdevAddArgs {
  if (config.nodeName.length === 0) throw invalid('blockdev: nodeName must not be empty', 'blockdev-add');
  if (config.filename.length === 0) throw invalid('blockdev: filename must not be empty', 'blockdev-add');
  const fileDriver =
    config.fileDriver ??
    (config.filename.startsWith('/dev/') && !config.filename.startsWith('/dev/fdset/')
      ? 'host_device'
      : 'file');
  const file: Record<string, unknown> = { driver: fileDriver, filename: config.filename };
  if (config.aio !== undefined) file.aio = config.aio;
  if (config.discardUnmap === true) file.discard = 'unmap';
  const args: BlockdevAddArgs = {
    driver: 'raw',
    'node-name': config.nodeName,
    'read-only': config.readOnly ?? false,
    file: file as { driver: string },
  };
  if (config.direct !== undefined || config.noFlush !== undefined) {
    args.cache = {
      ...(config.direct === undefined ? {} : { direct: config.direct }),
      ...(config.noFlush === undefined ? {} : { 'no-flush': config.noFlush }),
    };
  }
  if (config.discardUnmap === true) args.discard = 'unmap';
  return args;
}

/**
 * `blockdev-add` then `device_add`; if `device_add` fails, `blockdev-del` undoes the node
 * (RT1's rollback, which its shadowed `err` never ran).
 * @throws {QmpError} `QMP_HOTPLUG_FAILED` (cause: the `device_add` error) after rolling back;
 *   the `blockdev-add` error as is when that step fails.
 */
export async function hotplugBlockDevice(
  qmp: QmpClient,
  blockdev: BlockdevAddArgs,
  device: DeviceAddArgs,
  options: HelperOptions = {},
): Promise<void> {
  const nodeName = blockdev['node-name'];
  if (nodeName === undefined) throw invalid('hotplugBlockDevice: blockdev needs a node-name', 'blockdev-add');
  await qmp.execute('blockdev-add', blockdev, stepOptions(options));
  try {
    await qmp.execute('device_add', device, stepOptions(options));
  } catch (err) {
    const rb = await rollback(() =>
      qmp.execute('blockdev-del', { 'node-name': nodeName }, { timeout: options.timeout ?? 10_000 }),
    );
    throw failed(`device_add ${device.id ?? device.driver}`, err, rb, `blockdev-del ${nodeName}`);
  }
}

/** Where a device sits: PCI (`bus` + `addr`) or CCW (`devno`). */
export interface DeviceLocation {
  /** Bridge or root port id (PCI), or the CCW devno when `transport` is `ccw`. */
  bus?: string;
  /** PCI slot (`addr`), e.g. `"0x2"`. */
  addr?: string;
  /** @default 'pci' */
  transport?: 'pci' | 'ccw' | 'mmio';
  /** PCI only: `romfile` (`""` disables the option ROM). */
  romfile?: string;
  /** PCI only: `disable-modern`. */
  disableModern?: boolean;
}

function place(args: Record<string, unknown>, loc: DeviceLocation): void {
  const t = loc.transport ?? 'pci';
  if (t === 'ccw') {
    if (loc.bus !== undefined && loc.bus !== '') args.devno = loc.bus;
    return;
  }
  if (loc.bus !== undefined && loc.bus !== '') args.bus = loc.bus;
  if (loc.addr !== undefined && loc.addr !== '') args.addr = loc.addr;
  if (t === 'pci') {
    if (loc.romfile !== undefined) args.romfile = loc.romfile;
    if (loc.disableModern === true) args['disable-modern'] = true;
  }
}

/** A virtio-blk (or other drive-backed) device (govmm's `ExecuteDeviceAdd`/`ExecutePCIDeviceAdd`). */
export interface BlkDeviceConfig extends DeviceLocation {
  id: string;
  /** Block node to attach. */
  drive: string;
  /** @default 'virtio-blk-pci' (or `virtio-blk-ccw` for ccw) */
  driver?: string;
  /** `share-rw`. */
  shared?: boolean;
  /** `num-queues` (integer, as current QEMU wants). */
  queues?: number;
  iothread?: string;
  logicalBlockSize?: number;
  physicalBlockSize?: number;
}

/** Build `device_add` arguments for a drive-backed device. */
export function blkDevice(c: BlkDeviceConfig): DeviceAddArgs {
  const t = c.transport ?? 'pci';
  const args: Record<string, unknown> = { driver: c.driver ?? `virtio-blk-${t}`, id: c.id, drive: c.drive };
  place(args, c);
  if (c.shared === true) args['share-rw'] = true;
  if (c.queues !== undefined && c.queues > 0) args['num-queues'] = c.queues;
  if (c.iothread !== undefined) args.iothread = c.iothread;
  if (c.logicalBlockSize !== undefined) args.logical_block_size = c.logicalBlockSize;
  if (c.physicalBlockSize !== undefined) args.physical_block_size = c.physicalBlockSize;
  return args as DeviceAddArgs;
}

/** A SCSI disk on a virtio-scsi controller (govmm's `ExecuteSCSIDeviceAdd`). */
export interface ScsiDeviceConfig {
  id: string;
  drive: string;
  /** `scsi-hd`, `scsi-cd` or `scsi-disk`. */
  driver: 'scsi-hd' | 'scsi-cd' | 'scsi-disk';
  /** SCSI bus, e.g. `scsi0.0`. */
  bus: string;
  scsiId?: number;
  lun?: number;
  shared?: boolean;
}

/**
 * Build `device_add` arguments for a SCSI disk.
 * @throws {QmpError} `QMP_ENCODE` for any other driver (govmm: "invalid SCSI driver provided").
 */
export function scsiDevice(c: ScsiDeviceConfig): DeviceAddArgs {
  if (!['scsi-hd', 'scsi-cd', 'scsi-disk'].includes(c.driver)) {
    throw invalid(`invalid SCSI driver provided: ${String(c.driver)}`, 'device_add');
  }
  const args: Record<string, unknown> = { id: c.id, driver: c.driver, drive: c.drive, bus: c.bus };
  if (c.scsiId !== undefined && c.scsiId >= 0) args['scsi-id'] = c.scsiId;
  if (c.lun !== undefined && c.lun >= 0) args.lun = c.lun;
  if (c.shared === true) args['share-rw'] = true;
  return args as DeviceAddArgs;
}

/** A virtio-net device (govmm's `ExecuteNetPCIDeviceAdd` / `ExecuteNetCCWDeviceAdd`). */
export interface NetDeviceConfig extends DeviceLocation {
  id: string;
  netdev: string;
  mac?: string;
  /** Queue pairs; > 0 sets `mq: true` and `vectors: 2q+2`. */
  queues?: number;
}

/** Build `device_add` arguments for virtio-net. */
export function netDevice(c: NetDeviceConfig): DeviceAddArgs {
  const t = c.transport ?? 'pci';
  const args: Record<string, unknown> = { id: c.id, driver: `virtio-net-${t}`, netdev: c.netdev };
  place(args, c);
  if (c.mac !== undefined && c.mac !== '') args.mac = c.mac;
  if (c.queues !== undefined && c.queues > 0) {
    args.mq = true;
    if (t === 'pci') args.vectors = 2 * c.queues + 2;
  }
  return args as DeviceAddArgs;
}

/** A VFIO device by host BDF or mediated sysfs path (govmm's `Execute*VFIO*DeviceAdd`). */
export interface VfioDeviceConfig extends DeviceLocation {
  id?: string;
  /** Host PCI address (`0000:01:00.0`). Exactly one of `host`/`sysfsdev`. */
  host?: string;
  /** Mediated device sysfs path. */
  sysfsdev?: string;
  /** @default 'vfio-pci' (or `vfio-ccw` for ccw; use `vfio-ap` for AP) */
  driver?: string;
}

/**
 * Build `device_add` arguments for VFIO.
 * @throws {QmpError} `QMP_ENCODE` unless exactly one of `host` and `sysfsdev` is set.
 */
export function vfioDevice(c: VfioDeviceConfig): DeviceAddArgs {
  if ((c.host === undefined) === (c.sysfsdev === undefined)) {
    throw invalid('vfio: set exactly one of host and sysfsdev', 'device_add');
  }
  const t = c.transport ?? 'pci';
  const args: Record<string, unknown> = { driver: c.driver ?? `vfio-${t}` };
  if (c.id !== undefined) args.id = c.id;
  if (c.host !== undefined) args.host = c.host;
  if (c.sysfsdev !== undefined) args.sysfsdev = c.sysfsdev;
  place(args, c);
  return args as DeviceAddArgs;
}

/** A vhost-user device (govmm's `ExecutePCIVhostUserDevAdd`). */
export interface VhostUserDeviceConfig extends DeviceLocation {
  id: string;
  /** e.g. `vhost-user-blk-pci`, `vhost-user-fs-pci`, `virtio-net-pci`. */
  driver: string;
  chardev: string;
}

/** Build `device_add` arguments for a vhost-user device. */
export function vhostUserDevice(c: VhostUserDeviceConfig): DeviceAddArgs {
  const args: Record<string, unknown> = { driver: c.driver, id: c.id, chardev: c.chardev };
  place(args, c);
  return args as DeviceAddArgs;
}

/** A vhost-vsock device (govmm's `ExecutePCIVSockAdd`). */
export interface VsockDeviceConfig extends DeviceLocation {
  id: string;
  guestCid: number;
  /** An fd name passed with `getfd`, or a number inherited by QEMU. */
  vhostfd?: string;
}

/** Build `device_add` arguments for vhost-vsock. */
export function vsockDevice(c: VsockDeviceConfig): DeviceAddArgs {
  const t = c.transport ?? 'pci';
  const args: Record<string, unknown> = { driver: `vhost-vsock-${t}`, id: c.id, 'guest-cid': c.guestCid };
  if (c.vhostfd !== undefined) args.vhostfd = c.vhostfd;
  place(args, c);
  return args as DeviceAddArgs;
}

/** A virtserialport on a virtio-serial bus (govmm's `ExecuteVirtSerialPortAdd`). */
export interface VirtSerialPortConfig {
  id: string;
  name: string;
  chardev: string;
  bus?: string;
}

/** Build `device_add` arguments for a virtserialport. */
export function virtSerialPort(c: VirtSerialPortConfig): DeviceAddArgs {
  return {
    driver: 'virtserialport',
    id: c.id,
    name: c.name,
    chardev: c.chardev,
    ...(c.bus === undefined ? {} : { bus: c.bus }),
  } as DeviceAddArgs;
}

// --------------------------------------------------------------------------------- CPU

/** A vCPU to hotplug (govmm's `ExecuteCPUDeviceAdd`, MAIN's integer ids). */
export interface CpuDeviceConfig {
  /** CPU model type from `query-hotpluggable-cpus` (e.g. `host-x86_64-cpu`, `qemu64-x86_64-cpu`). */
  driver: string;
  id: string;
  socketId?: number;
  dieId?: number;
  coreId?: number;
  threadId?: number;
  nodeId?: number;
}

/** Build `device_add` arguments for a vCPU; negative ids are omitted. */
export function cpuDevice(c: CpuDeviceConfig): DeviceAddArgs {
  const args: Record<string, unknown> = { driver: c.driver, id: c.id };
  const put = (k: string, v: number | undefined): void => {
    if (v !== undefined && v >= 0) args[k] = v;
  };
  put('node-id', c.nodeId);
  put('socket-id', c.socketId);
  put('die-id', c.dieId);
  put('core-id', c.coreId);
  put('thread-id', c.threadId);
  return args as DeviceAddArgs;
}

/**
 * Hotplug one vCPU into the first free slot reported by `query-hotpluggable-cpus` (no `qom-path`),
 * and return the device arguments used.
 * @throws {QmpError} `QMP_HOTPLUG_FAILED` when no slot is free; otherwise what `execute` throws.
 */
export async function hotplugCpu(
  qmp: QmpClient,
  id: string,
  options: HelperOptions = {},
): Promise<DeviceAddArgs> {
  const slots = await qmp.execute('query-hotpluggable-cpus', undefined, stepOptions(options));
  const free = slots.find((s) => s['qom-path'] === undefined);
  if (free === undefined)
    throw new QmpError('QMP_HOTPLUG_FAILED', 'no free vCPU slot (all hotpluggable CPUs are present)');
  const args = { ...free.props, driver: free.type, id } as DeviceAddArgs;
  await qmp.execute('device_add', args, stepOptions(options));
  return args;
}

// --------------------------------------------------------------------------------- memory

/** Memory to hotplug (govmm's `ExecMemdevAdd` / `ExecHotplugMemory`). */
export interface MemoryHotplugConfig {
  /** Backend object id. */
  id: string;
  /** Size in bytes (govmm passes MiB and shifts; we take bytes). */
  size: number;
  /** @default 'memory-backend-ram', or 'memory-backend-file' when `memPath` is set */
  qomType?: string;
  memPath?: string;
  share?: boolean;
  /** Front-end driver. @default 'pc-dimm' */
  driver?: string;
  /** Device id. @default `dimm${id}` */
  deviceId?: string;
  bus?: string;
  addr?: string;
  /** Extra backend properties (e.g. `prealloc`, `pmem`). */
  backendProps?: Record<string, unknown>;
}

/**
 * `object-add` a memory backend, then `device_add` the front end; if `device_add` fails, the
 * backend is deleted (`object-del`).
 * @throws {QmpError} `QMP_HOTPLUG_FAILED` after rolling back; `QMP_ENCODE` for a bad size.
 */
export async function hotplugMemory(
  qmp: QmpClient,
  c: MemoryHotplugConfig,
  options: HelperOptions = {},
): Promise<void> {
  if (!Number.isSafeInteger(c.size) || c.size <= 0)
    throw invalid(`memory: size must be a positive integer number of bytes, got ${c.size}`, 'object-add');
  const backend: Record<string, unknown> = {
    'qom-type': c.qomType ?? (c.memPath === undefined ? 'memory-backend-ram' : 'memory-backend-file'),
    id: c.id,
    size: c.size,
    ...(c.memPath === undefined ? {} : { 'mem-path': c.memPath }),
    ...(c.share === true ? { share: true } : {}),
    ...c.backendProps,
  };
  await qmp.execute('object-add', backend as QmpArgs<'object-add'>, stepOptions(options));
  const device: Record<string, unknown> = {
    driver: c.driver ?? 'pc-dimm',
    id: c.deviceId ?? `dimm${c.id}`,
    memdev: c.id,
  };
  if (c.bus !== undefined) device.bus = c.bus;
  if (c.addr !== undefined) device.addr = c.addr;
  try {
    await qmp.execute('device_add', device as DeviceAddArgs, stepOptions(options));
  } catch (err) {
    const rb = await rollback(() =>
      qmp.execute('object-del', { id: c.id }, { timeout: options.timeout ?? 10_000 }),
    );
    throw failed(`device_add ${String(device.id)}`, err, rb, `object-del ${c.id}`);
  }
}

/** An NVDIMM to hotplug (govmm's `ExecuteNVDIMMDeviceAdd`; needs `-machine nvdimm=on`). */
export interface NvdimmHotplugConfig {
  /** Suffix: backend `nvdimmbackmem<id>`, device `nvdimm<id>`. */
  id: string;
  memPath: string;
  size: number;
  pmem?: boolean;
}

/**
 * `object-add memory-backend-file` (shared) then `device_add nvdimm`, rolling back the backend on
 * failure.
 * @throws {QmpError} `QMP_HOTPLUG_FAILED` after rolling back.
 */
export function hotplugNvdimm(
  qmp: QmpClient,
  c: NvdimmHotplugConfig,
  options: HelperOptions = {},
): Promise<void> {
  return hotplugMemory(
    qmp,
    {
      id: `nvdimmbackmem${c.id}`,
      qomType: 'memory-backend-file',
      memPath: c.memPath,
      size: c.size,
      share: true,
      driver: 'nvdimm',
      deviceId: `nvdimm${c.id}`,
      ...(c.pmem === undefined ? {} : { backendProps: { pmem: c.pmem } }),
    },
    options,
  );
}

// --------------------------------------------------------------------------------- fds

/**
 * Pass `fd` to QEMU under `name` (`getfd`, with the fd on the same `sendmsg`). Usable wherever
 * QEMU takes an fd name (`netdev_add fds`, `vhostfd`, `migrate fd:<name>`, ...).
 * @throws {QmpError} `QMP_FD_PASSING_UNAVAILABLE` without the addon or on TCP; what `execute` throws.
 */
export async function passFd(
  qmp: QmpClient,
  fd: number,
  name: string,
  options: HelperOptions = {},
): Promise<void> {
  await qmp.execute('getfd', { fdname: name }, { ...stepOptions(options), fds: [fd] });
}

/**
 * Add `fd` to an fd set (`add-fd`), usable as `/dev/fdset/<fdsetId>` in file names. Use it in the
 * same session: QEMU may close unused fd set members when the monitor disconnects.
 * @throws {QmpError} `QMP_FD_PASSING_UNAVAILABLE` without the addon or on TCP; what `execute` throws.
 */
export async function addFd(
  qmp: QmpClient,
  fd: number,
  options: HelperOptions & { fdsetId?: number; opaque?: string } = {},
): Promise<{ fdsetId: number; fd: number }> {
  const r = await qmp.execute(
    'add-fd',
    {
      ...(options.fdsetId === undefined ? {} : { 'fdset-id': options.fdsetId }),
      ...(options.opaque === undefined ? {} : { opaque: options.opaque }),
    },
    { ...stepOptions(options), fds: [fd] },
  );
  return { fdsetId: r['fdset-id'], fd: r.fd };
}

/** A network backend from open fds (govmm's `ExecuteNetdevAddByFds`). */
export interface NetdevByFdsConfig {
  /** e.g. `tap`. */
  type: string;
  id: string;
  /** Tap queue fds, one per queue. */
  fds: readonly number[];
  /** vhost-net fds (sets `vhost: true`). */
  vhostFds?: readonly number[];
}

/**
 * Pass every fd with `getfd` (named `<id>-fd<i>` / `<id>-vhostfd<i>`), then `netdev_add` with
 * `fds`/`vhostfds` joined by `:`. On failure the names already passed are closed (`closefd`).
 * @throws {QmpError} `QMP_HOTPLUG_FAILED` after rolling back; `QMP_ENCODE` when `fds` is empty.
 */
export async function addNetdevByFds(
  qmp: QmpClient,
  c: NetdevByFdsConfig,
  options: HelperOptions = {},
): Promise<void> {
  if (c.fds.length === 0) throw invalid('netdev by fds: at least one fd is needed', 'netdev_add');
  const passed: string[] = [];
  try {
    const fdNames: string[] = [];
    for (const [i, fd] of c.fds.entries()) {
      const name = `${c.id}-fd${i}`;
      await passFd(qmp, fd, name, options);
      passed.push(name);
      fdNames.push(name);
    }
    const vhostNames: string[] = [];
    for (const [i, fd] of (c.vhostFds ?? []).entries()) {
      const name = `${c.id}-vhostfd${i}`;
      await passFd(qmp, fd, name, options);
      passed.push(name);
      vhostNames.push(name);
    }
    const args: Record<string, unknown> = { type: c.type, id: c.id };
    if (c.type === 'socket' && fdNames.length === 1) args.fd = fdNames[0];
    else args.fds = fdNames.join(':');
    if (vhostNames.length > 0) {
      args.vhost = true;
      args.vhostfds = vhostNames.join(':');
    }
    await qmp.execute('netdev_add', args as QmpArgs<'netdev_add'>, stepOptions(options));
  } catch (err) {
    if (passed.length === 0) throw err;
    let rbErr: unknown;
    for (const name of passed) {
      rbErr ??= await rollback(() =>
        qmp.execute('closefd', { fdname: name }, { timeout: options.timeout ?? 10_000 }),
      );
    }
    throw failed(`netdev_add ${c.id}`, err, rbErr, `closefd ${passed.join(', ')}`);
  }
}

// --------------------------------------------------------------------------------- chardev / migration

/** A unix-socket chardev (govmm's `ExecuteCharDevUnixSocketAdd`). */
export interface UnixSocketChardevConfig {
  id: string;
  path: string;
  /** Listen (`true`) or connect. @default false */
  server?: boolean;
  /** Only for servers: wait for a client before going on. */
  wait?: boolean;
  /** Only for clients: seconds between reconnect attempts (> 0). */
  reconnect?: number;
}

/** Build `chardev-add` arguments for a unix socket chardev. */
export function unixSocketChardev(c: UnixSocketChardevConfig): QmpArgs<'chardev-add'> {
  const data: Record<string, unknown> = {
    server: c.server ?? false,
    addr: { type: 'unix', data: { path: c.path } },
  };
  if (c.server === true && c.wait !== undefined) data.wait = c.wait;
  if (c.server !== true && c.reconnect !== undefined && c.reconnect > 0) data.reconnect = c.reconnect;
  return { id: c.id, backend: { type: 'socket', data } };
}

/** Options of {@link waitForMigration}. */
export interface WaitForMigrationOptions extends HelperOptions {
  /** Poll interval in ms. @default 50 */
  interval?: number;
}

/**
 * Poll `query-migrate` until the migration is `completed` (resolves with the final info) or
 * `failed`/`cancelled` (throws).
 * @throws {QmpError} `QMP_HOTPLUG_FAILED` on a failed migration; `QMP_TIMEOUT` when `timeout`
 *   (for the whole wait) passes; `QMP_ABORTED`.
 */
export async function waitForMigration(
  qmp: QmpClient,
  options: WaitForMigrationOptions = {},
): Promise<Record<string, unknown>> {
  const deadline = options.timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeout;
  for (;;) {
    const info = await qmp.execute(
      'query-migrate',
      undefined,
      options.signal ? { signal: options.signal } : {},
    );
    if (info.status === 'completed') return info;
    if (info.status === 'failed' || info.status === 'cancelled') {
      throw new QmpError(
        'QMP_HOTPLUG_FAILED',
        `migration ${info.status}: ${info['error-desc'] ?? 'no detail'}`,
      );
    }
    if (Date.now() > deadline) {
      throw new QmpError(
        'QMP_TIMEOUT',
        `migration still ${info.status ?? 'not started'} after ${options.timeout} ms`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(t);
        reject(
          new QmpError('QMP_ABORTED', 'waiting for migration: aborted', { cause: options.signal?.reason }),
        );
      };
      const t = setTimeout(() => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, options.interval ?? 50);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
