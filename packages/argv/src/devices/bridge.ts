/** PCI bridges (govmm `BridgeDevice`): `pci-bridge` and `pcie-pci-bridge`. */
import { z } from 'zod';
import { buildOptions, onOff } from '../option-string.js';
import { hostPath, nonEmptyText, nonNegativeInt, pciAddr, qemuId, reserveSize } from '../values.js';
import { formatPciAddr } from './net.js';

/** Bridge types: `pci` -> `pci-bridge`, `pcie` -> `pcie-pci-bridge`. */
export const BRIDGE_TYPES = ['pci', 'pcie'] as const;

/** A PCI bridge. */
export const bridgeDeviceSchema = z
  .strictObject({
    kind: z.literal('bridge'),
    /** `pci` (pci-bridge, with SHPC and chassis) or `pcie` (pcie-pci-bridge). */
    bridgeType: z.enum(BRIDGE_TYPES),
    /** Parent bus, typically `pci.0` or `pcie.0`. */
    bus: nonEmptyText,
    id: qemuId,
    /** Chassis number (`chassis_nr=`, pci-bridge; QEMU needs 1..255). */
    chassis: nonNegativeInt.max(255).optional(),
    /** Standard hot-plug controller (`shpc=on|off`, pci-bridge). @default false */
    shpc: z.boolean().optional(),
    /** Slot on the parent bus: decimal as in govmm (written hex) or `0x..`. */
    addr: pciAddr.optional(),
    /** Option ROM (`romfile=`). */
    romfile: hostPath.optional(),
    /** `io-reserve=` (pci-bridge). */
    ioReserve: reserveSize.optional(),
    /** `mem-reserve=` (pci-bridge). */
    memReserve: reserveSize.optional(),
    /** `pref64-reserve=` (pci-bridge). */
    pref64Reserve: reserveSize.optional(),
  })
  .superRefine((d, c) => {
    if (d.bridgeType === 'pci' && (d.chassis === undefined || d.chassis === 0)) {
      c.addIssue({
        code: 'custom',
        path: ['chassis'],
        message: 'a pci bridge needs a chassis number 1..255',
      });
    }
    if (d.bridgeType === 'pcie') {
      for (const f of ['chassis', 'shpc', 'ioReserve', 'memReserve', 'pref64Reserve'] as const) {
        if (d[f] !== undefined)
          c.addIssue({ code: 'custom', path: [f], message: `${f} applies to pci bridges only` });
      }
    }
  });
/** Config of a PCI bridge. */
export type BridgeDeviceConfig = z.infer<typeof bridgeDeviceSchema>;

/**
 * `-device pci-bridge,bus=B,id=ID,chassis_nr=N,shpc=on|off` or `-device pcie-pci-bridge,bus=B,id=ID`, then
 * `[,addr=A][,romfile=R][,io-reserve=][,mem-reserve=][,pref64-reserve=]`.
 */
export function encodeBridgeDevice(d: BridgeDeviceConfig): string[] {
  const isPci = d.bridgeType === 'pci';
  return [
    '-device',
    buildOptions(isPci ? 'pci-bridge' : 'pcie-pci-bridge', [
      ['bus', d.bus],
      ['id', d.id],
      isPci && ['chassis_nr', d.chassis ?? 0],
      isPci && ['shpc', onOff(d.shpc === true)],
      d.addr !== undefined && ['addr', formatPciAddr(d.addr)],
      d.romfile !== undefined && ['romfile', d.romfile],
      d.ioReserve !== undefined && ['io-reserve', d.ioReserve],
      d.memReserve !== undefined && ['mem-reserve', d.memReserve],
      d.pref64Reserve !== undefined && ['pref64-reserve', d.pref64Reserve],
    ]),
  ];
}
