/**
 * `composeSandboxConfig`: the base `QemuConfig` Kata's `createSandbox` builds from an arch (machine,
 * CPU, topology, memory, bridges, root ports, console, image, vIOMMU, SCSI controller, RNG).
 */
import type { Device, KernelConfig, QemuConfig } from '@vmm/argv';
import type { BridgeInfo } from './bridges.js';
import { type ArchDevices, checkNvdimmImageSize, type RootPortPlacement } from './devices.js';
import type { QemuArch } from './qemu-arch.js';

/** What goes into a base sandbox config. */
export interface ComposeOptions {
  /** vCPUs at boot. */
  vcpus: number;
  /** vCPU ceiling. @default the arch's `maxVcpus` */
  maxVcpus?: number;
  /** Boot memory (MiB). */
  memMiB: number;
  /** Host memory (MiB), from `@vmm/hostinfo`; sets the hotplug ceiling. */
  hostMemMiB: number;
  /** Memory hotplug slots; 0 leaves `slots=` out. @default 10 */
  memSlots?: number;
  /** Unix socket QEMU listens on for the guest console. */
  consolePath: string;
  /** Builder (bridges, counters) to use. @default `arch.devices({ bridges })` */
  devices?: ArchDevices;
  /** Bridges when `devices` is not given. @default 1 */
  bridges?: number;
  /** PCIe root ports (q35 only). @default 0 */
  pcieRootPorts?: number;
  /** virtio-scsi controller `scsi0` (Kata's default block driver); `{ ioThread: true }` adds an IO thread. @default true */
  scsi?: boolean | { ioThread?: boolean | string };
  /**
   * Guest image (the caller gives its size; this package does no I/O). On ppc64le `pseries` (NVDIMM)
   * the size must be `n * 256 MiB + 128 KiB` (see `checkNvdimmImageSize`); `uuid` is the NVDIMM's UUID
   * there. @default none
   */
  image?: { path: string; sizeBytes: number; uuid?: string };
  /** virtio-rng `rng0`. @default none */
  rng?: { filename?: string };
  /** Add the vIOMMU when the arch has one configured. @default true */
  iommu?: boolean;
  /** `-name`. @default none */
  name?: string;
  /** `-uuid`. @default none */
  uuid?: string;
  /** Direct kernel boot; `params` defaults to the arch's kernel command line. @default none */
  kernel?: { path: string; initrdPath?: string; params?: string; debug?: boolean };
}

/** A composed sandbox: the config and where things were put. */
export interface ComposedSandbox {
  /** The `QemuConfig` for @vmm/argv's `encodeQemuArgv`. */
  readonly config: QemuConfig;
  /** The builder used (its bridges keep the slots taken so far, for hotplug). */
  readonly devices: ArchDevices;
  /** Bridges, with their root-bus slots (PCI) or subchannel sets (CCW). */
  readonly bridges: readonly BridgeInfo[];
  /** PCIe root ports and their slots on `pcie.0`. */
  readonly rootPorts: readonly RootPortPlacement[];
}

/**
 * Build the base config of a sandbox for `arch`, in Kata's device order, except that PCIe root ports
 * come right after the bridges (both at fixed slots, before any device QEMU places itself).
 *
 * @throws {QemuArchError} from the topology, memory and device rules (`QEMU_ARCH_INVALID_TOPOLOGY`,
 *   `QEMU_ARCH_INVALID_MEMORY`, `QEMU_ARCH_UNSUPPORTED`, `QEMU_ARCH_INVALID_OPTIONS`, ...); before
 *   anything else, `QEMU_ARCH_INVALID_OPTIONS` with path `options.image.sizeBytes` for an NVDIMM image
 *   size QEMU would refuse (ppc64le `pseries`), the message giving sizes that work.
 */
export function composeSandboxConfig(arch: QemuArch, options: ComposeOptions): ComposedSandbox {
  if (options.image !== undefined) {
    checkNvdimmImageSize(options.devices?.arch ?? arch, options.image.sizeBytes, 'options.image.sizeBytes');
  }
  const smp = arch.cpuTopology(options.vcpus, options.maxVcpus);
  const mem = arch.memoryTopology(options.memMiB, options.hostMemMiB, options.memSlots);
  const devices = options.devices ?? arch.devices({ bridges: options.bridges ?? 1 });
  const list: Device[] = [];
  const rootPortCount = options.pcieRootPorts ?? 0;

  list.push(...devices.bridgeDevices());
  const rootPorts = rootPortCount > 0 ? devices.rootPortLayout(rootPortCount) : [];
  if (rootPortCount > 0) list.push(...devices.pcieRootPorts(rootPortCount));
  list.push(...devices.console(options.consolePath));
  if (options.image !== undefined) list.push(devices.image(options.image));
  if (arch.iommu && options.iommu !== false) list.push(devices.iommu());
  const scsi = options.scsi ?? true;
  let ioThreads: { id: string }[] = [];
  if (scsi !== false) {
    const r = devices.scsiController(scsi === true ? {} : scsi);
    list.push(r.device);
    if (r.ioThread !== undefined) ioThreads = [{ id: r.ioThread.id }];
  }
  if (options.rng !== undefined) list.push(devices.rng(options.rng));

  const kernel: KernelConfig | undefined =
    options.kernel === undefined
      ? undefined
      : {
          path: options.kernel.path,
          ...(options.kernel.initrdPath === undefined ? {} : { initrdPath: options.kernel.initrdPath }),
          params: options.kernel.params ?? arch.kernelCommandLine(options.kernel.debug ?? false),
        };

  const config: QemuConfig = {
    arch: arch.arch,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.uuid === undefined ? {} : { uuid: options.uuid }),
    machine: { ...arch.machine },
    cpuModel: arch.cpuModel,
    memory: { size: mem.size, ...(mem.slots > 0 ? { slots: mem.slots } : {}), maxMem: mem.maxMem },
    devices: list,
    ...(kernel === undefined ? {} : { kernel }),
    ...(ioThreads.length > 0 ? { ioThreads } : {}),
    smp: {
      cpus: smp.cpus,
      sockets: smp.sockets,
      cores: smp.cores,
      threads: smp.threads,
      maxCpus: smp.maxCpus,
    },
  };
  return Object.freeze({
    config,
    devices,
    bridges: devices.bridges.bridges,
    rootPorts: Object.freeze(rootPorts),
  });
}
