/**
 * amd64 (x86_64): Kata's `qemu_amd64.go`. Machines pc, q35, virt (NEMU) and microvm.
 */
import { kernelParam as p } from '../kernel-params.js';
import { genericMemoryTopology } from '../topology.js';
import { type ArchRules, defineArch, type MachineRules } from './rules.js';

/** QEMU binary for every amd64 machine. */
export const AMD64_QEMU_PATH = '/usr/bin/qemu-system-x86_64';
/** Kata's `MaxQemuVCPUs` on amd64. */
export const AMD64_MAX_VCPUS = 240;

/** Versioned machine types QEMU has for amd64 (`pc-q35-7.2`, `pc-i440fx-7.2`). */
const VERSIONED: Readonly<Record<string, string>> = { pc: 'pc-i440fx-', q35: 'pc-q35-' };

const machine = (
  type: string,
  rest: Omit<MachineRules, 'type' | 'qemuPath' | 'iommu' | 'pcieRootPorts' | 'versionedPrefix'>,
): MachineRules => ({
  type,
  versionedPrefix: VERSIONED[type] ?? null,
  qemuPath: AMD64_QEMU_PATH,
  iommu: type === 'q35',
  pcieRootPorts: type === 'q35',
  ...rest,
});

const pci = { transport: 'pci', blockDeviceHotplug: true, memoryHotplug: true, nvdimm: true } as const;

/** amd64 rules. */
export const AMD64: ArchRules = defineArch({
  arch: 'amd64',
  defaultMachine: 'pc',
  machines: [
    machine('pc', { ...pci, bridgeType: 'pci', bridgeBus: 'pci.0' }),
    machine('q35', { ...pci, bridgeType: 'pci', bridgeBus: 'pcie.0' }),
    machine('virt', { ...pci, bridgeType: 'pci', bridgeBus: 'pcie.0' }),
    machine('microvm', {
      transport: 'mmio',
      bridgeType: null,
      bridgeBus: null,
      blockDeviceHotplug: false,
      memoryHotplug: false,
      nvdimm: false,
    }),
  ],
  kernelParams: Object.freeze([
    p('tsc', 'reliable'),
    p('no_timer_check'),
    p('rcupdate.rcu_expedited', '1'),
    p('i8042.direct', '1'),
    p('i8042.dumbkbd', '1'),
    p('i8042.nopnp', '1'),
    p('i8042.noaux', '1'),
    p('noreplace-smp'),
    p('reboot', 'k'),
    p('console', 'hvc0'),
    p('console', 'hvc1'),
    p('cryptomgr.notests'),
    p('net.ifnames', '0'),
    p('pci', 'lastbus=0'),
  ]),
  iommuKernelParams: {
    on: Object.freeze([p('intel_iommu', 'on'), p('iommu', 'pt')]),
    off: Object.freeze([p('iommu', 'off')]),
  },
  imageRoot: 'nvdimm-dax',
  vhostUser: true,
  vhostNet: true,
  ninePMultidevs: 'remap',
  pflashCounts: null,
  ignoreSharedMigration: true,
  migrationWaitTimeoutMs: 5000,
  // IOMMU needs a split irqchip (interrupt remapping), otherwise KVM cannot create the in-kernel one.
  machineOptions: ({ iommu }) => [iommu ? 'kernel_irqchip=split' : 'kernel_irqchip=on'],
  maxVcpus: () => AMD64_MAX_VCPUS,
  memoryTopology: (mem, host, slots, offset) => genericMemoryTopology(mem, host, slots, offset),
});
