/** Block devices (govmm `BlockDevice`): `-device virtio-blk-<t>|scsi-hd,... -drive id=ID,file=F,...`. */
import { z } from 'zod';
import type { EncodeContext } from '../context.js';
import { buildOptions } from '../option-string.js';
import { blockFilename } from '../paths.js';
import {
  ccwProps,
  disableModernProp,
  resolveTransport,
  romfileProp,
  transportFields,
  virtioDriverName,
} from '../transport.js';
import { hostPath, nonEmptyText, qemuId, qemuName } from '../values.js';

/** Front ends: `virtio-blk` (transport suffix added) or a SCSI disk on a virtio-scsi controller. */
export const BLOCK_DRIVERS = ['virtio-blk', 'scsi-hd'] as const;
/** `-drive if=`. */
export const BLOCK_INTERFACES = ['none', 'scsi'] as const;
/** `-drive aio=`. */
export const BLOCK_AIO = ['threads', 'native', 'io_uring'] as const;

/** A disk image or host block device. */
export const blockDeviceSchema = z.strictObject({
  kind: z.literal('block'),
  /** Front end. @default 'virtio-blk' */
  driver: z.enum(BLOCK_DRIVERS).optional(),
  /** Drive id (also the device's `serial=`). */
  id: qemuId,
  /** Image file or host block device. */
  file: hostPath,
  /** `if=`. @default 'none' */
  interface: z.enum(BLOCK_INTERFACES).optional(),
  /** `aio=`. @default 'threads' */
  aio: z.enum(BLOCK_AIO).optional(),
  /** Image format (`format=`), e.g. `raw`, `qcow2`. @default 'raw' */
  format: qemuName.optional(),
  /** virtio-blk SCSI passthrough; govmm writes `scsi=off` unless set. @default false */
  scsi: z.boolean().optional(),
  /** Write cache enable; govmm writes `config-wce=off` unless set. @default false */
  wce: z.boolean().optional(),
  /** Read-only drive (`readonly=on`). @default false */
  readOnly: z.boolean().optional(),
  /** Allow other writers (`share-rw=on`). @default false */
  shareRW: z.boolean().optional(),
  /** Pass discards to the host (`discard=unmap` on the drive). @default false */
  discard: z.boolean().optional(),
  /** Bus of the front end (`bus=`), e.g. `scsi0.0` for scsi-hd. @default none */
  bus: nonEmptyText.optional(),
  ...transportFields,
});
/** Config of a block device. */
export type BlockDeviceConfig = z.infer<typeof blockDeviceSchema>;

/**
 * `-device virtio-blk-<t>[,disable-modern=true],drive=ID[,scsi=off][,config-wce=off][,romfile][,devno]
 *  [,share-rw=on],serial=ID -drive id=ID,file=F,aio=A,format=FMT,if=IFACE[,readonly=on][,discard=unmap]`.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeBlockDevice(d: BlockDeviceConfig, ctx: EncodeContext): string[] {
  const isVirtio = (d.driver ?? 'virtio-blk') === 'virtio-blk';
  let device: string;
  if (isVirtio) {
    const t = resolveTransport(d, ctx);
    device = buildOptions(virtioDriverName('virtio-blk', t), [
      disableModernProp(t, d),
      ['drive', d.id],
      d.bus !== undefined && ['bus', d.bus],
      d.scsi !== true && ['scsi', 'off'],
      d.wce !== true && ['config-wce', 'off'],
      romfileProp(t, d),
      ...ccwProps(t, d, ctx, false),
      d.shareRW === true && ['share-rw', 'on'],
      ['serial', d.id],
    ]);
  } else {
    for (const f of ['transport', 'disableModern', 'romfile', 'devno', 'scsi', 'wce'] as const) {
      if (d[f] !== undefined) ctx.fail(f, `${f} applies to driver virtio-blk only, not ${d.driver}`);
    }
    device = buildOptions(d.driver, [
      ['drive', d.id],
      d.bus !== undefined && ['bus', d.bus],
      d.shareRW === true && ['share-rw', 'on'],
      ['serial', d.id],
    ]);
  }
  const drive = buildOptions(undefined, [
    ['id', d.id],
    ['file', blockFilename(d.file)],
    ['aio', d.aio ?? 'threads'],
    ['format', d.format ?? 'raw'],
    ['if', d.interface ?? 'none'],
    d.readOnly === true && ['readonly', 'on'],
    d.discard === true && ['discard', 'unmap'],
  ]);
  return ['-device', device, '-drive', drive];
}
