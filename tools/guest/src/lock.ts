/**
 * An exclusive lock on the cache, held by a `flock(1)` child for as long as its stdin stays open.
 * The kernel drops the lock when the holder dies, so a crashed build never leaves a stale lock.
 */
import { execa } from 'execa';
import { GuestError } from './errors.js';

/** A held lock. */
export interface CacheLock {
  /** Release the lock and wait for the holder to exit. Idempotent. */
  release(): Promise<void>;
}

/**
 * Take the lock on `path` (created if missing), waiting up to `timeoutMs`.
 * @throws {GuestError} `GUEST_LOCK_TIMEOUT`, `GUEST_UNSUPPORTED_HOST` (no flock); rethrows the signal's reason on abort.
 */
export async function acquireLock(path: string, timeoutMs: number, signal: AbortSignal): Promise<CacheLock> {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const child = execa(
    'flock',
    ['-x', '-w', String(seconds), path, 'sh', '-c', 'echo locked && exec cat >/dev/null'],
    {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      cancelSignal: signal,
    },
  );
  const acquired = await new Promise<boolean>((resolve) => {
    child.stdout.once('data', () => resolve(true));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  if (!acquired) {
    const r = await child;
    if (signal.aborted) throw signal.reason;
    if (r.exitCode === 1 && r.failed && !r.stderr) {
      throw new GuestError(
        'GUEST_LOCK_TIMEOUT',
        `another process held ${path} for more than ${timeoutMs} ms`,
      );
    }
    throw new GuestError('GUEST_UNSUPPORTED_HOST', `flock ${path} failed: ${r.shortMessage}`, {
      stderr: r.stderr,
      cause: r.cause,
    });
  }
  let released: Promise<void> | undefined;
  return {
    release: () => {
      released ??= (async () => {
        child.stdin.end();
        await child;
      })();
      return released;
    },
  };
}
