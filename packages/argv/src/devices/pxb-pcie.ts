/** PCIe expander bridge (govmm MAIN `PXBPCIeDevice`): an extra root bus, e.g. one per NUMA node. */
import { z } from 'zod';
import { buildOptions } from '../option-string.js';
import { nonEmptyText, nonNegativeInt, qemuId } from '../values.js';

/** A `pxb-pcie` expander bridge. */
export const pxbPcieSchema = z.strictObject({
  kind: z.literal('pxb-pcie'),
  id: qemuId,
  /** Parent bus. @default 'pcie.0' */
  bus: nonEmptyText.optional(),
  /** First bus number behind the expander (`bus_nr=`). */
  busNr: nonNegativeInt.max(255),
  /** NUMA node (`numa_node=`); must exist in `numaNodes`. @default none */
  numaNode: nonNegativeInt.optional(),
});
/** Config of a PCIe expander bridge. */
export type PxbPcieConfig = z.infer<typeof pxbPcieSchema>;

/** `-device pxb-pcie,id=ID,bus=B,bus_nr=N[,numa_node=M]`. */
export function encodePxbPcie(d: PxbPcieConfig): string[] {
  return [
    '-device',
    buildOptions('pxb-pcie', [
      ['id', d.id],
      ['bus', d.bus ?? 'pcie.0'],
      ['bus_nr', d.busNr],
      d.numaNode !== undefined && ['numa_node', d.numaNode],
    ]),
  ];
}
