/**
 * s390x (IBM Z): Kata's `qemu_s390x.go`. Machine s390-ccw-virtio; every virtio device is CCW and takes
 * its `devno` from a CCW bridge; the image is always a virtio-blk disk.
 */
import { kernelParam as p } from '../kernel-params.js';
import { baseMemoryTopology } from '../topology.js';
import { type ArchRules, defineArch } from './rules.js';

/** QEMU binary on s390x. */
export const S390X_QEMU_PATH = '/usr/bin/qemu-system-s390x';
/** QEMU's `S390_MAX_CPUS`. */
export const S390X_MAX_VCPUS = 248;

/** s390x rules. */
export const S390X: ArchRules = defineArch({
  arch: 's390x',
  defaultMachine: 's390-ccw-virtio',
  machines: [
    {
      type: 's390-ccw-virtio',
      versionedPrefix: 's390-ccw-virtio-',
      qemuPath: S390X_QEMU_PATH,
      bridgeType: 'ccw',
      bridgeBus: null,
      transport: 'ccw',
      blockDeviceHotplug: true,
      memoryHotplug: false,
      nvdimm: false,
      iommu: false,
      pcieRootPorts: false,
    },
  ],
  kernelParams: Object.freeze([p('console', 'ttysclp0')]),
  iommuKernelParams: { on: Object.freeze([]), off: Object.freeze([]) },
  imageRoot: 'virtio-blk',
  vhostUser: false,
  vhostNet: false,
  ninePMultidevs: 'remap',
  pflashCounts: null,
  ignoreSharedMigration: true,
  migrationWaitTimeoutMs: 5000,
  machineOptions: () => [],
  maxVcpus: () => S390X_MAX_VCPUS,
  memoryTopology: (mem, host, slots, offset) => baseMemoryTopology(mem, host, slots, offset),
});
