import type { z } from 'zod';

/**
 * Every code an {@link AcrnError} can carry. Stable: match on these, never on messages.
 */
export const ACRN_ERROR_CODES = {
  /** A config, option or argument failed validation (zod issues kept in `issues`, field in `path`). */
  ACRN_INVALID_CONFIG: 'ACRN_INVALID_CONFIG',
  /** More devices than acrn-dm has PCI slots (0..31, slot 2 reserved for GVT-g). */
  ACRN_TOO_MANY_DEVICES: 'ACRN_TOO_MANY_DEVICES',
  /** A block index has no slot in the slot table (it was not on the command line). */
  ACRN_NO_SLOT: 'ACRN_NO_SLOT',
  /** acrn-dm could not be started, or exited before it was ready; `stderr` holds its output. */
  ACRN_LAUNCH_FAILED: 'ACRN_LAUNCH_FAILED',
  /** acrn-dm stayed up but the readiness check did not pass in time; the process was stopped. */
  ACRN_READY_TIMEOUT: 'ACRN_READY_TIMEOUT',
  /** A helper command (acrnctl) or a lock wait exceeded its timeout. */
  ACRN_TIMEOUT: 'ACRN_TIMEOUT',
  /** The caller's AbortSignal fired. */
  ACRN_ABORTED: 'ACRN_ABORTED',
  /** A pid that must never be signalled (not an integer, <= 1, or this process). */
  ACRN_INVALID_PID: 'ACRN_INVALID_PID',
  /** Signalling acrn-dm failed for a reason other than "already gone", or it survived SIGKILL. */
  ACRN_STOP_FAILED: 'ACRN_STOP_FAILED',
  /** `acrnctl blkrescan` failed; `stdout`/`stderr`/`exitCode` hold acrnctl's answer. */
  ACRN_BLKRESCAN_FAILED: 'ACRN_BLKRESCAN_FAILED',
  /** Every UUID of the pool is leased to a live sandbox. */
  ACRN_UUID_EXHAUSTED: 'ACRN_UUID_EXHAUSTED',
  /** A UUID lease was released, or reclaimed because the process it was tied to exited. */
  ACRN_LEASE_LOST: 'ACRN_LEASE_LOST',
  /** The UUID pool's state file is not what this package writes. */
  ACRN_STATE_CORRUPT: 'ACRN_STATE_CORRUPT',
  /** A file-system operation on the UUID pool's state directory failed. */
  ACRN_IO: 'ACRN_IO',
} as const;

/** One of {@link ACRN_ERROR_CODES}. */
export type AcrnErrorCode = keyof typeof ACRN_ERROR_CODES;

/** A path into the offending input, as zod reports it (`['devices', 3, 'filePath']`). */
export type AcrnFieldPath = readonly (string | number)[];

/** Extra facts an {@link AcrnError} may carry. */
export interface AcrnErrorDetails {
  /** The original error. */
  cause?: unknown;
  /** Where in the input the problem is. */
  path?: AcrnFieldPath;
  /** zod's issues, for ACRN_INVALID_CONFIG raised from a schema. */
  issues?: readonly z.core.$ZodIssue[];
  /** Output of the process involved (tail, bounded). */
  stderr?: string;
  /** Output of the process involved (tail, bounded). */
  stdout?: string;
  /** Exit code of the process involved, if it exited. */
  exitCode?: number;
  /** Signal that ended the process involved, if any. */
  signal?: string;
  /** The argv that was run (binary first). */
  command?: readonly string[];
}

const brand = Symbol.for('@vmm/acrn.AcrnError');

/**
 * The one error class of @vmm/acrn. `code` is stable; `path` names the field for config errors;
 * process failures carry the process's output. `ZodError` never escapes: it becomes
 * `ACRN_INVALID_CONFIG` with `issues`.
 */
export class AcrnError extends Error {
  static {
    Object.defineProperty(AcrnError.prototype, 'name', {
      value: 'AcrnError',
      writable: true,
      configurable: true,
    });
    Object.defineProperty(AcrnError.prototype, brand, { value: true });
  }

  /** Stable code, one of {@link ACRN_ERROR_CODES}. */
  readonly code: AcrnErrorCode;
  /** Field path into the input, when the error is about one field. */
  readonly path: AcrnFieldPath | undefined;
  /** zod issues, when raised from schema validation. */
  readonly issues: readonly z.core.$ZodIssue[] | undefined;
  /** Tail of the process's stderr, when a process was involved. */
  readonly stderr: string | undefined;
  /** Tail of the process's stdout, when a process was involved. */
  readonly stdout: string | undefined;
  /** Exit code, when a process exited. */
  readonly exitCode: number | undefined;
  /** Terminating signal, when a process was killed. */
  readonly signal: string | undefined;
  /** The command that ran (binary first). */
  readonly command: readonly string[] | undefined;

  constructor(code: AcrnErrorCode, message: string, details: AcrnErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.path = details.path;
    this.issues = details.issues;
    this.stderr = details.stderr;
    this.stdout = details.stdout;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.command = details.command;
  }

  /** True for any AcrnError, also one from a duplicate install of this package (unlike `instanceof`). */
  static is(value: unknown): value is AcrnError {
    return typeof value === 'object' && value !== null && brand in value;
  }
}

/** Render a field path as `devices[3].filePath`. */
export function formatPath(path: AcrnFieldPath): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Turn a failed zod parse into an `ACRN_INVALID_CONFIG` AcrnError naming the first issue's field.
 * `what` prefixes the path (e.g. `config`, `blkrescan`).
 */
export function fromZodError(what: string, error: z.ZodError): AcrnError {
  const first = error.issues[0];
  const path = (first?.path ?? []).filter(
    (p): p is string | number => typeof p === 'string' || typeof p === 'number',
  );
  const where = formatPath([what, ...path]);
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more issue(s))` : '';
  return new AcrnError('ACRN_INVALID_CONFIG', `${where}: ${first?.message ?? 'invalid'}${more}`, {
    cause: error,
    path,
    issues: error.issues,
  });
}

/** Parse with a zod schema; failures become {@link AcrnError} `ACRN_INVALID_CONFIG`. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(what, result.error);
  return result.data;
}

/** The AbortSignal's reason as an `ACRN_ABORTED` error (kept as `cause`). */
export function abortError(signal: AbortSignal, what: string): AcrnError {
  return new AcrnError('ACRN_ABORTED', `${what}: aborted`, { cause: signal.reason });
}
