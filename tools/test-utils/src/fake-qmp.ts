import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A request the fake server read from its client (one JSON object). */
export interface FakeQmpRequest {
  /** `execute` or `exec-oob` value. */
  command: string;
  oob: boolean;
  arguments: Record<string, unknown> | undefined;
  id: unknown;
  /** The whole parsed object. */
  raw: Record<string, unknown>;
  /** File descriptors received with this request (fd receipt mode only). */
  fds: number[];
}

/**
 * What a handler returns for a request: a `return` value or an `error` (sent with the request's id),
 * raw text to write as is, `'ignore'` (never answer), or `'close'` (close after reading it).
 * `undefined` answers `{"return": {}}`.
 */
export type FakeQmpAnswer =
  | { return: unknown }
  | { error: { class: string; desc: string } }
  | { raw: string | Buffer }
  | 'ignore'
  | 'close'
  | undefined;

/** Receives data plus SCM_RIGHTS fds from a paused socket (inject `@vmm/fdpass`'s `recvWithFds`). */
export type FdReceiver = (socket: Socket) => { data: Buffer; fds: number[] } | null;

/** Options of {@link startFakeQmp}. */
export interface FakeQmpOptions {
  /** Listen on this unix socket path. @default `qmp.sock` in a new temp directory */
  path?: string;
  /**
   * What to send on connect: a greeting object, raw text, or `null` for nothing.
   * @default a QEMU 7.2 greeting with `capabilities` from the option below
   */
  greeting?: Record<string, unknown> | string | null;
  /** Capabilities in the default greeting. @default ['oob'] */
  capabilities?: string[];
  /** Messages written before the greeting (raw text each, CRLF appended). @default [] */
  preGreeting?: string[];
  /** Answer `qmp_capabilities` (negotiation) automatically. @default true */
  autoNegotiate?: boolean;
  /** Script: called for every request except auto-negotiation. May be async (delays). */
  handler?: (request: FakeQmpRequest, conn: FakeQmpConnection) => FakeQmpAnswer | Promise<FakeQmpAnswer>;
  /** Enables fd receipt: the socket is read with this instead of Node's reader. */
  recvFds?: FdReceiver;
}

/** One client connection of the fake server. */
export interface FakeQmpConnection {
  readonly socket: Socket;
  /** Requests read so far, in order. */
  readonly requests: FakeQmpRequest[];
  /** Raw bytes read so far (UTF-8). */
  readonly received: () => string;
  /** Write raw text or bytes. */
  write(data: string | Buffer): void;
  /** Write one JSON object plus CRLF. */
  send(message: unknown): void;
  /** Send an event now. */
  event(name: string, data?: Record<string, unknown>): void;
  /** Write `data` in `chunkSize`-byte pieces, `delayMs` apart. */
  writeSlowly(data: string | Buffer, options?: { chunkSize?: number; delayMs?: number }): Promise<void>;
  /** Resolves with the next request (or one already read but not yet taken). */
  nextRequest(): Promise<FakeQmpRequest>;
  /** End the connection gracefully (FIN). */
  end(): void;
  /**
   * Close at once. The fake reads everything the client writes as soon as it arrives, so the
   * client normally sees a plain EOF, as after {@link end}; use {@link reset} for ECONNRESET.
   */
  destroy(): void;
  /**
   * Stop reading: bytes the client writes from now on stay unread in the kernel's receive queue
   * (they are neither recorded nor answered). Requests already read are still answered.
   */
  stopReading(): void;
  /**
   * Abort the connection so that the client's next read fails with `ECONNRESET` instead of EOF.
   * TCP would send an RST (Node's `resetAndDestroy()`), but the fake listens on a unix socket,
   * which has none: Linux reports `ECONNRESET` to the peer of an `AF_UNIX` stream socket that is
   * closed with unread data in its receive queue (as when QEMU exits on `quit` with pipelined
   * requests still unread: it reads its monitor one byte at a time). So this stops reading and
   * closes; the client sees `ECONNRESET` only if it wrote something after {@link stopReading}
   * (call that first and let the client write), else a plain EOF.
   */
  reset(): void;
  readonly closed: Promise<void>;
}

/** A scriptable fake QMP server on a unix socket. */
export interface FakeQmpServer extends AsyncDisposable {
  readonly path: string;
  readonly connections: FakeQmpConnection[];
  /** Resolves with the next connection (or the first not yet taken). */
  nextConnection(): Promise<FakeQmpConnection>;
  /** Close the server and every connection, and remove the socket directory. */
  close(): Promise<void>;
}

/** The greeting QEMU 7.2 sends on this machine. */
export function qemuGreeting(capabilities: string[] = ['oob']): Record<string, unknown> {
  return {
    QMP: {
      version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7+deb12u18+b3' },
      capabilities,
    },
  };
}

/**
 * Start a scriptable fake QMP server (for fault tests): partial writes, delays, floods, malformed
 * frames, id-less errors, close after read, and fd receipt. Requests are read line by line (the
 * client under test writes one JSON object per line).
 */
export async function startFakeQmp(options: FakeQmpOptions = {}): Promise<FakeQmpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vmm-fqmp-'));
  const path = options.path ?? join(dir, 'qmp.sock');
  const connections: FakeQmpConnection[] = [];
  let connTaken = 0;
  const connWaiters: Array<(c: FakeQmpConnection) => void> = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  // In fd receipt mode Node must not read (a plain read() discards SCM_RIGHTS fds).
  const server: Server = createServer({ pauseOnConnect: options.recvFds !== undefined }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    const conn = makeConnection(socket, options, timers);
    socket.on('close', () => sockets.delete(socket));
    connections.push(conn);
    const w = connWaiters.shift();
    if (w !== undefined) {
      connTaken++;
      w(conn);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(connections.map((c) => c.closed));
      rmSync(dir, { recursive: true, force: true });
    })();
    return closing;
  };
  return {
    path,
    connections,
    nextConnection: () =>
      new Promise((resolve) => {
        if (connTaken < connections.length) resolve(connections[connTaken++]!);
        else connWaiters.push(resolve);
      }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function makeConnection(
  socket: Socket,
  options: FakeQmpOptions,
  timers: Set<NodeJS.Timeout>,
): FakeQmpConnection {
  const requests: FakeQmpRequest[] = [];
  let taken = 0;
  const waiters: Array<(r: FakeQmpRequest) => void> = [];
  let received = '';
  let line = '';
  let pendingFds: number[] = [];
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => {
    closedResolve = r;
  });
  socket.on('close', () => closedResolve());
  let reading = true;
  const stopReading = (): void => {
    if (!reading) return;
    reading = false;
    // In fd receipt mode Node never reads; the poll loop checks `reading`.
    if (options.recvFds !== undefined) return;
    // pause() alone keeps reading into the stream buffer up to its high-water mark, and the stream
    // restarts reads whenever it wants data (through `_read`): stop both, then stop libuv.
    socket.pause();
    socket._read = () => undefined;
    const handle = (socket as unknown as { _handle?: { reading?: boolean; readStop?: () => number } | null })
      ._handle;
    if (handle) {
      handle.reading = false;
      handle.readStop?.();
    }
  };

  const write = (data: string | Buffer): void => {
    if (!socket.destroyed && socket.writable) socket.write(data);
  };
  const send = (m: unknown): void => write(`${JSON.stringify(m)}\r\n`);
  const sleep = (ms: number): Promise<void> =>
    new Promise((r) => {
      const t = setTimeout(() => {
        timers.delete(t);
        r();
      }, ms);
      timers.add(t);
    });

  const conn: FakeQmpConnection = {
    socket,
    requests,
    received: () => received,
    write,
    send,
    event: (name, data) =>
      send({
        event: name,
        ...(data === undefined ? {} : { data }),
        timestamp: { seconds: 1700000000, microseconds: 1 },
      }),
    writeSlowly: async (data, o = {}) => {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      const size = o.chunkSize ?? 1;
      for (let i = 0; i < buf.length; i += size) {
        if (socket.destroyed) return;
        write(buf.subarray(i, i + size));
        await sleep(o.delayMs ?? 1);
      }
    },
    nextRequest: () =>
      new Promise((resolve) => {
        if (taken < requests.length) resolve(requests[taken++]!);
        else waiters.push(resolve);
      }),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
    stopReading,
    reset: () => {
      stopReading();
      socket.destroy();
    },
    closed,
  };

  const answer = async (req: FakeQmpRequest): Promise<void> => {
    let a: FakeQmpAnswer;
    if (req.command === 'qmp_capabilities' && (options.autoNegotiate ?? true)) a = { return: {} };
    else if (options.handler !== undefined) a = await options.handler(req, conn);
    else a = undefined;
    if (a === 'ignore') return;
    if (a === 'close') {
      socket.destroy();
      return;
    }
    if (a === undefined) a = { return: {} };
    if ('raw' in a) write(a.raw);
    else send({ ...a, ...(req.id === undefined ? {} : { id: req.id }) });
  };

  /**
   * The next complete request in `line`, as QEMU's JSON streamer delimits them: a top-level `{...}`
   * ends at its closing brace (clients need not send a newline); anything else runs to a newline.
   */
  const takeRequest = (): string | undefined => {
    let start = 0;
    while (start < line.length && /\s/.test(line[start]!)) start++;
    if (start === line.length) {
      line = '';
      return undefined;
    }
    if (line[start] !== '{') {
      const nl = line.indexOf('\n', start);
      if (nl < 0) return undefined;
      const one = line.slice(start, nl).trim();
      line = line.slice(nl + 1);
      return one;
    }
    let depth = 0;
    let inString = false;
    for (let i = start; i < line.length; i++) {
      const c = line[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && --depth === 0) {
        const one = line.slice(start, i + 1);
        line = line.slice(i + 1);
        return one;
      }
    }
    return undefined;
  };

  /** Parse the complete requests in `text`; `fds` arrived with the last of them (one sendmsg each). */
  const onText = (text: string, fds: number[] = []): void => {
    received += text;
    line += text;
    const batch: FakeQmpRequest[] = [];
    for (let one = takeRequest(); one !== undefined; one = takeRequest()) {
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(one) as Record<string, unknown>;
      } catch {
        send({ error: { class: 'GenericError', desc: 'JSON parse error, expecting value' } });
        continue;
      }
      const oob = 'exec-oob' in raw;
      batch.push({
        command: String(oob ? raw['exec-oob'] : raw.execute),
        oob,
        arguments: raw.arguments as Record<string, unknown> | undefined,
        id: raw.id,
        raw,
        fds: [],
      });
    }
    pendingFds.push(...fds);
    if (batch.length > 0 && pendingFds.length > 0) {
      batch[batch.length - 1]!.fds = pendingFds;
      pendingFds = [];
    }
    for (const req of batch) {
      requests.push(req);
      const w = waiters.shift();
      if (w !== undefined) {
        taken++;
        w(req);
      }
      void answer(req).catch(() => undefined);
    }
  };

  if (options.recvFds !== undefined) {
    const recv = options.recvFds;
    const poll = (): void => {
      if (socket.destroyed || !reading) return;
      let got: { data: Buffer; fds: number[] } | null;
      try {
        got = recv(socket);
      } catch {
        socket.destroy();
        return;
      }
      if (got !== null) {
        if (got.data.length === 0) {
          socket.destroy();
          return;
        }
        onText(got.data.toString('utf8'), got.fds);
      }
      const t = setTimeout(() => {
        timers.delete(t);
        poll();
      }, 1);
      timers.add(t);
    };
    poll();
  } else {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => onText(d));
  }

  void (async () => {
    for (const m of options.preGreeting ?? []) write(`${m}\r\n`);
    const g = options.greeting === undefined ? qemuGreeting(options.capabilities) : options.greeting;
    if (g === null) return;
    write(typeof g === 'string' ? g : `${JSON.stringify(g)}\r\n`);
  })();
  return conn;
}
