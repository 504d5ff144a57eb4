import type { HostArch } from './arch.js';

/** Accelerators a sandbox can use. */
export const ACCELS = ['kvm', 'tcg'] as const;

/** One of {@link ACCELS}. */
export type Accel = (typeof ACCELS)[number];

/** A device node under the dev root (`/dev/kvm`, `/dev/vhost-net`, `/dev/vhost-vsock`). */
export interface DeviceNodeInfo {
  /** Full path looked at. */
  path: string;
  /** The path exists. */
  present: boolean;
  /** It is a character device (fixture trees use plain files, so this is reported, not required). */
  charDevice: boolean;
  /** This process may open it for reading. */
  readable: boolean;
  /** This process may open it for writing. */
  writable: boolean;
  /** Permission bits as four octal digits (`0660`), or `null` when absent. */
  mode: string | null;
}

/** Loaded KVM kernel modules, from /sys/module/<name>. */
export interface KvmModules {
  /** The KVM core (built in or loaded). */
  kvm: boolean;
  /** Intel VT-x backend. */
  kvm_intel: boolean;
  /** AMD-V backend. */
  kvm_amd: boolean;
  /** POWER: KVM-HV (bare-metal PowerNV). */
  kvm_hv: boolean;
  /** POWER: KVM-PR (guest-mode). */
  kvm_pr: boolean;
  /** PVM: a paravirtual nested KVM under which a stock guest kernel crawls. */
  kvm_pvm: boolean;
}

/** Names of {@link KvmModules}. */
export const KVM_MODULES = ['kvm', 'kvm_intel', 'kvm_amd', 'kvm_hv', 'kvm_pr', 'kvm_pvm'] as const;

/** Which accelerator sandboxes get, and why. */
export interface AccelInfo {
  /** `kvm` or `tcg` (QEMU's software emulator, roughly ten times slower). */
  accel: Accel;
  /** /dev/kvm is present, read/write, and not from `kvm_pvm`: a stock guest boots on it. */
  kvmUsable: boolean;
  /** One line: why `accel` was chosen. */
  reason: string;
  /** `VMM_ACCEL` when it is `kvm` or `tcg`, else `null`. */
  override: Accel | null;
  /** `VMM_ACCEL` when set to anything else (ignored, reported by `vmm check`), else `null`. */
  invalidOverride: string | null;
}

/**
 * Decide the accelerator from the KVM facts and `VMM_ACCEL` (`kvm` or `tcg`, case-sensitive;
 * empty counts as unset). KVM is usable when /dev/kvm is present and read/write and `kvm_pvm`
 * is not loaded. An override wins even when it is a bad idea; the reason says so.
 */
export function decideAccel(
  kvm: DeviceNodeInfo,
  modules: KvmModules,
  vmmAccel: string | undefined,
): AccelInfo {
  const rw = kvm.present && kvm.readable && kvm.writable;
  const kvmUsable = rw && !modules.kvm_pvm;
  const why = !kvm.present
    ? `${kvm.path} is missing`
    : !rw
      ? `${kvm.path} is not read/write for this user`
      : modules.kvm_pvm
        ? `${kvm.path} comes from kvm_pvm (PVM nested KVM): stock guests crawl and never boot`
        : `${kvm.path} is read/write`;
  const raw = vmmAccel === undefined || vmmAccel === '' ? undefined : vmmAccel;
  if (raw === 'kvm' || raw === 'tcg') {
    return {
      accel: raw,
      kvmUsable,
      reason: `VMM_ACCEL=${raw} (${why})`,
      override: raw,
      invalidOverride: null,
    };
  }
  return {
    accel: kvmUsable ? 'kvm' : 'tcg',
    kvmUsable,
    reason: why,
    override: null,
    invalidOverride: raw ?? null,
  };
}

/** The module to load for KVM on this arch/CPU vendor, for fix hints. */
export function kvmModuleHint(arch: HostArch | null, vendor: string | null): string {
  switch (arch) {
    case 'amd64':
      return vendor === 'AuthenticAMD' || vendor === 'HygonGenuine'
        ? 'modprobe kvm_amd'
        : vendor === 'GenuineIntel'
          ? 'modprobe kvm_intel'
          : 'modprobe kvm_intel (Intel) or kvm_amd (AMD)';
    case 'ppc64le':
      return 'modprobe kvm_hv (needs a bare-metal PowerNV host)';
    case 's390x':
      return 'modprobe kvm';
    case 'arm64':
      return 'boot the kernel at EL2 with CONFIG_KVM (KVM is built in on arm64)';
    default:
      return 'load the KVM module for this CPU';
  }
}
