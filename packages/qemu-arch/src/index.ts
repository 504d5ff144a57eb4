/**
 * `@vmm/qemu-arch`: per-architecture QEMU rules (amd64, arm64, ppc64le, s390x) as pure data that
 * produces `@vmm/argv` configs. No I/O, no module-level mutable state.
 */
export { AMD64, AMD64_MAX_VCPUS, AMD64_QEMU_PATH } from './arch/amd64.js';
export { ARM64, ARM64_MAX_VCPUS, ARM64_QEMU_PATH } from './arch/arm64.js';
export { ARCH_RULES } from './arch/index.js';
export {
  PPC64LE,
  PPC64LE_MAX_VCPUS,
  PPC64LE_NVDIMM_IMAGE_UUID,
  PPC64LE_QEMU_PATH,
  SPAPR_NVDIMM_BLOCK_SIZE,
  SPAPR_NVDIMM_LABEL_SIZE,
} from './arch/ppc64le.js';
export {
  ACCELERATORS,
  type Accelerator,
  ARCH_NAMES,
  type ArchName,
  type ArchRules,
  type ArchTransport,
  GIC_VERSIONS,
  type GicVersion,
  type ImageRoot,
  type MachineOptionInputs,
  type MachineRules,
  type NvdimmLayoutRules,
} from './arch/rules.js';
export { S390X, S390X_MAX_VCPUS, S390X_QEMU_PATH } from './arch/s390x.js';
export {
  BRIDGE_CAPACITY,
  BRIDGE_PCI_START_ADDR,
  BRIDGE_TYPES,
  BridgeAllocator,
  type BridgeInfo,
  type BridgePlacement,
  type BridgeState,
  type BridgeType,
  bridgeStateSchema,
  ccwBusId,
  ccwDevno,
  createBridgeAllocator,
  defaultBridges,
  formatBridgeSlot,
  MAX_CCW_BRIDGES,
  MAX_PCI_BRIDGES,
} from './bridges.js';
export {
  type ComposedSandbox,
  type ComposeOptions,
  composeSandboxConfig,
} from './compose.js';
export {
  ArchDevices,
  type ArchDevicesOptions,
  checkNvdimmImageSize,
  type NetworkEndpoint,
  type RootPortPlacement,
  type ScsiControllerResult,
  type VhostUserAttrs,
} from './devices.js';
export {
  QEMU_ARCH_ERROR_CODES,
  QemuArchError,
  type QemuArchErrorCode,
  type QemuArchErrorOptions,
} from './errors.js';
export {
  MAX_DEVICE_ID_LENGTH,
  MAX_SCSI_INDEX,
  makeNameId,
  type ScsiIdLun,
  scsiAddress,
  scsiIdLun,
  truncateId,
  virtDriveName,
} from './ids.js';
export {
  KERNEL_PARAMS_DEBUG,
  KERNEL_PARAMS_NON_DEBUG,
  KERNEL_PARAMS_SYSTEMD_DEBUG,
  KERNEL_PARAMS_SYSTEMD_NON_DEBUG,
  KERNEL_ROOT_NVDIMM_DAX,
  KERNEL_ROOT_NVDIMM_NO_DAX,
  KERNEL_ROOT_VIRTIO_BLK,
  type KernelParam,
  kernelParam,
  serializeKernelParams,
} from './kernel-params.js';
export { type QemuArchOptions, qemuArchOptionsSchema } from './options.js';
export {
  createQemuArch,
  DEFAULT_BRIDGES,
  DEFAULT_MEM_SLOTS,
  type ImageAttachment,
  type QemuArch,
  type QemuArchCapabilities,
} from './qemu-arch.js';
export {
  baseMemoryTopology,
  type CpuTopology,
  cpuTopology,
  genericMemoryTopology,
  type MemoryTopology,
  NVDIMM_RESERVE_MIB,
  PPC64LE_OLD_QEMU_MAXMEM_MIB,
  ppc64leMemoryTopology,
  type QemuVersionInfo,
} from './topology.js';
