/**
 * vhost-user devices (govmm `VhostUserDevice`): a `-chardev socket` to an external backend plus the
 * front end for net, scsi, blk or fs.
 */
import { z } from 'zod';
import type { EncodeContext } from '../context.js';
import { buildOptions, type OptionPair } from '../option-string.js';
import {
  ccwProps,
  resolveTransport,
  romfileProp,
  type Transport,
  type TransportFields,
  transportFields,
  virtioDriverName,
} from '../transport.js';
import { hostPath, macAddress, nonEmptyText, positiveInt, qemuId } from '../values.js';

const common = {
  /** Path of the backend's unix socket. */
  socketPath: hostPath,
  /** Id of the `-chardev socket`. */
  charDevId: qemuId,
  ...transportFields,
};

/** vhost-user network backend (e.g. a DPDK/OVS port). */
export const vhostUserNetSchema = z.strictObject({
  kind: z.literal('vhost-user-net'),
  ...common,
  /** Netdev id. */
  typeDevId: qemuId,
  /** Guest MAC (`mac=`). */
  address: macAddress,
});
/** Config of a vhost-user network device. */
export type VhostUserNetConfig = z.infer<typeof vhostUserNetSchema>;

/** vhost-user SCSI backend (e.g. SPDK). pci or mmio only: QEMU has no vhost-user-scsi-ccw. */
export const vhostUserScsiSchema = z.strictObject({
  kind: z.literal('vhost-user-scsi'),
  ...common,
  /** Device id. */
  typeDevId: qemuId,
});
/** Config of a vhost-user SCSI device. */
export type VhostUserScsiConfig = z.infer<typeof vhostUserScsiSchema>;

/**
 * vhost-user block backend (e.g. SPDK, qemu-storage-daemon). pci or mmio only: QEMU has no
 * vhost-user-blk-ccw.
 */
export const vhostUserBlkSchema = z.strictObject({
  kind: z.literal('vhost-user-blk'),
  ...common,
  /** Device id. @default none */
  typeDevId: qemuId.optional(),
});
/** Config of a vhost-user block device. */
export type VhostUserBlkConfig = z.infer<typeof vhostUserBlkSchema>;

/** vhost-user filesystem (virtiofsd). */
export const vhostUserFsSchema = z.strictObject({
  kind: z.literal('vhost-user-fs'),
  ...common,
  /** Mount tag the guest uses (`tag=`). */
  tag: nonEmptyText,
  /** Virtqueue size (`queue-size=`). @default QEMU's (128 in 7.2; govmm MAIN writes 1024) */
  queueSize: positiveInt.optional(),
  /** DAX window in MiB (`cache-size=NM`); needs a QEMU with virtio-fs DAX (not upstream 7.2). @default none */
  cacheSize: positiveInt.optional(),
  /** `versiontable=/dev/shm/fuse_shared_versions` (virtio-fs fork only). @default false */
  sharedVersions: z.boolean().optional(),
});
/** Config of a vhost-user filesystem device. */
export type VhostUserFsConfig = z.infer<typeof vhostUserFsSchema>;

/** Any vhost-user device. */
export type VhostUserConfig =
  | VhostUserNetConfig
  | VhostUserScsiConfig
  | VhostUserBlkConfig
  | VhostUserFsConfig;

function chardev(d: VhostUserConfig): string[] {
  return [
    '-chardev',
    buildOptions('socket', [
      ['id', d.charDevId],
      ['path', d.socketPath],
    ]),
  ];
}

function noDisableModern(d: TransportFields, ctx: EncodeContext): void {
  if (d.disableModern === true) ctx.fail('disableModern', 'vhost-user devices are modern-only');
}

/**
 * Driver of the vhost-user SCSI and block front ends, which QEMU 7.2 builds for PCI and
 * as a bare virtio-bus device only: `vhost-user-blk-pci` on pci, `vhost-user-blk` on mmio (there is no
 * `vhost-user-blk-device`), and no `-ccw` variant at all, so ccw is refused (govmm writes the missing
 * `-ccw`/`-device` names, which QEMU rejects as "not a valid device model name").
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` at `transport` on ccw.
 */
function noCcwDriver(base: 'vhost-user-scsi' | 'vhost-user-blk', t: Transport, ctx: EncodeContext): string {
  if (t === 'ccw') {
    ctx.fail('transport', `QEMU has no ${base}-ccw device: ${base} needs the pci or mmio transport`);
  }
  return t === 'mmio' ? base : virtioDriverName(base, t);
}

/**
 * `-chardev socket,id=C,path=S -netdev type=vhost-user,id=N,chardev=C,vhostforce=on -device virtio-net-<t>,netdev=N,mac=M[,romfile][,iommu_platform=on][,devno=D]`.
 * On ccw, `iommu_platform=on` (with `knobs.iommuPlatform`) and `devno` are written as for every other
 * virtio-net-ccw (govmm writes neither for vhost-user net).
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeVhostUserNet(d: VhostUserNetConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  noDisableModern(d, ctx);
  return [
    ...chardev(d),
    '-netdev',
    buildOptions(undefined, [
      ['type', 'vhost-user'],
      ['id', d.typeDevId],
      ['chardev', d.charDevId],
      ['vhostforce', 'on'],
    ]),
    '-device',
    buildOptions(virtioDriverName('virtio-net', t), [
      ['netdev', d.typeDevId],
      ['mac', d.address],
      romfileProp(t, d),
      ...ccwProps(t, d, ctx, true),
    ]),
  ];
}

/**
 * `-chardev socket,... -device vhost-user-scsi-pci|vhost-user-scsi,id=ID,chardev=C[,romfile]` (pci / mmio).
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` on ccw (QEMU has no vhost-user-scsi-ccw) and for a field that
 *   does not apply to the resolved transport.
 */
export function encodeVhostUserScsi(d: VhostUserScsiConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  noDisableModern(d, ctx);
  return [
    ...chardev(d),
    '-device',
    buildOptions(noCcwDriver('vhost-user-scsi', t, ctx), [
      ['id', d.typeDevId],
      ['chardev', d.charDevId],
      romfileProp(t, d),
    ]),
  ];
}

/**
 * `-chardev socket,... -device vhost-user-blk-pci|vhost-user-blk[,id=ID],chardev=C[,romfile]` (pci / mmio).
 * govmm also writes `logical_block_size=4096,size=512M`, properties vhost-user-blk does not have (QEMU
 * 7.2 rejects them).
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` on ccw (QEMU has no vhost-user-blk-ccw) and for a field that
 *   does not apply to the resolved transport.
 */
export function encodeVhostUserBlk(d: VhostUserBlkConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  noDisableModern(d, ctx);
  return [
    ...chardev(d),
    '-device',
    buildOptions(noCcwDriver('vhost-user-blk', t, ctx), [
      d.typeDevId !== undefined && ['id', d.typeDevId],
      ['chardev', d.charDevId],
      romfileProp(t, d),
    ]),
  ];
}

/**
 * `-chardev socket,... -device vhost-user-fs-<t>,chardev=C,tag=T[,queue-size][,cache-size][,versiontable][,iommu,devno][,romfile]`.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeVhostUserFs(d: VhostUserFsConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  noDisableModern(d, ctx);
  const pairs: OptionPair[] = [
    ['chardev', d.charDevId],
    ['tag', d.tag],
    d.queueSize !== undefined && ['queue-size', d.queueSize],
    d.cacheSize !== undefined && ['cache-size', `${d.cacheSize}M`],
    d.sharedVersions === true && ['versiontable', '/dev/shm/fuse_shared_versions'],
    ...ccwProps(t, d, ctx, true),
    romfileProp(t, d),
  ];
  return [...chardev(d), '-device', buildOptions(virtioDriverName('vhost-user-fs', t), pairs)];
}
