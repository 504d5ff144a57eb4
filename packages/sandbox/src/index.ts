/**
 * `@vmm/sandbox`: the hypervisor lifecycle. A validated Kata-style `HypervisorConfig` becomes a
 * running VM (QEMU, or a mock for tests) that can be paused, resumed, saved, hotplugged into and
 * stopped, with its state persisted per sandbox so other processes can re-attach to it.
 */
export { ACRN_HOTPLUG_POOL, AcrnHypervisor, type AcrnHypervisorOptions } from './acrn.js';
export {
  type ResolveAssetsOptions,
  type ResolvedAssets,
  resolveAssets,
  sha512File,
  verifyAsset,
} from './assets.js';
export {
  ASSET_KINDS,
  type AssetKind,
  BLOCK_DEVICE_DRIVERS,
  type BlockDeviceDriver,
  type CustomAsset,
  customAssetSchema,
  HYPERVISOR_DEFAULTS,
  type HypervisorConfig,
  hostArch,
  hypervisorConfigSchema,
  MAX_VCPUS_PER_ARCH,
  parseHypervisorConfig,
  type ResolvedHypervisorConfig,
  SANDBOX_ARCHES,
  type SandboxArch,
  SHARED_FS_KINDS,
} from './config.js';
export {
  type ConsoleMark,
  type ConsoleMatch,
  ConsoleReader,
  type ConsoleWaitOptions,
} from './console.js';
export {
  type HypervisorExit,
  SANDBOX_ERROR_CODES,
  SandboxConfigError,
  SandboxError,
  type SandboxErrorCode,
  type SandboxErrorOptions,
} from './errors.js';
export {
  BLOCK_ATTACHMENTS,
  type BlockAttachment,
  type BlockHotplug,
  type HotplugDevice,
  type HotplugResult,
  HYPERVISOR_TYPES,
  type Hypervisor,
  type HypervisorCapabilities,
  type HypervisorReloadState,
  type HypervisorType,
  type MemoryHotplug,
  type NetHotplug,
  type OperationOptions,
  parseHypervisorType,
  type StopOptions,
  type StopResult,
  type VcpuResizeResult,
  type VfioHotplug,
  type VsockHotplug,
} from './hypervisor.js';
export {
  DEFAULT_QEMU_PATH,
  fileTail,
  type LaunchedQemu,
  type LaunchQemuOptions,
  launchQemu,
  type QemuExit,
  spawnQemu,
  tailLines,
} from './launch.js';
export {
  type AcquireLockOptions,
  acquireLock,
  isProcessAlive,
  type LockHandle,
  processStartTime,
} from './lock.js';
export {
  MOCK_OPERATIONS,
  type MockCall,
  MockHypervisor,
  type MockHypervisorOptions,
  type MockOperation,
} from './mock.js';
export { deserializeParams, type Param, paramSchema, paramsSchema, serializeParams } from './params.js';
export {
  buildSocketPath,
  checkSandboxId,
  defaultStateDir,
  MAX_SOCKET_PATH_BYTES,
  newSandboxId,
  RUN_FILES,
  SANDBOX_ID_PATTERN,
  type SandboxPaths,
  type StateDirEnv,
  sandboxPaths,
} from './paths.js';
export {
  checkDeviceId,
  DEVICE_ID_MAX_LENGTH,
  DEVICE_ID_PATTERN,
  QemuHypervisor,
  type QemuHypervisorOptions,
  type QemuState,
  qemuStateSchema,
  readHostFacts,
} from './qemu.js';
export {
  type ComposedQemu,
  type ComposeQemuOptions,
  composeQemu,
  defaultCpuModel,
  type HostFacts,
  sandboxArch,
  sandboxKernelParams,
} from './qemu-compose.js';
export {
  findOrphanQemu,
  killOrphanQemu,
  type OrphanQemu,
  type ReconcileResult,
  reconcileDevices,
  recoverAfterCrash,
} from './recovery.js';
export {
  type CreateHypervisorOptions,
  createHypervisor,
  Sandbox,
  type SandboxAttachOptions,
  type SandboxCreateOptions,
  type SandboxInfo,
} from './sandbox.js';
export {
  ensurePrivateDir,
  parseState,
  readStateFile,
  SANDBOX_STATUSES,
  type SandboxState,
  type SandboxStatus,
  STATE_SCHEMA_VERSION,
  StateStore,
  type StateStoreOptions,
  sandboxStateSchema,
  writeJsonAtomic,
} from './state.js';
