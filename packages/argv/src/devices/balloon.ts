/** virtio-balloon (govmm `BalloonDevice`). */
import { z } from 'zod';
import type { EncodeContext } from '../context.js';
import { buildOptions, onOff } from '../option-string.js';
import {
  ccwProps,
  disableModernProp,
  resolveTransport,
  romfileProp,
  transportFields,
  virtioDriverName,
} from '../transport.js';
import { qemuId } from '../values.js';

/** A memory balloon. */
export const balloonDeviceSchema = z.strictObject({
  kind: z.literal('balloon'),
  /** Device id. @default none */
  id: qemuId.optional(),
  /** Let the guest deflate under memory pressure (`deflate-on-oom=`). @default false */
  deflateOnOOM: z.boolean().optional(),
  /** Free page reporting (`free-page-reporting=`). @default not written (QEMU: off) */
  freePageReporting: z.boolean().optional(),
  ...transportFields,
});
/** Config of a virtio-balloon device. */
export type BalloonDeviceConfig = z.infer<typeof balloonDeviceSchema>;

/**
 * `-device virtio-balloon-<t>[,id=ID][,romfile][,devno],deflate-on-oom=on|off[,disable-modern=true][,free-page-reporting=on|off]`.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeBalloonDevice(d: BalloonDeviceConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  return [
    '-device',
    buildOptions(virtioDriverName('virtio-balloon', t), [
      d.id !== undefined && ['id', d.id],
      romfileProp(t, d),
      ...ccwProps(t, d, ctx, false),
      ['deflate-on-oom', onOff(d.deflateOnOOM === true)],
      disableModernProp(t, d),
      d.freePageReporting !== undefined && ['free-page-reporting', onOff(d.freePageReporting)],
    ]),
  ];
}
