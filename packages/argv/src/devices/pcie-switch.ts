/** PCIe switch ports (govmm MAIN `PCIeSwitchUpstreamPortDevice` / `PCIeSwitchDownstreamPortDevice`). */
import { z } from 'zod';
import { buildOptions } from '../option-string.js';
import { nonEmptyText, nonNegativeInt, qemuId, reserveSize } from '../values.js';

/** Upstream port of a PCIe switch (`x3130-upstream`), plugged into a root port. */
export const pcieSwitchUpstreamPortSchema = z.strictObject({
  kind: z.literal('pcie-switch-upstream-port'),
  id: qemuId,
  /** Parent bus: a root port's id. */
  bus: nonEmptyText,
});
/** Config of a PCIe switch upstream port. */
export type PcieSwitchUpstreamPortConfig = z.infer<typeof pcieSwitchUpstreamPortSchema>;

/** `-device x3130-upstream,id=ID,bus=B`. */
export function encodePcieSwitchUpstreamPort(d: PcieSwitchUpstreamPortConfig): string[] {
  return [
    '-device',
    buildOptions('x3130-upstream', [
      ['id', d.id],
      ['bus', d.bus],
    ]),
  ];
}

/** Downstream port of a PCIe switch (`xio3130-downstream`). */
export const pcieSwitchDownstreamPortSchema = z.strictObject({
  kind: z.literal('pcie-switch-downstream-port'),
  id: qemuId,
  /** Parent bus: the upstream port's id. */
  bus: nonEmptyText,
  /** Chassis number. */
  chassis: nonNegativeInt.max(255),
  /** Slot number. */
  slot: nonNegativeInt.max(65535),
  /** `bus-reserve=` (QEMU versions with resource reservation on xio3130). */
  busReserve: nonNegativeInt.optional(),
  /** `mem-reserve=`. */
  memReserve: reserveSize.optional(),
  /** `pref64-reserve=`. */
  pref64Reserve: reserveSize.optional(),
  /** `pref32-reserve=`. */
  pref32Reserve: reserveSize.optional(),
  /** `io-reserve=`. */
  ioReserve: reserveSize.optional(),
});
/** Config of a PCIe switch downstream port. */
export type PcieSwitchDownstreamPortConfig = z.infer<typeof pcieSwitchDownstreamPortSchema>;

/** `-device xio3130-downstream,id=ID,bus=B,chassis=C,slot=S[,bus-reserve][,mem-reserve][,pref64-reserve][,pref32-reserve][,io-reserve]`. */
export function encodePcieSwitchDownstreamPort(d: PcieSwitchDownstreamPortConfig): string[] {
  return [
    '-device',
    buildOptions('xio3130-downstream', [
      ['id', d.id],
      ['bus', d.bus],
      ['chassis', d.chassis],
      ['slot', d.slot],
      d.busReserve !== undefined && ['bus-reserve', d.busReserve],
      d.memReserve !== undefined && ['mem-reserve', d.memReserve],
      d.pref64Reserve !== undefined && ['pref64-reserve', d.pref64Reserve],
      d.pref32Reserve !== undefined && ['pref32-reserve', d.pref32Reserve],
      d.ioReserve !== undefined && ['io-reserve', d.ioReserve],
    ]),
  ];
}
