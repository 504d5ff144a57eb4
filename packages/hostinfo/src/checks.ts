import { z } from 'zod';
import { kvmModuleHint } from './accel.js';
import { HostinfoError } from './errors.js';
import type { HostCheck, HostCheckReport } from './host-check.js';
import { toHostCheckReport } from './host-check.js';
import type { HostInfo } from './host-info.js';

/** Options of {@link runHostChecks}. */
export interface HostCheckOptions {
  /** Guest memory the check must fit, in MiB (Kata's default sandbox). @default 2048 */
  sandboxMemoryMiB?: number;
  /** Host memory QEMU itself needs beyond the guest's, in MiB. @default 256 */
  overheadMiB?: number;
  /** Oldest QEMU accepted (govmm refuses QMP below 5.0). @default { major: 5, minor: 0 } */
  minQemu?: { major: number; minor: number };
}

/** Default guest memory of a sandbox, MiB (Kata `HypervisorConfig.MemorySize`). */
export const DEFAULT_SANDBOX_MEMORY_MIB = 2048;

const optionsSchema = z.strictObject({
  sandboxMemoryMiB: z
    .number()
    .int()
    .positive()
    .max(1 << 24)
    .optional(),
  overheadMiB: z
    .number()
    .int()
    .nonnegative()
    .max(1 << 20)
    .optional(),
  minQemu: z
    .strictObject({ major: z.number().int().nonnegative(), minor: z.number().int().nonnegative() })
    .optional(),
});

const SLOW = 'sandboxes will run under TCG, about 10x slower';

function archCheck(info: HostInfo): HostCheck {
  const title = 'Host architecture';
  if (info.arch !== null)
    return { id: 'arch', title, status: 'pass', detail: `${info.arch} (${info.machine})` };
  return {
    id: 'arch',
    title,
    status: 'fail',
    detail: `machine "${info.machine}" is not one vmm runs guests on`,
    fix: 'use an amd64, arm64, ppc64le or s390x host',
  };
}

function qemuCheck(info: HostInfo, min: { major: number; minor: number }): HostCheck {
  const title = 'QEMU binary';
  const q = info.qemu;
  const pkg =
    info.arch === 'amd64'
      ? 'qemu-system-x86'
      : info.arch === 'arm64'
        ? 'qemu-system-arm'
        : info.arch === 'ppc64le'
          ? 'qemu-system-ppc'
          : 'qemu-system-misc';
  if (q.path === null) {
    return {
      id: 'qemu-binary',
      title,
      status: 'fail',
      detail: q.error?.message ?? `${q.binary ?? 'QEMU'} was not looked for`,
      fix: `install QEMU (Debian: apt-get install ${pkg}), or set VMM_QEMU to its path`,
    };
  }
  if (q.version === null) {
    return {
      id: 'qemu-binary',
      title,
      status: 'warn',
      detail: `${q.path} found, but its version is unknown: ${q.error?.message ?? 'not asked'}`,
      fix: `run ${q.path} --version by hand to see what is wrong`,
    };
  }
  const v = q.version;
  const tooOld = v.major < min.major || (v.major === min.major && v.minor < min.minor);
  if (tooOld) {
    return {
      id: 'qemu-binary',
      title,
      status: 'fail',
      detail: `${q.path} is QEMU ${v.major}.${v.minor}.${v.micro}, older than ${min.major}.${min.minor}`,
      fix: `install QEMU ${min.major}.${min.minor} or newer`,
    };
  }
  return {
    id: 'qemu-binary',
    title,
    status: 'pass',
    detail: `${q.path}: QEMU ${v.major}.${v.minor}.${v.micro}${v.package ? ` (${v.package})` : ''}`,
  };
}

/** How to get read/write access to a device node, given its mode. */
function accessFix(path: string, mode: string | null): string {
  const groupRw = mode !== null && (Number.parseInt(mode, 8) & 0o060) === 0o060;
  return groupRw
    ? `add the user to the group owning ${path} (usually "kvm"), or run as root`
    : `make ${path} group read/write (udev rule KERNEL=="kvm", GROUP="kvm", MODE="0660") and add the user to group "kvm", or run as root`;
}

function kvmCheck(info: HostInfo): HostCheck {
  const title = 'KVM acceleration';
  const { device } = info.kvm;
  const a = info.accel;
  const load = kvmModuleHint(info.arch, info.cpu?.vendor ?? null);
  if (a.override === 'kvm') {
    if (!device.present || !device.readable || !device.writable) {
      const problem = !device.present
        ? `${device.path} is missing`
        : `${device.path} is not read/write for this user`;
      return {
        id: 'kvm',
        title,
        status: 'fail',
        detail: `VMM_ACCEL=kvm but ${problem}: QEMU cannot start with accel=kvm`,
        fix: `${device.present ? accessFix(device.path, device.mode) : load}, or unset VMM_ACCEL to fall back to TCG`,
      };
    }
    return a.kvmUsable
      ? { id: 'kvm', title, status: 'pass', detail: `KVM (${a.reason})` }
      : {
          id: 'kvm',
          title,
          status: 'warn',
          detail: `KVM forced by VMM_ACCEL=kvm on kvm_pvm: a stock guest kernel may never boot`,
          fix: 'unset VMM_ACCEL (or VMM_ACCEL=tcg) unless the guest kernel is PVM-enabled',
        };
  }
  if (a.override === 'tcg') {
    return {
      id: 'kvm',
      title,
      status: 'warn',
      detail: `TCG forced by VMM_ACCEL=tcg: ${SLOW}${a.kvmUsable ? ' although KVM is usable' : ''}`,
      fix: a.kvmUsable ? 'unset VMM_ACCEL to use KVM' : `${load}, then unset VMM_ACCEL`,
    };
  }
  if (a.accel === 'kvm') return { id: 'kvm', title, status: 'pass', detail: `KVM: ${a.reason}` };
  if (!device.present) {
    return {
      id: 'kvm',
      title,
      status: 'warn',
      detail: `no ${device.path}: ${SLOW}`,
      fix: `${load}, or accept TCG`,
    };
  }
  if (!device.readable || !device.writable) {
    return {
      id: 'kvm',
      title,
      status: 'warn',
      detail: `${device.path} (mode ${device.mode ?? '?'}) is not read/write for this user: ${SLOW}`,
      fix: accessFix(device.path, device.mode),
    };
  }
  return {
    id: 'kvm',
    title,
    status: 'warn',
    detail: `${device.path} comes from kvm_pvm (PVM nested KVM), under which a stock guest crawls: ${SLOW}`,
    fix: 'VMM_ACCEL=kvm to force KVM with a PVM-enabled guest kernel; otherwise nothing to do',
  };
}

function accelOverrideCheck(info: HostInfo): HostCheck | undefined {
  const bad = info.accel.invalidOverride;
  if (bad === null) return undefined;
  return {
    id: 'accel-override',
    title: 'VMM_ACCEL',
    status: 'fail',
    detail: `VMM_ACCEL="${bad}" is neither kvm nor tcg`,
    fix: 'set VMM_ACCEL=kvm or VMM_ACCEL=tcg, or unset it',
  };
}

function virtCheck(info: HostInfo): HostCheck {
  const title = 'CPU virtualization extensions';
  const ext = info.cpu?.virtualization ?? null;
  const names: Record<string, string> = {
    vmx: 'Intel VT-x (vmx)',
    svm: 'AMD-V (svm)',
    sie: 'SIE (sie)',
    hv: 'POWER hypervisor mode (PowerNV)',
  };
  if (ext !== null) return { id: 'virt-extensions', title, status: 'pass', detail: names[ext]! };
  if (info.cpu === null) {
    return { id: 'virt-extensions', title, status: 'warn', detail: 'cpuinfo unreadable: cannot tell' };
  }
  if (info.arch === 'arm64') {
    return info.kvm.device.present
      ? {
          id: 'virt-extensions',
          title,
          status: 'pass',
          detail: 'EL2 (not shown in arm64 cpuinfo; /dev/kvm exists, so KVM initialised)',
        }
      : {
          id: 'virt-extensions',
          title,
          status: 'warn',
          detail: 'arm64 cpuinfo does not show EL2, and there is no /dev/kvm',
          fix: 'boot the kernel at EL2 (firmware/hypervisor setting) with CONFIG_KVM',
        };
  }
  const nested = info.nested.nested === true;
  const fix =
    info.arch === 'amd64'
      ? nested
        ? `enable nested virtualization on the outer hypervisor (e.g. ${info.cpu.vendor === 'AuthenticAMD' ? 'kvm_amd' : 'kvm_intel'} nested=1 there, or a cloud instance type that exposes it)`
        : 'enable VT-x / AMD-V (SVM) in the firmware setup'
      : info.arch === 'ppc64le'
        ? 'KVM-HV needs a bare-metal PowerNV host; in an LPAR only KVM-PR is possible'
        : 'the machine does not offer SIE to this level';
  return {
    id: 'virt-extensions',
    title,
    status: 'warn',
    detail: `no ${info.arch === 'amd64' ? 'vmx or svm flag' : 'virtualization extension'} in /proc/cpuinfo${nested ? ' (this host is itself a VM)' : ''}${info.accel.kvmUsable || info.kvm.device.present ? `; ${info.kvm.device.path} exists anyway` : ''}`,
    fix,
  };
}

function vhostCheck(id: 'vhost-net' | 'vhost-vsock', info: HostInfo): HostCheck {
  const node = id === 'vhost-net' ? info.vhostNet : info.vhostVsock;
  const title = id === 'vhost-net' ? 'vhost-net' : 'vhost-vsock';
  const module = id === 'vhost-net' ? 'vhost_net' : 'vhost_vsock';
  const without =
    id === 'vhost-net'
      ? 'vhost=on networking is unavailable (virtio-net falls back to the slower userspace backend)'
      : 'vsock devices (vhost-vsock-pci) cannot be added';
  if (!node.present)
    return { id, title, status: 'warn', detail: `no ${node.path}: ${without}`, fix: `modprobe ${module}` };
  if (!node.readable || !node.writable) {
    return {
      id,
      title,
      status: 'warn',
      detail: `${node.path} is not read/write for this user: ${without}`,
      fix: 'run as root or grant access to the device',
    };
  }
  return { id, title, status: 'pass', detail: `${node.path} is read/write` };
}

function memoryCheck(info: HostInfo, needMiB: number, overheadMiB: number): HostCheck {
  const title = 'Memory';
  const m = info.memory;
  if (m === null || m.totalKiB === null) {
    return {
      id: 'memory',
      title,
      status: 'fail',
      detail: `cannot read MemTotal from ${info.roots.proc}/meminfo`,
      fix: 'mount procfs at /proc',
    };
  }
  const mib = (kib: number): string => `${Math.floor(kib / 1024)} MiB`;
  if (m.totalKiB < needMiB * 1024) {
    return {
      id: 'memory',
      title,
      status: 'fail',
      detail: `host has ${mib(m.totalKiB)} in total, less than the ${needMiB} MiB a default sandbox asks for`,
      fix: 'give the host more memory, or run sandboxes with less memory',
    };
  }
  const want = (needMiB + overheadMiB) * 1024;
  if (m.availableKiB !== null && m.availableKiB < want) {
    return {
      id: 'memory',
      title,
      status: 'warn',
      detail: `${mib(m.availableKiB)} available of ${mib(m.totalKiB)}: under ${needMiB} MiB + ${overheadMiB} MiB QEMU overhead`,
      fix: 'free memory or run sandboxes with less memory',
    };
  }
  const avail = m.availableKiB === null ? 'MemAvailable unknown' : `${mib(m.availableKiB)} available`;
  return {
    id: 'memory',
    title,
    status: 'pass',
    detail: `${mib(m.totalKiB)} total, ${avail}; a ${needMiB} MiB sandbox fits`,
  };
}

function hugepagesCheck(info: HostInfo): HostCheck {
  const title = 'Hugepages';
  const { sizes, defaultSizeKiB } = info.hugepages;
  if (sizes.length === 0) {
    return {
      id: 'hugepages',
      title,
      status: 'pass',
      detail: `no hugepage sizes in ${info.roots.sys}/kernel/mm/hugepages (only needed for hugePages sandboxes)`,
    };
  }
  const list = sizes
    .map(
      (s) =>
        `${s.sizeKiB >= 1048576 ? `${s.sizeKiB / 1048576}G` : `${s.sizeKiB / 1024}M`}: ${s.free}/${s.total} free`,
    )
    .join(', ');
  const reserved = sizes.some((s) => s.total > 0);
  return {
    id: 'hugepages',
    title,
    status: 'pass',
    detail: `${list}${defaultSizeKiB === null ? '' : ` (default ${defaultSizeKiB} kB)`}${reserved ? '' : '; none reserved (only needed for hugePages sandboxes)'}`,
  };
}

function nestedCheck(info: HostInfo): HostCheck {
  const n = info.nested;
  const title = 'Nested virtualization';
  if (n.nested === true) {
    return {
      id: 'nested',
      title,
      status: 'pass',
      detail: `host is itself a VM (${n.evidence}): guests run nested`,
    };
  }
  if (n.nested === false)
    return { id: 'nested', title, status: 'pass', detail: `host is not a VM (${n.evidence})` };
  return { id: 'nested', title, status: 'pass', detail: `unknown (${n.evidence})` };
}

/**
 * Turn {@link HostInfo} into the QEMU/KVM requirement checks `vmm check` prints, in order:
 * `arch`, `qemu-binary`, `kvm`, [`accel-override`], `virt-extensions`, `vhost-net`,
 * `vhost-vsock`, `memory`, `hugepages`, `nested`. Pure: no I/O.
 *
 * `fail` (sandboxes cannot run): unsupported arch, no QEMU or one older than `minQemu`,
 * `VMM_ACCEL=kvm` without a usable /dev/kvm, an invalid `VMM_ACCEL`, MemTotal below the sandbox
 * size or unreadable. Missing or unusable KVM is a `warn` (TCG runs, ~10x slower).
 *
 * @throws {HostinfoError} `HOSTINFO_INVALID_OPTIONS` for bad options.
 */
export function runHostChecks(info: HostInfo, options: HostCheckOptions = {}): HostCheckReport {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HostinfoError(
      'HOSTINFO_INVALID_OPTIONS',
      `option ${issue.path.join('.') || '(options)'}: ${issue.message}`,
      {
        cause: parsed.error,
      },
    );
  }
  const need = options.sandboxMemoryMiB ?? DEFAULT_SANDBOX_MEMORY_MIB;
  const overhead = options.overheadMiB ?? 256;
  const min = options.minQemu ?? { major: 5, minor: 0 };
  const checks: HostCheck[] = [archCheck(info), qemuCheck(info, min), kvmCheck(info)];
  const override = accelOverrideCheck(info);
  if (override !== undefined) checks.push(override);
  checks.push(
    virtCheck(info),
    vhostCheck('vhost-net', info),
    vhostCheck('vhost-vsock', info),
    memoryCheck(info, need, overhead),
    hugepagesCheck(info),
    nestedCheck(info),
  );
  return toHostCheckReport(checks);
}
