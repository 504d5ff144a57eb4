/**
 * `HypervisorConfig`: Kata's hypervisor configuration as one zod schema, with its defaults and
 * `valid()` rules, plus the custom-asset override rules. Errors name the field.
 */
import { z } from 'zod';
import { SandboxConfigError } from './errors.js';
import { type Param, paramsSchema } from './params.js';

/** Architectures (Go names, as Kata and `@vmm/qemu-arch` use them). */
export const SANDBOX_ARCHES = ['amd64', 'arm64', 'ppc64le', 's390x'] as const;
/** One of {@link SANDBOX_ARCHES}. */
export type SandboxArch = (typeof SANDBOX_ARCHES)[number];

/**
 * Most vCPUs per architecture (Kata `MaxQemuVCPUs()`): amd64 240, arm64 123 (GICv3; a GICv2 host
 * allows 8), ppc64le 128, s390x 248.
 */
export const MAX_VCPUS_PER_ARCH: Readonly<Record<SandboxArch, number>> = Object.freeze({
  amd64: 240,
  arm64: 123,
  ppc64le: 128,
  s390x: 248,
});

/** Block device drivers (Kata `BlockDeviceDriver`). */
export const BLOCK_DEVICE_DRIVERS = [
  'virtio-scsi',
  'virtio-blk',
  'virtio-blk-ccw',
  'virtio-mmio',
  'nvdimm',
] as const;
/** One of {@link BLOCK_DEVICE_DRIVERS}. */
export type BlockDeviceDriver = (typeof BLOCK_DEVICE_DRIVERS)[number];

/** Shared file system kinds (Kata `SharedFS`). */
export const SHARED_FS_KINDS = ['virtio-9p', 'virtio-fs', 'none'] as const;

/** Kata's defaults (`defaultVCPUs`, `defaultMemSzMiB`, `defaultBridges`, `defaultMsize9p`, `defaultMemSlots`). */
export const HYPERVISOR_DEFAULTS = Object.freeze({
  numVcpus: 1,
  memorySize: 2048,
  defaultBridges: 1,
  maxBridges: 5,
  blockDeviceDriver: 'virtio-scsi' as BlockDeviceDriver,
  msize9p: 8192,
  memSlots: 10,
  entropySource: '/dev/urandom',
});

/** The assets a config can override (Kata `types.AssetType`). */
export const ASSET_KINDS = ['kernel', 'image', 'initrd', 'firmware', 'hypervisor'] as const;
/** One of {@link ASSET_KINDS}. */
export type AssetKind = (typeof ASSET_KINDS)[number];

const absPath = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .refine((p) => !p.includes('\0'), 'must not contain NUL');

/** A custom asset: a path that overrides the configured one, and optionally its SHA-512 digest. */
export const customAssetSchema = z.strictObject({
  /** Absolute path of the asset. */
  path: absPath,
  /** Hex SHA-512 of the file; verified before the asset is used. @default not verified */
  sha512: z
    .string()
    .regex(/^[0-9a-fA-F]{128}$/, 'must be 128 hex digits (SHA-512)')
    .transform((s) => s.toLowerCase())
    .optional(),
});
/** A custom asset (input shape). */
export type CustomAsset = z.input<typeof customAssetSchema>;

// Zero means "use the default" for the counts Kata treats that way.
const zeroIsDefault = (max: number) => z.number().int().min(0).max(max);

/**
 * Kata's `HypervisorConfig` (RT1 hypervisor.go), camelCase, plus `arch`, `accel` and `cpuModel`, which
 * Kata derives from the build host. Unknown keys are refused (fields vmm does not implement, such as
 * `virtioFsDaemon` or `jailerPath`, are refused by name rather than silently ignored).
 */
export const hypervisorConfigSchema = z
  .strictObject({
    /** Guest architecture. @default the host's (`x64` → `amd64`, `arm64`, `ppc64` → `ppc64le`, `s390x`) */
    arch: z.enum(SANDBOX_ARCHES).optional(),
    /** Accelerator. @default decided at start from the host (KVM when usable, else TCG) */
    accel: z.enum(['kvm', 'tcg']).optional(),
    /** CPU model. @default `host` with KVM; under TCG `qemu64` (amd64) or `max` */
    cpuModel: z
      .string()
      .regex(/^[A-Za-z0-9_.+-]+$/, 'must be a CPU model name')
      .optional(),
    /** vCPUs at boot; 0 means the default. @default 1 */
    numVcpus: zeroIsDefault(0xffff_ffff).default(0),
    /** vCPU hotplug ceiling; 0 means the architecture's maximum. @default MAX_VCPUS_PER_ARCH[arch] */
    defaultMaxVcpus: zeroIsDefault(0xffff_ffff).default(0),
    /** Boot memory in MiB; 0 means the default. @default 2048 */
    memorySize: zeroIsDefault(0xffff_ffff).default(0),
    /** PCI bridges for hotplug (1..5); 0 means the default. @default 1 */
    defaultBridges: zeroIsDefault(HYPERVISOR_DEFAULTS.maxBridges).default(0),
    /** 9p msize; 0 means the default (8192, unless `sharedFs` is `virtio-fs`). @default 8192 */
    msize9p: z
      .number()
      .int()
      .refine((n) => n === 0 || (n >= 4096 && n <= 1048576), 'must be 0 or in 4096..1048576')
      .default(0),
    /** Memory hotplug slots. @default 10 */
    memSlots: z.number().int().min(0).max(255).default(HYPERVISOR_DEFAULTS.memSlots),
    /** Extra memory hotplug room in MiB. @default 0 */
    memOffset: z.number().int().min(0).max(0xffff_ffff).default(0),
    /** Kernel parameters appended after the architecture's and Kata's own. @default [] */
    kernelParams: paramsSchema.default([]),
    /** Extra hypervisor arguments (`SerializeParams(params, "")`: `key value` token pairs). @default [] */
    hypervisorParams: paramsSchema.default([]),
    /** Guest kernel. Required (here or as `customAssets.kernel`). */
    kernelPath: absPath.optional(),
    /** Guest root image. Exactly one of image and initrd. */
    imagePath: absPath.optional(),
    /** Guest initrd. Exactly one of image and initrd. */
    initrdPath: absPath.optional(),
    /** Firmware (`-bios`). @default none */
    firmwarePath: absPath.optional(),
    /** Machine options appended after the machine's own (`nosmm`, ...). @default none */
    machineAccelerators: z
      .string()
      .regex(/^,?[A-Za-z0-9_.=-]+(,[A-Za-z0-9_.=-]+)*$/, 'must be QEMU machine options such as nosmm')
      .optional(),
    /** CPU features appended to the model (`pmu=off`). @default none */
    cpuFeatures: z
      .string()
      .regex(/^[A-Za-z0-9_.+=-]+(,[A-Za-z0-9_.+=-]+)*$/, 'must be comma-separated CPU features')
      .optional(),
    /** Hypervisor binary. @default the architecture's QEMU (e.g. /usr/bin/qemu-system-x86_64), or acrn-dm */
    hypervisorPath: absPath.optional(),
    /** Control binary (`acrnctl` for ACRN). @default /usr/bin/acrnctl */
    hypervisorCtlPath: absPath.optional(),
    /** How block devices are attached. @default 'virtio-scsi' */
    blockDeviceDriver: z.enum(BLOCK_DEVICE_DRIVERS).default(HYPERVISOR_DEFAULTS.blockDeviceDriver),
    /** Set a cache mode on hotplugged drives (then `Direct` / `Noflush` apply). @default false */
    blockDeviceCacheSet: z.boolean().default(false),
    /** `cache.direct=on`. @default false */
    blockDeviceCacheDirect: z.boolean().default(false),
    /** `cache.no-flush=on`. @default false */
    blockDeviceCacheNoflush: z.boolean().default(false),
    /** Do not use block devices for container rootfs (kept for Kata parity; no effect on the VM). @default false */
    disableBlockDeviceUse: z.boolean().default(false),
    /** Give the SCSI controller an I/O thread. @default false */
    enableIoThreads: z.boolean().default(false),
    /** Machine type. @default the architecture's (`pc`, `virt`, `pseries`, `s390-ccw-virtio`) */
    hypervisorMachineType: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'must be a machine type')
      .optional(),
    /** Memory backing file for VM templating. */
    memoryPath: absPath.optional(),
    /** Device state file for VM templating. */
    devicesStatePath: absPath.optional(),
    /** Entropy source of the virtio-rng device. @default '/dev/urandom' */
    entropySource: absPath.default(HYPERVISOR_DEFAULTS.entropySource),
    /** Shared file system kind (decides the msize9p default). @default 'virtio-9p' */
    sharedFs: z.enum(SHARED_FS_KINDS).default('virtio-9p'),
    /** Back guest RAM with a file in this directory (must exist; `/dev/shm` when unset and needed). @default none */
    fileBackedMemRootDir: absPath.optional(),
    /** Flash images (`-pflash`). @default [] */
    pflash: z.array(absPath).default([]),
    /** Assets overriding the configured paths, each optionally verified by SHA-512. @default {} */
    customAssets: z
      .strictObject({
        kernel: customAssetSchema.optional(),
        image: customAssetSchema.optional(),
        initrd: customAssetSchema.optional(),
        firmware: customAssetSchema.optional(),
        hypervisor: customAssetSchema.optional(),
      })
      .default({}),
    /** Debug kernel parameters and a QEMU log file. @default false */
    debug: z.boolean().default(false),
    /** Pre-allocate guest RAM. @default false */
    memPrealloc: z.boolean().default(false),
    /** Back guest RAM with hugepages (implies memPrealloc). @default false */
    hugePages: z.boolean().default(false),
    /** Add a vIOMMU (q35). @default false */
    iommu: z.boolean().default(false),
    /** `iommu_platform=on` on CCW devices. @default false */
    iommuPlatform: z.boolean().default(false),
    /** Lock guest memory. @default false */
    mlock: z.boolean().default(false),
    /** Ignore that the host is itself a VM. @default false */
    disableNestingChecks: z.boolean().default(false),
    /** Use vsock (kept in state; vsock devices are hotplugged explicitly). @default false */
    useVsock: z.boolean().default(false),
    /** Attach an image as virtio-blk instead of NVDIMM. @default false */
    disableImageNvdimm: z.boolean().default(false),
    /** Hotplug VFIO devices on the root bus instead of a bridge. @default false */
    hotplugVfioOnRootBus: z.boolean().default(false),
    /** PCIe root ports to create (q35), used for hotplug. @default 0 */
    pcieRootPort: z.number().int().min(0).max(30).default(0),
    /** Boot as a VM template (shared, file-backed memory). @default false */
    bootToBeTemplate: z.boolean().default(false),
    /** Boot from a VM template (incoming migration from devicesStatePath). @default false */
    bootFromTemplate: z.boolean().default(false),
    /** Do not use vhost-net for taps. @default false */
    disableVhostNet: z.boolean().default(false),
  })
  .superRefine((c, ctx) => {
    const kernel = c.customAssets.kernel?.path ?? c.kernelPath;
    const image = c.customAssets.image?.path ?? c.imagePath;
    const initrd = c.customAssets.initrd?.path ?? c.initrdPath;
    if (kernel === undefined) {
      ctx.addIssue({ code: 'custom', path: ['kernelPath'], message: 'Missing kernel path' });
    }
    if (image === undefined && initrd === undefined) {
      ctx.addIssue({ code: 'custom', path: ['imagePath'], message: 'Missing image and initrd path' });
    }
    if (image !== undefined && initrd !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['initrdPath'],
        message: 'Image and initrd path cannot be both set',
      });
    }
    if (c.bootToBeTemplate && c.bootFromTemplate) {
      ctx.addIssue({
        code: 'custom',
        path: ['bootFromTemplate'],
        message: "Cannot set both 'to be' and 'from' vm template",
      });
    }
    if ((c.bootToBeTemplate || c.bootFromTemplate) && c.memoryPath === undefined) {
      ctx.addIssue({ code: 'custom', path: ['memoryPath'], message: 'Missing MemoryPath for vm template' });
    }
    if (c.bootFromTemplate && c.devicesStatePath === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['devicesStatePath'],
        message: 'Missing DevicesStatePath to load from vm template',
      });
    }
    if ((c.bootToBeTemplate || c.bootFromTemplate) && c.fileBackedMemRootDir !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['fileBackedMemRootDir'],
        message: 'file-backed memory cannot be combined with VM templating',
      });
    }
    const arch = c.arch ?? hostArch();
    const archMax = MAX_VCPUS_PER_ARCH[arch];
    if (c.defaultMaxVcpus > archMax) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultMaxVcpus'],
        message: `must not exceed ${archMax}, the most vCPUs QEMU supports on ${arch}`,
      });
    }
    const vcpus = c.numVcpus === 0 ? HYPERVISOR_DEFAULTS.numVcpus : c.numVcpus;
    const maxVcpus = c.defaultMaxVcpus === 0 ? archMax : c.defaultMaxVcpus;
    if (vcpus > maxVcpus) {
      ctx.addIssue({
        code: 'custom',
        path: ['numVcpus'],
        message: `${vcpus} vCPUs exceed the maximum of ${maxVcpus} (defaultMaxVcpus)`,
      });
    }
    if (c.blockDeviceDriver === 'virtio-blk-ccw' && arch !== 's390x') {
      ctx.addIssue({
        code: 'custom',
        path: ['blockDeviceDriver'],
        message: 'virtio-blk-ccw is for s390x only',
      });
    }
    if (c.pcieRootPort > 0 && arch !== 'amd64' && arch !== 'arm64') {
      ctx.addIssue({
        code: 'custom',
        path: ['pcieRootPort'],
        message: `PCIe root ports are not available on ${arch}`,
      });
    }
  })
  .transform((c) => {
    const arch = c.arch ?? hostArch();
    const archMax = MAX_VCPUS_PER_ARCH[arch];
    const { customAssets: assets } = c;
    return {
      ...c,
      arch,
      numVcpus: c.numVcpus === 0 ? HYPERVISOR_DEFAULTS.numVcpus : c.numVcpus,
      defaultMaxVcpus: c.defaultMaxVcpus === 0 ? archMax : c.defaultMaxVcpus,
      memorySize: c.memorySize === 0 ? HYPERVISOR_DEFAULTS.memorySize : c.memorySize,
      defaultBridges: c.defaultBridges === 0 ? HYPERVISOR_DEFAULTS.defaultBridges : c.defaultBridges,
      msize9p: c.msize9p === 0 && c.sharedFs !== 'virtio-fs' ? HYPERVISOR_DEFAULTS.msize9p : c.msize9p,
      // MAIN validateHypervisorConfig: virtio-blk on s390x is virtio-blk-ccw.
      blockDeviceDriver: (c.blockDeviceDriver === 'virtio-blk' && arch === 's390x'
        ? 'virtio-blk-ccw'
        : c.blockDeviceDriver) as BlockDeviceDriver,
      // Kata: hugepages imply pre-allocation.
      memPrealloc: c.memPrealloc || c.hugePages,
      // Custom assets override the configured paths (Kata `assetPath`).
      kernelPath: (assets.kernel?.path ?? c.kernelPath) as string,
      imagePath: assets.image?.path ?? c.imagePath,
      initrdPath: assets.initrd?.path ?? c.initrdPath,
      firmwarePath: assets.firmware?.path ?? c.firmwarePath,
      hypervisorPath: assets.hypervisor?.path ?? c.hypervisorPath,
    };
  });

/** A hypervisor config as users write it (every field but the kernel and image/initrd optional). */
export type HypervisorConfig = z.input<typeof hypervisorConfigSchema>;

/** A validated config: defaults applied, custom assets folded into the paths, `arch` resolved. */
export type ResolvedHypervisorConfig = z.output<typeof hypervisorConfigSchema>;

/** Re-exported for config authors. */
export type { Param };

/** The host's architecture in Go's spelling; `amd64` for anything unknown is never guessed: it throws. */
export function hostArch(nodeArch: string = process.arch): SandboxArch {
  switch (nodeArch) {
    case 'x64':
      return 'amd64';
    case 'arm64':
      return 'arm64';
    case 'ppc64':
      return 'ppc64le';
    case 's390x':
      return 's390x';
    default:
      throw new SandboxConfigError([
        { path: 'arch', message: `host architecture ${nodeArch} is not supported; set arch explicitly` },
      ]);
  }
}

/** zod issues as dotted-path messages, prefixed with `prefix` (`config`). */
export function zodIssues(error: z.ZodError, prefix = ''): { path: string; message: string }[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter((s) => s !== '').join('.'),
    message: i.message,
  }));
}

/**
 * Validate a {@link HypervisorConfig}: Kata's `valid()` rules, defaults, custom assets folded in.
 * Pure: files are checked by {@link resolveAssets}.
 *
 * @throws {SandboxConfigError} `SANDBOX_INVALID_CONFIG`, `path` naming the first bad field (e.g.
 *   `kernelPath`: `Missing kernel path`), every issue in `issues`.
 */
export function parseHypervisorConfig(input: unknown): ResolvedHypervisorConfig {
  const r = hypervisorConfigSchema.safeParse(input);
  if (r.success) return r.data;
  throw new SandboxConfigError(zodIssues(r.error), { cause: r.error });
}
