/** PCIe root ports (govmm `PCIeRootPortDevice`), the hotplug slots of a q35/virt machine. */
import { z } from 'zod';
import { buildOptions, onOff } from '../option-string.js';
import { nonEmptyText, nonNegativeInt, qemuId, qemuPciAddr, reserveSize } from '../values.js';

/** A PCIe root port. */
export const pcieRootPortSchema = z
  .strictObject({
    kind: z.literal('pcie-root-port'),
    id: qemuId,
    /** Parent bus. @default 'pcie.0' */
    bus: nonEmptyText.optional(),
    /** Chassis number (`chassis=`). @default '0x00' */
    chassis: z
      .union([z.string().regex(/^(0x[0-9A-Fa-f]{1,2}|[0-9]{1,3})$/), nonNegativeInt.max(255)])
      .optional(),
    /** Slot number (`slot=`). @default '0x00' */
    slot: z
      .union([z.string().regex(/^(0x[0-9A-Fa-f]{1,4}|[0-9]{1,5})$/), nonNegativeInt.max(65535)])
      .optional(),
    /** Address on the parent bus (`addr=`, QEMU syntax, written as given), whenever set (govmm G22 only with multifunction). */
    addr: qemuPciAddr.optional(),
    /** `multifunction=on|off`. @default false */
    multifunction: z.boolean().optional(),
    /** Buses to reserve behind the port (`bus-reserve=`). */
    busReserve: nonNegativeInt.optional(),
    /** 64-bit prefetchable window (`pref64-reserve=`); not with pref32Reserve. */
    pref64Reserve: reserveSize.optional(),
    /** 32-bit prefetchable window (`pref32-reserve=`); not with pref64Reserve. */
    pref32Reserve: reserveSize.optional(),
    /** Memory window (`mem-reserve=`). */
    memReserve: reserveSize.optional(),
    /** I/O window (`io-reserve=`). */
    ioReserve: reserveSize.optional(),
    /** Option ROM (`romfile=`). */
    romfile: nonEmptyText.optional(),
  })
  .superRefine((d, c) => {
    if (d.pref32Reserve !== undefined && d.pref64Reserve !== undefined) {
      c.addIssue({
        code: 'custom',
        path: ['pref32Reserve'],
        message: 'pref32Reserve and pref64Reserve are mutually exclusive',
      });
    }
  });
/** Config of a PCIe root port. */
export type PcieRootPortConfig = z.infer<typeof pcieRootPortSchema>;

/**
 * `-device pcie-root-port,id=ID,bus=B,chassis=C,slot=S[,addr=A],multifunction=on|off[,bus-reserve=]
 *  [,pref64-reserve=][,pref32-reserve=][,mem-reserve=][,io-reserve=][,romfile=]`.
 */
export function encodePcieRootPort(d: PcieRootPortConfig): string[] {
  return [
    '-device',
    buildOptions('pcie-root-port', [
      ['id', d.id],
      ['bus', d.bus ?? 'pcie.0'],
      ['chassis', d.chassis ?? '0x00'],
      ['slot', d.slot ?? '0x00'],
      d.addr !== undefined && ['addr', d.addr],
      ['multifunction', onOff(d.multifunction === true)],
      d.busReserve !== undefined && ['bus-reserve', d.busReserve],
      d.pref64Reserve !== undefined && ['pref64-reserve', d.pref64Reserve],
      d.pref32Reserve !== undefined && ['pref32-reserve', d.pref32Reserve],
      d.memReserve !== undefined && ['mem-reserve', d.memReserve],
      d.ioReserve !== undefined && ['io-reserve', d.ioReserve],
      d.romfile !== undefined && ['romfile', d.romfile],
    ]),
  ];
}
