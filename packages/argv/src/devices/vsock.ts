/** vhost-vsock (govmm `VSOCKDevice`): AF_VSOCK between host and guest. */
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
import { hostFd, qemuId } from '../values.js';

/** Smallest context id a guest may use (0-2 are reserved). */
export const MIN_GUEST_CID = 3;
/** Largest context id (2^32 - 2; 2^32 - 1 is VMADDR_CID_ANY). */
export const MAX_GUEST_CID = 2 ** 32 - 2;

/** A vhost-vsock device. */
export const vsockDeviceSchema = z.strictObject({
  kind: z.literal('vsock'),
  id: qemuId,
  /** Guest context id (`guest-cid=`), 3..2^32-2. */
  contextId: z.number().int().min(MIN_GUEST_CID).max(MAX_GUEST_CID),
  /** An open /dev/vhost-vsock fd in the launching process (`vhostfd=`). @default QEMU opens it */
  vhostFd: hostFd.optional(),
  ...transportFields,
});
/** Config of a vhost-vsock device. */
export type VsockDeviceConfig = z.infer<typeof vsockDeviceSchema>;

/**
 * `-device vhost-vsock-<t>[,disable-modern=true][,vhostfd=N],id=ID,guest-cid=CID[,romfile][,iommu_platform,devno]`.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeVsockDevice(d: VsockDeviceConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  const fd = d.vhostFd === undefined ? undefined : ctx.allocFds([d.vhostFd], 'vhostFd', true)[0];
  return [
    '-device',
    buildOptions(virtioDriverName('vhost-vsock', t), [
      disableModernProp(t, d),
      fd !== undefined && ['vhostfd', fd],
      ['id', d.id],
      ['guest-cid', d.contextId],
      romfileProp(t, d),
      ...ccwProps(t, d, ctx, true),
    ]),
  ];
}
