/** virtio-rng (govmm `RngDevice`): entropy from a host file. */
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
import { hostPath, positiveInt, qemuId } from '../values.js';

/** A virtio-rng device with its `rng-random` backend. */
export const rngDeviceSchema = z.strictObject({
  kind: z.literal('rng'),
  /** Backend object id. */
  id: qemuId,
  /** Entropy source (`filename=`). @default QEMU's (/dev/urandom) */
  filename: hostPath.optional(),
  /** Bytes allowed per `period` (`max-bytes=`). @default unlimited */
  maxBytes: positiveInt.optional(),
  /** Period in ms (`period=`). @default 1000 when maxBytes is set */
  period: positiveInt.optional(),
  ...transportFields,
});
/** Config of a virtio-rng device. */
export type RngDeviceConfig = z.infer<typeof rngDeviceSchema>;

/**
 * `-object rng-random,id=ID[,filename=F] -device virtio-rng-<t>,rng=ID[,disable-modern][,romfile][,iommu_platform,devno][,max-bytes=N][,period=N]`.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeRngDevice(d: RngDeviceConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  return [
    '-object',
    buildOptions('rng-random', [['id', d.id], d.filename !== undefined && ['filename', d.filename]]),
    '-device',
    buildOptions(virtioDriverName('virtio-rng', t), [
      ['rng', d.id],
      disableModernProp(t, d),
      romfileProp(t, d),
      ...ccwProps(t, d, ctx, true),
      d.maxBytes !== undefined && ['max-bytes', d.maxBytes],
      d.period !== undefined && ['period', d.period],
    ]),
  ];
}
