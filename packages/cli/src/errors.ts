/** Stable codes of errors the `vmm` command itself raises (other packages' codes pass through). */
export const CLI_ERROR_CODES = {
  /** Unknown command, unknown flag, missing or malformed argument. */
  CLI_USAGE: 'CLI_USAGE',
  /** A file named on the command line could not be read or parsed. */
  CLI_INPUT: 'CLI_INPUT',
} as const;

/** One of {@link CLI_ERROR_CODES}. */
export type CliErrorCode = keyof typeof CLI_ERROR_CODES;

const brand = Symbol.for('vmm.CliError');

/** An error in how `vmm` was invoked. Printed as one line; exit code 2 for usage errors. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly exitCode: number;
  readonly [brand] = true;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.exitCode = options?.exitCode ?? (code === 'CLI_USAGE' ? 2 : 1);
  }

  /** Cross-realm check. */
  static is(value: unknown): value is CliError {
    return typeof value === 'object' && value !== null && brand in value;
  }
}
