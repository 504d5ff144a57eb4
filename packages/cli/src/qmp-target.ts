/**
 * What `vmm qmp` and `vmm qmp-shell` talk to: a QMP socket path, or a sandbox by id.
 */
import { existsSync } from 'node:fs';
import type { CommandContext } from './command.js';
import { CliError } from './errors.js';

/** `--state-dir` for verbs that accept a sandbox id in place of a socket path. */
export const QMP_TARGET_FLAGS = { 'state-dir': { type: 'string' } } as const;

/**
 * Run `fn` with the QMP socket path of `target`. A target containing `/`, or naming an existing
 * file, is a socket path used as is. Anything else is a sandbox id in the state directory; its
 * socket is used while holding the sandbox's lock, so no other vmm operation talks to that QEMU
 * meanwhile (`@vmm/sandbox` is loaded only then).
 * @throws {CliError} `CLI_USAGE` when `target` is neither a path nor a known sandbox.
 * @throws {SandboxError} `SANDBOX_INVALID_STATE` when the sandbox is not running, lock errors.
 */
export async function withQmpTarget<T>(
  ctx: CommandContext,
  verb: string,
  target: string,
  fn: (socketPath: string) => Promise<T>,
): Promise<T> {
  if (target.includes('/') || existsSync(target)) return fn(target);
  const [{ Sandbox, SandboxError }, { stateDirOf }] = await Promise.all([
    import('@vmm/sandbox'),
    import('./sandbox-common.js'),
  ]);
  const stateDir = stateDirOf(ctx);
  let sandbox: Awaited<ReturnType<typeof Sandbox.attach>>;
  try {
    sandbox = await Sandbox.attach(target, { stateDir });
  } catch (err) {
    if (SandboxError.is(err) && (err.code === 'SANDBOX_NOT_FOUND' || err.code === 'SANDBOX_INVALID_CONFIG')) {
      throw new CliError(
        'CLI_USAGE',
        `vmm ${verb}: "${target}" is neither a QMP socket path nor a sandbox in ${stateDir}`,
        { cause: err },
      );
    }
    throw err;
  }
  return sandbox.withQmpSocket(fn, { signal: ctx.signal });
}
