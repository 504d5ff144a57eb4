/**
 * ppc64le (POWER): Kata's `qemu_ppc64le.go`. Machine pseries; NVDIMM image without DAX, with the label
 * area, size alignment and UUID that QEMU's spapr NVDIMM code demands.
 */
import { MIN_NVDIMM_LABEL_SIZE } from '@vmm/argv';
import { kernelParam as p } from '../kernel-params.js';
import { ppc64leMemoryTopology } from '../topology.js';
import { type ArchRules, defineArch } from './rules.js';

/** QEMU binary on ppc64le. */
export const PPC64LE_QEMU_PATH = '/usr/bin/qemu-system-ppc64';
/** Kata's `MaxQemuVCPUs` on ppc64le. */
export const PPC64LE_MAX_VCPUS = 128;

/**
 * `label-size=` of a pseries NVDIMM image: 128 KiB, the smallest label area QEMU accepts on any
 * machine (`MIN_NAMESPACE_LABEL_SIZE`, hw/mem/nvdimm.c). pseries refuses an NVDIMM without one
 * (`PAPR requires NVDIMM devices to have label-size set`, hw/ppc/spapr_nvdimm.c, QEMU >= 5.1).
 */
export const SPAPR_NVDIMM_LABEL_SIZE: number = MIN_NVDIMM_LABEL_SIZE;

/**
 * pseries NVDIMM size alignment: 256 MiB (`SPAPR_MINIMUM_SCM_BLOCK_SIZE` = `SPAPR_MEMORY_BLOCK_SIZE`).
 * QEMU wants the NVDIMM's size minus its label area to be a multiple of it.
 */
export const SPAPR_NVDIMM_BLOCK_SIZE = 256 * 1024 * 1024;

/**
 * UUID given to the pseries NVDIMM image when the caller names none: QEMU 7.2 refuses a pseries NVDIMM
 * whose `uuid` is unset (`NVDIMM device requires the uuid to be set`). Fixed, so the argv is
 * deterministic; a VM has one image NVDIMM, so it is unique where it must be.
 */
export const PPC64LE_NVDIMM_IMAGE_UUID = 'c7a357a3-85c1-4d74-9f0e-76f84a35c11f';

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
      nvdimmLayout: {
        labelSize: SPAPR_NVDIMM_LABEL_SIZE,
        sizeAlignment: SPAPR_NVDIMM_BLOCK_SIZE,
        uuidRequired: true,
      },
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
