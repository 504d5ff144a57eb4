/**
 * @vmm/qmp: a QEMU Machine Protocol client. Pipelined with an in-flight window, per-call timeouts
 * and AbortSignals, race-free event waits, bounded event queues, fd passing (with the optional
 * `@vmm/fdpass` addon), typed commands, and an untyped escape hatch.
 */
export {
  connectQmp,
  type ExecuteAndWaitOptions,
  type ExecuteOptions,
  QMP_STATES,
  QmpClient,
  type QmpClientOptions,
  type QmpCloseInfo,
  type QmpGreeting,
  type QmpState,
  type QmpStats,
  type WaitForOptions,
} from './client.js';
export { RUN_STATES, type RunState } from './commands/_common.js';
export { defineCommand, type QmpCommandDef } from './commands/_define.js';
export {
  isTypedCommand,
  QMP_COMMANDS,
  type QmpArgs,
  type QmpCommandName,
  type QmpReply,
} from './commands/index.js';
export {
  describeTarget,
  type ListenForQmpOptions,
  listenForQmp,
  type OpenTransportOptions,
  openTransport,
  type QmpListener,
  type QmpTarget,
  type Transport,
  type TransportKind,
} from './connection.js';
export {
  QMP_ERROR_CODES,
  QmpAbortError,
  QmpCommandError,
  QmpDisconnectedError,
  QmpError,
  type QmpErrorCode,
  type QmpErrorOptions,
  QmpNegotiationError,
  QmpTimeoutError,
} from './errors.js';
export {
  type EventIteratorOptions,
  OVERFLOW_POLICIES,
  type OverflowPolicy,
  type QmpEvent,
  type QmpEventMap,
  type QmpKnownEventName,
  type QmpTimestamp,
} from './events.js';
export { DEFAULT_MAX_MESSAGE_BYTES, type FrameResult, type FramerOptions, QmpFramer } from './framer.js';
export {
  addFd,
  addNetdevByFds,
  type BlkDeviceConfig,
  type BlockdevAddArgs,
  blkDevice,
  type CpuDeviceConfig,
  cpuDevice,
  type DeviceAddArgs,
  type DeviceLocation,
  deleteDevice,
  type HelperOptions,
  hotplugBlockDevice,
  hotplugCpu,
  hotplugMemory,
  hotplugNvdimm,
  type MemoryHotplugConfig,
  type NetDeviceConfig,
  type NetdevByFdsConfig,
  type NvdimmHotplugConfig,
  netDevice,
  passFd,
  type RawBlockdevConfig,
  rawBlockdev,
  type ScsiDeviceConfig,
  scsiDevice,
  systemPowerdown,
  type UnixSocketChardevConfig,
  unixSocketChardev,
  type VfioDeviceConfig,
  type VhostUserDeviceConfig,
  type VirtSerialPortConfig,
  type VsockDeviceConfig,
  vfioDevice,
  vhostUserDevice,
  virtSerialPort,
  vsockDevice,
  type WaitForMigrationOptions,
  waitForMigration,
} from './hotplug.js';
export { REDACTED, redactSecrets } from './redact.js';
export { QmpSchema, type SchemaInfo } from './schema.js';
