/**
 * arm64 (aarch64): Kata's `qemu_arm64.go`. Machine virt with a GIC chosen by `gic-version`.
 */
import { kernelParam as p } from '../kernel-params.js';
import { baseMemoryTopology } from '../topology.js';
import { type ArchRules, defineArch, type GicVersion } from './rules.js';

/** QEMU binary on arm64. */
export const ARM64_QEMU_PATH = '/usr/bin/qemu-system-aarch64';

/**
 * vCPU ceiling per GIC version (Kata's `gicList`): GICv2 addresses 8 CPUs; GICv3 (and v4, which QEMU
 * treats as v3 here) 123. `host`/`max` are taken as v3, Kata's default.
 */
export const ARM64_MAX_VCPUS: Readonly<Record<GicVersion, number>> = Object.freeze({
  '2': 8,
  '3': 123,
  '4': 123,
  host: 123,
  max: 123,
});

/** arm64 rules. */
export const ARM64: ArchRules = defineArch({
  arch: 'arm64',
  defaultMachine: 'virt',
  machines: [
    {
      type: 'virt',
      versionedPrefix: 'virt-',
      qemuPath: ARM64_QEMU_PATH,
      bridgeType: 'pci',
      bridgeBus: 'pcie.0',
      transport: 'pci',
      blockDeviceHotplug: true,
      memoryHotplug: true,
      nvdimm: true,
      iommu: false,
      pcieRootPorts: false,
    },
  ],
  kernelParams: Object.freeze([p('console', 'hvc0'), p('console', 'hvc1'), p('iommu.passthrough', '0')]),
  iommuKernelParams: { on: Object.freeze([]), off: Object.freeze([]) },
  imageRoot: 'nvdimm-dax',
  vhostUser: true,
  vhostNet: true,
  ninePMultidevs: undefined,
  pflashCounts: [0, 2],
  ignoreSharedMigration: false,
  migrationWaitTimeoutMs: 10_000,
  machineOptions: ({ gicVersion }) => ['usb=off', `gic-version=${gicVersion}`],
  maxVcpus: (gic) => ARM64_MAX_VCPUS[gic],
  memoryTopology: (mem, host, slots, offset) => baseMemoryTopology(mem, host, slots, offset),
});
