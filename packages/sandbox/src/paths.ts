/**
 * Where sandboxes live: the state directory, per-sandbox directories, sandbox ids, and unix socket
 * paths that respect the kernel's 107-byte limit.
 */
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SandboxError } from './errors.js';

/** Longest unix socket path (`sizeof(sun_path) - 1`), Kata's `MaxSocketPathLen`. */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Sandbox ids: 1..64 characters of `[A-Za-z0-9_.-]`, starting with a letter or digit. */
export const SANDBOX_ID_PATTERN: RegExp = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** File names inside a sandbox's run directory. */
export const RUN_FILES = Object.freeze({
  state: 'state.json',
  lock: 'lock',
  qmp: 'qmp.sock',
  console: 'console.sock',
  consoleLog: 'console.log',
  stderr: 'qemu.stderr',
  pid: 'pid',
  log: 'qemu.log',
});

/** Environment consulted by {@link defaultStateDir}. */
export interface StateDirEnv {
  VMM_STATE_DIR?: string | undefined;
  XDG_RUNTIME_DIR?: string | undefined;
}

/**
 * The default state directory: `$VMM_STATE_DIR`, else `$XDG_RUNTIME_DIR/vmm`, else `/run/vmm` as
 * root, else `<tmpdir>/vmm-<uid>`.
 */
export function defaultStateDir(
  env: StateDirEnv = process.env,
  uid: number = process.getuid?.() ?? -1,
): string {
  if (env.VMM_STATE_DIR !== undefined && env.VMM_STATE_DIR !== '') return env.VMM_STATE_DIR;
  if (env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== '')
    return join(env.XDG_RUNTIME_DIR, 'vmm');
  if (uid === 0) return '/run/vmm';
  return join(tmpdir(), `vmm-${uid}`);
}

/**
 * Check a sandbox id.
 * @throws {SandboxError} `SANDBOX_INVALID_CONFIG` (path `id`).
 */
export function checkSandboxId(id: string): string {
  if (!SANDBOX_ID_PATTERN.test(id)) {
    throw new SandboxError(
      'SANDBOX_INVALID_CONFIG',
      `id: ${JSON.stringify(id)} is not a valid sandbox id (1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit)`,
      { path: 'id' },
    );
  }
  return id;
}

/** A new random sandbox id (12 hex digits). */
export function newSandboxId(): string {
  return randomBytes(6).toString('hex');
}

/** Byte length of a path as the kernel sees it. */
export function pathBytes(path: string): number {
  return Buffer.byteLength(path, 'utf8');
}

/**
 * Join a unix socket path, refusing one longer than {@link MAX_SOCKET_PATH_BYTES} (Kata
 * `BuildSocketPath`).
 * @throws {SandboxError} `SANDBOX_SOCKET_PATH_TOO_LONG` with the length and path.
 */
export function buildSocketPath(...segments: string[]): string {
  const path = join(...segments);
  if (path === '' || path === '.') {
    throw new SandboxError('SANDBOX_SOCKET_PATH_TOO_LONG', 'empty socket path', { path: 'socketPath' });
  }
  const n = pathBytes(path);
  if (n > MAX_SOCKET_PATH_BYTES) {
    throw new SandboxError(
      'SANDBOX_SOCKET_PATH_TOO_LONG',
      `socket path too long (got ${n}, max ${MAX_SOCKET_PATH_BYTES}): ${path}`,
      { path: 'socketPath' },
    );
  }
  return path;
}

/** Where a sandbox keeps its files. */
export interface SandboxPaths {
  /** Run directory: state, lock, logs, pid file (`<stateDir>/<id>`). */
  readonly runDir: string;
  /** Directory holding the sockets: the run directory, or a short hashed one when that is too long. */
  readonly socketDir: string;
  readonly state: string;
  readonly lock: string;
  readonly qmp: string;
  readonly console: string;
  readonly consoleLog: string;
  readonly stderr: string;
  readonly pid: string;
  readonly log: string;
}

const LONGEST_SOCKET = RUN_FILES.console;

/**
 * The paths of sandbox `id` under `stateDir`. Sockets go in the run directory when they fit in
 * 107 bytes; otherwise, deterministically, in `<stateDir>/s/<first 16 hex of sha256(id)>`; if even
 * that is too long, in `<tmpdir>/vmm-s/<same hash>`.
 *
 * @throws {SandboxError} `SANDBOX_INVALID_CONFIG` for a bad id, `SANDBOX_SOCKET_PATH_TOO_LONG` when no
 *   candidate fits.
 */
export function sandboxPaths(stateDir: string, id: string): SandboxPaths {
  checkSandboxId(id);
  const runDir = join(stateDir, id);
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 16);
  const candidates = [runDir, join(stateDir, 's', hash), join(tmpdir(), 'vmm-s', hash)];
  const socketDir = candidates.find((d) => pathBytes(join(d, LONGEST_SOCKET)) <= MAX_SOCKET_PATH_BYTES);
  if (socketDir === undefined) {
    const p = join(candidates[1] as string, LONGEST_SOCKET);
    throw new SandboxError(
      'SANDBOX_SOCKET_PATH_TOO_LONG',
      `socket path too long (got ${pathBytes(p)}, max ${MAX_SOCKET_PATH_BYTES}) even after shortening: ${p}; choose a shorter state directory`,
      { path: 'stateDir', sandboxId: id },
    );
  }
  return Object.freeze({
    runDir,
    socketDir,
    state: join(runDir, RUN_FILES.state),
    lock: join(runDir, RUN_FILES.lock),
    qmp: buildSocketPath(socketDir, RUN_FILES.qmp),
    console: buildSocketPath(socketDir, RUN_FILES.console),
    consoleLog: join(runDir, RUN_FILES.consoleLog),
    stderr: join(runDir, RUN_FILES.stderr),
    pid: join(runDir, RUN_FILES.pid),
    log: join(runDir, RUN_FILES.log),
  });
}
