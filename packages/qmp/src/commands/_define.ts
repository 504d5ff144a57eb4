import type { z } from 'zod';

/**
 * A typed QMP command: its wire name, a zod schema for its arguments (`undefined` when it takes
 * none) and one for its reply. Each `commands/<wire-name>.ts` exports one, and
 * `commands/index.ts` lists them all in the typed registry behind `client.execute()`.
 */
export interface QmpCommandDef<
  Name extends string = string,
  Args extends z.ZodType | undefined = z.ZodType | undefined,
  Reply extends z.ZodType = z.ZodType,
> {
  /** Wire name, exactly as QEMU spells it. */
  readonly name: Name;
  /** Argument schema (QEMU's wire member names), or `undefined` for commands without arguments. */
  readonly args: Args;
  /** Reply (`return` value) schema. */
  readonly reply: Reply;
  /** One line for docs and `vmm qmp-shell` help. */
  readonly summary: string;
}

/** Declare a typed command (identity function that keeps the literal types). */
export function defineCommand<
  const Name extends string,
  Args extends z.ZodType | undefined,
  Reply extends z.ZodType,
>(def: QmpCommandDef<Name, Args, Reply>): QmpCommandDef<Name, Args, Reply> {
  return def;
}
