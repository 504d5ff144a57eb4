/**
 * @vmm/argv: pure, validated, injection-proof encoders from typed VM and device configs to QEMU argv.
 */

export {
  type FwCfgConfig,
  fwCfgSchema,
  type IncomingConfig,
  incomingSchema,
  type KernelConfig,
  type KnobsConfig,
  kernelSchema,
  knobsSchema,
  type MachineConfig,
  type MemoryConfig,
  machineSchema,
  memorySchema,
  type NumaDistanceConfig,
  type NumaNodeConfig,
  numaDistanceSchema,
  numaNodeSchema,
  type QemuConfig,
  QMP_PROTOCOLS,
  type QmpSocketConfig,
  qemuConfigSchema,
  qmpSocketSchema,
  type RtcConfig,
  rtcSchema,
  type SmpConfig,
  smpSchema,
} from './config.js';
export type {
  EncodeContext,
  FdSpec,
} from './context.js';
export { type BalloonDeviceConfig, balloonDeviceSchema, encodeBalloonDevice } from './devices/balloon.js';
export {
  BLOCK_AIO,
  BLOCK_DRIVERS,
  BLOCK_INTERFACES,
  type BlockDeviceConfig,
  blockDeviceSchema,
  encodeBlockDevice,
} from './devices/block.js';
export {
  BRIDGE_TYPES,
  type BridgeDeviceConfig,
  bridgeDeviceSchema,
  encodeBridgeDevice,
} from './devices/bridge.js';
export {
  CHAR_BACKENDS,
  CHAR_DRIVERS,
  type CharBackend,
  type CharDeviceConfig,
  charDeviceSchema,
  encodeCharDevice,
  encodeLegacySerial,
  encodeSerialDevice,
  type LegacySerialConfig,
  legacySerialSchema,
  type SerialDeviceConfig,
  serialDeviceSchema,
} from './devices/char.js';
export {
  encodeFsDevice,
  FS_DRIVERS,
  type FsDeviceConfig,
  fsDeviceSchema,
  MULTIDEVS,
  SECURITY_MODELS,
} from './devices/fs-9p.js';
export {
  DEVICE_KINDS,
  DEVICE_REGISTRY,
  type Device,
  type DeviceDefinition,
  type DeviceEncoder,
  type DeviceKind,
  type DeviceOfKind,
  deviceSchema,
} from './devices/index.js';
export { encodeIommuDevice, type IommuDeviceConfig, iommuDeviceSchema } from './devices/iommu.js';
export { encodeLoaderDevice, type LoaderDeviceConfig, loaderDeviceSchema } from './devices/loader.js';
export { encodeNetDevice, NET_TYPES, type NetDeviceConfig, netDeviceSchema } from './devices/net.js';
export {
  encodeMemoryBackendEpc,
  encodeMemoryBackendFile,
  encodePefGuest,
  encodeS390PvGuest,
  encodeSevGuest,
  encodeSevSnpGuest,
  encodeTdxGuest,
  type MemoryBackendEpcConfig,
  type MemoryBackendFileConfig,
  MIN_NVDIMM_LABEL_SIZE,
  memoryBackendEpcSchema,
  memoryBackendFileSchema,
  type PefGuestConfig,
  pefGuestSchema,
  type S390PvGuestConfig,
  type SevGuestConfig,
  type SevSnpGuestConfig,
  s390PvGuestSchema,
  sevGuestSchema,
  sevSnpGuestSchema,
  type TdxGuestConfig,
  tdxGuestSchema,
} from './devices/object.js';
export { encodePcieRootPort, type PcieRootPortConfig, pcieRootPortSchema } from './devices/pcie-root-port.js';
export {
  encodePcieSwitchDownstreamPort,
  encodePcieSwitchUpstreamPort,
  type PcieSwitchDownstreamPortConfig,
  type PcieSwitchUpstreamPortConfig,
  pcieSwitchDownstreamPortSchema,
  pcieSwitchUpstreamPortSchema,
} from './devices/pcie-switch.js';
export { encodePvpanicDevice, type PvpanicDeviceConfig, pvpanicDeviceSchema } from './devices/pvpanic.js';
export { encodePxbPcie, type PxbPcieConfig, pxbPcieSchema } from './devices/pxb-pcie.js';
export { encodeRngDevice, type RngDeviceConfig, rngDeviceSchema } from './devices/rng.js';
export {
  encodeScsiController,
  type ScsiControllerConfig,
  scsiControllerSchema,
} from './devices/scsi-controller.js';
export {
  encodeVfioDevice,
  VFIO_TRANSPORTS,
  type VfioDeviceConfig,
  vfioDeviceSchema,
} from './devices/vfio.js';
export {
  encodeVhostUserBlk,
  encodeVhostUserFs,
  encodeVhostUserNet,
  encodeVhostUserScsi,
  type VhostUserBlkConfig,
  type VhostUserConfig,
  type VhostUserFsConfig,
  type VhostUserNetConfig,
  type VhostUserScsiConfig,
  vhostUserBlkSchema,
  vhostUserFsSchema,
  vhostUserNetSchema,
  vhostUserScsiSchema,
} from './devices/vhost-user.js';
export {
  encodeVsockDevice,
  MAX_GUEST_CID,
  MIN_GUEST_CID,
  type VsockDeviceConfig,
  vsockDeviceSchema,
} from './devices/vsock.js';
export {
  type EncodeDeviceOptions,
  type EncodeOptions,
  encodeDevice,
  encodeQemuArgv,
  type QemuArgv,
  validateDevice,
  validateQemuConfig,
} from './encode.js';
export {
  ARGV_ERROR_CODES,
  ArgvError,
  type ArgvErrorCode,
  type ArgvErrorOptions,
  type ArgvIssue,
} from './errors.js';
export { type ExplainedOption, explainArgv } from './explain.js';
export {
  encodeOptionString,
  escapeOptionValue,
  OPTION_IMPLIED_KEYS,
  type OptionEntry,
  type ParseOptionStringOptions,
  parseOptionPairs,
  parseOptionString,
} from './option-string.js';
export { blockFilename } from './paths.js';
export {
  ARCHES,
  type Arch,
  defaultTransport,
  TRANSPORTS,
  type Transport,
  type TransportFields,
  virtioDriverName,
} from './transport.js';
export { isWellFormedId, MAC_ADDRESS_PATTERN, QEMU_ID_PATTERN } from './values.js';
