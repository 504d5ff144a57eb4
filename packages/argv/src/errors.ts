/**
 * Stable codes of {@link ArgvError}. Every code is package-prefixed so it can be found with grep in a
 * `cause` chain.
 */
export const ARGV_ERROR_CODES = {
  /** A top-level config field is missing, has the wrong type or an out-of-range value. */
  ARGV_INVALID_CONFIG: 'ARGV_INVALID_CONFIG',
  /** A field of one device is missing, has the wrong type or an out-of-range value. */
  ARGV_INVALID_DEVICE: 'ARGV_INVALID_DEVICE',
  /** A device's `kind` is not one of {@link DEVICE_KINDS}. */
  ARGV_UNKNOWN_KIND: 'ARGV_UNKNOWN_KIND',
  /** An identifier breaks QEMU's rules (letter first, then letters, digits, `-`, `.`, `_`). */
  ARGV_INVALID_ID: 'ARGV_INVALID_ID',
  /** An object has a key the schema does not know (a typo would otherwise be dropped silently). */
  ARGV_UNKNOWN_FIELD: 'ARGV_UNKNOWN_FIELD',
  /**
   * A value that QEMU cannot receive intact: a control character (newline, NUL, ...), or a comma where
   * QEMU does not honour the `,,` escape.
   */
  ARGV_UNESCAPABLE_VALUE: 'ARGV_UNESCAPABLE_VALUE',
  /** Two settings contradict each other (e.g. two different firmware files, duplicate IDs). */
  ARGV_CONFLICT: 'ARGV_CONFLICT',
  /** An option string given to {@link parseOptionString} or an encoder is malformed. */
  ARGV_INVALID_OPTION_STRING: 'ARGV_INVALID_OPTION_STRING',
} as const;

/** One of {@link ARGV_ERROR_CODES}. */
export type ArgvErrorCode = keyof typeof ARGV_ERROR_CODES;

/** One problem found while validating a config (an {@link ArgvError} carries all of them). */
export interface ArgvIssue {
  /** Stable code. */
  code: ArgvErrorCode;
  /** Dotted path of the field, e.g. `devices[3].id` (empty for the root). */
  path: string;
  /** Human-readable reason. */
  message: string;
}

/** Options for {@link ArgvError}. */
export interface ArgvErrorOptions extends ErrorOptions {
  /** Field path, e.g. `devices[3].id`. @default '' */
  path?: string;
  /** Index in `config.devices` when the problem is in a device. */
  deviceIndex?: number;
  /** The device's `kind` when known. */
  kind?: string;
  /** Every problem found (the first one is the error's own code and path). */
  issues?: readonly ArgvIssue[];
}

const brand = Symbol.for('@vmm/argv.ArgvError');

/**
 * Thrown for any config that cannot be encoded. Never wraps a raw `ZodError` as the error itself: zod
 * issues are mapped to {@link ArgvIssue}s (the `ZodError` is kept as `cause`).
 */
export class ArgvError extends Error {
  static {
    Object.defineProperty(ArgvError.prototype, 'name', {
      value: 'ArgvError',
      writable: true,
      configurable: true,
    });
    Object.defineProperty(ArgvError.prototype, brand, { value: true });
  }
  /** Stable code, one of {@link ARGV_ERROR_CODES}. */
  readonly code: ArgvErrorCode;
  /** Path of the offending field, e.g. `devices[3].id`. */
  readonly path: string;
  /** Index in `config.devices`, when the problem is in a device. */
  readonly deviceIndex: number | undefined;
  /** The device's `kind`, when known. */
  readonly kind: string | undefined;
  /** Every problem found; the first one matches `code` and `path`. */
  readonly issues: readonly ArgvIssue[];

  constructor(code: ArgvErrorCode, message: string, options: ArgvErrorOptions = {}) {
    const { path = '', deviceIndex, kind, issues, ...errorOptions } = options;
    super(message, errorOptions);
    this.code = code;
    this.path = path;
    this.deviceIndex = deviceIndex;
    this.kind = kind;
    this.issues = issues ?? [{ code, path, message }];
  }

  /** `true` for an {@link ArgvError} from any copy of this package (works across realms/installs). */
  static is(value: unknown): value is ArgvError {
    return typeof value === 'object' && value !== null && brand in value;
  }
}
