import { readFile } from 'node:fs/promises';
import { encodeQemuArgv, explainArgv, type QemuArgv, validateQemuConfig } from '@vmm/argv';
import { type Command, type CommandContext, printJson } from '../command.js';
import { CliError } from '../errors.js';

/** Characters a POSIX shell word may hold without quoting. */
const SHELL_SAFE = /^[A-Za-z0-9_\-+=/.,:@%^]+$/;

/** Quote one word for a POSIX shell (single quotes; `'` becomes `'\''`). */
export function shellQuote(word: string): string {
  if (SHELL_SAFE.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

async function readStdin(ctx: CommandContext): Promise<string> {
  const chunks: string[] = [];
  for await (const chunk of ctx.io.stdin) {
    if (ctx.signal.aborted) throw new CliError('CLI_INPUT', 'vmm argv: aborted while reading stdin');
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  }
  return chunks.join('');
}

async function readConfig(ctx: CommandContext): Promise<unknown> {
  const [source, ...rest] = ctx.positionals;
  if (source === undefined || rest.length > 0) {
    throw new CliError('CLI_USAGE', 'vmm argv: give exactly one config file, or - for stdin');
  }
  let text: string;
  try {
    text =
      source === '-'
        ? await readStdin(ctx)
        : await readFile(source, { encoding: 'utf8', signal: ctx.signal });
  } catch (err) {
    if (CliError.is(err)) throw err;
    throw new CliError('CLI_INPUT', `vmm argv: cannot read ${source}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const name = source === '-' ? 'stdin' : source;
    throw new CliError('CLI_INPUT', `vmm argv: ${name} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** `--explain` as text: each option, its summary, then its key/value pairs. */
export function formatExplanation(argv: readonly string[]): string {
  const lines: string[] = [];
  for (const o of explainArgv(argv)) {
    const head = o.value === undefined ? o.option : `${o.option} ${shellQuote(o.value)}`;
    lines.push(`${head}\n    # ${o.summary}`);
    if (o.pairs !== undefined) {
      const width = Math.max(...o.pairs.map(([k]) => k.length));
      for (const [k, v] of o.pairs) lines.push(`    ${k.padEnd(width)}  ${JSON.stringify(v)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function describeFds(ctx: CommandContext, fds: QemuArgv['fds']): void {
  for (const f of fds) {
    ctx.io.stderr.write(`vmm argv: QEMU expects fd ${f.childFd} = host fd ${f.hostFd} (${f.path})\n`);
  }
}

/** `vmm argv`: print (or explain) the QEMU argv of a VM config. */
export const command: Command = {
  name: 'argv',
  summary: 'print the QEMU argv of a VM config (JSON), or explain it option by option',
  usage: `<config.json|-> [--json] [--explain]

  <config.json>  a @vmm/argv QemuConfig as JSON; - reads it from stdin
  --json         print a JSON array of arguments (with --explain: the explanation as JSON)
  --explain      print each option with what it does and its key/value pairs

The arguments follow the binary (qemu-system-<arch>). File descriptors the config asks QEMU to inherit
are listed on stderr. A bad config prints one line naming the field, e.g.
  vmm: devices[3].id (block): must start with a letter ... (got "my disk") [ARGV_INVALID_ID]`,
  options: {
    json: { type: 'boolean' },
    explain: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(ctx) {
    const config = await readConfig(ctx);
    const { argv, fds } = encodeQemuArgv(validateQemuConfig(config), { trusted: true });
    const json = ctx.values.json === true;
    if (ctx.values.explain === true) {
      if (json) printJson(ctx.io, explainArgv(argv));
      else ctx.io.stdout.write(formatExplanation(argv));
    } else if (json) {
      printJson(ctx.io, argv);
    } else {
      ctx.io.stdout.write(`${argv.map(shellQuote).join(' ')}\n`);
    }
    describeFds(ctx, fds);
    return 0;
  },
};
