/**
 * Shared zod building blocks: identifiers, option values, paths, sizes. Every string that reaches the
 * QEMU command line passes through one of these.
 */
import { z } from 'zod';
import type { ArgvErrorCode } from './errors.js';

/** Params attached to custom issues so the error mapper can pick the right {@link ArgvErrorCode}. */
export interface ArgvIssueParams {
  argvCode: ArgvErrorCode;
}

const params = (argvCode: ArgvErrorCode): { params: ArgvIssueParams } => ({ params: { argvCode } });

/** QEMU's `id_wellformed()`: a letter, then letters, digits, `-`, `.`, `_`. */
export const QEMU_ID_PATTERN: RegExp = /^[A-Za-z][A-Za-z0-9._-]*$/;

/** `true` if `id` is a well-formed QEMU/QMP identifier. */
export function isWellFormedId(id: string): boolean {
  return QEMU_ID_PATTERN.test(id);
}

/** Control characters (C0 and DEL): QEMU cannot receive them intact in an option value. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A QEMU identifier (device, object, chardev, netdev, drive, fsdev, iothread ids). */
export const qemuId = z.string().refine(isWellFormedId, {
  message: 'must start with a letter and hold only letters, digits, "-", "." and "_" (QEMU id rules)',
  ...params('ARGV_INVALID_ID'),
});

/** Any string QEMU can receive intact (escaped as needed): no control characters. */
export const optionText = z.string().refine((s) => !CONTROL.test(s), {
  message: 'holds a control character (newline, tab, NUL, ...), which QEMU cannot receive intact',
  ...params('ARGV_UNESCAPABLE_VALUE'),
});

/** A non-empty {@link optionText}. */
export const nonEmptyText = optionText.refine((s) => s.length > 0, { message: 'must not be empty' });

/** A host path (non-empty, no control characters; commas are escaped where QEMU honours `,,`). */
export const hostPath = nonEmptyText;

/** A string used where QEMU does not honour `,,` (so a comma cannot be escaped): no commas either. */
export const commaFreeText = nonEmptyText.refine((s) => !s.includes(','), {
  message: 'holds a comma where QEMU does not honour the ",," escape',
  ...params('ARGV_UNESCAPABLE_VALUE'),
});

/** A QEMU size with optional suffix, as `-m` takes it: `512M`, `2G`, `1073741824`. */
export const sizeString = z
  .string()
  .regex(
    /^[0-9]+(\.[0-9]+)?[bBkKmMgGtTpPeE]?$/,
    'must be a non-negative size such as 512M, 2G or 1073741824',
  );

/** A byte count (non-negative safe integer). */
export const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A positive integer. */
export const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A non-negative integer. */
export const nonNegativeInt = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** A host file descriptor number (in the launching process) to hand to QEMU. */
export const hostFd = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 31 - 1);

/** A UUID in its canonical 8-4-4-4-12 hex form. */
export const uuidText = z
  .string()
  .regex(/^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/, 'must be a UUID');

/** A MAC address as QEMU's `mac=` property parses it: six hex pairs separated by `:`. */
export const MAC_ADDRESS_PATTERN: RegExp = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;

/** A MAC address `52:54:00:12:34:56`. */
export const macAddress = z
  .string()
  .regex(MAC_ADDRESS_PATTERN, 'must be a MAC address such as 52:54:00:12:34:56');

/**
 * A PCI slot for fields govmm converts (net, bridge `Addr`): decimal (`"31"`, written `1f`, as govmm
 * does) or `0x..` (written as given), optionally `.function`.
 */
export const pciAddr = z
  .string()
  .regex(/^(0x[0-9A-Fa-f]{1,2}|[0-9]{1,3})(\.[0-7])?$/, 'must be a PCI slot such as 3, 0x3 or 0x3.1');

/** A PCI slot in QEMU's own `addr=` syntax, written as given: hex slot (`1f`, `0x1f`), optional `.function`. */
export const qemuPciAddr = z
  .string()
  .regex(/^(0x)?[0-9A-Fa-f]{1,2}(\.[0-7])?$/, 'must be a PCI slot in QEMU syntax such as 1f, 0x1f or 0x1f.1');

/** A CCW device number `fe.0.0001` (css id, subchannel set, device number, hex). */
export const ccwDevno = z
  .string()
  .regex(/^[0-9A-Fa-f]{1,2}\.[0-3]\.[0-9A-Fa-f]{1,4}$/, 'must be a CCW devno such as fe.0.0001');

/** A PCI host address (BDF) `0000:01:00.0` or `01:00.0`. */
export const pciBdf = z
  .string()
  .regex(
    /^([0-9A-Fa-f]{4}:)?[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]$/,
    'must be a PCI address such as 0000:01:00.0',
  );

/** A PCI id (vendor or device) `0x10de` or `10de`. */
export const pciId = z.string().regex(/^(0x)?[0-9A-Fa-f]{1,4}$/, 'must be a 16-bit hex id such as 0x10de');

/** A reserve size for PCIe ports (`mem-reserve`, `io-reserve`, ...): bytes with optional suffix. */
export const reserveSize = z
  .string()
  .regex(/^[0-9]+[kKmMgGtT]?$/, 'must be a size such as 64K, 32M or 1048576');

/** A QEMU machine/driver/type-style name: lowercase letters, digits, `-`, `.`, `_`. */
export const qemuName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'must be a QEMU name (letters, digits, "-", ".", "_", "+")');

/** A boolean in the config: JSON-friendly. */
export const flag = z.boolean();
