/**
 * Naming rules shared by every architecture: Kata's `MakeNameID`, virtio drive names, SCSI id/LUN.
 */
import { QemuArchError } from './errors.js';

/** Longest device id Kata hands to QEMU (`maxDevIDSize`). */
export const MAX_DEVICE_ID_LENGTH = 31;

/**
 * Kata's `utils.MakeNameID`: `<type>-<id>`, cut to `maxLength` characters.
 *
 * @param maxLength - @default {@link MAX_DEVICE_ID_LENGTH}
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_OPTIONS` when `type` or `id` is empty or `maxLength` < 1.
 */
export function makeNameId(type: string, id: string, maxLength: number = MAX_DEVICE_ID_LENGTH): string {
  if (type === '')
    throw new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', 'makeNameId: type is empty', { path: 'type' });
  if (id === '')
    throw new QemuArchError('QEMU_ARCH_INVALID_OPTIONS', 'makeNameId: id is empty', { path: 'id' });
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new QemuArchError(
      'QEMU_ARCH_INVALID_OPTIONS',
      `makeNameId: maxLength must be a positive integer, got ${maxLength}`,
      {
        path: 'maxLength',
      },
    );
  }
  return truncateId(`${type}-${id}`, maxLength);
}

/** Cut an id to `maxLength` characters (Kata truncates socket and 9p ids this way). */
export function truncateId(id: string, maxLength: number = MAX_DEVICE_ID_LENGTH): string {
  return id.length > maxLength ? id.slice(0, maxLength) : id;
}

function checkIndex(index: number, what: string, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(index) || index < 0 || index > max) {
    throw new QemuArchError(
      'QEMU_ARCH_INVALID_INDEX',
      `${what}: index must be an integer in 0..${max}, got ${index}`,
      { path: 'index' },
    );
  }
}

/**
 * Kata's `GetVirtDriveName`: the guest name of the `index`-th virtio-blk disk, `vda`..`vdz`, `vdaa`..
 * (bijective base 26, like the Linux driver).
 *
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_INDEX` for a negative or non-integer index.
 */
export function virtDriveName(index: number): string {
  checkIndex(index, 'virtDriveName');
  let n = index;
  let letters = '';
  for (;;) {
    letters = String.fromCharCode(97 + (n % 26)) + letters;
    n = Math.floor(n / 26) - 1;
    if (n < 0) break;
  }
  return `vd${letters}`;
}

/** A SCSI target id and LUN. */
export interface ScsiIdLun {
  /** `scsi-id` (index / 256). */
  readonly id: number;
  /** `lun` (index % 256). */
  readonly lun: number;
}

/** Largest drive index that has a SCSI id/LUN (Kata `maxSCSIDevices` = 65535). */
export const MAX_SCSI_INDEX = 65535;

/**
 * Kata's `GetSCSIIdLun`: the `index`-th disk on a virtio-scsi controller sits at id `index / 256`,
 * LUN `index % 256`.
 *
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_INDEX` when `index` is negative or above 65535.
 */
export function scsiIdLun(index: number): ScsiIdLun {
  checkIndex(index, 'scsiIdLun', MAX_SCSI_INDEX);
  return Object.freeze({ id: Math.floor(index / 256), lun: index % 256 });
}

/**
 * Kata's `GetSCSIAddress`: `"<id>:<lun>"` as the agent expects it.
 *
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_INDEX` as {@link scsiIdLun}.
 */
export function scsiAddress(index: number): string {
  const { id, lun } = scsiIdLun(index);
  return `${id}:${lun}`;
}
