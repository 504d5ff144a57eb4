/**
 * The shape of one architecture's rules. Each `src/arch/<arch>.ts` exports one frozen
 * {@link ArchRules}; nothing in them changes after module load.
 */
import type { BridgeType } from '../bridges.js';
import type { KernelParam } from '../kernel-params.js';
import type { MemoryTopology, QemuVersionInfo } from '../topology.js';

/** Architectures (Go's GOARCH names, as Kata uses them). */
export const ARCH_NAMES = ['amd64', 'arm64', 'ppc64le', 's390x'] as const;
/** One of {@link ARCH_NAMES}. */
export type ArchName = (typeof ARCH_NAMES)[number];

/** Accelerators a machine can be created with. */
export const ACCELERATORS = ['kvm', 'tcg'] as const;
/** One of {@link ACCELERATORS}. */
export type Accelerator = (typeof ACCELERATORS)[number];

/** arm64 `gic-version` values. */
export const GIC_VERSIONS = ['host', 'max', '2', '3', '4'] as const;
/** One of {@link GIC_VERSIONS}. */
export type GicVersion = (typeof GIC_VERSIONS)[number];

/** Virtio transport a machine's devices use. */
export type ArchTransport = 'pci' | 'ccw' | 'mmio';

/** How the guest image is attached. */
export type ImageRoot = 'nvdimm-dax' | 'nvdimm' | 'virtio-blk';

/** What one machine type can do. */
export interface MachineRules {
  /** QEMU machine type (`-machine TYPE`), the unversioned alias. */
  readonly type: string;
  /**
   * Prefix of the versioned types of this machine (`pc-q35-` for `pc-q35-7.2`), which pin the guest ABI
   * (needed across QEMU upgrades and for migration); `null` when QEMU has none.
   */
  readonly versionedPrefix: string | null;
  /** QEMU binary Kata runs for it. */
  readonly qemuPath: string;
  /** Type of the hotplug bridges, `null` when the machine has none. */
  readonly bridgeType: BridgeType | null;
  /** Bus the bridges sit on (`pci.0`, `pcie.0`), `null` when not emitted as devices. */
  readonly bridgeBus: string | null;
  /** Transport of virtio devices. */
  readonly transport: ArchTransport;
  /** Block devices can be hotplugged. */
  readonly blockDeviceHotplug: boolean;
  /** Memory can be hotplugged (pc-dimm). */
  readonly memoryHotplug: boolean;
  /** The machine can back the guest image with an NVDIMM (`nvdimm=on`). */
  readonly nvdimm: boolean;
  /** A virtual IOMMU (intel-iommu) can be added. */
  readonly iommu: boolean;
  /** PCIe root ports can be added on `pcie.0`. */
  readonly pcieRootPorts: boolean;
  /**
   * What QEMU demands of an NVDIMM image on this machine beyond a size (ppc64 `pseries`: a label area,
   * an aligned size and a UUID). Absent: no label area, any size.
   */
  readonly nvdimmLayout?: NvdimmLayoutRules;
}

/** QEMU's requirements for an NVDIMM on a machine that needs a label area (ppc64 `pseries`). */
export interface NvdimmLayoutRules {
  /** `label-size=` written on the device (bytes): the smallest QEMU accepts. */
  readonly labelSize: number;
  /** `size - labelSize` must be a positive multiple of this (bytes). */
  readonly sizeAlignment: number;
  /** The NVDIMM needs a non-zero `uuid=`. */
  readonly uuidRequired: boolean;
}

/** Inputs the machine option string depends on. */
export interface MachineOptionInputs {
  readonly machine: MachineRules;
  readonly iommu: boolean;
  readonly gicVersion: GicVersion;
}

/** One architecture's rules: pure data and pure functions. */
export interface ArchRules {
  readonly arch: ArchName;
  /** Machine used when none is named. */
  readonly defaultMachine: string;
  /** Machines this architecture knows. */
  readonly machines: readonly MachineRules[];
  /** Base kernel parameters (before IOMMU, root and debug parameters). */
  readonly kernelParams: readonly KernelParam[];
  /** Extra kernel parameters with (`on`) and without (`off`) a vIOMMU. */
  readonly iommuKernelParams: { readonly on: readonly KernelParam[]; readonly off: readonly KernelParam[] };
  /** How the image is attached when NVDIMM is allowed. */
  readonly imageRoot: ImageRoot;
  /** vhost-user devices are supported. */
  readonly vhostUser: boolean;
  /** In-kernel vhost-net is used for tap devices (when not disabled). */
  readonly vhostNet: boolean;
  /** 9p `multidevs=` value (`remap`), or `undefined` to leave it out (arm64). */
  readonly ninePMultidevs: 'remap' | undefined;
  /** Numbers of `-pflash` images the machine takes (arm64: none or two), `null` for any. */
  readonly pflashCounts: readonly number[] | null;
  /** Migration with the `x-ignore-shared` capability works (VM templates); not on arm64. */
  readonly ignoreSharedMigration: boolean;
  /** How long Kata waits for a migration to complete (ms). */
  readonly migrationWaitTimeoutMs: number;
  /** The machine options besides `accel=` (which argv writes), `nvdimm=on` and user extras. */
  machineOptions(inputs: MachineOptionInputs): string[];
  /** vCPU ceiling. */
  maxVcpus(gicVersion: GicVersion): number;
  /** `-m` for this architecture. */
  memoryTopology(
    memMiB: number,
    hostMemMiB: number,
    slots: number,
    offsetMiB: number,
    qemuVersion: QemuVersionInfo | undefined,
  ): MemoryTopology;
}

/** Freeze an {@link ArchRules} and its tables. */
export function defineArch(rules: ArchRules): ArchRules {
  for (const m of rules.machines) {
    if (m.nvdimmLayout !== undefined) Object.freeze(m.nvdimmLayout);
    Object.freeze(m);
  }
  Object.freeze(rules.machines);
  Object.freeze(rules.iommuKernelParams);
  if (rules.pflashCounts !== null) Object.freeze(rules.pflashCounts);
  return Object.freeze(rules);
}
