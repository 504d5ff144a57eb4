/**
 * ppc64le (POWER): Kata's `qemu_ppc64le.go`. Machine pseries; NVDIMM image without DAX.
 */
import { kernelParam as p } from '../kernel-params.js';
import { ppc64leMemoryTopology } from '../topology.js';
import { type ArchRules, defineArch } from './rules.js';

/** QEMU binary on ppc64le. */
export const PPC64LE_QEMU_PATH = '/usr/bin/qemu-system-ppc64';
/** Kata's `MaxQemuVCPUs` on ppc64le. */
export const PPC64LE_MAX_VCPUS = 128;

/** ppc64le rules. */
export const PPC64LE: ArchRules = defineArch({
  arch: 'ppc64le',
  defaultMachine: 'pseries',
  machines: [
    {
      type: 'pseries',
      versionedPrefix: 'pseries-',
      qemuPath: PPC64LE_QEMU_PATH,
      bridgeType: 'pci',
      bridgeBus: 'pci.0',
      transport: 'pci',
      blockDeviceHotplug: true,
      memoryHotplug: true,
      nvdimm: true,
      iommu: false,
      pcieRootPorts: false,
    },
  ],
  kernelParams: Object.freeze([
    p('tsc', 'reliable'),
    p('no_timer_check'),
    p('rcupdate.rcu_expedited', '1'),
    p('noreplace-smp'),
    p('reboot', 'k'),
    p('console', 'hvc0'),
    p('console', 'hvc1'),
    p('cryptomgr.notests'),
    p('net.ifnames', '0'),
  ]),
  iommuKernelParams: { on: Object.freeze([]), off: Object.freeze([]) },
  imageRoot: 'nvdimm',
  vhostUser: true,
  vhostNet: true,
  ninePMultidevs: 'remap',
  pflashCounts: null,
  ignoreSharedMigration: true,
  migrationWaitTimeoutMs: 5000,
  machineOptions: () => ['usb=off'],
  maxVcpus: () => PPC64LE_MAX_VCPUS,
  memoryTopology: (mem, host, slots, offset, version) =>
    ppc64leMemoryTopology(mem, host, slots, offset, version),
});
