import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Command, CommandIo } from './command.js';
import { COMMANDS } from './commands/index.js';
import { CliError } from './errors.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

async function globalHelp(): Promise<string> {
  const lines = ['Usage: vmm <command> [options]', '', 'Commands:'];
  for (const [verb, load] of Object.entries(COMMANDS)) {
    const { command } = await load();
    lines.push(`  ${verb.padEnd(12)} ${command.summary}`);
  }
  lines.push('', 'Global options:', '  --help       show help (also `vmm <command> --help`)');
  lines.push(
    '  --debug      print stack traces and extra detail on errors',
    '  --version    print the version',
  );
  return `${lines.join('\n')}\n`;
}

function commandHelp(c: Command): string {
  return `Usage: vmm ${c.name} ${c.usage}\n\n${c.summary}\n`;
}

/** Describe any error in one line: message, then the stable code when it has one. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${err.message} [${code}]` : err.message;
  }
  return String(err);
}

/**
 * Run `vmm` with `args` (without node and script). Resolves to the exit code; never throws.
 * Errors print as one line on stderr, with the stack only under `--debug`.
 */
export async function main(
  args: string[],
  io: Partial<CommandIo> = {},
  signal?: AbortSignal,
): Promise<number> {
  const full: CommandIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    stdin: io.stdin ?? process.stdin,
    env: io.env ?? process.env,
  };
  const debug = args.includes('--debug');
  try {
    const verb = args[0];
    if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
      full.stdout.write(await globalHelp());
      return verb === undefined ? 2 : 0;
    }
    if (verb === '--version' || verb === '-v') {
      full.stdout.write(`${VERSION}\n`);
      return 0;
    }
    const load = COMMANDS[verb];
    if (load === undefined) throw new CliError('CLI_USAGE', `unknown command "${verb}" (see vmm --help)`);
    const { command } = await load();
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: args.slice(1),
        options: { ...command.options, help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } },
        allowPositionals: command.allowPositionals ?? false,
        strict: true,
      });
    } catch (err) {
      throw new CliError('CLI_USAGE', `vmm ${verb}: ${(err as Error).message}`, { cause: err });
    }
    if (parsed.values.help === true) {
      full.stdout.write(commandHelp(command));
      return 0;
    }
    return await command.run({
      values: parsed.values,
      positionals: parsed.positionals,
      io: full,
      debug,
      signal: signal ?? new AbortController().signal,
    });
  } catch (err) {
    full.stderr.write(`vmm: ${describeError(err)}\n`);
    if (debug && err instanceof Error && err.stack) full.stderr.write(`${err.stack}\n`);
    return CliError.is(err) ? err.exitCode : 1;
  }
}
