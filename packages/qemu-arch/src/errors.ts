/**
 * Stable codes of {@link QemuArchError}. Package-prefixed so they can be found with grep in a `cause`
 * chain; match on these, never on messages.
 */
export const QEMU_ARCH_ERROR_CODES = {
  /** Options or arguments failed validation (the field is in `path`, zod's issues in `cause`). */
  QEMU_ARCH_INVALID_OPTIONS: 'QEMU_ARCH_INVALID_OPTIONS',
  /** The machine type is not one this architecture knows. */
  QEMU_ARCH_UNKNOWN_MACHINE: 'QEMU_ARCH_UNKNOWN_MACHINE',
  /** The architecture or machine cannot do what was asked (vIOMMU off q35, vhost-user on s390x, ...). */
  QEMU_ARCH_UNSUPPORTED: 'QEMU_ARCH_UNSUPPORTED',
  /** vCPU counts that QEMU would refuse (0 vCPUs, more vCPUs than max, max above the arch limit). */
  QEMU_ARCH_INVALID_TOPOLOGY: 'QEMU_ARCH_INVALID_TOPOLOGY',
  /** Memory sizes that QEMU would refuse (0, or more boot memory than maxmem). */
  QEMU_ARCH_INVALID_MEMORY: 'QEMU_ARCH_INVALID_MEMORY',
  /** No bridge of the wanted type exists (govmm: `failed to get available address from bridges`). */
  QEMU_ARCH_NO_BRIDGE: 'QEMU_ARCH_NO_BRIDGE',
  /** Every slot of every bridge of the wanted type is taken (govmm: `no more bridge slots available`). */
  QEMU_ARCH_BRIDGE_FULL: 'QEMU_ARCH_BRIDGE_FULL',
  /** A device id is already placed on a bridge (govmm would silently take a second slot). */
  QEMU_ARCH_DUPLICATE_DEVICE: 'QEMU_ARCH_DUPLICATE_DEVICE',
  /** The device id is on no bridge (govmm: `Unable to hot unplug device %s: not present on bridge`). */
  QEMU_ARCH_DEVICE_NOT_FOUND: 'QEMU_ARCH_DEVICE_NOT_FOUND',
  /** A CCW address was asked of a bridge that is not CCW. */
  QEMU_ARCH_NOT_CCW: 'QEMU_ARCH_NOT_CCW',
  /** An index out of range (SCSI index beyond 65535, negative drive index, ...). */
  QEMU_ARCH_INVALID_INDEX: 'QEMU_ARCH_INVALID_INDEX',
} as const;

/** One of {@link QEMU_ARCH_ERROR_CODES}. */
export type QemuArchErrorCode = keyof typeof QEMU_ARCH_ERROR_CODES;

/** Options for {@link QemuArchError}. */
export interface QemuArchErrorOptions extends ErrorOptions {
  /** Dotted path of the offending field or argument, e.g. `options.machineType`. @default '' */
  path?: string;
}

const brand = Symbol.for('@vmm/qemu-arch.QemuArchError');

/** The one error type of `@vmm/qemu-arch`. Keeps `cause` (a `ZodError` for option validation). */
export class QemuArchError extends Error {
  static {
    Object.defineProperty(QemuArchError.prototype, 'name', {
      value: 'QemuArchError',
      writable: true,
      configurable: true,
    });
    Object.defineProperty(QemuArchError.prototype, brand, { value: true });
  }
  /** Stable code, one of {@link QEMU_ARCH_ERROR_CODES}. */
  readonly code: QemuArchErrorCode;
  /** Path of the offending field or argument ('' when not about one field). */
  readonly path: string;

  constructor(code: QemuArchErrorCode, message: string, options: QemuArchErrorOptions = {}) {
    const { path = '', ...errorOptions } = options;
    super(message, errorOptions);
    this.code = code;
    this.path = path;
  }

  /** `true` for a {@link QemuArchError} from any copy of this package (works across realms/installs). */
  static is(value: unknown): value is QemuArchError {
    return typeof value === 'object' && value !== null && brand in value;
  }
}
