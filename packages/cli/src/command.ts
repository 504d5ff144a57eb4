import type { ParseArgsConfig } from 'node:util';

/** Where a command writes; tests pass in-memory sinks. */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Environment variables (defaults to process.env). */
  env: NodeJS.ProcessEnv;
}

/** What a command receives: parsed flags, positionals and I/O. */
export interface CommandContext {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  io: CommandIo;
  /** `--debug` was given: print stack traces and extra detail. */
  debug: boolean;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly. */
  signal: AbortSignal;
}

/** A `vmm` sub-command: one file per verb in src/commands/, listed in src/commands/index.ts. */
export interface Command {
  /** The verb, as typed: `check`, `hostinfo`, `qmp-shell`. */
  name: string;
  /** One line for `vmm --help`. */
  summary: string;
  /** Usage text for `vmm <verb> --help`, without the leading `vmm <verb>`. */
  usage: string;
  /** Flags, in node:util parseArgs form (`--help` and `--debug` are added for every command). */
  options: NonNullable<ParseArgsConfig['options']>;
  /** Whether positionals are accepted. @default false */
  allowPositionals?: boolean;
  /** Runs the command; resolves to the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/** Write `value` as pretty JSON plus a newline. */
export function printJson(io: CommandIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
