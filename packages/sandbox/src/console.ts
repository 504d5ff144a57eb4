/**
 * The guest console. QEMU writes the serial console to a unix socket chardev *and* to a log file
 * (`logfile=`), so output is never lost, whoever is connected: readers follow the log file from the
 * first byte, and input goes to the socket.
 */
import { open, stat } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { abortError, SandboxError } from './errors.js';

/** A byte offset into the console log; take one with {@link ConsoleReader.mark} before acting. */
export type ConsoleMark = number;

/** Options of {@link ConsoleReader.waitFor} and {@link ConsoleReader.lines}. */
export interface ConsoleWaitOptions {
  /** Start reading at this mark. @default 0 (the first byte the guest wrote) */
  from?: ConsoleMark;
  /** Give up after this long (`SANDBOX_TIMEOUT`). @default 60_000 (waitFor); none (lines) */
  timeoutMs?: number;
  /** Cancels the wait (`SANDBOX_ABORTED`). */
  signal?: AbortSignal;
  /** Stop early when this settles (the VM exited): `SANDBOX_HYPERVISOR_EXITED`. */
  exited?: Promise<unknown>;
  /** Poll interval. @default 25 */
  pollMs?: number;
}

/** A line matched by {@link ConsoleReader.waitFor}, with the mark just after it. */
export interface ConsoleMatch<T> {
  readonly value: T;
  readonly line: string;
  /** Offset after the matched line: pass it as `from` to continue from there. */
  readonly next: ConsoleMark;
}

/** Reads (and writes) a guest console whose output QEMU also logs to a file. */
export class ConsoleReader {
  /** The log file QEMU appends console output to. */
  readonly logPath: string;
  /** The console's unix socket (input), if any. */
  readonly socketPath: string | undefined;

  constructor(logPath: string, socketPath?: string) {
    this.logPath = logPath;
    this.socketPath = socketPath;
  }

  /** The current end of the log: output after this mark is new. */
  async mark(): Promise<ConsoleMark> {
    try {
      return (await stat(this.logPath)).size;
    } catch {
      return 0;
    }
  }

  /** Everything the guest wrote so far (from `from`). @throws {SandboxError} `SANDBOX_CONSOLE` */
  async read(from: ConsoleMark = 0): Promise<string> {
    const chunk = await this.#readFrom(from);
    return chunk.toString('utf8');
  }

  async #readFrom(offset: number): Promise<Buffer> {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(this.logPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
      throw new SandboxError('SANDBOX_CONSOLE', `cannot read console log ${this.logPath}`, { cause: err });
    }
    try {
      const { size } = await fh.stat();
      if (size <= offset) return Buffer.alloc(0);
      const buf = Buffer.alloc(size - offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  /**
   * Complete lines (without line endings, `\r` stripped) as they are written, from `from`. Ends when
   * the signal aborts (without throwing), when `exited` settles (after draining), or on timeout.
   */
  async *lines(options: Omit<ConsoleWaitOptions, 'timeoutMs'> = {}): AsyncGenerator<string, void, undefined> {
    const { signal, exited, pollMs = 25 } = options;
    let offset = options.from ?? 0;
    let partial = Buffer.alloc(0);
    let done = false;
    void exited?.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    for (;;) {
      const wasDone = done;
      const chunk = await this.#readFrom(offset);
      offset += chunk.length;
      let buf = partial.length > 0 ? Buffer.concat([partial, chunk]) : chunk;
      let nl = buf.indexOf(10);
      while (nl >= 0) {
        yield buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
        buf = buf.subarray(nl + 1);
        nl = buf.indexOf(10);
      }
      partial = Buffer.from(buf);
      if (signal?.aborted || wasDone) {
        if (partial.length > 0 && wasDone) yield partial.toString('utf8');
        return;
      }
      try {
        await sleep(pollMs, undefined, signal ? { signal } : {});
      } catch {
        return;
      }
    }
  }

  /**
   * Wait for the first line (from `from`) for which `match` returns something other than `undefined`.
   *
   * @throws {SandboxError} `SANDBOX_TIMEOUT` (the last console lines in the message),
   *   `SANDBOX_ABORTED`, `SANDBOX_HYPERVISOR_EXITED` when `exited` settles first.
   */
  async waitFor<T>(
    match: (line: string) => T | undefined,
    options: ConsoleWaitOptions = {},
  ): Promise<ConsoleMatch<T>> {
    const { timeoutMs = 60_000, signal, exited, pollMs = 25 } = options;
    const deadline = Date.now() + timeoutMs;
    let offset = options.from ?? 0;
    let partial = Buffer.alloc(0);
    let exitedNow = false;
    void exited?.then(
      () => {
        exitedNow = true;
      },
      () => {
        exitedNow = true;
      },
    );
    const recent: string[] = [];
    for (;;) {
      const wasExited = exitedNow;
      const chunk = await this.#readFrom(offset);
      const base = offset - partial.length;
      offset += chunk.length;
      const buf = partial.length > 0 ? Buffer.concat([partial, chunk]) : chunk;
      let start = 0;
      let nl = buf.indexOf(10, start);
      while (nl >= 0) {
        const line = buf.subarray(start, nl).toString('utf8').replace(/\r$/, '');
        const value = match(line);
        if (value !== undefined) return { value, line, next: base + nl + 1 };
        recent.push(line);
        if (recent.length > 10) recent.shift();
        start = nl + 1;
        nl = buf.indexOf(10, start);
      }
      partial = Buffer.from(buf.subarray(start));
      if (signal?.aborted) throw abortError(signal, 'waiting for console output');
      const tail = recent.map((l) => `\n  console: ${l}`).join('');
      if (wasExited) {
        throw new SandboxError(
          'SANDBOX_HYPERVISOR_EXITED',
          `the VM exited while waiting for console output${tail}`,
        );
      }
      if (Date.now() >= deadline) {
        throw new SandboxError('SANDBOX_TIMEOUT', `no matching console line after ${timeoutMs} ms${tail}`);
      }
      try {
        await sleep(pollMs, undefined, signal ? { signal } : {});
      } catch {
        throw abortError(signal as AbortSignal, 'waiting for console output');
      }
    }
  }

  /**
   * Connect to the console socket for input (and live output). The caller must read (or `resume()`)
   * the socket: QEMU stops writing to the log too when a connected client does not read.
   * @throws {SandboxError} `SANDBOX_CONSOLE` when there is no socket or it refuses.
   */
  async connect(options: { signal?: AbortSignal } = {}): Promise<Socket> {
    const path = this.socketPath;
    if (path === undefined) throw new SandboxError('SANDBOX_CONSOLE', 'this console has no input socket');
    return new Promise<Socket>((resolve, reject) => {
      const sock = createConnection({ path });
      const onAbort = (): void => {
        sock.destroy();
        reject(abortError(options.signal as AbortSignal, 'connecting to the console'));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      sock.once('connect', () => {
        options.signal?.removeEventListener('abort', onAbort);
        sock.removeAllListeners('error');
        resolve(sock);
      });
      sock.once('error', (err) => {
        options.signal?.removeEventListener('abort', onAbort);
        reject(
          new SandboxError('SANDBOX_CONSOLE', `cannot connect to console ${path}: ${err.message}`, {
            cause: err,
          }),
        );
      });
    });
  }
}
