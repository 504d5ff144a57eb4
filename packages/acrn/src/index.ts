/**
 * @vmm/acrn: the ACRN device model (acrn-dm) command line, per-VM slot tables, Kata's kernel
 * parameters, and a safe lifecycle (launch, stop, `acrnctl blkrescan`, a locked UUID pool).
 */
export {
  type AcrnArgv,
  encodeAcrnArgv,
  encodeAcrnDevice,
  encodeConsole,
  encodeHostbridge,
  encodeLpc,
  encodeVirtioBlk,
  encodeVirtioNet,
} from './argv.js';
export {
  ACRN_DEVICE_NODE,
  ACRN_HSM_DEVICE_NODE,
  type AcrnHostCheckOptions,
  checkAcrnHost,
} from './checks.js';
export {
  ACRN_ERROR_CODES,
  AcrnError,
  type AcrnErrorCode,
  type AcrnErrorDetails,
  type AcrnFieldPath,
} from './errors.js';
export {
  ACRN_KERNEL_PARAMS,
  ACRN_KERNEL_PARAMS_DEBUG,
  ACRN_KERNEL_PARAMS_NON_DEBUG,
  ACRN_KERNEL_PARAMS_SYSTEMD_DEBUG,
  ACRN_KERNEL_PARAMS_SYSTEMD_NON_DEBUG,
  ACRN_KERNEL_ROOT_PARAMS,
  ACRN_MAX_VCPUS,
  type AcrnKernelOptions,
  type AcrnKernelParam,
  acrnKernelParams,
  acrnMemorySize,
  serializeKernelParams,
} from './kernel.js';
export {
  ACRN_DM_PATH,
  ACRN_STOP_TIMEOUT_MS,
  ACRNCTL_PATH,
  type AcrnBlkrescanRequest,
  type AcrnctlOptions,
  type AcrnctlResult,
  type AcrnDmExit,
  type AcrnDmProcess,
  type AcrnHotplugBlockRequest,
  type AcrnStopResult,
  acrnctlBlkrescan,
  hotplugBlock,
  type LaunchAcrnDmOptions,
  launchAcrnDm,
  type StopAcrnDmByPidOptions,
  type StopAcrnDmOptions,
  stopAcrnDm,
} from './lifecycle.js';
export { ACRN_BLOCK_POOL_SIZE, type AcrnSandboxOptions, createSandboxConfig } from './sandbox-config.js';
export {
  ACRN_CONSOLE_BACKENDS,
  ACRN_GVTG_SLOT,
  ACRN_MAX_NAME_LENGTH,
  ACRN_MAX_SLOT,
  ACRN_MAX_SOCKET_PATH,
  ACRN_NODISK,
  type AcrnConfig,
  type AcrnConsoleBackend,
  type AcrnConsoleConfig,
  type AcrnDevice,
  type AcrnDeviceConfig,
  type AcrnHostbridgeConfig,
  type AcrnLpcConfig,
  type AcrnParsedConfig,
  type AcrnVirtioBlkConfig,
  type AcrnVirtioNetConfig,
  acrnConfigSchema,
  acrnDeviceSchema,
} from './schema.js';
export { type AcrnSlotEntry, AcrnSlotTable, slotForPosition } from './slots.js';
export {
  ACRN_UUID_LOCK_FILE,
  ACRN_UUID_STATE_FILE,
  ACRN_UUIDS,
  type AcquireUuidOptions,
  type AcrnUuidLease,
  type AcrnUuidLeaseInfo,
  AcrnUuidPool,
  type AcrnUuidPoolOptions,
  createUuidPool,
} from './uuid-pool.js';
