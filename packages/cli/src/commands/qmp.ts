import { connectQmp, type QmpClientOptions, QmpCommandError } from '@vmm/qmp';
import { type Command, type CommandContext, printJson } from '../command.js';
import { CliError } from '../errors.js';
import { QMP_TARGET_FLAGS, withQmpTarget } from '../qmp-target.js';

/** Options of {@link runQmpCommand}. */
export interface RunQmpCommandOptions {
  /** Per-command timeout in ms. @default 30000 */
  timeout?: number;
  /** Run `command` as an HMP command line (`human-monitor-command`). @default false */
  hmp?: boolean;
  signal?: AbortSignal;
  /** Extra client options (connect retry, greeting timeout, ...). */
  client?: QmpClientOptions;
}

/**
 * Connect to the QMP socket at `socketPath`, run one command and close. Resolves with QEMU's
 * `return` value (a string for HMP). The sandbox layer reuses this after resolving a sandbox id to
 * its socket path.
 * @throws {QmpError} from @vmm/qmp (`QMP_CONNECT_FAILED`, `QMP_COMMAND_FAILED`, `QMP_TIMEOUT`, ...).
 */
export async function runQmpCommand(
  socketPath: string,
  command: string,
  args: Record<string, unknown> | undefined,
  options: RunQmpCommandOptions = {},
): Promise<unknown> {
  const qmp = await connectQmp(socketPath, {
    ...options.client,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  try {
    const call = {
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    };
    if (options.hmp === true) return await qmp.hmp(command, call);
    return await qmp.executeUntyped(command, args, call);
  } finally {
    await qmp.close();
  }
}

/**
 * Parse the `[json-args]` positional: a JSON object.
 * @throws {CliError} `CLI_USAGE` when it is not valid JSON or not an object.
 */
export function parseJsonArgs(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CliError('CLI_USAGE', `vmm qmp: arguments are not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CliError('CLI_USAGE', 'vmm qmp: arguments must be a JSON object, e.g. \'{"id": "disk0"}\'');
  }
  return v as Record<string, unknown>;
}

/** Parse a positive integer flag. */
export function parseTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 0) {
    throw new CliError('CLI_USAGE', `--timeout must be a whole number of milliseconds, got ${String(value)}`);
  }
  return n;
}

async function run(ctx: CommandContext): Promise<number> {
  const [socket, name, json, ...extra] = ctx.positionals;
  if (socket === undefined || name === undefined || extra.length > 0) {
    throw new CliError('CLI_USAGE', `usage: vmm qmp ${command.usage.split('\n')[0]}`);
  }
  const hmp = ctx.values.hmp === true;
  const args = hmp ? undefined : parseJsonArgs(json);
  const timeout = parseTimeout(ctx.values.timeout);
  try {
    const result = await withQmpTarget(ctx, 'qmp', socket, (path) =>
      runQmpCommand(path, hmp && json !== undefined ? `${name} ${json}` : name, args, {
        hmp,
        signal: ctx.signal,
        ...(timeout === undefined ? {} : { timeout }),
      }),
    );
    if (hmp && typeof result === 'string') ctx.io.stdout.write(result);
    else if (ctx.values.compact === true) ctx.io.stdout.write(`${JSON.stringify(result)}\n`);
    else printJson(ctx.io, result);
    return 0;
  } catch (err) {
    if (err instanceof QmpCommandError && ctx.values.json === true) {
      printJson(ctx.io, { error: { class: err.errorClass, desc: err.desc } });
      return 1;
    }
    throw err;
  }
}

/** `vmm qmp <socket|sandbox-id> <command> [json-args]`. */
export const command: Command = {
  name: 'qmp',
  summary: 'run one QMP command on a QEMU monitor socket (or a sandbox) and print the reply as JSON',
  usage: `<socket|sandbox-id> <command> [json-args] [--compact] [--json] [--timeout <ms>] [--hmp]

  <socket>        path of the QMP unix socket (contains "/" or names an existing file)
  <sandbox-id>    a sandbox (see vmm ps); its socket is used under the sandbox's lock
  <command>       QMP command (e.g. query-status), or with --hmp an HMP command line
  [json-args]     arguments as a JSON object, e.g. '{"id": "disk0"}'
  --compact       print the reply on one line
  --json          on a QEMU error, print {"error": {"class", "desc"}} on stdout instead of a message
  --timeout <ms>  give up after this long (default 30000)
  --hmp           run <command> [json-args...] as an HMP command line, print its text output
  --state-dir <d> where sandboxes live (default $VMM_STATE_DIR, $XDG_RUNTIME_DIR/vmm, or /run/vmm)

Exit status: 0 on success, 1 when QEMU refused the command or the socket failed, 2 on usage errors.

Example:
  vmm qmp /run/vm/qmp.sock query-status
  vmm qmp /run/vm/qmp.sock device_del '{"id": "disk1"}'
  vmm qmp --hmp /run/vm/qmp.sock 'info block'
  vmm qmp 3f2a9c1b0d4e query-status`,
  options: {
    compact: { type: 'boolean' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
    hmp: { type: 'boolean' },
    ...QMP_TARGET_FLAGS,
  },
  allowPositionals: true,
  run,
};
