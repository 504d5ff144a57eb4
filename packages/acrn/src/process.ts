import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AcrnError, abortError } from './errors.js';

/**
 * Refuse any pid that would not name exactly one other process: `kill(0)` signals our process
 * group and `kill(-n)` a whole group (Kata's stopSandbox with an unset pid did this), `kill(1)`
 * hits init, and our own pid would stop us.
 * @throws {AcrnError} `ACRN_INVALID_PID`.
 */
export function assertSignallablePid(pid: unknown): asserts pid is number {
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) {
    throw new AcrnError(
      'ACRN_INVALID_PID',
      `refusing to signal pid ${String(pid)}: only a single process with pid > 1 other than this one may be signalled (0 and negative pids address process groups)`,
    );
  }
}

/** True while `pid` exists and is not a zombie (a zombie has already exited). */
export function processExists(pid: number): boolean {
  assertSignallablePid(pid);
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    // no /proc (or the process is gone): ask the kernel
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Send `signal` to exactly `pid`. Returns false if it no longer exists. */
export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  assertSignallablePid(pid);
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    throw new AcrnError('ACRN_STOP_FAILED', `kill(${pid}, ${signal}) failed: ${code ?? String(error)}`, {
      cause: error,
    });
  }
}

/** Sleep that rejects with `ACRN_ABORTED` when `signal` fires (its timer is always cleared). */
export async function pause(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  try {
    await sleep(ms, undefined, signal === undefined ? undefined : { signal });
  } catch (error) {
    if (signal?.aborted) throw abortError(signal, what);
    throw error;
  }
}

/** Keeps the last `limit` bytes written to it. */
export class OutputTail {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#chunks.push(buf);
    this.#size += buf.length;
    while (this.#size > this.#limit && this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      const excess = this.#size - this.#limit;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#size -= first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#size -= excess;
      }
    }
  }

  toString(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}
