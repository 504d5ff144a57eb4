/**
 * The one error hierarchy of `@vmm/sandbox`. Codes are stable, package-prefixed and listed in one
 * `as const` table; match on them, never on messages.
 */

/** Stable codes of {@link SandboxError}. */
export const SANDBOX_ERROR_CODES = {
  /** A {@link HypervisorConfig} (or another input) failed validation; `path` names the field. */
  SANDBOX_INVALID_CONFIG: 'SANDBOX_INVALID_CONFIG',
  /** A kernel, image, initrd, firmware or hypervisor binary does not exist or is not a file. */
  SANDBOX_ASSET_MISSING: 'SANDBOX_ASSET_MISSING',
  /** A custom asset's SHA-512 digest does not match the file. */
  SANDBOX_ASSET_DIGEST_MISMATCH: 'SANDBOX_ASSET_DIGEST_MISMATCH',
  /** A hypervisor type string is not one of `qemu`, `acrn`, `mock`. */
  SANDBOX_UNKNOWN_HYPERVISOR: 'SANDBOX_UNKNOWN_HYPERVISOR',
  /** A unix socket path cannot be made to fit the 107-byte limit. */
  SANDBOX_SOCKET_PATH_TOO_LONG: 'SANDBOX_SOCKET_PATH_TOO_LONG',
  /** A state file is unreadable, corrupt, of an unknown schema version, or fails validation. */
  SANDBOX_STATE_INVALID: 'SANDBOX_STATE_INVALID',
  /** State directory I/O failed (permissions, disk full, ...). */
  SANDBOX_STATE_IO: 'SANDBOX_STATE_IO',
  /** No sandbox with this id exists in the state directory. */
  SANDBOX_NOT_FOUND: 'SANDBOX_NOT_FOUND',
  /** A sandbox with this id already exists. */
  SANDBOX_EXISTS: 'SANDBOX_EXISTS',
  /** The per-sandbox lock was not obtained in time. */
  SANDBOX_LOCK_TIMEOUT: 'SANDBOX_LOCK_TIMEOUT',
  /** The operation is not valid in the sandbox's lifecycle state (e.g. hotplug before start). */
  SANDBOX_INVALID_STATE: 'SANDBOX_INVALID_STATE',
  /** The hypervisor could not be launched (binary refused the argv, exec failed); stderr tail kept. */
  SANDBOX_START_FAILED: 'SANDBOX_START_FAILED',
  /** The hypervisor did not answer QMP (or the guest did not report ready) in time. */
  SANDBOX_READY_TIMEOUT: 'SANDBOX_READY_TIMEOUT',
  /** The hypervisor process exited while an operation waited on it; `exit` and `stderrTail` say how. */
  SANDBOX_HYPERVISOR_EXITED: 'SANDBOX_HYPERVISOR_EXITED',
  /** Stopping failed: the process survived SIGKILL, or the run directory could not be removed. */
  SANDBOX_STOP_FAILED: 'SANDBOX_STOP_FAILED',
  /** A QMP command failed (the `QmpError` is the `cause`). */
  SANDBOX_QMP_FAILED: 'SANDBOX_QMP_FAILED',
  /** A hotplug add or remove failed; whatever it had added was rolled back. */
  SANDBOX_HOTPLUG_FAILED: 'SANDBOX_HOTPLUG_FAILED',
  /** The hypervisor or machine cannot do this (no memory hotplug on microvm, vsock without /dev/vhost-vsock, ...). */
  SANDBOX_UNSUPPORTED: 'SANDBOX_UNSUPPORTED',
  /** Save or restore (migration to/from a file) failed. */
  SANDBOX_MIGRATION_FAILED: 'SANDBOX_MIGRATION_FAILED',
  /** The console could not be opened or read. */
  SANDBOX_CONSOLE: 'SANDBOX_CONSOLE',
  /** A wait timed out (console line, guest marker, migration). */
  SANDBOX_TIMEOUT: 'SANDBOX_TIMEOUT',
  /** The caller's AbortSignal fired. */
  SANDBOX_ABORTED: 'SANDBOX_ABORTED',
} as const;

/** One of {@link SANDBOX_ERROR_CODES}. */
export type SandboxErrorCode = keyof typeof SANDBOX_ERROR_CODES;

/** How a hypervisor process ended. */
export interface HypervisorExit {
  /** Exit code, `null` when killed by a signal. */
  readonly code: number | null;
  /** Terminating signal, `null` on a normal exit. */
  readonly signal: string | null;
}

/** Options of {@link SandboxError}. */
export interface SandboxErrorOptions extends ErrorOptions {
  /** Dotted path of the offending field, e.g. `config.memorySize`. @default '' */
  path?: string;
  /** Sandbox id, when the error is about one. */
  sandboxId?: string;
  /** Last lines of the hypervisor's stderr, when they explain the failure. @default [] */
  stderrTail?: readonly string[];
  /** How the hypervisor ended, for `SANDBOX_HYPERVISOR_EXITED` / `SANDBOX_START_FAILED`. */
  exit?: HypervisorExit;
}

const brand = Symbol.for('@vmm/sandbox.SandboxError');

/** Every error `@vmm/sandbox` throws. Keeps `cause`; `is()` works across duplicate installs. */
export class SandboxError extends Error {
  static {
    Object.defineProperty(SandboxError.prototype, 'name', {
      value: 'SandboxError',
      writable: true,
      configurable: true,
    });
    Object.defineProperty(SandboxError.prototype, brand, { value: true });
  }
  /** Stable code, one of {@link SANDBOX_ERROR_CODES}. */
  readonly code: SandboxErrorCode;
  /** Dotted path of the offending field ('' when not about a field). */
  readonly path: string;
  /** Sandbox the error is about, if any. */
  readonly sandboxId: string | undefined;
  /** Last lines of the hypervisor's stderr ([] when none were relevant). */
  readonly stderrTail: readonly string[];
  /** How the hypervisor ended, when it did. */
  readonly exit: HypervisorExit | undefined;

  constructor(code: SandboxErrorCode, message: string, options: SandboxErrorOptions = {}) {
    const { path = '', sandboxId, stderrTail = [], exit, ...errorOptions } = options;
    const tail = stderrTail.length > 0 ? `\n  qemu stderr: ${stderrTail.join('\n  qemu stderr: ')}` : '';
    super(`${message}${tail}`, errorOptions);
    this.code = code;
    this.path = path;
    this.sandboxId = sandboxId;
    this.stderrTail = Object.freeze([...stderrTail]);
    this.exit = exit;
  }

  /** True for a `SandboxError` from any copy of this package (unlike `instanceof`). */
  static is(value: unknown): value is SandboxError {
    return typeof value === 'object' && value !== null && brand in value;
  }
}

/** A config validation failure: the first issue's field in `path`, every issue in `issues`. */
export class SandboxConfigError extends SandboxError {
  static {
    Object.defineProperty(SandboxConfigError.prototype, 'name', {
      value: 'SandboxConfigError',
      writable: true,
      configurable: true,
    });
  }
  /** Every problem found, each with its dotted field path. */
  readonly issues: readonly { readonly path: string; readonly message: string }[];

  constructor(
    issues: readonly { path: string; message: string }[],
    options: ErrorOptions & { sandboxId?: string } = {},
  ) {
    const first = issues[0] ?? { path: '', message: 'invalid config' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('SANDBOX_INVALID_CONFIG', `${first.path === '' ? 'config' : first.path}: ${first.message}${more}`, {
      ...options,
      path: first.path,
    });
    this.issues = Object.freeze(issues.map((i) => Object.freeze({ ...i })));
  }
}

/** Turn an abort reason into a `SANDBOX_ABORTED` error (keeps the reason as `cause`). */
export function abortError(signal: AbortSignal, what: string): SandboxError {
  return new SandboxError('SANDBOX_ABORTED', `${what}: aborted`, { cause: signal.reason });
}
