/** Options of {@link createQemuArch}, as one zod schema. */
import { z } from 'zod';
import { ACCELERATORS, ARCH_NAMES, GIC_VERSIONS } from './arch/rules.js';
import { QemuArchError } from './errors.js';

/** Options of `createQemuArch`. */
export const qemuArchOptionsSchema = z.strictObject({
  /** Target architecture (Go names: `amd64`, `arm64`, `ppc64le`, `s390x`). */
  arch: z.enum(ARCH_NAMES),
  /** Machine type. @default the arch's default: `pc`, `virt`, `pseries`, `s390-ccw-virtio` */
  machineType: z.string().min(1).optional(),
  /** Accelerator written as `accel=`. `tcg` is for tests and foreign architectures. @default 'kvm' */
  accel: z.enum(ACCELERATORS).optional(),
  /**
   * Extra machine options appended after the arch's own (Kata `MachineAccelerators`), QEMU option syntax
   * such as `nosmm` or `dump-guest-core=off`. @default none
   */
  machineAccelerators: z.string().min(1).optional(),
  /** CPU model. Use `max` under TCG, which has no `host`. @default 'host' */
  cpuModel: z
    .string()
    .regex(/^[A-Za-z0-9_.+-]+$/, 'must be a CPU model name such as host, max or Skylake-Client')
    .optional(),
  /** CPU features appended to the model (Kata `CPUFeatures`), e.g. `pmu=off,+x2apic`. @default none */
  cpuFeatures: z
    .string()
    .regex(/^[A-Za-z0-9_.+=-]+(,[A-Za-z0-9_.+=-]+)*$/, 'must be comma-separated CPU features such as pmu=off')
    .optional(),
  /**
   * The host is itself a VM: pass `@vmm/hostinfo`'s `detectNested(...).nested`. `null` (cannot tell)
   * counts as not nested, as Kata's `RunningOnVMM` answers off x86. @default false
   */
  nested: z.boolean().nullable().optional(),
  /** Ignore `nested` (Kata `DisableNestingChecks`). @default false */
  disableNestingChecks: z.boolean().optional(),
  /** Add a vIOMMU (q35 only): split irqchip, `intel_iommu=on iommu=pt`. @default false */
  iommu: z.boolean().optional(),
  /** The guest boots from a disk image (Kata `ImagePath` set): root and systemd kernel parameters. @default false */
  image: z.boolean().optional(),
  /** Attach the image as virtio-blk instead of NVDIMM (Kata `DisableImageNvdimm`). @default false */
  disableImageNvdimm: z.boolean().optional(),
  /** Extra hotplug memory room in MiB (Kata `MemOffset`). @default 0 */
  memOffsetMiB: z.number().int().min(0).max(0xffff_ffff).optional(),
  /** The VM is or comes from a VM template (amd64: `vmx=off`, VMX is not migratable). @default false */
  vmTemplate: z.boolean().optional(),
  /** Do not use in-kernel vhost-net for tap devices (Kata `DisableVhostNet`). @default false */
  disableVhostNet: z.boolean().optional(),
  /** arm64 only: GIC version. @default 'host' with KVM, '3' with TCG (which has no host GIC) */
  gicVersion: z.enum(GIC_VERSIONS).optional(),
  /** QEMU binary. @default the arch's (e.g. /usr/bin/qemu-system-x86_64) */
  qemuPath: z.string().min(1).optional(),
  /** QEMU version, for ppc64le's memory rule (Kata read it from globals). @default >= 2.10 */
  qemuVersion: z
    .strictObject({ major: z.number().int().nonnegative(), minor: z.number().int().nonnegative() })
    .optional(),
});

/** Options of `createQemuArch` (input shape). */
export type QemuArchOptions = z.input<typeof qemuArchOptionsSchema>;

/** Validate {@link QemuArchOptions}; zod issues become a {@link QemuArchError} naming the field. */
export function parseQemuArchOptions(options: unknown): z.output<typeof qemuArchOptionsSchema> {
  const r = qemuArchOptionsSchema.safeParse(options);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = ['options', ...(issue?.path ?? [])].map(String).join('.');
  throw new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', `${path}: ${issue?.message ?? 'invalid'}`, {
    path,
    cause: r.error,
  });
}
