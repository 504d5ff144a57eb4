/**
 * Compose the QEMU command line of a sandbox: Kata's `createSandbox` on top of @vmm/qemu-arch and
 * @vmm/argv. Pure, given the host facts.
 */
import { randomUUID } from 'node:crypto';
import type { Device, QemuConfig } from '@vmm/argv';
import {
  type ArchDevices,
  composeSandboxConfig,
  createQemuArch,
  type QemuArch,
  QemuArchError,
  type RootPortPlacement,
} from '@vmm/qemu-arch';
import type { ResolvedHypervisorConfig } from './config.js';
import { SandboxError } from './errors.js';
import { type Param, serializeParams } from './params.js';
import type { SandboxPaths } from './paths.js';

/** Facts about the host a sandbox's command line depends on. */
export interface HostFacts {
  /** Accelerator to use when the config names none. */
  accel: 'kvm' | 'tcg';
  /** Host memory in MiB (the hotplug ceiling derives from it). */
  memMiB: number;
  /** The host is a VM (Kata `RunningOnVMM`); only matters with KVM. */
  nested: boolean;
}

/** A composed sandbox command line and the placement state hotplug continues from. */
export interface ComposedQemu {
  readonly arch: QemuArch;
  readonly devices: ArchDevices;
  readonly config: QemuConfig;
  readonly rootPorts: readonly RootPortPlacement[];
  readonly accel: 'kvm' | 'tcg';
  /** Kernel parameters, in order. */
  readonly kernelParams: readonly Param[];
}

function archError(err: unknown): never {
  if (QemuArchError.is(err)) {
    const e = err as QemuArchError;
    throw new SandboxError('SANDBOX_INVALID_CONFIG', `config: ${e.message}`, { path: e.path, cause: err });
  }
  throw err;
}

/**
 * Kata's `kernelParameters()` order: the architecture's parameters (plus `quiet`/`debug` and, with an
 * image, the root and systemd ones), then `panic=1`, `nr_cpus=<defaultMaxVcpus>`, then the user's.
 * (Kata's `agent.use_vsock` is left out: vmm runs no Kata agent.)
 */
export function sandboxKernelParams(arch: QemuArch, config: ResolvedHypervisorConfig): Param[] {
  return [
    ...arch.kernelParams(config.debug).map((p) => ({ key: p.key, value: p.value })),
    { key: 'panic', value: '1' },
    { key: 'nr_cpus', value: String(config.defaultMaxVcpus) },
    ...config.kernelParams,
  ];
}

/** CPU model: the config's, else `host` with KVM and, under TCG, `qemu64` (amd64) or `max`. */
export function defaultCpuModel(config: ResolvedHypervisorConfig, accel: 'kvm' | 'tcg'): string | undefined {
  if (config.cpuModel !== undefined) return config.cpuModel;
  if (accel === 'kvm') return undefined;
  return config.arch === 'amd64' ? 'qemu64' : 'max';
}

/** The QemuArch of a config. @throws {SandboxError} `SANDBOX_INVALID_CONFIG` */
export function sandboxArch(config: ResolvedHypervisorConfig, host: HostFacts): QemuArch {
  const accel = config.accel ?? host.accel;
  const cpuModel = defaultCpuModel(config, accel);
  const template = config.bootToBeTemplate || config.bootFromTemplate;
  // nvdimm block hotplug needs `nvdimm=on` even without an NVDIMM image.
  const nvdimmOpt =
    config.blockDeviceDriver === 'nvdimm' && config.imagePath === undefined ? ['nvdimm=on'] : [];
  const extra = [config.machineAccelerators?.replace(/^,+/, ''), ...nvdimmOpt].filter(
    (s): s is string => s !== undefined && s !== '',
  );
  try {
    return createQemuArch({
      arch: config.arch,
      ...(config.hypervisorMachineType === undefined ? {} : { machineType: config.hypervisorMachineType }),
      accel,
      ...(cpuModel === undefined ? {} : { cpuModel }),
      ...(extra.length > 0 ? { machineAccelerators: extra.join(',') } : {}),
      ...(config.cpuFeatures === undefined ? {} : { cpuFeatures: config.cpuFeatures }),
      // Kata's nesting workaround (disable-modern) is for nested KVM; under TCG it only costs.
      nested: accel === 'kvm' && host.nested,
      disableNestingChecks: config.disableNestingChecks,
      iommu: config.iommu,
      image: config.imagePath !== undefined,
      disableImageNvdimm: config.disableImageNvdimm,
      memOffsetMiB: config.memOffset,
      vmTemplate: template,
      disableVhostNet: config.disableVhostNet,
      ...(config.hypervisorPath === undefined ? {} : { qemuPath: config.hypervisorPath }),
    });
  } catch (err) {
    return archError(err);
  }
}

/** Options of {@link composeQemu}. */
export interface ComposeQemuOptions {
  id: string;
  paths: SandboxPaths;
  host: HostFacts;
  /** Size of the image file (for its NVDIMM), when the config has one. */
  imageSizeBytes?: number;
  /** Start with `-incoming defer` (restore, or boot from a template). @default false */
  incoming?: boolean;
  /** SMBIOS UUID. @default random */
  uuid?: string;
}

/**
 * Build the whole `QemuConfig`: Kata's devices in Kata's order (bridges, root ports, virtconsole,
 * image, vIOMMU, SCSI controller, RNG), knobs, RTC, QMP socket, pid file, kernel with parameters in
 * Kata's order, and the serial console on a socket that QEMU also logs to a file (so no early output
 * is lost, whoever is connected).
 *
 * @throws {SandboxError} `SANDBOX_INVALID_CONFIG` when the arch rules refuse the config.
 */
export function composeQemu(config: ResolvedHypervisorConfig, options: ComposeQemuOptions): ComposedQemu {
  const { paths, host } = options;
  const arch = sandboxArch(config, host);
  const kernelParams = sandboxKernelParams(arch, config);
  let composed: ReturnType<typeof composeSandboxConfig>;
  try {
    composed = composeSandboxConfig(arch, {
      vcpus: config.numVcpus,
      maxVcpus: config.defaultMaxVcpus,
      memMiB: config.memorySize,
      hostMemMiB: host.memMiB,
      memSlots: config.memSlots,
      consolePath: `${paths.socketDir}/vc.sock`,
      bridges: arch.bridgeType === null ? 0 : config.defaultBridges,
      pcieRootPorts: arch.capabilities.pcieRootPorts ? config.pcieRootPort : 0,
      scsi:
        config.blockDeviceDriver === 'virtio-scsi'
          ? config.enableIoThreads
            ? { ioThread: true }
            : true
          : false,
      ...(config.imagePath === undefined
        ? {}
        : { image: { path: config.imagePath, sizeBytes: options.imageSizeBytes ?? 0 } }),
      rng: { filename: config.entropySource },
      name: `sandbox-${options.id}`,
      uuid: options.uuid ?? randomUUID(),
      kernel: {
        path: config.kernelPath,
        ...(config.initrdPath === undefined ? {} : { initrdPath: config.initrdPath }),
        params: serializeParams(kernelParams, '=').join(' '),
      },
    });
  } catch (err) {
    return archError(err);
  }
  const template = config.bootToBeTemplate || config.bootFromTemplate;
  const fileBacked = template || config.fileBackedMemRootDir !== undefined;
  const memPath = template ? config.memoryPath : config.fileBackedMemRootDir;
  const base = composed.config;
  // The guest's serial console: a socket any process can attach to, plus QEMU's own log of it, so
  // output is kept from the first byte whether or not a client is connected.
  const serial: Device[] = [
    {
      kind: 'char',
      driver: 'serial',
      backend: 'socket',
      id: 'charserial0',
      path: paths.console,
      logfile: paths.consoleLog,
      logappend: true,
    },
    { kind: 'legacy-serial', chardev: 'charserial0' },
  ];
  const qemuConfig: QemuConfig = {
    ...base,
    devices: [...(base.devices ?? []), ...serial],
    ...(base.memory === undefined
      ? {}
      : { memory: { ...base.memory, ...(fileBacked && memPath !== undefined ? { path: memPath } : {}) } }),
    qmpSockets: [{ type: 'unix', name: paths.qmp, server: true, noWait: true }],
    rtc: { base: 'utc', clock: 'host', driftFix: 'slew' },
    vga: 'none',
    globalParam: 'kvm-pit.lost_tick_policy=discard',
    knobs: {
      noUserConfig: true,
      noDefaults: true,
      noGraphic: true,
      noReboot: true,
      ...(config.memPrealloc ? { memPrealloc: true } : {}),
      ...(config.hugePages ? { hugePages: true } : {}),
      ...(config.mlock ? { mlock: true } : {}),
      ...(config.iommuPlatform ? { iommuPlatform: true } : {}),
      // Kata: a template (to be) shares its memory file; a VM booted from one maps it privately
      // (copy-on-write), so the template is never written.
      ...(fileBacked ? { fileBackedMem: true, ...(config.bootFromTemplate ? {} : { memShared: true }) } : {}),
    },
    ...(config.firmwarePath === undefined ? {} : { bios: config.firmwarePath }),
    ...(config.pflash.length > 0 ? { pflash: [...config.pflash] } : {}),
    ...(options.incoming === true ? { incoming: { migrationType: 'defer' as const } } : {}),
    pidFile: paths.pid,
    ...(config.debug ? { logFile: paths.log } : {}),
    extraParams: serializeParams(config.hypervisorParams, ''),
  };
  return Object.freeze({
    arch,
    devices: composed.devices,
    config: qemuConfig,
    rootPorts: composed.rootPorts,
    accel: arch.accel as 'kvm' | 'tcg',
    kernelParams,
  });
}
