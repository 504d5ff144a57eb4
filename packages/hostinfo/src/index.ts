/**
 * `@vmm/hostinfo`: host facts for VM managers (memory, CPU, nested virtualization, KVM, vhost,
 * hugepages, QEMU) and the host-check model shared by `vmm check` and `@vmm/acrn`.
 *
 * Parsers (`parse*`) are pure; readers (`read*`, `findQemu`) do the I/O.
 */
export {
  ACCELS,
  type Accel,
  type AccelInfo,
  type DeviceNodeInfo,
  decideAccel,
  KVM_MODULES,
  type KvmModules,
} from './accel.js';
export { HOST_ARCHES, type HostArch, QEMU_SYSTEM_BINARIES, toHostArch } from './arch.js';
export { DEFAULT_SANDBOX_MEMORY_MIB, type HostCheckOptions, runHostChecks } from './checks.js';
export {
  HOSTINFO_ERROR_CODES,
  HostinfoError,
  type HostinfoErrorCode,
  type HostinfoWarning,
} from './errors.js';
export { DEFAULT_MAX_FILE_BYTES } from './fs-read.js';
export { goParseUint64 } from './go-parse.js';
export {
  HOST_CHECK_STATUSES,
  type HostCheck,
  type HostCheckReport,
  HostCheckReportSchema,
  HostCheckSchema,
  type HostCheckStatus,
  toHostCheckReport,
} from './host-check.js';
export {
  type CpuFacts,
  type HostInfo,
  HostInfoSchema,
  type HugepageFacts,
  type HugepageSize,
  type MemoryFacts,
  type QemuFacts,
  VIRT_EXTENSIONS,
  type VirtExtension,
} from './host-info.js';
export {
  detectNested,
  NESTED_METHODS,
  type NestedEvidence,
  type NestedInfo,
  type NestedMethod,
  parseRunningOnVmm,
} from './nested.js';
export {
  CPUINFO_FORMATS,
  type CpuinfoFormat,
  type CpuinfoInfo,
  type CpuinfoProcessor,
  parseCpuinfo,
} from './parse-cpuinfo.js';
export { type MeminfoHugePages, type MeminfoInfo, parseMeminfo, parseMemTotalKiB } from './parse-meminfo.js';
export { parseQemuVersion, type QemuVersion } from './parse-qemu-version.js';
export {
  DEFAULT_QEMU_VERSION_TIMEOUT_MS,
  defaultQemuSearchDirs,
  type FoundQemu,
  findQemu,
  QEMU_EXTRA_DIRS,
  readQemuVersion,
} from './qemu.js';
export {
  type ReadHostInfoOptions,
  type ReadOptions,
  readCpuinfo,
  readHostInfo,
  readHostMemorySizeKiB,
  readMeminfo,
  readRunningOnVmm,
} from './read.js';
