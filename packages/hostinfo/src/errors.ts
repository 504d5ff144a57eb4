/**
 * Stable codes of {@link HostinfoError}. One `as const` table: the union type, the README rows and
 * the TSDoc below all come from here.
 */
export const HOSTINFO_ERROR_CODES = {
  /** A /proc, /sys or /dev file could not be opened or read (missing, permission, I/O error). */
  HOSTINFO_FILE_UNREADABLE: 'HOSTINFO_FILE_UNREADABLE',
  /** A file's text is not in the expected format at all (no `key: value` line; binary data). */
  HOSTINFO_PARSE: 'HOSTINFO_PARSE',
  /** No well-formed `MemTotal: N kB` line in /proc/meminfo (Kata: `unable get MemTotal from PATH`). */
  HOSTINFO_NO_MEMTOTAL: 'HOSTINFO_NO_MEMTOTAL',
  /** No `flags` line in an x86 /proc/cpuinfo (Kata: `Couldn't find "flags" from "PATH" output`). */
  HOSTINFO_NO_CPU_FLAGS: 'HOSTINFO_NO_CPU_FLAGS',
  /** A file was larger than the read cap; what was read is used and the result says so. */
  HOSTINFO_TRUNCATED: 'HOSTINFO_TRUNCATED',
  /** The machine architecture is not one vmm runs guests on (amd64, arm64, ppc64le, s390x). */
  HOSTINFO_UNSUPPORTED_ARCH: 'HOSTINFO_UNSUPPORTED_ARCH',
  /** No QEMU system emulator for the host architecture was found. */
  HOSTINFO_QEMU_NOT_FOUND: 'HOSTINFO_QEMU_NOT_FOUND',
  /** `qemu-system-* --version` failed, timed out, or printed no recognisable version. */
  HOSTINFO_QEMU_VERSION: 'HOSTINFO_QEMU_VERSION',
  /** `VMM_ACCEL` is set to something other than `kvm` or `tcg`. */
  HOSTINFO_BAD_ACCEL: 'HOSTINFO_BAD_ACCEL',
  /** Options passed to a reader failed validation; `issues` names the field. */
  HOSTINFO_INVALID_OPTIONS: 'HOSTINFO_INVALID_OPTIONS',
  /** The operation was aborted through its `AbortSignal`. */
  HOSTINFO_ABORTED: 'HOSTINFO_ABORTED',
} as const;

/** One of {@link HOSTINFO_ERROR_CODES}. */
export type HostinfoErrorCode = keyof typeof HOSTINFO_ERROR_CODES;

const brand = Symbol.for('@vmm/hostinfo.HostinfoError');

/** Every error `@vmm/hostinfo` throws. `code` is stable; `path` names the file involved, if any. */
export class HostinfoError extends Error {
  static {
    Object.defineProperty(HostinfoError.prototype, 'name', {
      value: 'HostinfoError',
      writable: true,
      configurable: true,
    });
    Object.defineProperty(HostinfoError.prototype, brand, { value: true });
  }
  /** Stable machine-readable code, one of {@link HOSTINFO_ERROR_CODES}. */
  readonly code: HostinfoErrorCode;
  /** The file (or binary) the error is about, when there is one. */
  readonly path: string | undefined;

  /**
   * @param code - one of {@link HOSTINFO_ERROR_CODES}.
   * @param message - one line; should include the offending value or file.
   * @param options - `cause` (kept) and `path`.
   */
  constructor(code: HostinfoErrorCode, message: string, options: { cause?: unknown; path?: string } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.path = options.path;
  }

  /** `true` for any `HostinfoError`, also one from another copy of this package (unlike `instanceof`). */
  static is(value: unknown): value is HostinfoError {
    return typeof value === 'object' && value !== null && brand in value;
  }
}

/** A problem tolerated while gathering facts: the result is partial, and this says how. */
export interface HostinfoWarning {
  /** Code of the error that was tolerated. */
  code: HostinfoErrorCode;
  /** One line, naming the file. */
  message: string;
}
