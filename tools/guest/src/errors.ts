/**
 * Every error @vmm/guest raises: one class, {@link GuestError}, with a stable `code` from
 * {@link GUEST_ERROR_CODES}, the failing step's tool output in `stderr` when there is one, and the
 * original error in `cause`.
 */

/** Stable error codes, each documented in the package README. */
export const GUEST_ERROR_CODES = {
  /** The host cannot build the guest: not Linux on x86_64, or a required tool (apt-get, dpkg-deb, tar, xz) is missing. */
  GUEST_UNSUPPORTED_HOST: 'GUEST_UNSUPPORTED_HOST',
  /** `linux-image-amd64` resolves to no kernel ABI package, even after `apt-get update`. */
  GUEST_KERNEL_NOT_FOUND: 'GUEST_KERNEL_NOT_FOUND',
  /** An apt command failed (`apt-cache`, `apt-get update`, `apt-get download`); `stderr` holds its output. */
  GUEST_APT_FAILED: 'GUEST_APT_FAILED',
  /** Unpacking a .deb or carving the uncompressed `vmlinux` out of the bzImage failed. */
  GUEST_EXTRACT_FAILED: 'GUEST_EXTRACT_FAILED',
  /** A module the guest needs (or one of its dependencies) is not in the kernel package, or is not a valid ELF module. */
  GUEST_MODULE_MISSING: 'GUEST_MODULE_MISSING',
  /** Writing the initramfs (busybox `cpio -o -H newc`) failed. */
  GUEST_INITRAMFS_FAILED: 'GUEST_INITRAMFS_FAILED',
  /** The cache directory could not be created, read or written (permissions, disk full); `cause` is the system error. */
  GUEST_CACHE_IO: 'GUEST_CACHE_IO',
  /** A `manifest.json` is unreadable or does not match the manifest schema (the `issues` are in `cause`). */
  GUEST_MANIFEST_INVALID: 'GUEST_MANIFEST_INVALID',
  /** Another process held the cache lock for longer than `lockTimeoutMs`. */
  GUEST_LOCK_TIMEOUT: 'GUEST_LOCK_TIMEOUT',
  /** The caller's `AbortSignal` fired. */
  GUEST_ABORTED: 'GUEST_ABORTED',
  /** The whole operation took longer than `timeoutMs`. */
  GUEST_TIMEOUT: 'GUEST_TIMEOUT',
  /** An option passed to the API is invalid (the message names the field). */
  GUEST_INVALID_OPTIONS: 'GUEST_INVALID_OPTIONS',
} as const;

/** One of {@link GUEST_ERROR_CODES}. */
export type GuestErrorCode = keyof typeof GUEST_ERROR_CODES;

const brand = Symbol.for('@vmm/guest.GuestError');

/** Extra context a {@link GuestError} may carry. */
export interface GuestErrorOptions extends ErrorOptions {
  /** The last lines of the failing tool's stderr/stdout (at most 4 KiB). */
  stderr?: string;
}

/** The one error class of @vmm/guest. Check with {@link GuestError.is}, which works across duplicate installs. */
export class GuestError extends Error {
  static {
    Object.defineProperty(GuestError.prototype, 'name', {
      value: 'GuestError',
      writable: true,
      configurable: true,
    });
    Object.defineProperty(GuestError.prototype, brand, { value: true });
  }
  /** Stable code, see {@link GUEST_ERROR_CODES}. */
  readonly code: GuestErrorCode;
  /** The failing tool's output tail, when a tool failed. */
  readonly stderr: string | undefined;

  constructor(code: GuestErrorCode, message: string, options: GuestErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.stderr = options.stderr === undefined ? undefined : tail(options.stderr, 4096);
  }

  /** True for any {@link GuestError}, including one from another copy of this package. */
  static is(value: unknown): value is GuestError {
    return typeof value === 'object' && value !== null && brand in value;
  }
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max)}`;
}
