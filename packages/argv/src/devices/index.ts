/**
 * The `Device` discriminated union (on `kind`) and the registry mapping each kind to its schema and
 * encoder.
 */
import { z } from 'zod';
import type { EncodeContext } from '../context.js';
import { balloonDeviceSchema, encodeBalloonDevice } from './balloon.js';
import { blockDeviceSchema, encodeBlockDevice } from './block.js';
import { bridgeDeviceSchema, encodeBridgeDevice } from './bridge.js';
import {
  charDeviceSchema,
  encodeCharDevice,
  encodeLegacySerial,
  encodeSerialDevice,
  legacySerialSchema,
  serialDeviceSchema,
} from './char.js';
import { encodeFsDevice, fsDeviceSchema } from './fs-9p.js';
import { encodeIommuDevice, iommuDeviceSchema } from './iommu.js';
import { encodeLoaderDevice, loaderDeviceSchema } from './loader.js';
import { encodeNetDevice, netDeviceSchema } from './net.js';
import {
  encodeMemoryBackendEpc,
  encodeMemoryBackendFile,
  encodePefGuest,
  encodeS390PvGuest,
  encodeSevGuest,
  encodeSevSnpGuest,
  encodeTdxGuest,
  memoryBackendEpcSchema,
  memoryBackendFileSchema,
  pefGuestSchema,
  s390PvGuestSchema,
  sevGuestSchema,
  sevSnpGuestSchema,
  tdxGuestSchema,
} from './object.js';
import { encodePcieRootPort, pcieRootPortSchema } from './pcie-root-port.js';
import {
  encodePcieSwitchDownstreamPort,
  encodePcieSwitchUpstreamPort,
  pcieSwitchDownstreamPortSchema,
  pcieSwitchUpstreamPortSchema,
} from './pcie-switch.js';
import { encodePvpanicDevice, pvpanicDeviceSchema } from './pvpanic.js';
import { encodePxbPcie, pxbPcieSchema } from './pxb-pcie.js';
import { encodeRngDevice, rngDeviceSchema } from './rng.js';
import { encodeScsiController, scsiControllerSchema } from './scsi-controller.js';
import { encodeVfioDevice, vfioDeviceSchema } from './vfio.js';
import {
  encodeVhostUserBlk,
  encodeVhostUserFs,
  encodeVhostUserNet,
  encodeVhostUserScsi,
  vhostUserBlkSchema,
  vhostUserFsSchema,
  vhostUserNetSchema,
  vhostUserScsiSchema,
} from './vhost-user.js';
import { encodeVsockDevice, vsockDeviceSchema } from './vsock.js';

/** Schema of any device: a discriminated union on `kind`. */
export const deviceSchema = z.discriminatedUnion('kind', [
  memoryBackendFileSchema,
  memoryBackendEpcSchema,
  sevGuestSchema,
  sevSnpGuestSchema,
  tdxGuestSchema,
  s390PvGuestSchema,
  pefGuestSchema,
  fsDeviceSchema,
  charDeviceSchema,
  legacySerialSchema,
  serialDeviceSchema,
  netDeviceSchema,
  blockDeviceSchema,
  vhostUserNetSchema,
  vhostUserScsiSchema,
  vhostUserBlkSchema,
  vhostUserFsSchema,
  pcieRootPortSchema,
  pcieSwitchUpstreamPortSchema,
  pcieSwitchDownstreamPortSchema,
  pxbPcieSchema,
  vfioDeviceSchema,
  scsiControllerSchema,
  bridgeDeviceSchema,
  vsockDeviceSchema,
  rngDeviceSchema,
  balloonDeviceSchema,
  iommuDeviceSchema,
  pvpanicDeviceSchema,
  loaderDeviceSchema,
]);

/** Any device config. Narrow on `kind`. */
export type Device = z.infer<typeof deviceSchema>;
/** Every device `kind`. */
export type DeviceKind = Device['kind'];
/** The config type of one device kind: `DeviceOfKind<'block'>` is {@link BlockDeviceConfig}. */
export type DeviceOfKind<K extends DeviceKind> = Extract<Device, { kind: K }>;

/** A device encoder: validated config in, argv words out (fds and firmware go through the context). */
export type DeviceEncoder<K extends DeviceKind> = (device: DeviceOfKind<K>, ctx: EncodeContext) => string[];

/** One registry entry: the schema and encoder of a kind. */
export interface DeviceDefinition<K extends DeviceKind> {
  readonly kind: K;
  readonly schema: z.ZodType<DeviceOfKind<K>>;
  readonly encode: DeviceEncoder<K>;
}

function define<K extends DeviceKind>(
  kind: K,
  schema: z.ZodType<DeviceOfKind<K>>,
  encode: DeviceEncoder<K>,
): DeviceDefinition<K> {
  return { kind, schema, encode };
}

/** The registry: every device kind with its schema and encoder. */
export const DEVICE_REGISTRY: { readonly [K in DeviceKind]: DeviceDefinition<K> } = {
  'memory-backend-file': define('memory-backend-file', memoryBackendFileSchema, encodeMemoryBackendFile),
  'memory-backend-epc': define('memory-backend-epc', memoryBackendEpcSchema, encodeMemoryBackendEpc),
  'sev-guest': define('sev-guest', sevGuestSchema, encodeSevGuest),
  'sev-snp-guest': define('sev-snp-guest', sevSnpGuestSchema, encodeSevSnpGuest),
  'tdx-guest': define('tdx-guest', tdxGuestSchema, encodeTdxGuest),
  's390-pv-guest': define('s390-pv-guest', s390PvGuestSchema, encodeS390PvGuest),
  'pef-guest': define('pef-guest', pefGuestSchema, encodePefGuest),
  fs: define('fs', fsDeviceSchema, encodeFsDevice),
  char: define('char', charDeviceSchema, encodeCharDevice),
  'legacy-serial': define('legacy-serial', legacySerialSchema, encodeLegacySerial),
  serial: define('serial', serialDeviceSchema, encodeSerialDevice),
  net: define('net', netDeviceSchema, encodeNetDevice),
  block: define('block', blockDeviceSchema, encodeBlockDevice),
  'vhost-user-net': define('vhost-user-net', vhostUserNetSchema, encodeVhostUserNet),
  'vhost-user-scsi': define('vhost-user-scsi', vhostUserScsiSchema, encodeVhostUserScsi),
  'vhost-user-blk': define('vhost-user-blk', vhostUserBlkSchema, encodeVhostUserBlk),
  'vhost-user-fs': define('vhost-user-fs', vhostUserFsSchema, encodeVhostUserFs),
  'pcie-root-port': define('pcie-root-port', pcieRootPortSchema, encodePcieRootPort),
  'pcie-switch-upstream-port': define(
    'pcie-switch-upstream-port',
    pcieSwitchUpstreamPortSchema,
    encodePcieSwitchUpstreamPort,
  ),
  'pcie-switch-downstream-port': define(
    'pcie-switch-downstream-port',
    pcieSwitchDownstreamPortSchema,
    encodePcieSwitchDownstreamPort,
  ),
  'pxb-pcie': define('pxb-pcie', pxbPcieSchema, encodePxbPcie),
  vfio: define('vfio', vfioDeviceSchema, encodeVfioDevice),
  'scsi-controller': define('scsi-controller', scsiControllerSchema, encodeScsiController),
  bridge: define('bridge', bridgeDeviceSchema, encodeBridgeDevice),
  vsock: define('vsock', vsockDeviceSchema, encodeVsockDevice),
  rng: define('rng', rngDeviceSchema, encodeRngDevice),
  balloon: define('balloon', balloonDeviceSchema, encodeBalloonDevice),
  iommu: define('iommu', iommuDeviceSchema, encodeIommuDevice),
  pvpanic: define('pvpanic', pvpanicDeviceSchema, encodePvpanicDevice),
  loader: define('loader', loaderDeviceSchema, encodeLoaderDevice),
};

/** Every device kind, in registry order. */
export const DEVICE_KINDS: readonly DeviceKind[] = Object.keys(DEVICE_REGISTRY) as DeviceKind[];

/** Encode one validated device (dispatch through the registry). */
export function encodeDeviceWith(device: Device, ctx: EncodeContext): string[] {
  const def = DEVICE_REGISTRY[device.kind] as DeviceDefinition<DeviceKind>;
  return (def.encode as (d: Device, c: EncodeContext) => string[])(device, ctx);
}
