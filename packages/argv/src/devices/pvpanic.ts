/** pvpanic (govmm `PVPanicDevice`): the guest reports panics to QEMU. */
import { z } from 'zod';

/** A pvpanic device. */
export const pvpanicDeviceSchema = z.strictObject({
  kind: z.literal('pvpanic'),
  /** Also pass `-no-shutdown` so a panicked guest stays for inspection. @default false */
  noShutdown: z.boolean().optional(),
});
/** Config of a pvpanic device. */
export type PvpanicDeviceConfig = z.infer<typeof pvpanicDeviceSchema>;

/** `-device pvpanic [-no-shutdown]`. */
export function encodePvpanicDevice(d: PvpanicDeviceConfig): string[] {
  return d.noShutdown === true ? ['-device', 'pvpanic', '-no-shutdown'] : ['-device', 'pvpanic'];
}
