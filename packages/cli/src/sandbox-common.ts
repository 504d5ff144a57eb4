import { defaultStateDir, Sandbox } from '@vmm/sandbox';
import type { CommandContext, CommandIo } from './command.js';
import { CliError } from './errors.js';

/** `--state-dir`, shared by every sandbox verb. */
export const STATE_DIR_FLAG = { 'state-dir': { type: 'string' } } as const;

/** Usage line of {@link STATE_DIR_FLAG}. */
export const STATE_DIR_USAGE =
  '  --state-dir <dir>  where sandboxes live (default $VMM_STATE_DIR, $XDG_RUNTIME_DIR/vmm, or /run/vmm as root)';

/** The state directory from `--state-dir` or the environment. */
export function stateDirOf(ctx: CommandContext): string {
  const v = ctx.values['state-dir'];
  if (typeof v === 'string' && v !== '') return v;
  return defaultStateDir(ctx.io.env);
}

/** A string flag, or `undefined`. */
export function stringFlag(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * A whole-number flag within bounds, or `undefined` when absent.
 * @throws {CliError} `CLI_USAGE` naming the flag.
 */
export function intFlag(
  ctx: CommandContext,
  verb: string,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const raw = stringFlag(ctx, name);
  if (raw === undefined) return undefined;
  return parseIntArg(verb, `--${name}`, raw, min, max);
}

/** Parse a whole number argument. @throws {CliError} `CLI_USAGE` */
export function parseIntArg(verb: string, what: string, raw: string, min: number, max: number): number {
  if (!/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new CliError(
      'CLI_USAGE',
      `vmm ${verb}: ${what} must be a whole number in ${min}..${max}, got "${raw}"`,
    );
  }
  return Number(raw);
}

/**
 * The sandbox id positional (exactly `count` positionals expected from `index`).
 * @throws {CliError} `CLI_USAGE`
 */
export function positional(ctx: CommandContext, verb: string, index: number, name: string): string {
  const v = ctx.positionals[index];
  if (v === undefined || v === '')
    throw new CliError('CLI_USAGE', `vmm ${verb}: missing <${name}> (see vmm ${verb} --help)`);
  return v;
}

/** Re-attach to sandbox `id` in the context's state directory. */
export function attach(ctx: CommandContext, id: string): Promise<Sandbox> {
  return Sandbox.attach(id, { stateDir: stateDirOf(ctx) });
}

/** Writes `[  1.23s] message` progress lines to stderr, timed from construction. */
export class Progress {
  readonly #io: CommandIo;
  readonly #t0 = performance.now();
  readonly #quiet: boolean;

  constructor(io: CommandIo, quiet = false) {
    this.#io = io;
    this.#quiet = quiet;
  }

  /** Seconds since start. */
  get seconds(): number {
    return (performance.now() - this.#t0) / 1000;
  }

  step(message: string): void {
    if (this.#quiet) return;
    this.#io.stderr.write(`[${this.seconds.toFixed(2).padStart(6)}s] ${message}\n`);
  }
}
