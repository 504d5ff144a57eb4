/**
 * Which kernel modules the initramfs carries, grouped in sets that /init loads by name
 * (`probe.modules=`). Each set's dependency closure is worked out at build time from the modules'
 * own `depends=` modinfo, because Debian's kernel package ships no modules.dep.
 */

/** Module sets: set name → the modules it loads (module names, underscores), in order. */
export const GUEST_MODULE_SETS = {
  virtio_pci: ['virtio_pci'],
  virtio_mmio: ['virtio_mmio'],
  virtio_blk: ['virtio_blk'],
  virtio_net: ['virtio_net'],
  virtio_console: ['virtio_console'],
  virtio_rng: ['virtio_rng'],
  virtio_scsi: ['virtio_scsi', 'sd_mod'],
  virtio_balloon: ['virtio_balloon'],
  virtio_mem: ['virtio_mem'],
  '9p': ['9pnet_virtio', '9p'],
  virtiofs: ['virtiofs'],
  vsock: ['vmw_vsock_virtio_transport'],
  button: ['button'],
  evdev: ['evdev'],
  nvdimm: ['nfit', 'nd_pmem'],
} as const satisfies Record<string, readonly string[]>;

/** A key of {@link GUEST_MODULE_SETS}. */
export type GuestModuleSet = keyof typeof GUEST_MODULE_SETS;

/**
 * Sets /init loads at boot when `probe.modules=` is absent. Each module costs boot time under TCG
 * (signature check, probe), so the rarely needed ones (rng, balloon, virtio-mem, 9p, virtiofs,
 * vsock) load only on request. SCSI is in because virtio-scsi is Kata's default block driver, and
 * nvdimm (nfit + nd_pmem, ~0.1 s) because NVDIMMs, hotplugged or not, appear only through them.
 */
export const GUEST_BOOT_SETS: readonly GuestModuleSet[] = [
  'virtio_pci',
  'virtio_mmio',
  'virtio_blk',
  'virtio_net',
  'virtio_scsi',
  'virtio_console',
  'button',
  'evdev',
  'nvdimm',
];

/**
 * Module parameters /init passes to insmod. `scsi_mod scan=sync` makes SCSI disks present at boot
 * exist before GUEST-READY instead of appearing later as hotplug events.
 */
export const GUEST_MODULE_PARAMS: Readonly<Record<string, string>> = { scsi_mod: 'scan=sync' };

/** Normalise a module or file name to the kernel's module name (`virtio-rng.ko` → `virtio_rng`). */
export function moduleName(fileOrName: string): string {
  return fileOrName.replace(/\.ko$/, '').replaceAll('-', '_');
}
