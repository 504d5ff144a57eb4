/** Intel VT-d IOMMU (govmm `IommuDev`). */
import { z } from 'zod';
import { buildOptions, onOff } from '../option-string.js';

/** Intel VT-d IOMMU. `intremap` needs the machine option `kernel-irqchip=split`. */
export const iommuDeviceSchema = z.strictObject({
  kind: z.literal('iommu'),
  /** Interrupt remapping (`intremap=`). @default false */
  intremap: z.boolean().optional(),
  /** Device IOTLB (`device-iotlb=`). @default false */
  deviceIotlb: z.boolean().optional(),
  /** Caching mode (`caching-mode=`), needed for VFIO behind the vIOMMU. @default false */
  cachingMode: z.boolean().optional(),
});
/** Config of an intel-iommu device. */
export type IommuDeviceConfig = z.infer<typeof iommuDeviceSchema>;

/** `-device intel-iommu,intremap=on|off,device-iotlb=on|off,caching-mode=on|off`. */
export function encodeIommuDevice(d: IommuDeviceConfig): string[] {
  return [
    '-device',
    buildOptions('intel-iommu', [
      ['intremap', onOff(d.intremap === true)],
      ['device-iotlb', onOff(d.deviceIotlb === true)],
      ['caching-mode', onOff(d.cachingMode === true)],
    ]),
  ];
}
