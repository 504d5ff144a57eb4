/** Host device assignment (govmm `VFIODevice`): PCI (BDF or mediated sysfsdev), CCW, AP. */
import { z } from 'zod';
import type { EncodeContext } from '../context.js';
import { buildOptions } from '../option-string.js';
import { ccwDevno, hostPath, nonEmptyText, pciBdf, pciId, qemuId } from '../values.js';

/** VFIO transports: `vfio-pci`, `vfio-ccw`, `vfio-ap`. */
export const VFIO_TRANSPORTS = ['pci', 'ccw', 'ap'] as const;

/** A VFIO host device. */
export const vfioDeviceSchema = z
  .strictObject({
    kind: z.literal('vfio'),
    /** Host PCI address (`host=`), e.g. `0000:01:00.0`. Exactly one of bdf / sysfsDev. */
    bdf: pciBdf.optional(),
    /** sysfs path (`sysfsdev=`), for mediated devices, vfio-ccw and vfio-ap. */
    sysfsDev: hostPath.optional(),
    /** Device id (`id=`). @default none */
    id: qemuId.optional(),
    /** Vendor id presented to the guest (`x-pci-vendor-id=`, pci). */
    vendorId: pciId.optional(),
    /** Device id presented to the guest (`x-pci-device-id=`, pci). */
    deviceId: pciId.optional(),
    /** Option ROM (`romfile=`, pci). */
    romfile: hostPath.optional(),
    /** Bus to plug into (`bus=`). */
    bus: nonEmptyText.optional(),
    /** CCW device number (`devno=`, ccw). */
    devno: ccwDevno.optional(),
    /** Transport. @default derived: `ccw` on s390x, else `pci` */
    transport: z.enum(VFIO_TRANSPORTS).optional(),
  })
  .superRefine((d, c) => {
    if ((d.bdf === undefined) === (d.sysfsDev === undefined)) {
      c.addIssue({ code: 'custom', path: ['bdf'], message: 'exactly one of bdf and sysfsDev is required' });
    }
    if (d.transport === 'ap' && d.sysfsDev === undefined) {
      c.addIssue({ code: 'custom', path: ['sysfsDev'], message: 'vfio-ap needs sysfsDev' });
    }
  });
/** Config of a VFIO device. */
export type VfioDeviceConfig = z.infer<typeof vfioDeviceSchema>;

/**
 * `-device vfio-pci,host=BDF|sysfsdev=S[,id=ID][,x-pci-vendor-id=V][,x-pci-device-id=D][,romfile=R][,bus=B]`,
 * `-device vfio-ccw,...[,bus=B][,devno=D]`, `-device vfio-ap,sysfsdev=S`.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeVfioDevice(d: VfioDeviceConfig, ctx: EncodeContext): string[] {
  const t = d.transport ?? (ctx.defaultTransport === 'ccw' ? 'ccw' : 'pci');
  if (t !== 'pci') {
    for (const f of ['vendorId', 'deviceId', 'romfile'] as const) {
      if (d[f] !== undefined) ctx.fail(f, `${f} applies to vfio-pci only, not vfio-${t}`);
    }
  }
  if (t !== 'ccw' && d.devno !== undefined)
    ctx.fail('devno', `devno applies to vfio-ccw only, not vfio-${t}`);
  return [
    '-device',
    buildOptions(`vfio-${t}`, [
      d.bdf !== undefined && ['host', d.bdf],
      d.sysfsDev !== undefined && ['sysfsdev', d.sysfsDev],
      d.id !== undefined && ['id', d.id],
      d.vendorId !== undefined && ['x-pci-vendor-id', d.vendorId],
      d.deviceId !== undefined && ['x-pci-device-id', d.deviceId],
      d.romfile !== undefined && ['romfile', d.romfile],
      d.bus !== undefined && ['bus', d.bus],
      d.devno !== undefined && ['devno', d.devno],
    ]),
  ];
}
