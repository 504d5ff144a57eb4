/**
 * `launchQemu`: govmm's `LaunchQemu` / `LaunchCustomQemu` for users who want QEMU and QMP without the
 * whole sandbox. Encodes a `QemuConfig` with `@vmm/argv`, spawns it with execa (not daemonized: the
 * caller owns the child), passes the config's fds from 3 in order, and keeps QEMU's stderr.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { ArgvError, encodeQemuArgv, type QemuConfig } from '@vmm/argv';
import { execa, type Options, type ResultPromise } from 'execa';
import { abortError, SandboxConfigError, SandboxError } from './errors.js';

/** Default QEMU binary (amd64). */
export const DEFAULT_QEMU_PATH = '/usr/bin/qemu-system-x86_64';

/** Options of {@link launchQemu}. */
export interface LaunchQemuOptions {
  /** QEMU binary. @default '/usr/bin/qemu-system-x86_64' */
  path?: string;
  /**
   * Extra fds to pass after the ones the config asks for (they become 3 + configFds.length, ...).
   * @default []
   */
  fds?: readonly number[];
  /**
   * Aborting it SIGKILLs QEMU (`exited` then resolves with `signal: 'SIGKILL'`). Already aborted:
   * nothing is spawned (`SANDBOX_ABORTED`).
   */
  signal?: AbortSignal;
  /** Append QEMU's stderr to this file (else it is kept in memory, last 64 KiB). @default none */
  stderrPath?: string;
  /** Run in its own session and let it outlive this process (no cleanup on exit). @default false */
  detached?: boolean;
  /** Working directory. @default process.cwd() */
  cwd?: string;
}

/** How QEMU exited. */
export interface QemuExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** A QEMU started by {@link launchQemu}. */
export interface LaunchedQemu {
  readonly pid: number;
  /** The full argv (without the binary). */
  readonly argv: readonly string[];
  /** The binary. */
  readonly path: string;
  /** Resolves once QEMU has exited (never rejects). */
  readonly exited: Promise<QemuExit>;
  /** True until QEMU has exited. */
  readonly running: boolean;
  /** The last `n` lines QEMU wrote to stderr. @param n - @default 10 */
  stderrTail(n?: number): string[];
  /** Send a signal (ignored when QEMU has already exited). */
  kill(signal?: NodeJS.Signals): void;
  /** Stop waiting for the child in this process (a detached QEMU then outlives it). */
  unref(): void;
}

const STDERR_KEEP = 64 * 1024;

/** The last `n` non-empty lines of a text. */
export function tailLines(text: string, n = 10): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n);
}

/** The last `n` lines of a file (reads at most its last 64 KiB); [] when unreadable. */
export function fileTail(path: string, n = 10): string[] {
  try {
    const fd = openSync(path, 'r');
    try {
      const text = readFileSync(fd).subarray(-STDERR_KEEP).toString('utf8');
      return tailLines(text, n);
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
}

/**
 * Encode `config` and start QEMU. Resolves as soon as the process is spawned; wait for QMP yourself
 * (or use `QemuHypervisor`). If QEMU cannot be executed at all, rejects.
 *
 * @throws {SandboxConfigError} `SANDBOX_INVALID_CONFIG` when @vmm/argv refuses the config (its issue
 *   paths prefixed with `qemuConfig.`); {@link SandboxError} `SANDBOX_START_FAILED` when the binary
 *   cannot be spawned, `SANDBOX_ABORTED` when `options.signal` is already aborted.
 */
export async function launchQemu(config: QemuConfig, options: LaunchQemuOptions = {}): Promise<LaunchedQemu> {
  let encoded: { argv: string[]; fds: number[] };
  try {
    const r = encodeQemuArgv(config);
    const specs = [...r.fds].sort((a, b) => a.childFd - b.childFd);
    specs.forEach((f, i) => {
      if (f.childFd !== 3 + i)
        throw new SandboxError('SANDBOX_INVALID_CONFIG', `${f.path}: fds must be numbered from 3 in order`);
    });
    encoded = { argv: [...r.argv], fds: specs.map((f) => f.hostFd) };
  } catch (err) {
    if (ArgvError.is(err)) {
      const issues = err.issues.map((i) => ({
        path: i.path === '' ? 'qemuConfig' : `qemuConfig.${i.path}`,
        message: i.message,
      }));
      throw new SandboxConfigError(
        issues.length > 0 ? issues : [{ path: 'qemuConfig', message: err.message }],
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  return spawnQemu(
    options.path ?? DEFAULT_QEMU_PATH,
    encoded.argv,
    [...encoded.fds, ...(options.fds ?? [])],
    options,
  );
}

/**
 * Spawn QEMU with a ready argv (what {@link launchQemu} does after encoding); `fds` become the
 * child's fds 3, 4, ... in order.
 * @throws {SandboxError} `SANDBOX_START_FAILED`; `SANDBOX_ABORTED` (nothing spawned) when
 *   `options.signal` is already aborted.
 */
export async function spawnQemu(
  path: string,
  argv: readonly string[],
  fds: readonly number[],
  options: Omit<LaunchQemuOptions, 'path' | 'fds'> = {},
): Promise<LaunchedQemu> {
  if (options.signal?.aborted) throw abortError(options.signal, `launch ${path}`);
  let stderrFd: number | undefined;
  if (options.stderrPath !== undefined) {
    try {
      stderrFd = openSync(options.stderrPath, 'a', 0o600);
    } catch (err) {
      throw new SandboxError(
        'SANDBOX_START_FAILED',
        `cannot open ${options.stderrPath}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  const detached = options.detached === true;
  let child: ResultPromise;
  try {
    const execaOptions: Options = {
      // Plain fd numbers are handed to child_process as is (execa's types only list 3..9).
      stdio: ['ignore', 'ignore', stderrFd ?? 'pipe', ...fds] as unknown as Options['stdio'],
      detached,
      cleanup: !detached,
      reject: false,
      buffer: false,
      ...(options.signal
        ? { cancelSignal: options.signal, forceKillAfterDelay: false, killSignal: 'SIGKILL' }
        : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    };
    child = execa(path, [...argv], execaOptions);
  } finally {
    if (stderrFd !== undefined) closeSync(stderrFd);
  }
  let stderrText = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrText = (stderrText + d.toString('utf8')).slice(-STDERR_KEEP);
  });
  let running = true;
  let spawnError: Error | undefined;
  const exited: Promise<QemuExit> = (
    child as unknown as Promise<{ exitCode?: number; signal?: string; failed: boolean; cause?: unknown }>
  ).then(
    (r) => {
      running = false;
      if (r.failed && r.exitCode === undefined && r.signal === undefined && r.cause instanceof Error)
        spawnError = r.cause;
      return { code: r.exitCode ?? null, signal: r.signal ?? null };
    },
    (err: unknown) => {
      running = false;
      spawnError = err as Error;
      return { code: null, signal: null };
    },
  );
  const stderrTail = (n = 10): string[] =>
    options.stderrPath !== undefined ? fileTail(options.stderrPath, n) : tailLines(stderrText, n);
  // A spawn failure (ENOENT, EACCES) surfaces as an immediate exit without a pid.
  if (child.pid === undefined) {
    await exited;
    throw new SandboxError(
      'SANDBOX_START_FAILED',
      `cannot run ${path}: ${spawnError?.message ?? 'spawn failed'}`,
      {
        cause: spawnError,
      },
    );
  }
  const pid = child.pid;
  return {
    pid,
    argv: Object.freeze([...argv]),
    path,
    exited,
    get running() {
      return running;
    },
    stderrTail,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (running) child.kill(signal);
    },
    unref() {
      child.unref?.();
      (child.stderr as { unref?: () => void } | null)?.unref?.();
    },
  };
}
