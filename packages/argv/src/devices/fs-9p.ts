/** virtio-9p shared directory (govmm `FSDevice`): `-device virtio-9p-<t>,... -fsdev ...`. */
import { z } from 'zod';
import type { EncodeContext } from '../context.js';
import { buildOptions } from '../option-string.js';
import {
  ccwProps,
  disableModernProp,
  resolveTransport,
  romfileProp,
  transportFields,
  virtioDriverName,
} from '../transport.js';
import { hostPath, nonEmptyText, qemuId } from '../values.js';

/** 9p filesystem drivers (`-fsdev` backends). */
export const FS_DRIVERS = ['local', 'handle', 'proxy', 'synth'] as const;
/** 9p security models. */
export const SECURITY_MODELS = ['none', 'passthrough', 'mapped-xattr', 'mapped-file', 'mapped'] as const;
/** How 9p handles several host devices under one export. */
export const MULTIDEVS = ['remap', 'forbid', 'warn'] as const;

/** A 9p export. */
export const fsDeviceSchema = z.strictObject({
  kind: z.literal('fs'),
  /** `-fsdev` driver. */
  fsDriver: z.enum(FS_DRIVERS),
  /** fsdev id. */
  id: qemuId,
  /** Host directory to export. */
  path: hostPath,
  /** Tag the guest mounts (`mount -t 9p TAG`). */
  mountTag: nonEmptyText,
  /** `security_model=`. @default none emitted (QEMU requires it for `local`) */
  securityModel: z.enum(SECURITY_MODELS).optional(),
  /** `multidevs=`. @default none emitted */
  multidevs: z.enum(MULTIDEVS).optional(),
  ...transportFields,
});
/** Config of a 9p export. */
export type FsDeviceConfig = z.infer<typeof fsDeviceSchema>;

/**
 * `-device virtio-9p-<t>[,disable-modern=true],fsdev=ID,mount_tag=T[,romfile=R][,iommu_platform=on][,devno=D]
 *  -fsdev DRIVER,id=ID,path=P[,security_model=SM][,multidevs=M]`.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeFsDevice(d: FsDeviceConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  return [
    '-device',
    buildOptions(virtioDriverName('virtio-9p', t), [
      disableModernProp(t, d),
      ['fsdev', d.id],
      ['mount_tag', d.mountTag],
      romfileProp(t, d),
      ...ccwProps(t, d, ctx, true),
    ]),
    '-fsdev',
    buildOptions(d.fsDriver, [
      ['id', d.id],
      ['path', d.path],
      d.securityModel !== undefined && ['security_model', d.securityModel],
      d.multidevs !== undefined && ['multidevs', d.multidevs],
    ]),
  ];
}
