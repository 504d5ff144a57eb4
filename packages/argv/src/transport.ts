/**
 * Transport logic for virtio devices, in one place: which bus flavour a device uses (PCI, CCW, MMIO),
 * its driver name suffix, and the transport-specific properties (`disable-modern`, `romfile`,
 * `iommu_platform`, `devno`). Decided from the config's machine type and target architecture, never from
 * the host running this code.
 */
import { z } from 'zod';
import type { EncodeContext } from './context.js';
import type { OptionPair } from './option-string.js';
import { ccwDevno, hostPath } from './values.js';

/** Virtio transports. */
export const TRANSPORTS = ['pci', 'ccw', 'mmio'] as const;
/** One of {@link TRANSPORTS}. */
export type Transport = (typeof TRANSPORTS)[number];

/** Target architectures (Go's GOARCH names, as govmm and Kata use them). */
export const ARCHES = ['amd64', '386', 'arm64', 'ppc64le', 's390x', 'riscv64'] as const;
/** One of {@link ARCHES}. */
export type Arch = (typeof ARCHES)[number];

/**
 * The transport a device gets when it does not name one: `ccw` on s390x, `mmio` for the x86 `microvm`
 * machine, `pci` otherwise (govmm's `Transport.defaultTransport`, with the target arch from the config).
 */
export function defaultTransport(arch: Arch, machineType: string | undefined): Transport {
  if (arch === 's390x') return 'ccw';
  if ((arch === 'amd64' || arch === '386') && machineType === 'microvm') return 'mmio';
  return 'pci';
}

/** Driver name for a virtio device on a transport: `virtio-blk` -> `virtio-blk-pci` / `-ccw` / `-device`. */
export function virtioDriverName(base: string, transport: Transport): string {
  return `${base}-${transport === 'mmio' ? 'device' : transport}`;
}

/** The transport fields every virtio device accepts (spread into device schemas). */
export const transportFields = {
  /** Transport for this device. @default derived from `arch` and `machine.type` ({@link defaultTransport}) */
  transport: z.enum(TRANSPORTS).optional(),
  /** PCI only: `disable-modern=true` (legacy virtio only). @default false */
  disableModern: z.boolean().optional(),
  /** PCI only: option ROM file (`romfile=`). @default none */
  romfile: hostPath.optional(),
  /** CCW only: device number `fe.0.0001` (`devno=`). @default none (QEMU assigns one) */
  devno: ccwDevno.optional(),
};

/** The transport-related fields of a device config. */
export interface TransportFields {
  transport?: Transport | undefined;
  disableModern?: boolean | undefined;
  romfile?: string | undefined;
  devno?: string | undefined;
}

/**
 * Resolve the device's transport and reject transport fields that do not apply to it (govmm drops them
 * silently).
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` naming the field.
 */
export function resolveTransport(dev: TransportFields, ctx: EncodeContext): Transport {
  const t = dev.transport ?? ctx.defaultTransport;
  if (t !== 'pci') {
    if (dev.disableModern === true)
      ctx.fail('disableModern', `disableModern applies to the pci transport only, not ${t}`);
    if (dev.romfile !== undefined) ctx.fail('romfile', `romfile applies to the pci transport only, not ${t}`);
  }
  if (t !== 'ccw' && dev.devno !== undefined)
    ctx.fail('devno', `devno applies to the ccw transport only, not ${t}`);
  return t;
}

/** `disable-modern=true` for PCI devices that ask for it (govmm also writes `=false`; we omit it). */
export function disableModernProp(t: Transport, dev: TransportFields): OptionPair {
  return t === 'pci' && dev.disableModern === true && ['disable-modern', 'true'];
}

/** `romfile=R` for PCI devices that set one. */
export function romfileProp(t: Transport, dev: TransportFields): OptionPair {
  return t === 'pci' && dev.romfile !== undefined && ['romfile', dev.romfile];
}

/**
 * CCW properties: `iommu_platform=on` when `knobs.iommuPlatform` is set and the device supports it, then
 * `devno=` when given (govmm writes an empty `devno=`; we omit it so QEMU assigns one).
 */
export function ccwProps(
  t: Transport,
  dev: TransportFields,
  ctx: EncodeContext,
  iommu: boolean,
): OptionPair[] {
  if (t !== 'ccw') return [];
  return [
    iommu && ctx.iommuPlatform && ['iommu_platform', 'on'],
    dev.devno !== undefined && ['devno', dev.devno],
  ];
}
