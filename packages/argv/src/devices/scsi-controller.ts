/** virtio-scsi controller (govmm `SCSIController`). */
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
import { nonEmptyText, positiveInt, qemuId, qemuPciAddr } from '../values.js';

/** A virtio-scsi controller. */
export const scsiControllerSchema = z.strictObject({
  kind: z.literal('scsi-controller'),
  id: qemuId,
  /** Bus to plug into (`bus=`). @default none */
  bus: nonEmptyText.optional(),
  /** PCI address on that bus (`addr=`, written as given, like govmm). @default none */
  addr: qemuPciAddr.optional(),
  /** IO thread handling the controller's queues (`iothread=`), an id from `ioThreads`. @default none */
  ioThread: qemuId.optional(),
  /** Number of request queues (`num_queues=`). @default QEMU's */
  numQueues: positiveInt.optional(),
  ...transportFields,
});
/** Config of a virtio-scsi controller. */
export type ScsiControllerConfig = z.infer<typeof scsiControllerSchema>;

/**
 * `-device virtio-scsi-<t>,id=ID[,bus=B][,addr=A][,disable-modern=true][,iothread=T][,num_queues=N][,romfile][,iommu_platform,devno]`.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeScsiController(d: ScsiControllerConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  return [
    '-device',
    buildOptions(virtioDriverName('virtio-scsi', t), [
      ['id', d.id],
      d.bus !== undefined && ['bus', d.bus],
      d.addr !== undefined && ['addr', d.addr],
      disableModernProp(t, d),
      d.ioThread !== undefined && ['iothread', d.ioThread],
      d.numQueues !== undefined && ['num_queues', d.numQueues],
      romfileProp(t, d),
      ...ccwProps(t, d, ctx, true),
    ]),
  ];
}
