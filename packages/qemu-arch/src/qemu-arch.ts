/**
 * `createQemuArch`: one architecture + machine + options, resolved into an immutable description.
 * Replaces Kata's `newQemuArch`, without its package-level mutable state.
 */
import type { MachineConfig } from '@vmm/argv';
import { ARCH_RULES } from './arch/index.js';
import type {
  Accelerator,
  ArchName,
  ArchRules,
  ArchTransport,
  GicVersion,
  MachineRules,
} from './arch/rules.js';
import { BridgeAllocator, type BridgeType, createBridgeAllocator } from './bridges.js';
import { ArchDevices, type ArchDevicesOptions } from './devices.js';
import { QemuArchError } from './errors.js';
import {
  KERNEL_PARAMS_DEBUG,
  KERNEL_PARAMS_NON_DEBUG,
  KERNEL_PARAMS_SYSTEMD_DEBUG,
  KERNEL_PARAMS_SYSTEMD_NON_DEBUG,
  KERNEL_ROOT_NVDIMM_DAX,
  KERNEL_ROOT_NVDIMM_NO_DAX,
  KERNEL_ROOT_VIRTIO_BLK,
  type KernelParam,
  serializeKernelParams,
} from './kernel-params.js';
import { parseQemuArchOptions, type QemuArchOptions } from './options.js';
import { type CpuTopology, cpuTopology, type MemoryTopology } from './topology.js';

/** What a machine can do (Kata `types.Capabilities`, plus what vmm's callers also need to know). */
export interface QemuArchCapabilities {
  /** Block devices can be hotplugged. */
  readonly blockDeviceHotplug: boolean;
  /** virtio-net multiqueue. */
  readonly multiQueue: boolean;
  /** Host directories can be shared (9p, virtio-fs). */
  readonly fsSharing: boolean;
  /** Memory can be hotplugged. */
  readonly memoryHotplug: boolean;
  /** vhost-user devices work. */
  readonly vhostUser: boolean;
  /** A vIOMMU can be added. */
  readonly iommu: boolean;
  /** PCIe root ports can be added. */
  readonly pcieRootPorts: boolean;
  /** The guest image can be an NVDIMM. */
  readonly nvdimmImage: boolean;
  /** Migration can skip shared memory (`x-ignore-shared`, for VM templates). */
  readonly ignoreSharedMigration: boolean;
}

/** How the guest image is attached: NVDIMM (`/dev/pmem0`) or a virtio-blk disk (`/dev/vda`). */
export type ImageAttachment = 'nvdimm' | 'virtio-blk';

/** An architecture + machine, resolved. Frozen; every method is pure. */
export interface QemuArch {
  /** Architecture. */
  readonly arch: ArchName;
  /** Machine type, as given (`q35` or a versioned `pc-q35-7.2`). */
  readonly machineType: string;
  /** The machine's unversioned alias (`q35` for `pc-q35-7.2`), which the rules are keyed by. */
  readonly machineFamily: string;
  /** `-machine` for @vmm/argv. */
  readonly machine: Readonly<MachineConfig>;
  /** Accelerator. */
  readonly accel: Accelerator;
  /** QEMU binary to run. */
  readonly qemuPath: string;
  /** vCPU ceiling of this architecture (arm64: of its GIC). */
  readonly maxVcpus: number;
  /** `-cpu` (model, then features). */
  readonly cpuModel: string;
  /** arm64: the GIC version in use; otherwise `undefined`. */
  readonly gicVersion: GicVersion | undefined;
  /** Running nested with checks on: PCI virtio devices get `disable-modern=true` (Kata `nestedRun`). */
  readonly nestedRun: boolean;
  /** tap devices use in-kernel vhost-net. */
  readonly vhostNet: boolean;
  /** Transport of virtio devices. */
  readonly transport: ArchTransport;
  /** Type of hotplug bridges, `null` when the machine has none (microvm). */
  readonly bridgeType: BridgeType | null;
  /** Bus of the bridges, `null` when they are not devices (CCW) or absent. */
  readonly bridgeBus: string | null;
  /** How an image is attached (`nvdimm` unless the arch, machine or options rule it out). */
  readonly imageAttachment: ImageAttachment;
  /** A vIOMMU is configured. */
  readonly iommu: boolean;
  /** What the machine can do. */
  readonly capabilities: QemuArchCapabilities;
  /** The machine's rules. */
  readonly machineRules: MachineRules;
  /** The architecture's rules. */
  readonly rules: ArchRules;
  /** The options this was made from (validated, frozen). */
  readonly options: Readonly<QemuArchOptions>;
  /**
   * Kernel parameters: the arch's, IOMMU ones (amd64), root ones (with an image), then `quiet` or
   * `debug` (+ systemd ones with an image). A new frozen array per call.
   * @param debug - @default false
   */
  kernelParams(debug?: boolean): readonly KernelParam[];
  /** {@link QemuArch.kernelParams} serialized as one command line. @param debug - @default false */
  kernelCommandLine(debug?: boolean): string;
  /**
   * Check the `-pflash` images for this machine (Kata `getPFlash`: arm64 takes none or two).
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` for another count on arm64.
   */
  pflash(images: readonly string[]): string[];
  /**
   * Kata's `cpuTopology`. @param maxVcpus - @default {@link QemuArch.maxVcpus}
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_TOPOLOGY`
   */
  cpuTopology(vcpus: number, maxVcpus?: number): CpuTopology;
  /**
   * This architecture's `memoryTopology`, with the instance's `memOffsetMiB` and `qemuVersion`.
   * @param slots - hotplug slots. @default 10 (Kata's `defaultMemSlots`)
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_MEMORY`
   */
  memoryTopology(memMiB: number, hostMemMiB: number, slots?: number): MemoryTopology;
  /**
   * New bridges for one sandbox (Kata `bridges(number)`): none on machines without bridges.
   * @param count - @default 1 (Kata's `DefaultBridges`)
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` for a count out of range.
   */
  createBridges(count?: number): BridgeAllocator;
  /**
   * Re-create a sandbox's bridges from saved state; the types must match this machine.
   * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS`
   */
  restoreBridges(state: unknown): BridgeAllocator;
  /**
   * A device builder for one sandbox: owns its bridges and network counter.
   * @throws {QemuArchError} as {@link QemuArch.createBridges}.
   */
  devices(options?: ArchDevicesOptions): ArchDevices;
}

/** Kata's `defaultMemSlots`. */
export const DEFAULT_MEM_SLOTS = 10;

/** Kata's `DefaultBridges`. */
export const DEFAULT_BRIDGES = 1;

/**
 * Resolve an architecture, machine and options into a frozen {@link QemuArch}. Pure: the host is never
 * looked at (pass `nested` from `@vmm/hostinfo`), and two instances share nothing mutable.
 *
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` (bad option, named by `path`),
 *   `QEMU_ARCH_UNKNOWN_MACHINE`, `QEMU_ARCH_UNSUPPORTED` (vIOMMU off q35, `gic-version=host` under TCG).
 */
export function createQemuArch(options: QemuArchOptions): QemuArch {
  const o = parseQemuArchOptions(options);
  const rules = ARCH_RULES[o.arch];
  const machineType = o.machineType ?? rules.defaultMachine;
  const m = rules.machines.find(
    (x) =>
      x.type === machineType ||
      (x.versionedPrefix !== null &&
        machineType.startsWith(x.versionedPrefix) &&
        /^\d+\.\d+$/.test(machineType.slice(x.versionedPrefix.length))),
  );
  if (m === undefined) {
    throw new QemuArchError(
      'QEMU_ARCH_UNKNOWN_MACHINE',
      `unknown machine type ${JSON.stringify(machineType)} for ${o.arch}; known: ${rules.machines
        .map((x) => (x.versionedPrefix === null ? x.type : `${x.type} (${x.versionedPrefix}X.Y)`))
        .join(', ')}`,
      { path: 'options.machineType' },
    );
  }
  const accel = o.accel ?? 'kvm';
  const iommu = o.iommu === true;
  if (iommu && !m.iommu) {
    throw new QemuArchError(
      'QEMU_ARCH_UNSUPPORTED',
      `machine ${o.arch}/${machineType} does not support a vIOMMU (q35 only)`,
      {
        path: 'options.iommu',
      },
    );
  }
  if (o.gicVersion !== undefined && o.arch !== 'arm64') {
    throw new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', `gicVersion applies to arm64 only, not ${o.arch}`, {
      path: 'options.gicVersion',
    });
  }
  const gic: GicVersion = o.gicVersion ?? (accel === 'kvm' ? 'host' : '3');
  if (gic === 'host' && accel !== 'kvm') {
    throw new QemuArchError(
      'QEMU_ARCH_UNSUPPORTED',
      'gic-version=host needs KVM; choose 2, 3, 4 or max with TCG',
      {
        path: 'options.gicVersion',
      },
    );
  }

  const image = o.image === true;
  const nvdimmImage = m.nvdimm && rules.imageRoot !== 'virtio-blk' && o.disableImageNvdimm !== true;
  const machineOptions = rules.machineOptions({ machine: m, iommu, gicVersion: gic });
  if (image && nvdimmImage) machineOptions.push('nvdimm=on');
  if (o.machineAccelerators !== undefined) {
    const extra = o.machineAccelerators.replace(/^,+/, '');
    if (extra !== '') machineOptions.push(extra);
  }
  const machine: MachineConfig = Object.freeze({
    type: machineType,
    acceleration: accel,
    ...(machineOptions.length > 0 ? { options: machineOptions.join(',') } : {}),
  });

  let cpuModel = o.cpuModel ?? 'host';
  if (o.arch === 'amd64' && o.vmTemplate === true) cpuModel += ',vmx=off';
  if (o.cpuFeatures !== undefined) cpuModel += `,${o.cpuFeatures}`;

  const rootParams = !image
    ? []
    : !nvdimmImage
      ? KERNEL_ROOT_VIRTIO_BLK
      : rules.imageRoot === 'nvdimm-dax'
        ? KERNEL_ROOT_NVDIMM_DAX
        : KERNEL_ROOT_NVDIMM_NO_DAX;
  const archParams = [
    ...rules.kernelParams,
    ...(iommu ? rules.iommuKernelParams.on : rules.iommuKernelParams.off),
    ...rootParams,
  ];
  const kernelParams = (debug = false): readonly KernelParam[] =>
    Object.freeze([
      ...archParams,
      ...(debug ? KERNEL_PARAMS_DEBUG : KERNEL_PARAMS_NON_DEBUG),
      ...(image ? (debug ? KERNEL_PARAMS_SYSTEMD_DEBUG : KERNEL_PARAMS_SYSTEMD_NON_DEBUG) : []),
    ]);

  const maxVcpus = rules.maxVcpus(gic);
  const bridgeType = m.bridgeType;
  const createBridges = (count: number = DEFAULT_BRIDGES): BridgeAllocator =>
    bridgeType === null ? BridgeAllocator.create([]) : createBridgeAllocator(bridgeType, count);

  const arch: QemuArch = Object.freeze({
    arch: o.arch,
    machineType,
    machineFamily: m.type,
    machine,
    accel,
    qemuPath: o.qemuPath ?? m.qemuPath,
    maxVcpus,
    cpuModel,
    gicVersion: o.arch === 'arm64' ? gic : undefined,
    nestedRun: o.nested === true && o.disableNestingChecks !== true,
    vhostNet: rules.vhostNet && o.disableVhostNet !== true,
    transport: m.transport,
    bridgeType,
    bridgeBus: m.bridgeBus,
    imageAttachment: nvdimmImage ? 'nvdimm' : 'virtio-blk',
    iommu,
    capabilities: Object.freeze({
      blockDeviceHotplug: m.blockDeviceHotplug,
      multiQueue: true,
      fsSharing: true,
      memoryHotplug: m.memoryHotplug,
      vhostUser: rules.vhostUser,
      iommu: m.iommu,
      pcieRootPorts: m.pcieRootPorts,
      nvdimmImage,
      ignoreSharedMigration: rules.ignoreSharedMigration,
    }),
    machineRules: m,
    rules,
    options: Object.freeze({
      ...o,
      ...(o.qemuVersion ? { qemuVersion: Object.freeze({ ...o.qemuVersion }) } : {}),
    }),
    kernelParams,
    pflash(images: readonly string[]): string[] {
      const allowed = rules.pflashCounts;
      if (allowed !== null && !allowed.includes(images.length)) {
        throw new QemuArchError(
          'QEMU_ARCH_INVALID_OPTIONS',
          `${o.arch} takes ${allowed.join(' or ')} pflash images, got ${images.length}`,
          { path: 'pflash' },
        );
      }
      return [...images];
    },
    kernelCommandLine: (debug = false) => serializeKernelParams(kernelParams(debug)),
    cpuTopology: (vcpus: number, max: number = maxVcpus) => cpuTopology(vcpus, max, maxVcpus),
    memoryTopology: (memMiB: number, hostMemMiB: number, slots: number = DEFAULT_MEM_SLOTS) =>
      rules.memoryTopology(memMiB, hostMemMiB, slots, o.memOffsetMiB ?? 0, o.qemuVersion),
    createBridges,
    restoreBridges(state: unknown): BridgeAllocator {
      const alloc = BridgeAllocator.fromState(state);
      for (const [i, b] of alloc.bridges.entries()) {
        if (b.type !== bridgeType) {
          throw new QemuArchError(
            'QEMU_ARCH_INVALID_OPTIONS',
            `saved bridge ${b.id} is ${b.type}; ${o.arch}/${machineType} uses ${bridgeType ?? 'no'} bridges`,
            { path: `state[${i}].type` },
          );
        }
      }
      return alloc;
    },
    devices: (devOptions?: ArchDevicesOptions) => new ArchDevices(arch, devOptions),
  });
  return arch;
}
