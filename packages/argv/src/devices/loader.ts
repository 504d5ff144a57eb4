/** Generic loader (govmm `LoaderDevice`): puts a file in guest memory. */
import { z } from 'zod';
import { buildOptions } from '../option-string.js';
import { hostPath, qemuId } from '../values.js';

/** A loader device. */
export const loaderDeviceSchema = z.strictObject({
  kind: z.literal('loader'),
  id: qemuId,
  /** File to load (`file=`). */
  file: hostPath,
});
/** Config of a loader device. */
export type LoaderDeviceConfig = z.infer<typeof loaderDeviceSchema>;

/** `-device loader,file=F,id=ID`. */
export function encodeLoaderDevice(d: LoaderDeviceConfig): string[] {
  return [
    '-device',
    buildOptions('loader', [
      ['file', d.file],
      ['id', d.id],
    ]),
  ];
}
