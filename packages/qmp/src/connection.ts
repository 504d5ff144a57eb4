/**
 * Opening the byte stream a QMP client talks over: a unix socket path, TCP, an already-connected
 * `net.Socket`, or an inherited/socketpair file descriptor. Optional retry while QEMU is still
 * starting (ENOENT / ECONNREFUSED), stopping early when QEMU's pid has exited.
 */
import { createConnection, createServer, Socket } from 'node:net';
import { QmpError } from './errors.js';

/**
 * Where to connect: a unix socket path (string or `{ path }`), TCP (`{ host, port }`), an
 * already-connected socket (`{ socket }`), or an open socket file descriptor (`{ fd }`, e.g. one
 * end of a socketpair or a descriptor inherited from a parent). The client owns what it is given:
 * closing the client destroys a supplied socket and closes a supplied fd.
 */
export type QmpTarget =
  | string
  | { readonly path: string }
  | { readonly host: string; readonly port: number }
  | { readonly socket: Socket }
  | { readonly fd: number };

/** Transport kind; fd passing works only over `unix`. */
export type TransportKind = 'unix' | 'tcp';

/** Options for {@link openTransport}. */
export interface OpenTransportOptions {
  /**
   * Keep retrying ENOENT/ECONNREFUSED (QEMU still starting) with backoff for this long, in ms.
   * `0` fails at once.
   * @default 0
   */
  connectTimeout?: number;
  /** Stop retrying as soon as this process (QEMU) has exited. */
  pid?: number;
  /** Abort the connect. */
  signal?: AbortSignal;
  /**
   * Receive data through this callback instead of 'data' events: for path and TCP targets the socket
   * reads into one reused 64 KiB buffer (Node's `onread`), skipping the stream machinery. The chunk
   * is only valid during the call. Ignored for `{ socket }` and `{ fd }` targets.
   */
  onData?: (chunk: Buffer) => void;
}

/** An open transport. */
export interface Transport {
  readonly socket: Socket;
  readonly kind: TransportKind;
  /** Human-readable target, for messages. */
  readonly description: string;
  /** True when data is delivered to `onData` (else: listen for 'data'). */
  readonly usesOnData: boolean;
}

/** Describe a target for error messages and debug names. */
export function describeTarget(target: QmpTarget): string {
  if (typeof target === 'string') return target;
  if ('path' in target) return target.path;
  if ('host' in target) return `${target.host}:${target.port}`;
  if ('fd' in target) return `fd ${target.fd}`;
  return 'socket';
}

function isPipe(socket: Socket): boolean {
  const handle = (socket as unknown as { _handle?: { constructor?: { name?: string } } | null })._handle;
  return handle?.constructor?.name === 'Pipe';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let readBuffer: Buffer | undefined;

/**
 * One 64 KiB read buffer for every connection: `onread` callbacks run one at a time on this thread
 * and the framer consumes (decodes or copies) each chunk before returning, so sharing is safe and
 * saves a 64 KiB allocation per connection.
 */
function sharedReadBuffer(): Buffer {
  readBuffer ??= Buffer.allocUnsafe(65536);
  return readBuffer;
}

function connectOnce(
  target: { path: string } | { host: string; port: number },
  signal: AbortSignal | undefined,
  onData: ((chunk: Buffer) => void) | undefined,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const onread =
      onData === undefined
        ? undefined
        : {
            buffer: sharedReadBuffer(),
            callback: (n: number, buf: Uint8Array): boolean => {
              onData((buf as Buffer).subarray(0, n));
              return true;
            },
          };
    const socket =
      'path' in target
        ? createConnection({ path: target.path, ...(onread ? { onread } : {}) })
        : createConnection({ port: target.port, host: target.host, ...(onread ? { onread } : {}) });
    const cleanup = (): void => {
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(new QmpError('QMP_ABORTED', 'connect aborted', { cause: signal?.reason }));
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new QmpError('QMP_ABORTED', 'connect aborted', { cause: signal?.reason }));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Open a transport to `target`.
 * @throws {QmpError} `QMP_CONNECT_FAILED` (the `cause` carries the errno, e.g. ENOENT,
 *   ECONNREFUSED), or `QMP_ABORTED`.
 */
export async function openTransport(
  target: QmpTarget,
  options: OpenTransportOptions = {},
): Promise<Transport> {
  const description = describeTarget(target);
  if (typeof target !== 'string' && 'socket' in target) {
    const s = target.socket;
    if (s.destroyed) throw new QmpError('QMP_CONNECT_FAILED', 'the supplied socket is already destroyed');
    return { socket: s, kind: isPipe(s) ? 'unix' : 'tcp', description, usesOnData: false };
  }
  if (typeof target !== 'string' && 'fd' in target) {
    if (!Number.isInteger(target.fd) || target.fd < 0) {
      throw new QmpError('QMP_CONNECT_FAILED', `invalid file descriptor: ${target.fd}`);
    }
    let s: Socket;
    try {
      s = new Socket({ fd: target.fd, readable: true, writable: true });
    } catch (cause) {
      throw new QmpError('QMP_CONNECT_FAILED', `cannot open fd ${target.fd} as a socket`, { cause });
    }
    return { socket: s, kind: isPipe(s) ? 'unix' : 'tcp', description, usesOnData: false };
  }
  const t = typeof target === 'string' ? { path: target } : target;
  if ('path' in t && Buffer.byteLength(t.path) > 107) {
    throw new QmpError('QMP_CONNECT_FAILED', `unix socket path is longer than 107 bytes: ${t.path}`);
  }
  const deadline = Date.now() + (options.connectTimeout ?? 0);
  let delay = 5;
  for (;;) {
    try {
      const socket = await connectOnce(t, options.signal, options.onData);
      return {
        socket,
        kind: 'path' in t ? 'unix' : 'tcp',
        description,
        usesOnData: options.onData !== undefined,
      };
    } catch (err) {
      if (QmpError.is(err)) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const retriable = code === 'ENOENT' || code === 'ECONNREFUSED';
      const pidGone = options.pid !== undefined && !alive(options.pid);
      if (!retriable || Date.now() + delay > deadline || pidGone) {
        const why = pidGone ? ` (process ${options.pid} has exited)` : '';
        throw new QmpError(
          'QMP_CONNECT_FAILED',
          `cannot connect to ${description}: ${code ?? String(err)}${why}`,
          {
            cause: err,
          },
        );
      }
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, 200);
    }
  }
}

/** Options of {@link listenForQmp}. */
export interface ListenForQmpOptions {
  /** Abort waiting for QEMU to connect. */
  signal?: AbortSignal;
}

/** A listening unix socket that QEMU (`-qmp unix:<path>` without `server`) connects out to. */
export interface QmpListener {
  readonly path: string;
  /**
   * Wait for QEMU's connection (at most `timeout` ms; `0` waits forever) and stop listening. Hand the
   * socket to a client with `connectQmp({ socket })`.
   * @throws {QmpError} `QMP_CONNECT_FAILED` on timeout or a listener error, `QMP_ABORTED`.
   */
  accept(options?: { timeout?: number; signal?: AbortSignal }): Promise<Socket>;
  /** Stop listening (removes the socket file). Idempotent. */
  close(): Promise<void>;
}

/**
 * Listen on `path` for QEMU to connect out (QEMU's client-mode QMP chardev, which qemu.qmp and some
 * Kata setups use). Start listening before starting QEMU, then `accept()`.
 * @throws {QmpError} `QMP_CONNECT_FAILED` when the path cannot be bound (exists, too long).
 */
export async function listenForQmp(path: string, options: ListenForQmpOptions = {}): Promise<QmpListener> {
  if (Buffer.byteLength(path) > 107) {
    throw new QmpError('QMP_CONNECT_FAILED', `unix socket path is longer than 107 bytes: ${path}`);
  }
  const server = createServer();
  const queue: Socket[] = [];
  let waiter: ((s: Socket) => void) | undefined;
  server.on('connection', (s) => {
    s.on('error', () => undefined);
    if (waiter !== undefined) {
      const w = waiter;
      waiter = undefined;
      w(s);
    } else queue.push(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new QmpError(
          'QMP_CONNECT_FAILED',
          `cannot listen on ${path}: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen(path, () => resolve());
  });
  server.on('error', () => undefined);
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    // Stop listening now (libuv unlinks the path); do not wait for 'close', which waits for the
    // accepted connection to end as well.
    closed ??= new Promise<void>((resolve) => {
      server.close();
      setImmediate(resolve);
    });
    // Connections nobody accepted (a second QEMU?) are not kept open.
    for (const s of queue.splice(0)) s.destroy();
    return closed;
  };
  const accept = async (o: { timeout?: number; signal?: AbortSignal } = {}): Promise<Socket> => {
    const signal = o.signal ?? options.signal;
    try {
      const ready = queue.shift();
      if (ready !== undefined) return ready;
      return await new Promise<Socket>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const cleanup = (): void => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          waiter = undefined;
        };
        const onAbort = (): void => {
          cleanup();
          reject(
            new QmpError('QMP_ABORTED', `waiting for QEMU to connect to ${path}: aborted`, {
              cause: signal?.reason,
            }),
          );
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        if (o.timeout !== undefined && o.timeout > 0) {
          timer = setTimeout(() => {
            cleanup();
            reject(
              new QmpError('QMP_CONNECT_FAILED', `QEMU did not connect to ${path} within ${o.timeout} ms`),
            );
          }, o.timeout);
        }
        waiter = (s) => {
          cleanup();
          resolve(s);
        };
      });
    } finally {
      await close();
    }
  };
  return { path, accept, close };
}
