/**
 * A per-sandbox lock file that serialises operations across processes, with stale-lock recovery:
 * a lock whose owner process is gone (or whose pid now belongs to another process) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, SandboxError } from './errors.js';

/**
 * A process's start time (field 22 of `/proc/<pid>/stat`, clock ticks since boot), or `undefined` when
 * the process does not exist or is a zombie. Together with the pid it names a process uniquely.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); field 22 is fields[19].
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True when `pid` runs and, if `startTime` is given, is the same process as when it was recorded. */
export function isProcessAlive(pid: number, startTime?: string | null): boolean {
  const now = processStartTime(pid);
  if (now === undefined) return false;
  return startTime === undefined || startTime === null || now === startTime;
}

/** Contents of a lock file. */
interface LockOwner {
  pid: number;
  start: string;
  token: string;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.start === 'string' && typeof o.token === 'string') {
      return o as LockOwner;
    }
  } catch {
    // torn or foreign content
  }
  return undefined;
}

/** Options of {@link acquireLock}. */
export interface AcquireLockOptions {
  /** Give up after this long (`SANDBOX_LOCK_TIMEOUT`). @default 30_000 */
  timeoutMs?: number;
  /** Cancels the wait (`SANDBOX_ABORTED`). */
  signal?: AbortSignal;
  /** Poll interval while the lock is held by a live process. @default 25 */
  pollMs?: number;
}

/** A held lock. Release it (or `await using`) when done; releasing twice is harmless. */
export interface LockHandle extends AsyncDisposable {
  readonly path: string;
  /** True when a stale lock was taken over: its holder died, perhaps in the middle of an operation. */
  readonly recovered: boolean;
  release(): Promise<void>;
}

/**
 * Take the lock file at `path`. The file is created with `link()` from a fully written temp file, so
 * it is never seen half-written. If the owner is dead (pid gone, or reused by a different process)
 * the stale lock is renamed away and taken over.
 *
 * @throws {SandboxError} `SANDBOX_LOCK_TIMEOUT` (the holder's pid in the message), `SANDBOX_ABORTED`,
 *   `SANDBOX_NOT_FOUND` when the directory is gone (the sandbox was removed), `SANDBOX_STATE_IO`.
 */
export async function acquireLock(path: string, options: AcquireLockOptions = {}): Promise<LockHandle> {
  const { timeoutMs = 30_000, signal, pollMs = 25 } = options;
  const start = processStartTime(process.pid) ?? '0';
  const owner: LockOwner = { pid: process.pid, start, token: randomBytes(8).toString('hex') };
  const text = JSON.stringify(owner);
  const tmp = `${path}.${owner.token}.tmp`;
  const deadline = Date.now() + timeoutMs;
  try {
    await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SandboxError('SANDBOX_NOT_FOUND', `cannot lock ${path}: the sandbox directory is gone`, {
        cause: err,
      });
    }
    throw new SandboxError('SANDBOX_STATE_IO', `cannot lock ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let recovered = false;
  try {
    let holder: LockOwner | undefined;
    for (;;) {
      if (signal?.aborted) throw abortError(signal, `waiting for ${path}`);
      try {
        await link(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new SandboxError('SANDBOX_STATE_IO', `cannot lock ${path}: ${(err as Error).message}`, {
            cause: err,
          });
        }
      }
      const current = await readFile(path, 'utf8').catch(() => undefined);
      if (current === undefined) continue; // released meanwhile: retry at once
      holder = parseOwner(current);
      const stale = holder === undefined ? false : !isProcessAlive(holder.pid, holder.start);
      if (stale) {
        await takeOverStale(path, current);
        recovered = true;
        continue;
      }
      if (Date.now() >= deadline) {
        throw new SandboxError(
          'SANDBOX_LOCK_TIMEOUT',
          `${path} is held by pid ${holder?.pid ?? 'unknown'}; gave up after ${timeoutMs} ms`,
        );
      }
      try {
        await sleep(pollMs, undefined, signal ? { signal } : {});
      } catch {
        throw abortError(signal as AbortSignal, `waiting for ${path}`);
      }
    }
  } finally {
    await rm(tmp, { force: true });
  }
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    // Only remove the file if it is still ours (a stale takeover elsewhere would have replaced it).
    const current = await readFile(path, 'utf8').catch(() => undefined);
    if (current === text) await rm(path, { force: true });
  };
  return { path, recovered, release, [Symbol.asyncDispose]: release };
}

/**
 * Move a stale lock out of the way. Two processes may race here; renaming is atomic, and a process
 * that finds it moved a lock that is no longer the stale one puts it back with `link()`.
 */
async function takeOverStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== undefined && moved !== staleText) {
    // We moved a fresh lock another process had just taken: restore it (fails only if yet another
    // process took the path meanwhile, in which case that one holds it legitimately).
    await link(aside, path).catch(() => undefined);
  }
  await rm(aside, { force: true });
}
