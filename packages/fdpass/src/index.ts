/**
 * @vmm/fdpass: send file descriptors (SCM_RIGHTS) with data on a connected unix stream socket,
 * which Node's `net.Socket` cannot do. A small C N-API addon does the `sendmsg`/`recvmsg`; this
 * module loads it and adds the socket plumbing (EAGAIN retries, partial writes, ordering with
 * Node's own write queue).
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** Stable error codes of @vmm/fdpass. */
export const FDPASS_ERROR_CODES = {
  /** The native addon is not built or cannot be loaded on this platform. */
  FDPASS_UNAVAILABLE: 'FDPASS_UNAVAILABLE',
  /** The socket has no usable file descriptor (not connected, closed, or not a unix socket). */
  FDPASS_NO_SOCKET_FD: 'FDPASS_NO_SOCKET_FD',
  /** `sendmsg`/`recvmsg`/`dup` failed; `errno` holds the errno name. */
  FDPASS_SYSCALL: 'FDPASS_SYSCALL',
  /** The operation was aborted by the caller's signal, or the socket closed while waiting. */
  FDPASS_ABORTED: 'FDPASS_ABORTED',
  /** Invalid argument (empty data, negative fd, more than 253 fds). */
  FDPASS_INVALID_ARGUMENT: 'FDPASS_INVALID_ARGUMENT',
} as const;

/** One of {@link FDPASS_ERROR_CODES}. */
export type FdpassErrorCode = keyof typeof FDPASS_ERROR_CODES;

const brand = Symbol.for('@vmm/fdpass.FdpassError');

/** Every error @vmm/fdpass raises. */
export class FdpassError extends Error {
  static {
    Object.defineProperty(FdpassError.prototype, 'name', {
      value: 'FdpassError',
      writable: true,
      configurable: true,
    });
    Object.defineProperty(FdpassError.prototype, brand, { value: true });
  }
  /** Stable code, one of {@link FDPASS_ERROR_CODES}. */
  readonly code: FdpassErrorCode;
  /** The errno name (`EPIPE`, `EBADF`, ...) for `FDPASS_SYSCALL`. */
  readonly errno: string | undefined;

  constructor(code: FdpassErrorCode, message: string, options: ErrorOptions & { errno?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.errno = options.errno;
  }

  /** Cross-realm check (works across duplicate installs). */
  static is(value: unknown): value is FdpassError {
    return typeof value === 'object' && value !== null && brand in value;
  }
}

/** The raw native functions. All are synchronous and never block. */
export interface FdpassNative {
  /** `sendmsg(fd, data, SCM_RIGHTS fds)`: bytes written, or `-EAGAIN` (-11) when none could be. */
  sendWithFds(fd: number, data: Buffer, fds: readonly number[]): number;
  /** `recvmsg`: `null` on EAGAIN; `data.length === 0` means EOF. Received fds are close-on-exec. */
  recvWithFds(fd: number, maxBytes: number): { data: Buffer; fds: number[] } | null;
  /** A close-on-exec duplicate of `fd`. */
  dup(fd: number): number;
  /** `close(fd)`. */
  close(fd: number): void;
}

const EAGAIN = -11;
let cached: { native?: FdpassNative; error?: FdpassError } | undefined;

/**
 * Load the native addon (once; the result is cached).
 * @throws {FdpassError} `FDPASS_UNAVAILABLE` when it is not built or cannot load (`cause` says why).
 */
export function loadNative(): FdpassNative {
  if (cached === undefined) {
    try {
      const require = createRequire(import.meta.url);
      cached = { native: require('../build/Release/fdpass.node') as FdpassNative };
    } catch (cause) {
      cached = {
        error: new FdpassError(
          'FDPASS_UNAVAILABLE',
          'the @vmm/fdpass native addon is not built (run `pnpm --filter @vmm/fdpass build`; needs node-gyp and a C compiler)',
          { cause },
        ),
      };
    }
  }
  if (cached.error !== undefined) throw cached.error;
  return cached.native!;
}

/** True when the native addon loads. Never throws. */
export function isAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}

/**
 * The OS file descriptor behind a connected `net.Socket` (Node's internal `_handle.fd`, which libuv
 * exposes on Unix for pipes and TCP handles).
 * @throws {FdpassError} `FDPASS_NO_SOCKET_FD` when the socket is not connected or already closed.
 */
export function socketFd(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0 || socket.destroyed) {
    throw new FdpassError(
      'FDPASS_NO_SOCKET_FD',
      'the socket has no file descriptor (not connected or closed)',
    );
  }
  return fd;
}

/** Options for {@link writeWithFds}. */
export interface WriteWithFdsOptions {
  /** Aborts a wait for buffer space (never a half-sent message). */
  signal?: AbortSignal;
}

function wrapSyscall(err: unknown): FdpassError {
  const code = (err as { code?: unknown }).code;
  const errno = typeof code === 'string' ? code : 'EIO';
  if (errno === 'ERR_INVALID_ARG_TYPE' || errno === 'ERR_OUT_OF_RANGE') {
    return new FdpassError('FDPASS_INVALID_ARGUMENT', (err as Error).message, { cause: err });
  }
  return new FdpassError('FDPASS_SYSCALL', (err as Error).message, { cause: err, errno });
}

/** Wait ~1 ms, failing early if the socket closes or the signal aborts. */
function pause(socket: Socket, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (err?: FdpassError): void => {
      if (timer !== undefined) clearTimeout(timer);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onOk = (): void => done();
    const onClose = (): void =>
      done(new FdpassError('FDPASS_ABORTED', 'the socket closed before the fds were sent'));
    const onAbort = (): void =>
      done(new FdpassError('FDPASS_ABORTED', 'aborted before the fds were sent', { cause: signal?.reason }));
    if (signal?.aborted) return onAbort();
    socket.once('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(onOk, 1);
  });
}

/**
 * Write `data` on a connected unix `net.Socket` with `fds` attached (SCM_RIGHTS) to its first byte,
 * keeping byte order with everything written before through `socket.write()`: it first waits for
 * Node's own write queue to drain, then calls `sendmsg`. EAGAIN (socket buffer full) is retried
 * after a short wait; a partial write sends the remainder through `socket.write()` (the fds have
 * gone with the first byte). The kernel holds its own reference to each fd once `sendmsg` returns,
 * so the caller may close them as soon as the promise resolves.
 * @throws {FdpassError} `FDPASS_UNAVAILABLE`, `FDPASS_NO_SOCKET_FD`, `FDPASS_SYSCALL` (e.g. errno
 *   `EPIPE`), `FDPASS_INVALID_ARGUMENT`, or `FDPASS_ABORTED`.
 */
export async function writeWithFds(
  socket: Socket,
  data: Buffer,
  fds: readonly number[],
  options: WriteWithFdsOptions = {},
): Promise<void> {
  const native = loadNative();
  if (data.length === 0) throw new FdpassError('FDPASS_INVALID_ARGUMENT', 'data must not be empty');
  // Node's queue first: polled, because 'drain' only fires after a write() that returned false.
  while (!socket.destroyed && (socket.connecting || socket.writableLength > 0)) {
    await pause(socket, options.signal);
  }
  for (;;) {
    const fd = socketFd(socket);
    let n: number;
    try {
      n = native.sendWithFds(fd, data, fds);
    } catch (err) {
      throw wrapSyscall(err);
    }
    if (n === EAGAIN) {
      await pause(socket, options.signal);
      continue;
    }
    if (n < data.length) socket.write(data.subarray(n));
    return;
  }
}

/**
 * Duplicate a file descriptor (close-on-exec), so it stays valid while a send is queued even if the
 * caller closes the original.
 * @throws {FdpassError} `FDPASS_UNAVAILABLE` or `FDPASS_SYSCALL` (e.g. errno `EBADF`).
 */
export function dupFd(fd: number): number {
  const native = loadNative();
  try {
    return native.dup(fd);
  } catch (err) {
    throw wrapSyscall(err);
  }
}

/**
 * Close a file descriptor obtained from {@link dupFd} or {@link recvWithFds}.
 * @throws {FdpassError} `FDPASS_UNAVAILABLE` or `FDPASS_SYSCALL`.
 */
export function closeFd(fd: number): void {
  const native = loadNative();
  try {
    native.close(fd);
  } catch (err) {
    throw wrapSyscall(err);
  }
}

/**
 * Non-blocking `recvmsg` on a socket's fd, returning data and any fds received with it (`null` when
 * nothing is ready). For test servers; the caller must `pause()` the socket so Node does not read
 * (and lose the fds) first.
 * @throws {FdpassError} `FDPASS_UNAVAILABLE`, `FDPASS_NO_SOCKET_FD` or `FDPASS_SYSCALL`.
 */
export function recvWithFds(socket: Socket, maxBytes = 65536): { data: Buffer; fds: number[] } | null {
  const native = loadNative();
  try {
    return native.recvWithFds(socketFd(socket), maxBytes);
  } catch (err) {
    if (FdpassError.is(err)) throw err;
    throw wrapSyscall(err);
  }
}
