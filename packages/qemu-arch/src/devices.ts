/**
 * Device builders (Kata's `append*` methods): each returns @vmm/argv device configs for one sandbox.
 * An {@link ArchDevices} owns that sandbox's bridges and network counter; nothing is shared between two.
 */
import {
  ArgvError,
  type BlockDeviceConfig,
  type BridgeDeviceConfig,
  type CharDeviceConfig,
  type Device,
  type FsDeviceConfig,
  type IommuDeviceConfig,
  type MemoryBackendFileConfig,
  type NetDeviceConfig,
  type PcieRootPortConfig,
  type RngDeviceConfig,
  type ScsiControllerConfig,
  type SerialDeviceConfig,
  type VfioDeviceConfig,
  type VhostUserConfig,
  type VsockDeviceConfig,
  validateDevice,
} from '@vmm/argv';
import { PPC64LE_NVDIMM_IMAGE_UUID } from './arch/ppc64le.js';
import { BRIDGE_PCI_START_ADDR, BridgeAllocator } from './bridges.js';
import { QemuArchError } from './errors.js';
import { makeNameId, truncateId } from './ids.js';
import type { QemuArch } from './qemu-arch.js';

/** Options of {@link QemuArch.devices}. */
export interface ArchDevicesOptions {
  /** Bridges to place devices on: a count for new ones, or an existing allocator. @default 1 */
  bridges?: number | BridgeAllocator;
  /** Index of the next `network-<n>` id. @default 0 */
  networkIndex?: number;
}

/** A tap or macvtap endpoint (Kata's veth/macvtap/tuntap endpoints reduced to what QEMU needs). */
export interface NetworkEndpoint {
  /** @default 'tap' */
  type?: 'tap' | 'macvtap';
  /** Host interface name. */
  ifName: string;
  /** Guest MAC. @default QEMU picks one */
  macAddress?: string;
  /** Open tap queue fds (multiqueue when more than one). @default none */
  fds?: readonly number[];
  /** Open /dev/vhost-net fds, one per queue (used only when vhost-net is on). @default none */
  vhostFds?: readonly number[];
}

/** A vhost-user backend (Kata `VhostUserDeviceAttrs`). */
export interface VhostUserAttrs {
  type: 'net' | 'scsi' | 'blk' | 'fs';
  /** Kata `DevID`; ids become `char-<devId>`, `net-<devId>`, ... cut to 31 characters. */
  devId: string;
  /** Backend socket. */
  socketPath: string;
  /** net: guest MAC. */
  macAddress?: string;
  /** fs: mount tag. */
  tag?: string;
  /** fs: DAX window in MiB. @default none */
  cacheSize?: number;
}

/** A PCIe root port placed on the root bus. */
export interface RootPortPlacement {
  readonly id: string;
  /** Slot on `pcie.0`. */
  readonly slot: number;
}

/** A SCSI controller and the IO thread it uses, if any. */
export interface ScsiControllerResult {
  readonly device: ScsiControllerConfig;
  /** Add it to `ioThreads` of the config. */
  readonly ioThread: { readonly id: string } | undefined;
}

/** Highest usable slot on q35's `pcie.0` (0x1f holds the ICH9 functions). */
const Q35_LAST_FREE_SLOT = 0x1e;

/**
 * Builds one sandbox's devices for a {@link QemuArch}. Mutable (bridges, network counter); never shared.
 *
 * Every builder validates what it returns with @vmm/argv's schema: a value QEMU cannot take throws
 * `QEMU_ARCH_INVALID_OPTIONS` (the `ArgvError` is the `cause`). On s390x, builders that place a device
 * on the CCW bridge (console, block, image, SCSI controller, 9p, vsock, network, RNG) also throw the
 * allocator's `QEMU_ARCH_NO_BRIDGE`, `QEMU_ARCH_BRIDGE_FULL` and `QEMU_ARCH_DUPLICATE_DEVICE` (e.g. a
 * second console); an invalid device never takes a slot.
 */
export class ArchDevices {
  /** The architecture. */
  readonly arch: QemuArch;
  /** This sandbox's bridges. */
  readonly bridges: BridgeAllocator;
  #networkIndex: number;

  /**
   * Prefer {@link QemuArch.devices}.
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` for a bad bridge count or network index, or
   *   bridges of another type than the machine's.
   */
  constructor(arch: QemuArch, options: ArchDevicesOptions = {}) {
    this.arch = arch;
    const b = options.bridges;
    if (b instanceof BridgeAllocator) {
      for (const info of b.bridges) {
        if (info.type !== arch.bridgeType) {
          throw new QemuArchError(
            'QEMU_ARCH_INVALID_OPTIONS',
            `bridge ${info.id} is ${info.type}; ${arch.arch}/${arch.machineType} uses ${arch.bridgeType ?? 'no'} bridges`,
            { path: 'options.bridges' },
          );
        }
      }
      this.bridges = b;
    } else {
      this.bridges = arch.createBridges(b);
    }
    const n = options.networkIndex ?? 0;
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new QemuArchError(
        'QEMU_ARCH_INVALID_OPTIONS',
        `networkIndex must be a non-negative integer, got ${n}`,
        {
          path: 'options.networkIndex',
        },
      );
    }
    this.#networkIndex = n;
  }

  /** Index the next {@link ArchDevices.network} call will use. */
  get networkIndex(): number {
    return this.#networkIndex;
  }

  /** `disable-modern=true` when nested (PCI only; the property does not exist on CCW/MMIO). */
  #dm(): { disableModern?: true } {
    return this.arch.nestedRun && this.arch.transport === 'pci' ? { disableModern: true } : {};
  }

  /**
   * Validate `device` with @vmm/argv's schema, then (s390x) give it a devno from the CCW bridge under
   * `ccwId`, so an invalid device never takes a slot.
   */
  #place<T extends Device>(device: T, ccwId: string): T {
    check(device);
    if (this.arch.transport !== 'ccw') return Object.freeze(device);
    const placed = this.bridges.add(ccwId, 'ccw');
    return Object.freeze({ ...device, devno: placed.devno } as T);
  }

  #unsupported(what: string, path: string): never {
    throw new QemuArchError(
      'QEMU_ARCH_UNSUPPORTED',
      `${what} is not supported on ${this.arch.arch}/${this.arch.machineType}`,
      {
        path,
      },
    );
  }

  /**
   * The bridges as devices (Kata `appendBridges`): `pci-bridge` on the machine's bus at slot `2 + i`,
   * chassis `i + 1`, SHPC on. CCW bridges are not devices: `[]`.
   */
  bridgeDevices(): BridgeDeviceConfig[] {
    const bus = this.arch.bridgeBus;
    if (bus === null) return [];
    return this.bridges.bridges
      .filter((b) => b.type !== 'ccw')
      .map((b, i) =>
        check<BridgeDeviceConfig>({
          kind: 'bridge',
          bridgeType: b.type === 'pcie' ? 'pcie' : 'pci',
          bus,
          id: b.id,
          ...(b.type === 'pci' ? { chassis: i + 1, shpc: true } : {}),
          addr: String(b.addr),
        }),
      );
  }

  /**
   * Where {@link ArchDevices.pcieRootPorts} puts `count` ports: `rp<i>` on the slots right after the
   * highest bridge slot (Kata let QEMU pick; fixed slots make hotplug paths predictable).
   * @throws {QemuArchError} `QEMU_ARCH_UNSUPPORTED` off q35; `QEMU_ARCH_INVALID_OPTIONS` when the ports
   *   do not fit on `pcie.0` (slots up to 0x1e).
   */
  rootPortLayout(count: number): RootPortPlacement[] {
    if (!this.arch.capabilities.pcieRootPorts) this.#unsupported('PCIe root ports', 'count');
    const taken = this.bridges.bridges.filter((b) => b.type !== 'ccw').map((b) => b.addr);
    const first = Math.max(BRIDGE_PCI_START_ADDR - 1, ...taken) + 1;
    const max = Q35_LAST_FREE_SLOT - first + 1;
    if (!Number.isInteger(count) || count < 0 || count > max) {
      throw new QemuArchError(
        'QEMU_ARCH_INVALID_OPTIONS',
        `root port count must be an integer in 0..${max} (slots ${first}..${Q35_LAST_FREE_SLOT} of pcie.0), got ${count}`,
        { path: 'count' },
      );
    }
    return Array.from({ length: count }, (_, i) => Object.freeze({ id: `rp${i}`, slot: first + i }));
  }

  /**
   * `count` PCIe root ports on q35 (Kata `appendPCIeRootPortDevice`): `rp<i>`, bus `pcie.0`, chassis 0,
   * slot `i`, at the addresses {@link ArchDevices.rootPortLayout} gives.
   * @throws {QemuArchError} as {@link ArchDevices.rootPortLayout}.
   */
  pcieRootPorts(count: number): PcieRootPortConfig[] {
    return this.rootPortLayout(count).map((rp, i) =>
      check<PcieRootPortConfig>({
        kind: 'pcie-root-port',
        id: rp.id,
        bus: 'pcie.0',
        chassis: '0',
        slot: String(i),
        multifunction: false,
        addr: String(rp.slot),
      }),
    );
  }

  /**
   * The console (Kata `appendConsole`): virtio-serial controller `serial0` and a `virtconsole`
   * `console0` on a unix socket chardev `charconsole0` at `socketPath` (QEMU listens).
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` for a path QEMU cannot take.
   */
  console(socketPath: string): [SerialDeviceConfig, CharDeviceConfig] {
    const serial = this.#place<SerialDeviceConfig>(
      { kind: 'serial', id: 'serial0', ...this.#dm() },
      'serial0',
    );
    const console = check<CharDeviceConfig>({
      kind: 'char',
      backend: 'socket',
      driver: 'virtconsole',
      deviceId: 'console0',
      id: 'charconsole0',
      path: socketPath,
    });
    return [serial, console];
  }

  /**
   * A virtio-blk disk (Kata `appendBlockDevice`): aio threads, `if=none`, id cut to 31 characters.
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` for a bad id/path/format.
   */
  block(drive: {
    id: string;
    file: string;
    format?: string;
    readOnly?: boolean;
    shareRW?: boolean;
  }): BlockDeviceConfig {
    const id = truncateId(drive.id);
    return this.#place<BlockDeviceConfig>(
      {
        kind: 'block',
        driver: 'virtio-blk',
        id,
        file: drive.file,
        format: drive.format ?? 'raw',
        aio: 'threads',
        interface: 'none',
        ...(drive.readOnly === true ? { readOnly: true } : {}),
        ...(drive.shareRW === true ? { shareRW: true } : {}),
        ...this.#dm(),
      },
      id,
    );
  }

  /**
   * The guest image (Kata `appendImage`): an NVDIMM `nv0` backed by `mem0` (amd64/arm64 with DAX,
   * ppc64le without) or, on s390x, microvm or with `disableImageNvdimm`, a read-only shared raw
   * virtio-blk disk `image-<id>`. On ppc64le `pseries` the NVDIMM also gets the smallest label area QEMU
   * accepts (`labelSize` 128 KiB, the last 128 KiB of the file) and a `uuid`, and the size is checked
   * first with {@link checkNvdimmImageSize}.
   * @param image.sizeBytes - the file's size (the caller stats it; this package does no I/O).
   * @param image.id - @default 'rootfs'
   * @param image.uuid - NVDIMM UUID where the machine needs one (pseries). @default {@link PPC64LE_NVDIMM_IMAGE_UUID}
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` for a bad path, size or UUID; on pseries for a
   *   size whose part beyond the label is not a positive multiple of 256 MiB (`path` `image.sizeBytes`,
   *   the message gives sizes that work).
   */
  image(image: {
    path: string;
    sizeBytes: number;
    id?: string;
    uuid?: string;
  }): MemoryBackendFileConfig | BlockDeviceConfig {
    if (this.arch.imageAttachment === 'nvdimm') {
      checkNvdimmImageSize(this.arch, image.sizeBytes, 'image.sizeBytes');
      const layout = this.arch.machineRules.nvdimmLayout;
      return check<MemoryBackendFileConfig>({
        kind: 'memory-backend-file',
        driver: 'nvdimm',
        id: 'mem0',
        deviceId: 'nv0',
        memPath: image.path,
        size: image.sizeBytes,
        ...(layout === undefined ? {} : { labelSize: layout.labelSize }),
        ...(layout?.uuidRequired === true ? { uuid: image.uuid ?? PPC64LE_NVDIMM_IMAGE_UUID } : {}),
      });
    }
    return this.block({
      id: makeNameId('image', image.id ?? 'rootfs'),
      file: image.path,
      readOnly: true,
      shareRW: true,
    });
  }

  /**
   * The virtio-scsi controller `scsi0` (Kata `appendSCSIController`), with an IO thread when asked.
   * @param options.ioThread - `true` for `iothread-scsi0`, or an id. @default false
   */
  scsiController(options: { ioThread?: boolean | string } = {}): ScsiControllerResult {
    const t = options.ioThread;
    const ioThread =
      t === undefined || t === false ? undefined : Object.freeze({ id: t === true ? 'iothread-scsi0' : t });
    const device = this.#place<ScsiControllerConfig>(
      {
        kind: 'scsi-controller',
        id: 'scsi0',
        ...(ioThread === undefined ? {} : { ioThread: ioThread.id }),
        ...this.#dm(),
      },
      'scsi0',
    );
    return Object.freeze({ device, ioThread });
  }

  /**
   * A 9p export (Kata `append9PVolume`): `local`, security model `none`, `multidevs=remap` (not on
   * arm64), id `extra-9p-<tag>` cut to 31 characters.
   */
  volume9p(volume: { mountTag: string; hostPath: string }): FsDeviceConfig {
    const id = truncateId(`extra-9p-${volume.mountTag}`);
    const multidevs = this.arch.rules.ninePMultidevs;
    return this.#place<FsDeviceConfig>(
      {
        kind: 'fs',
        fsDriver: 'local',
        id,
        path: volume.hostPath,
        mountTag: volume.mountTag,
        securityModel: 'none',
        ...(multidevs === undefined ? {} : { multidevs }),
        ...this.#dm(),
      },
      id,
    );
  }

  /** A `virtserialport` on a unix socket (Kata `appendSocket`), chardev id cut to 31 characters. */
  socket(socket: { deviceId: string; id: string; hostPath: string; name: string }): CharDeviceConfig {
    return check<CharDeviceConfig>({
      kind: 'char',
      backend: 'socket',
      driver: 'virtserialport',
      deviceId: socket.deviceId,
      id: truncateId(socket.id),
      path: socket.hostPath,
      name: socket.name,
    });
  }

  /** vhost-vsock `vsock-<cid>` (Kata `appendVSock`); on s390x it also gets a devno. */
  vsock(vsock: { contextId: number; vhostFd?: number }): VsockDeviceConfig {
    const id = `vsock-${vsock.contextId}`;
    return this.#place<VsockDeviceConfig>(
      {
        kind: 'vsock',
        id,
        contextId: vsock.contextId,
        ...(vsock.vhostFd === undefined ? {} : { vhostFd: vsock.vhostFd }),
        ...this.#dm(),
      },
      id,
    );
  }

  /**
   * A virtio-net device on a tap/macvtap endpoint (Kata `appendNetwork`): id `network-<n>` from this
   * builder's counter, scripts `no` (only without fds), vhost-net per the arch. The counter advances
   * only when the device is valid.
   */
  network(endpoint: NetworkEndpoint): NetDeviceConfig {
    const id = `network-${this.#networkIndex}`;
    const fds = endpoint.fds ?? [];
    const vhost = this.arch.vhostNet;
    const device = this.#place<NetDeviceConfig>(
      {
        kind: 'net',
        type: endpoint.type ?? 'tap',
        id,
        ifName: endpoint.ifName,
        ...(endpoint.macAddress === undefined ? {} : { macAddress: endpoint.macAddress }),
        ...(fds.length > 0 ? { fds: [...fds] } : { downScript: 'no', script: 'no' }),
        ...(vhost ? { vhost: true } : {}),
        ...(vhost && (endpoint.vhostFds?.length ?? 0) > 0
          ? { vhostFds: [...(endpoint.vhostFds ?? [])] }
          : {}),
        ...this.#dm(),
      },
      id,
    );
    this.#networkIndex += 1;
    return device;
  }

  /**
   * A vhost-user device (Kata `appendVhostUserDevice`): chardev `char-<devId>`, and `net-`/`scsi-`/`fs-`
   * ids, each cut to 31 characters.
   * @throws {QemuArchError} `QEMU_ARCH_UNSUPPORTED` on s390x; `QEMU_ARCH_INVALID_OPTIONS` when a net
   *   device has no MAC or an fs device no tag.
   */
  vhostUser(attrs: VhostUserAttrs): VhostUserConfig {
    if (!this.arch.capabilities.vhostUser) this.#unsupported('vhost-user', 'type');
    const common = { socketPath: attrs.socketPath, charDevId: makeNameId('char', attrs.devId) };
    switch (attrs.type) {
      case 'net':
        if (attrs.macAddress === undefined) throw invalid('vhost-user net needs macAddress', 'macAddress');
        return check<VhostUserConfig>({
          kind: 'vhost-user-net',
          ...common,
          typeDevId: makeNameId('net', attrs.devId),
          address: attrs.macAddress,
        });
      case 'scsi':
        return check<VhostUserConfig>({
          kind: 'vhost-user-scsi',
          ...common,
          typeDevId: makeNameId('scsi', attrs.devId),
        });
      case 'blk':
        return check<VhostUserConfig>({ kind: 'vhost-user-blk', ...common });
      case 'fs':
        if (attrs.tag === undefined) throw invalid('vhost-user fs needs tag', 'tag');
        return check<VhostUserConfig>({
          kind: 'vhost-user-fs',
          ...common,
          tag: attrs.tag,
          ...(attrs.cacheSize === undefined ? {} : { cacheSize: attrs.cacheSize }),
        });
      default:
        throw invalid(`unknown vhost-user type ${JSON.stringify((attrs as { type: unknown }).type)}`, 'type');
    }
  }

  /**
   * A VFIO PCI device (Kata `appendVFIODevice`).
   * @throws {QemuArchError} `QEMU_ARCH_UNSUPPORTED` on s390x (no PCI BDF passthrough there).
   */
  vfio(dev: { bdf: string; vendorId?: string; deviceId?: string; bus?: string }): VfioDeviceConfig {
    if (this.arch.transport === 'ccw') this.#unsupported('VFIO by PCI address', 'bdf');
    return check<VfioDeviceConfig>({
      kind: 'vfio',
      bdf: dev.bdf,
      ...(dev.vendorId === undefined ? {} : { vendorId: dev.vendorId }),
      ...(dev.deviceId === undefined ? {} : { deviceId: dev.deviceId }),
      ...(dev.bus === undefined ? {} : { bus: dev.bus }),
    });
  }

  /**
   * virtio-rng (Kata `appendRNGDevice`); on s390x it also gets a devno.
   * @param rng.id - @default 'rng0'
   */
  rng(rng: { id?: string; filename?: string } = {}): RngDeviceConfig {
    const id = rng.id ?? 'rng0';
    return this.#place<RngDeviceConfig>(
      { kind: 'rng', id, ...(rng.filename === undefined ? {} : { filename: rng.filename }), ...this.#dm() },
      id,
    );
  }

  /**
   * The vIOMMU (Kata `appendIOMMU`): intel-iommu with interrupt remapping, device IOTLB and caching mode.
   * @throws {QemuArchError} `QEMU_ARCH_UNSUPPORTED` unless the arch was created with `iommu: true` (q35).
   */
  iommu(): IommuDeviceConfig {
    if (!this.arch.iommu) {
      if (!this.arch.capabilities.iommu) this.#unsupported('a vIOMMU', 'iommu');
      throw new QemuArchError(
        'QEMU_ARCH_UNSUPPORTED',
        'create the arch with iommu: true (it needs kernel_irqchip=split)',
        {
          path: 'options.iommu',
        },
      );
    }
    return check<IommuDeviceConfig>({ kind: 'iommu', intremap: true, deviceIotlb: true, cachingMode: true });
  }
}

/**
 * Check an NVDIMM image size against the machine's NVDIMM layout rules before QEMU sees it. On ppc64
 * `pseries` QEMU refuses an NVDIMM whose size minus its label area (128 KiB) is not a positive multiple
 * of 256 MiB (`PAPR requires NVDIMM memory size (excluding label) to be a multiple of 256MB`), so a
 * valid image is `n * 256 MiB + 128 KiB` bytes. No-op when the image is not an NVDIMM, the machine has
 * no such rules, or the size is not a positive integer (the device schema refuses that itself).
 * @param path - field named in the error. @default 'image.sizeBytes'
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` naming `path`, with the sizes that would work.
 */
export function checkNvdimmImageSize(arch: QemuArch, sizeBytes: number, path = 'image.sizeBytes'): void {
  const layout = arch.machineRules.nvdimmLayout;
  if (arch.imageAttachment !== 'nvdimm' || layout === undefined) return;
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) return;
  const { labelSize, sizeAlignment } = layout;
  const data = sizeBytes - labelSize;
  if (data > 0 && data % sizeAlignment === 0) return;
  const blocksUp = Math.max(1, Math.ceil(data / sizeAlignment));
  const blocksDown = Math.floor(data / sizeAlignment);
  const fits = (blocks: number) =>
    `${blocks * sizeAlignment + labelSize} (${blocks} x ${mib(sizeAlignment)} + ${kib(labelSize)} label)`;
  const works =
    blocksDown >= 1 && blocksDown !== blocksUp ? `${fits(blocksDown)} or ${fits(blocksUp)}` : fits(blocksUp);
  throw invalid(
    `${path}: ${sizeBytes} bytes cannot back a ${arch.arch}/${arch.machineType} NVDIMM image: QEMU needs the size ` +
      `minus the ${labelSize}-byte label area to be a positive multiple of ${sizeAlignment} (${mib(sizeAlignment)}); ` +
      `a size that works: ${works}`,
    path,
  );
}

const mib = (n: number): string => `${n / (1024 * 1024)} MiB`;
const kib = (n: number): string => `${n / 1024} KiB`;

function invalid(message: string, path: string): QemuArchError {
  return new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', message, { path });
}

/** Validate a built device with @vmm/argv's schema; an {@link ArgvError} becomes the `cause`. */
function check<T extends Device>(device: T): T {
  try {
    validateDevice(device);
  } catch (e) {
    if (ArgvError.is(e)) {
      throw new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', `${device.kind}: ${e.message}`, {
        path: e.path,
        cause: e,
      });
    }
    throw e;
  }
  return Object.freeze(device);
}
