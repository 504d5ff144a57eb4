import type { HostArch } from './arch.js';
import { HostinfoError } from './errors.js';
import { goFields } from './go-parse.js';
import { forEachLine } from './lines.js';
import type { CpuinfoInfo } from './parse-cpuinfo.js';

/**
 * Kata's `RunningOnVMM` on /proc/cpuinfo text, for x86: the first line whose first Go field
 * starts with `flags` (and has at least one more field) decides; `true` when one of the
 * remaining fields is exactly `hypervisor`. (Kata answers `false` on arm64/ppc64le/s390x without
 * reading the file; see {@link detectNested} for what vmm does there.)
 *
 * @param options.file - file name for the error. @default '/proc/cpuinfo'
 * @throws {HostinfoError} `HOSTINFO_NO_CPU_FLAGS` when no such line exists.
 */
export function parseRunningOnVmm(text: string, options: { file?: string } = {}): boolean {
  let answer: boolean | undefined;
  forEachLine(text, (line) => {
    if (!line.includes('flags')) return; // cheap pre-filter; the Go rule follows
    const fields = goFields(line);
    if (fields.length < 2 || !fields[0]!.startsWith('flags')) return;
    answer = fields.indexOf('hypervisor', 1) !== -1;
    return false;
  });
  if (answer === undefined) {
    const file = options.file ?? '/proc/cpuinfo';
    throw new HostinfoError('HOSTINFO_NO_CPU_FLAGS', `couldn't find "flags" in ${file}`, { path: file });
  }
  return answer;
}

/** How {@link detectNested} reached its answer. */
export const NESTED_METHODS = [
  'cpuinfo-flags',
  'cpuinfo-platform',
  's390-sysinfo',
  'sys-hypervisor',
  'dmi',
  'device-tree',
  'none',
] as const;

/** One of {@link NESTED_METHODS}. */
export type NestedMethod = (typeof NESTED_METHODS)[number];

/** Is this host itself a virtual machine (so vmm's guests would be nested)? */
export interface NestedInfo {
  /** `true`: a guest of another hypervisor; `false`: not; `null`: cannot tell. */
  nested: boolean | null;
  /** What Kata's `RunningOnVMM` answers here (`false` off x86; `null` where it errors). */
  kataRunningOnVmm: boolean | null;
  /** The signal used. */
  method: NestedMethod;
  /** One line: the evidence, e.g. `flags line has "hypervisor"`, `DMI sys_vendor "QEMU"`. */
  evidence: string;
}

/** Raw texts {@link detectNested} looks at; absent files are `undefined`. */
export interface NestedEvidence {
  /** /proc/cpuinfo text (x86: the parity rule). */
  cpuinfoText?: string | undefined;
  /** Parsed /proc/cpuinfo (ppc64le: `platform`/`machine`). */
  cpuinfo?: CpuinfoInfo | undefined;
  /** s390x /proc/sysinfo text. */
  sysinfo?: string | undefined;
  /** /sys/hypervisor/type (`xen`, ...). */
  hypervisorType?: string | undefined;
  /** /sys/class/dmi/id/sys_vendor. */
  dmiSysVendor?: string | undefined;
  /** /sys/class/dmi/id/product_name. */
  dmiProductName?: string | undefined;
  /** /sys/firmware/devicetree/base/compatible (NUL-separated strings). */
  deviceTreeCompatible?: string | undefined;
  /** /sys/firmware/devicetree/base/hypervisor/compatible, when that node exists. */
  deviceTreeHypervisor?: string | undefined;
}

/** DMI `sys_vendor` values of hypervisors and clouds whose instances are VMs. */
const VM_DMI_VENDORS = [
  'QEMU',
  'KVM',
  'Xen',
  'VMware, Inc.',
  'innotek GmbH',
  'Parallels Software International Inc.',
  'Microsoft Corporation',
  'Amazon EC2',
  'Google',
  'Alibaba Cloud',
  'OpenStack Foundation',
] as const;

function fromDmi(ev: NestedEvidence): NestedInfo | undefined {
  const vendor = ev.dmiSysVendor?.trim();
  const product = ev.dmiProductName?.trim() ?? '';
  if (vendor === undefined || vendor === '') return undefined;
  const kata = false;
  // Bare-metal cloud instances keep the cloud's vendor string: EC2 `*.metal`, Hyper-V needs "Virtual".
  if (vendor === 'Amazon EC2' && product.endsWith('.metal')) {
    return { nested: false, kataRunningOnVmm: kata, method: 'dmi', evidence: `DMI product "${product}"` };
  }
  if (vendor === 'Microsoft Corporation' && !product.includes('Virtual')) {
    return { nested: false, kataRunningOnVmm: kata, method: 'dmi', evidence: `DMI product "${product}"` };
  }
  const vm = (VM_DMI_VENDORS as readonly string[]).includes(vendor) || /virtual machine/i.test(product);
  return {
    nested: vm,
    kataRunningOnVmm: kata,
    method: 'dmi',
    evidence: `DMI sys_vendor "${vendor}", product_name "${product}"`,
  };
}

function s390Levels(sysinfo: string): { lpar: boolean; vm: string[] } {
  let lpar = false;
  const vm: string[] = [];
  forEachLine(sysinfo, (line) => {
    if (line.startsWith('LPAR Name:')) lpar = true;
    const m = /^VM(\d\d) Control Program:\s*(.*)$/.exec(line);
    if (m) vm.push(m[2]!.replace(/\s+/g, ' ').trim());
  });
  return { lpar, vm };
}

/**
 * Decide whether the host is itself a VM, per architecture:
 * - amd64: Kata's rule ({@link parseRunningOnVmm}): the first `flags` line's `hypervisor` token.
 * - arm64: cpuinfo has no such signal (Kata answers `false`). vmm looks at /sys/hypervisor/type,
 *   a device-tree `hypervisor` node or `linux,dummy-virt` machine, then DMI vendor strings; with
 *   none of them the answer is `null` (unknown).
 * - ppc64le: cpuinfo's `platform`: `PowerNV` is bare metal (OPAL, KVM-HV capable); `pSeries` is a
 *   guest, of PowerVM (an LPAR) or of KVM (`machine` says "emulated by qemu").
 * - s390x: always under PR/SM (the LPAR hypervisor), under which KVM guests run as first-level SIE
 *   guests, so an LPAR-only host is `false`; /proc/sysinfo `VMnn` levels (z/VM or KVM) make it
 *   `true`. Without /proc/sysinfo: `null`.
 *
 * @throws {HostinfoError} `HOSTINFO_NO_CPU_FLAGS` on amd64 when the cpuinfo text has no flags line.
 */
export function detectNested(arch: HostArch, ev: NestedEvidence): NestedInfo {
  switch (arch) {
    case 'amd64': {
      if (ev.cpuinfoText === undefined) {
        return { nested: null, kataRunningOnVmm: null, method: 'none', evidence: 'cpuinfo unreadable' };
      }
      const running = parseRunningOnVmm(ev.cpuinfoText);
      return {
        nested: running,
        kataRunningOnVmm: running,
        method: 'cpuinfo-flags',
        evidence: running ? 'flags line has "hypervisor"' : 'flags line has no "hypervisor"',
      };
    }
    case 'ppc64le': {
      const platform = ev.cpuinfo?.global.platform;
      const machine = ev.cpuinfo?.global.machine ?? '';
      if (platform === undefined) {
        return {
          nested: null,
          kataRunningOnVmm: false,
          method: 'none',
          evidence: 'no "platform" in cpuinfo',
        };
      }
      const bare = platform === 'PowerNV';
      const by = machine.includes('emulated by qemu') ? 'KVM/QEMU' : bare ? 'OPAL' : 'PowerVM';
      return {
        nested: !bare,
        kataRunningOnVmm: false,
        method: 'cpuinfo-platform',
        evidence: `platform "${platform}", machine "${machine}" (${by})`,
      };
    }
    case 's390x': {
      if (ev.sysinfo === undefined) {
        return {
          nested: null,
          kataRunningOnVmm: false,
          method: 'none',
          evidence: 'always under PR/SM; no /proc/sysinfo to see levels above the LPAR',
        };
      }
      const { lpar, vm } = s390Levels(ev.sysinfo);
      return {
        nested: vm.length > 0,
        kataRunningOnVmm: false,
        method: 's390-sysinfo',
        evidence:
          vm.length > 0
            ? `guest of ${vm.join(' under ')}${lpar ? ' in an LPAR' : ''}`
            : lpar
              ? 'LPAR (PR/SM) only: KVM guests run as first-level SIE guests'
              : 'no LPAR or VM level in /proc/sysinfo',
      };
    }
    case 'arm64': {
      const hv = ev.hypervisorType?.trim();
      if (hv !== undefined && hv !== '') {
        return {
          nested: true,
          kataRunningOnVmm: false,
          method: 'sys-hypervisor',
          evidence: `/sys/hypervisor/type "${hv}"`,
        };
      }
      if (ev.deviceTreeHypervisor !== undefined) {
        const c = ev.deviceTreeHypervisor.split('\0').filter(Boolean).join(', ');
        return {
          nested: true,
          kataRunningOnVmm: false,
          method: 'device-tree',
          evidence: `device-tree hypervisor node "${c}"`,
        };
      }
      const compat = ev.deviceTreeCompatible?.split('\0').filter(Boolean) ?? [];
      if (compat.includes('linux,dummy-virt')) {
        return {
          nested: true,
          kataRunningOnVmm: false,
          method: 'device-tree',
          evidence: 'device-tree machine "linux,dummy-virt" (QEMU virt)',
        };
      }
      const dmi = fromDmi(ev);
      if (dmi !== undefined) return dmi;
      if (compat.length > 0) {
        // A board device tree without a hypervisor node: what a bare-metal boot looks like.
        return {
          nested: false,
          kataRunningOnVmm: false,
          method: 'device-tree',
          evidence: `device-tree machine "${compat.join(', ')}", no hypervisor node`,
        };
      }
      return {
        nested: null,
        kataRunningOnVmm: false,
        method: 'none',
        evidence: 'arm64 cpuinfo has no hypervisor flag, and no DMI, device-tree or /sys/hypervisor hint',
      };
    }
  }
}
