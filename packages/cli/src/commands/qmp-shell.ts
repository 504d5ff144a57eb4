import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectQmp, QmpCommandError, QmpError } from '@vmm/qmp';
import type { Command, CommandContext, CommandIo } from '../command.js';
import { CliError } from '../errors.js';
import { QMP_TARGET_FLAGS, withQmpTarget } from '../qmp-target.js';
import { parseTimeout } from './qmp.js';

/** One parsed shell line. */
export type ShellLine =
  | { kind: 'empty' }
  | { kind: 'command'; command: string; args: Record<string, unknown> | undefined }
  | { kind: 'transaction-begin' }
  | { kind: 'transaction-end' }
  | { kind: 'meta'; name: 'hmp' | 'qmp' | 'help' };

/** Tokens: runs of non-space characters, where quoted parts may contain spaces (as qmp-shell). */
const TOKEN = /(?:[^\s"']|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')+/g;

/**
 * A `key=value` value: JSON when it parses (numbers, booleans, null, objects, arrays, "strings"),
 * a single-quoted string with the quotes removed, else the text itself.
 */
export function parseShellValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) return text.slice(1, -1);
    return text;
  }
}

function usage(message: string): CliError {
  return new CliError('CLI_USAGE', message);
}

/** Set `obj[a][b][c] = value` for the key `a.b.c`, refusing to overwrite. */
function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  if (parts.some((p) => p.length === 0)) throw usage(`bad argument name "${key}"`);
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      cur[p] = created;
      cur = created;
    } else if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      cur = next as Record<string, unknown>;
    } else {
      throw usage(`argument "${key}" conflicts with an earlier value of "${p}"`);
    }
  }
  const last = parts.at(-1)!;
  if (last in cur) throw usage(`argument "${key}" is given twice`);
  cur[last] = value;
}

/**
 * Parse one qmp-shell line: `command key=value ...` (values are JSON when they parse; `a.b=1`
 * nests), a raw JSON request (`{"execute": ..., "arguments": ...}`), `transaction(` / `)`, or a
 * meta command (`:hmp`, `:qmp`, `:help`). Blank lines and `#` comments are empty.
 * @throws {CliError} `CLI_USAGE` naming the bad token.
 */
export function parseShellLine(line: string): ShellLine {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return { kind: 'empty' };
  if (text === ':hmp' || text === ':qmp' || text === ':help')
    return { kind: 'meta', name: text.slice(1) as 'hmp' };
  if (text === 'transaction(') return { kind: 'transaction-begin' };
  if (text === ')') return { kind: 'transaction-end' };
  if (text.startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      throw usage(`not valid JSON: ${(err as Error).message}`);
    }
    const o = v as { execute?: unknown; arguments?: unknown };
    if (typeof o.execute !== 'string') throw usage('a raw JSON request needs "execute": "<command>"');
    if (
      o.arguments !== undefined &&
      (typeof o.arguments !== 'object' || o.arguments === null || Array.isArray(o.arguments))
    ) {
      throw usage('"arguments" must be an object');
    }
    return { kind: 'command', command: o.execute, args: o.arguments as Record<string, unknown> | undefined };
  }
  const tokens = text.match(TOKEN) ?? [];
  const [command, ...rest] = tokens;
  if (command === undefined) return { kind: 'empty' };
  if (rest.length === 0) return { kind: 'command', command, args: undefined };
  const args: Record<string, unknown> = {};
  for (const tok of rest) {
    const eq = tok.indexOf('=');
    if (eq <= 0) throw usage(`expected key=value, got "${tok}"`);
    setPath(args, tok.slice(0, eq), parseShellValue(tok.slice(eq + 1)));
  }
  return { kind: 'command', command, args };
}

/** A readline completer over command names (only the first word is completed). */
export function makeCompleter(names: readonly string[]): (line: string) => [string[], string] {
  const sorted = [...names].sort();
  return (line: string) => {
    if (/\s/.test(line.trimStart())) return [[], line];
    const word = line.trimStart();
    const hits = sorted.filter((n) => n.startsWith(word));
    return [hits, word];
  };
}

/** Options of {@link runQmpShell}. */
export interface QmpShellOptions {
  /** Pretty-print replies (qmp-shell `-p`). @default false */
  pretty?: boolean;
  /** Start in HMP mode: lines are HMP command lines. @default false */
  hmp?: boolean;
  /** Per-command timeout in ms. @default 30000 */
  timeout?: number;
  /** Read/write readline history here. @default `$HOME/.vmm_qmp_history` on a terminal, none otherwise */
  historyFile?: string;
  signal?: AbortSignal;
}

const HELP = `Enter a QMP command as:  command key=value key2=value2   (values are JSON when they parse)
  nested members: a.b=1 -> {"a": {"b": 1}};  raw JSON: {"execute": "...", "arguments": {...}}
  transaction(   then one "action-type key=value" per line, then )   -> one "transaction"
  :hmp  switch to HMP command lines;  :qmp  back to QMP;  :help  this text;  Ctrl-D quits
`;

function loadHistory(file: string | undefined): string[] {
  if (file === undefined) return [];
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
  } catch {
    return [];
  }
}

/**
 * An interactive (or scripted, from a non-terminal stdin) QMP shell in the style of QEMU's
 * `qmp-shell` on the socket at `socketPath`. Replies print as `{"return": ...}` or
 * `{"error": {"class", "desc"}}`, events as they arrive. Resolves with the exit status: 0, or 1
 * when any command failed or the connection was lost.
 * @throws {QmpError} when the socket cannot be opened or negotiation fails.
 */
export async function runQmpShell(
  socketPath: string,
  io: CommandIo,
  options: QmpShellOptions = {},
): Promise<number> {
  const qmp = await connectQmp(socketPath, options.signal === undefined ? {} : { signal: options.signal });
  const input = io.stdin as NodeJS.ReadableStream & { isTTY?: boolean };
  const terminal = input.isTTY === true && (io.stdout as { isTTY?: boolean }).isTTY === true;
  const historyFile =
    options.historyFile ??
    (terminal && io.env.HOME !== undefined ? join(io.env.HOME, '.vmm_qmp_history') : undefined);
  const fmt = (v: unknown): string =>
    options.pretty === true ? JSON.stringify(v, null, 4) : JSON.stringify(v);
  const out = (s: string): void => {
    io.stdout.write(`${s}\n`);
  };
  let names: string[] = [];
  try {
    names = (await qmp.execute('query-commands')).map((c) => c.name);
  } catch {
    // completion is a convenience
  }
  let hmp = options.hmp === true;
  const prompt = (): string => (hmp ? '(HMP) ' : '(QEMU) ');
  const rl = createInterface({
    input,
    ...(terminal
      ? {
          output: io.stdout,
          completer: makeCompleter(names),
          history: loadHistory(historyFile),
          historySize: 1000,
        }
      : {}),
    terminal,
    prompt: prompt(),
  });
  const offEvents = qmp.on('*', (ev) => out(fmt(ev)));
  const onAbort = (): void => rl.close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let status = 0;
  let transaction: Array<{ type: string; data: Record<string, unknown> }> | undefined;
  const executed: string[] = [];
  if (terminal) {
    out(
      `Welcome to the vmm QMP shell. Connected to QEMU ${qmp.greeting?.version.qemu.major}.${qmp.greeting?.version.qemu.minor}.${qmp.greeting?.version.qemu.micro}`,
    );
    rl.prompt();
  }
  const call = {
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  try {
    for await (const line of rl) {
      try {
        if (hmp && !line.trim().startsWith(':')) {
          if (line.trim() !== '') {
            executed.push(line);
            io.stdout.write(await qmp.hmp(line, call));
          }
        } else {
          const parsed = parseShellLine(line);
          if (parsed.kind !== 'empty') executed.push(line);
          if (parsed.kind === 'meta') {
            if (parsed.name === 'help') io.stdout.write(HELP);
            else hmp = parsed.name === 'hmp';
            rl.setPrompt(prompt());
          } else if (parsed.kind === 'transaction-begin') {
            if (transaction !== undefined) throw usage('already inside transaction(');
            transaction = [];
          } else if (parsed.kind === 'transaction-end') {
            if (transaction === undefined) throw usage('")" without "transaction("');
            const actions = transaction;
            transaction = undefined;
            out(fmt({ return: await qmp.executeUntyped('transaction', { actions }, call) }));
          } else if (parsed.kind === 'command') {
            if (transaction !== undefined)
              transaction.push({ type: parsed.command, data: parsed.args ?? {} });
            else out(fmt({ return: await qmp.executeUntyped(parsed.command, parsed.args, call) }));
          }
        }
      } catch (err) {
        status = 1;
        if (err instanceof QmpCommandError) out(fmt({ error: { class: err.errorClass, desc: err.desc } }));
        else if (CliError.is(err)) io.stderr.write(`error: ${err.message}\n`);
        else if (QmpError.is(err)) {
          io.stderr.write(`error: ${err.message} [${err.code}]\n`);
          if (qmp.state === 'closed') break;
        } else throw err;
      }
      if (terminal) rl.prompt();
    }
  } finally {
    offEvents();
    options.signal?.removeEventListener('abort', onAbort);
    rl.close();
    if (historyFile !== undefined && executed.length > 0) {
      try {
        appendFileSync(historyFile, `${executed.join('\n')}\n`, { mode: 0o600 });
      } catch {
        // history is a convenience
      }
    }
    await qmp.close();
  }
  if (transaction !== undefined) {
    io.stderr.write('error: input ended inside transaction( (nothing sent)\n');
    status = 1;
  }
  return status;
}

async function run(ctx: CommandContext): Promise<number> {
  const [socket, ...extra] = ctx.positionals;
  if (socket === undefined || extra.length > 0)
    throw new CliError('CLI_USAGE', 'usage: vmm qmp-shell <socket|sandbox-id> [-p] [-H]');
  const timeout = parseTimeout(ctx.values.timeout);
  const history = ctx.values.history;
  return withQmpTarget(ctx, 'qmp-shell', socket, (path) =>
    runQmpShell(path, ctx.io, {
      pretty: ctx.values.pretty === true,
      hmp: ctx.values.hmp === true,
      signal: ctx.signal,
      ...(timeout === undefined ? {} : { timeout }),
      ...(typeof history === 'string' ? { historyFile: history } : {}),
    }),
  );
}

/** `vmm qmp-shell <socket|sandbox-id>`. */
export const command: Command = {
  name: 'qmp-shell',
  summary: 'interactive QMP shell (qmp-shell compatible: key=value arguments, history, completion, HMP mode)',
  usage: `<socket|sandbox-id> [-p|--pretty] [-H|--hmp] [--timeout <ms>] [--history <file>]

  <socket>          path of the QMP unix socket (contains "/" or names an existing file)
  <sandbox-id>      a sandbox (see vmm ps); other vmm operations on it wait until the shell ends
  --state-dir <d>   where sandboxes live (default $VMM_STATE_DIR, $XDG_RUNTIME_DIR/vmm, or /run/vmm)
  -p, --pretty      pretty-print replies
  -H, --hmp         HMP mode: lines are HMP command lines (switch with :hmp / :qmp)
  --timeout <ms>    per-command timeout (default 30000)
  --history <file>  history file (default ~/.vmm_qmp_history on a terminal)

Lines: command key=value ... (values are JSON when they parse, a.b=1 nests), raw JSON requests,
transaction( ... ), :help. Tab completes command names from query-commands. Reads a script from
stdin when it is not a terminal. Exit status: 0, or 1 when a command failed.

Example:
  vmm qmp-shell /run/vm/qmp.sock
  (QEMU) device_del id=disk1
  echo 'query-status' | vmm qmp-shell -p /run/vm/qmp.sock`,
  options: {
    pretty: { type: 'boolean', short: 'p' },
    hmp: { type: 'boolean', short: 'H' },
    timeout: { type: 'string' },
    history: { type: 'string' },
    ...QMP_TARGET_FLAGS,
  },
  allowPositionals: true,
  run,
};
