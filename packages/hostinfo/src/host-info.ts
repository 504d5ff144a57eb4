import { z } from 'zod';
import { ACCELS, type AccelInfo, type DeviceNodeInfo, KVM_MODULES, type KvmModules } from './accel.js';
import { HOST_ARCHES, type HostArch } from './arch.js';
import { HOSTINFO_ERROR_CODES, type HostinfoWarning } from './errors.js';
import { NESTED_METHODS, type NestedInfo } from './nested.js';
import { CPUINFO_FORMATS, type CpuinfoFormat } from './parse-cpuinfo.js';
import type { QemuVersion } from './parse-qemu-version.js';

/** Hardware virtualization extensions the CPU reports. */
export const VIRT_EXTENSIONS = ['vmx', 'svm', 'sie', 'hv'] as const;

/** One of {@link VIRT_EXTENSIONS}. */
export type VirtExtension = (typeof VIRT_EXTENSIONS)[number];

/** CPU facts, summarised from /proc/cpuinfo. */
export interface CpuFacts {
  /** Logical CPUs. */
  count: number;
  vendor: string | null;
  modelName: string | null;
  /** Feature tokens of the first CPU (x86 `flags`, arm64 `Features`, s390x `features`; none on ppc64). */
  flags: string[];
  /** The kernel layout the file was in. */
  format: CpuinfoFormat;
  /**
   * `vmx` (Intel VT-x) / `svm` (AMD-V) from x86 flags, `sie` from s390x features, `hv` for a
   * bare-metal POWER host (PowerNV); `null` when absent or, on arm64, not visible in cpuinfo.
   */
  virtualization: VirtExtension | null;
  /** The cpuinfo file was larger than the read cap; `count` covers what was read. */
  truncated: boolean;
}

/** Memory facts in KiB. */
export interface MemoryFacts {
  /**
   * `MemTotal` parsed as Kata does (first well-formed line, Go base-0 integer); `null` when there is
   * none, or when the value exceeds 2^53-1 KiB (use `parseMemTotalKiB` for the exact `bigint`).
   */
  totalKiB: number | null;
  /** `MemAvailable`, or `null`. */
  availableKiB: number | null;
  /** `MemFree`, or `null`. */
  freeKiB: number | null;
  /** `SwapTotal`, or `null`. */
  swapTotalKiB: number | null;
}

/** One hugepage size and its pool, from /sys/kernel/mm/hugepages/hugepages-<N>kB. */
export interface HugepageSize {
  sizeKiB: number;
  /** `nr_hugepages`. */
  total: number;
  /** `free_hugepages`. */
  free: number;
  /** `resv_hugepages`. */
  reserved: number;
  /** `surplus_hugepages`. */
  surplus: number;
}

/** Hugepage facts. */
export interface HugepageFacts {
  /** `Hugepagesize` from /proc/meminfo (the default size), or `null`. */
  defaultSizeKiB: number | null;
  /** Every size the kernel supports, ascending. Empty when sysfs has no hugepages directory. */
  sizes: HugepageSize[];
}

/** The QEMU system emulator for the host arch. */
export interface QemuFacts {
  /** Binary name searched for (`qemu-system-x86_64`), or `null` when the arch is unsupported. */
  binary: string | null;
  /** Where it was found, or `null`. */
  path: string | null;
  /** Its version, or `null` (not found, not asked for, or `--version` failed). */
  version: QemuVersion | null;
  /** Every path tried, in order. */
  searched: string[];
  /** Why `path` or `version` is `null` (`HOSTINFO_QEMU_NOT_FOUND`, `HOSTINFO_QEMU_VERSION`), else `null`. */
  error: HostinfoWarning | null;
}

/** Everything `vmm hostinfo` prints; the JSON of `vmm hostinfo --json`. */
export interface HostInfo {
  /** Host architecture in Kata naming, or `null` when vmm does not support it. */
  arch: HostArch | null;
  /** Kernel machine name (`uname -m`): /proc/sys/kernel/arch, else Node's `process.arch`. */
  machine: string;
  /** /proc/sys/kernel/osrelease, or `null`. */
  kernelRelease: string | null;
  /** `null` when /proc/cpuinfo cannot be read or parsed (see `warnings`). */
  cpu: CpuFacts | null;
  /** `null` when /proc/meminfo cannot be read or parsed (see `warnings`). */
  memory: MemoryFacts | null;
  hugepages: HugepageFacts;
  nested: NestedInfo;
  kvm: { device: DeviceNodeInfo; modules: KvmModules };
  accel: AccelInfo;
  vhostNet: DeviceNodeInfo;
  vhostVsock: DeviceNodeInfo;
  qemu: QemuFacts;
  /** Roots the facts were read from. */
  roots: { proc: string; sys: string; dev: string };
  /** What made the result partial (missing or truncated files, ...). Empty on a healthy host. */
  warnings: HostinfoWarning[];
}

const codeEnum = z.enum(Object.keys(HOSTINFO_ERROR_CODES) as [keyof typeof HOSTINFO_ERROR_CODES]);
const warningSchema: z.ZodType<HostinfoWarning> = z.strictObject({ code: codeEnum, message: z.string() });
const kib = z.number().int().nonnegative();
const deviceSchema: z.ZodType<DeviceNodeInfo> = z.strictObject({
  path: z.string(),
  present: z.boolean(),
  charDevice: z.boolean(),
  readable: z.boolean(),
  writable: z.boolean(),
  mode: z
    .string()
    .regex(/^[0-7]{4}$/)
    .nullable(),
});
const modulesSchema: z.ZodType<KvmModules> = z.strictObject(
  Object.fromEntries(KVM_MODULES.map((m) => [m, z.boolean()])) as Record<
    (typeof KVM_MODULES)[number],
    z.ZodBoolean
  >,
);
const accelSchema: z.ZodType<AccelInfo> = z.strictObject({
  accel: z.enum(ACCELS),
  kvmUsable: z.boolean(),
  reason: z.string(),
  override: z.enum(ACCELS).nullable(),
  invalidOverride: z.string().nullable(),
});
const nestedSchema: z.ZodType<NestedInfo> = z.strictObject({
  nested: z.boolean().nullable(),
  kataRunningOnVmm: z.boolean().nullable(),
  method: z.enum(NESTED_METHODS),
  evidence: z.string(),
});
const versionSchema: z.ZodType<QemuVersion> = z.strictObject({
  major: z.number().int().nonnegative(),
  minor: z.number().int().nonnegative(),
  micro: z.number().int().nonnegative(),
  package: z.string().nullable(),
  text: z.string(),
});

/**
 * Runtime schema of {@link HostInfo}, checked against the interface at compile time. Use it to
 * validate `vmm hostinfo --json` output read back from disk or another process.
 */
export const HostInfoSchema: z.ZodType<HostInfo> = z.strictObject({
  arch: z.enum(HOST_ARCHES).nullable(),
  machine: z.string(),
  kernelRelease: z.string().nullable(),
  cpu: z
    .strictObject({
      count: z.number().int().nonnegative(),
      vendor: z.string().nullable(),
      modelName: z.string().nullable(),
      flags: z.array(z.string()),
      format: z.enum(CPUINFO_FORMATS),
      virtualization: z.enum(VIRT_EXTENSIONS).nullable(),
      truncated: z.boolean(),
    })
    .nullable(),
  memory: z
    .strictObject({
      totalKiB: kib.nullable(),
      availableKiB: kib.nullable(),
      freeKiB: kib.nullable(),
      swapTotalKiB: kib.nullable(),
    })
    .nullable(),
  hugepages: z.strictObject({
    defaultSizeKiB: kib.nullable(),
    sizes: z.array(z.strictObject({ sizeKiB: kib, total: kib, free: kib, reserved: kib, surplus: kib })),
  }),
  nested: nestedSchema,
  kvm: z.strictObject({ device: deviceSchema, modules: modulesSchema }),
  accel: accelSchema,
  vhostNet: deviceSchema,
  vhostVsock: deviceSchema,
  qemu: z.strictObject({
    binary: z.string().nullable(),
    path: z.string().nullable(),
    version: versionSchema.nullable(),
    searched: z.array(z.string()),
    error: warningSchema.nullable(),
  }),
  roots: z.strictObject({ proc: z.string(), sys: z.string(), dev: z.string() }),
  warnings: z.array(warningSchema),
});
