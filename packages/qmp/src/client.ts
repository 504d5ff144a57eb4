/**
 * The QMP client: greeting, negotiation (with `oob` when offered), library ids, an in-flight
 * window, per-call timeouts and AbortSignals, events, and a lifecycle state machine.
 *
 * idle → connecting → negotiating → ready → closing → closed. Commands issued before `ready` are
 * queued and sent once negotiation succeeds. Every pending command settles exactly once. The socket
 * always has an `'error'` listener, so no transport failure can crash the process.
 */
import type { Socket } from 'node:net';
import { z } from 'zod';
import {
  isTypedCommand,
  QMP_COMMANDS,
  type QmpArgs,
  type QmpCommandName,
  type QmpReply,
} from './commands/index.js';
import {
  describeTarget,
  type OpenTransportOptions,
  openTransport,
  type QmpTarget,
  type TransportKind,
} from './connection.js';
import {
  QmpAbortError,
  QmpCommandError,
  QmpDisconnectedError,
  QmpError,
  QmpNegotiationError,
  QmpTimeoutError,
  safeStringify,
} from './errors.js';
import { type EventIteratorOptions, EventQueue, type QmpEvent, type QmpKnownEventName } from './events.js';
import { type FdPasser, loadFdPasser } from './fd-passing.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type FrameResult, QmpFramer } from './framer.js';
import { redactSecrets } from './redact.js';
import { QmpSchema, type SchemaInfo } from './schema.js';

/** Lifecycle states, in order. */
export const QMP_STATES = ['idle', 'connecting', 'negotiating', 'ready', 'closing', 'closed'] as const;

/** One of {@link QMP_STATES}. */
export type QmpState = (typeof QMP_STATES)[number];

/** The server's greeting. Unknown members and capabilities are kept and otherwise ignored. */
export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

/**
 * Why the connection closed: `client` (`close()`), `shutdown` (EOF/ECONNRESET after `quit` or a
 * `SHUTDOWN` event: a normal end), `eof` (the peer closed unexpectedly), `error` (transport,
 * protocol, greeting or negotiation failure; see `error`).
 */
export interface QmpCloseInfo {
  reason: 'client' | 'shutdown' | 'eof' | 'error';
  /** The failure, for `eof` and `error`. */
  error: QmpError | undefined;
}

/** Per-call options of {@link QmpClient.execute}. */
export interface ExecuteOptions {
  /** Milliseconds to wait for the reply; `0` waits forever. @default the client's `commandTimeout` */
  timeout?: number;
  /**
   * Cancels the call. Not yet written: it is removed and never sent. Already written: the caller
   * is rejected at once (QEMU still runs it; QMP has no cancel) and the late reply is swallowed.
   */
  signal?: AbortSignal;
  /** Send as `exec-oob` (needs oob negotiated and a command with `allow-oob`). @default false */
  oob?: boolean;
  /**
   * File descriptors to pass with SCM_RIGHTS on the same `sendmsg` as the command (`getfd`,
   * `add-fd`). They are `dup()`ed at call time, so the caller may close them right after calling.
   * Needs a unix transport and the `@vmm/fdpass` addon.
   */
  fds?: readonly number[];
}

/** Options of {@link QmpClient}. */
export interface QmpClientOptions extends OpenTransportOptions {
  /** Milliseconds to wait for the greeting after connecting. @default 5000 */
  greetingTimeout?: number;
  /** Wait for a greeting at all (`false` for QGA-like peers that send none). @default true */
  awaitGreeting?: boolean;
  /** Send `qmp_capabilities` after the greeting. @default true */
  negotiate?: boolean;
  /** Enable the `oob` capability when the server offers it. @default true */
  oob?: boolean;
  /** Events (or blank frames) tolerated before the greeting. @default 16 */
  maxPreGreetingMessages?: number;
  /** Largest server message accepted. @default 16 MiB */
  maxMessageBytes?: number;
  /** In-band commands written but not yet answered. @default 8 with oob, else 1 */
  maxInFlight?: number;
  /** Default per-command timeout in ms (`0`: none). @default 30000 */
  commandTimeout?: number;
  /** Close the connection when a command times out (later commands would queue behind it in QEMU). @default false */
  disconnectOnTimeout?: boolean;
  /**
   * On malformed server output or an id-less error: `disconnect` rejects everything pending and
   * closes (the stream can no longer be trusted); `continue` rejects only the commands in flight.
   * @default 'disconnect'
   */
  protocolErrorPolicy?: 'disconnect' | 'continue';
  /** Resolve a pending `quit` when the socket closes after it (EOF beat the reply). @default true */
  resolveQuitOnEof?: boolean;
  /** Called with each frame written (redacted JSON text). */
  onSend?: (frame: string) => void;
  /** Called with each message received (redacted JSON text). */
  onReceive?: (frame: string) => void;
  /** Redaction applied before `onSend`/`onReceive`. @default redactSecrets */
  redact?: (message: unknown) => unknown;
  /** A reply with an unknown id (late or stray) was dropped. */
  onUnroutable?: (message: Record<string, unknown>) => void;
  /** A protocol problem was seen (also surfaced to pending commands). */
  onProtocolError?: (error: QmpError) => void;
  /** An event listener threw. @default emits a process warning */
  onListenerError?: (error: unknown, event: QmpEvent) => void;
  /** Name used in messages. @default the target */
  name?: string;
}

/** Counters for observability. */
export interface QmpStats {
  sent: number;
  received: number;
  events: number;
  queued: number;
  inFlight: number;
  unroutable: number;
  lateReplies: number;
  droppedEvents: number;
}

/** Options of {@link QmpClient.waitFor}. */
export interface WaitForOptions<E extends QmpEvent = QmpEvent> {
  /** Only events for which this returns true. */
  match?: (event: E) => boolean;
  /** Milliseconds; `0` waits forever. @default 0 */
  timeout?: number;
  signal?: AbortSignal;
}

/** Options of {@link QmpClient.executeAndWaitFor}. */
export interface ExecuteAndWaitOptions extends ExecuteOptions {
  /** The event to wait for. */
  event?: string;
  /** Wait for the first of these events. */
  anyOf?: readonly string[];
  /** Only events for which this returns true. */
  match?: (event: QmpEvent) => boolean;
  /** Covers the reply and the event together. @default the client's `commandTimeout` */
  timeout?: number;
}

type ArgsParams<K extends QmpCommandName> = [QmpArgs<K>] extends [undefined]
  ? [args?: Record<string, never>, options?: ExecuteOptions]
  : {} extends QmpArgs<K>
    ? [args?: QmpArgs<K>, options?: ExecuteOptions]
    : [args: QmpArgs<K>, options?: ExecuteOptions];

type Listener = (event: QmpEvent) => void;

const PHASE_QUEUED = 0;
const PHASE_SENT = 1;
const PHASE_DONE = 2;
const PHASE_ABANDONED = 3;

interface Pending {
  /**
   * The wire id, assigned when the command is written (0 until then) and returned to the pool when
   * its reply arrives; see {@link QmpClient} on why ids are small and reused.
   */
  id: number;
  readonly command: string;
  /** Arguments as sent (the request object is only built when an error or a log hook needs it). */
  readonly args: Record<string, unknown> | undefined;
  /** The request up to and including `"id":`; the frame is `head + id + "}"`. */
  readonly head: string;
  readonly oob: boolean;
  readonly isQuit: boolean;
  readonly parse: ((value: unknown) => unknown) | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  phase: number;
  /** Set once written (fd-carrying commands only; others use `phase`). */
  wasSent: boolean;
  fds: number[] | undefined;
  fdsDuped: boolean;
  /** Negotiation only: its own timer. Commands use `deadline` and the shared sweep timer. */
  timer: NodeJS.Timeout | undefined;
  /** `performance.now()` by which a reply is due; 0 for none. */
  deadline: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Waiter {
  fail(error: QmpError): void;
}

const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

const greetingSchema = z.looseObject({
  QMP: z.looseObject({
    version: z.looseObject({
      qemu: z.looseObject({ major: z.number(), minor: z.number(), micro: z.number() }),
      package: z.string().optional(),
    }),
    capabilities: z.array(z.unknown()),
  }),
});

const replyParsers = new Map<string, (value: unknown) => unknown>();

/** The validating reply parser of a typed command (one per command, shared by all clients). */
function replyParser(name: string, schema: z.ZodType): (value: unknown) => unknown {
  let parse = replyParsers.get(name);
  if (parse === undefined) {
    parse = (v) => {
      const r = schema.safeParse(v);
      if (r.success) return r.data;
      throw new QmpError('QMP_BAD_REPLY', `${name}: unexpected reply: ${formatIssues(r.error)}`, {
        command: name,
        raw: safeStringify(v),
        cause: r.error,
      });
    };
    replyParsers.set(name, parse);
  }
  return parse;
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * A QMP client. Create with {@link connectQmp} (resolves when ready) or `new QmpClient(target)`
 * (connects at once; commands queue until ready, see {@link QmpClient.ready}).
 *
 * Wire format: each request is compact JSON with a library-generated integer `id` and no line
 * terminator. Ids are assigned when a command is written and reused once its reply has arrived
 * (never while a reply, even a late one to a timed-out command, may still come), so they stay as
 * small as the number of commands in flight. Both choices are about QEMU's cost, not ours: QEMU
 * reads its monitor socket one byte per syscall, so each byte of a request costs it a few
 * microseconds (measured here: 33 bytes per `query-status` run 1.2x faster than 41).
 */
export class QmpClient implements AsyncDisposable {
  /** Resolves with the greeting once negotiation succeeded; rejects if the connection never got there. */
  readonly ready: Promise<QmpGreeting>;
  /** Resolves (never rejects) once the connection is closed and its socket released. */
  readonly closed: Promise<QmpCloseInfo>;
  /** Name used in messages. */
  readonly name: string;

  readonly #opts: QmpClientOptions;
  readonly #framer: QmpFramer;
  #state: QmpState = 'idle';
  #socket: Socket | undefined;
  #kind: TransportKind | undefined;
  #greeting: QmpGreeting | undefined;
  #oob = false;
  #window = 1;
  #nextId = 1;
  /** Ids whose reply has arrived, reused before `#nextId` grows (a stack: the smallest stay in use). */
  readonly #freeIds: number[] = [];
  #queue: Pending[] = [];
  #qhead = 0;
  #oobQueue: Pending[] = [];
  readonly #inFlight = new Map<number, Pending>();
  #inBand = 0;
  #writeLock = false;
  #draining = false;
  #onDrained: (() => void) | undefined;
  #readySettled = false;
  #dispatching = false;
  #pumpScheduled = false;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweepAt = Number.POSITIVE_INFINITY;
  #writing: Pending | undefined;
  /** The fd-carrying command whose reply has not arrived: QEMU may still hold its fds. */
  #fdHolder: Pending | undefined;
  #preGreeting = 0;
  #greetingTimer: NodeJS.Timeout | undefined;
  #shutdownExpected = false;
  #socketError: Error | undefined;
  #closeInfo: QmpCloseInfo | undefined;
  #resolveReady!: (g: QmpGreeting) => void;
  #rejectReady!: (e: unknown) => void;
  #resolveClosed!: (c: QmpCloseInfo) => void;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #iterators = new Set<EventQueue>();
  readonly #waiters = new Set<Waiter>();
  #schema: Promise<QmpSchema> | undefined;
  #fdPasser: FdPasser | undefined;
  readonly #stats = { sent: 0, received: 0, events: 0, unroutable: 0, lateReplies: 0, droppedEvents: 0 };
  /** Only when connecting can take a while (retries, or a caller's signal): aborted by close(). */
  #connectAbort: AbortController | undefined;

  /** Start connecting to `target` at once. Commands issued now are queued until negotiation ends. */
  constructor(target: QmpTarget, options: QmpClientOptions = {}) {
    this.#opts = options;
    this.name = options.name ?? describeTarget(target);
    this.#framer = new QmpFramer({ maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES });
    this.ready = new Promise<QmpGreeting>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Callers who never await `ready` must not get an unhandled rejection; awaiting still throws.
    this.ready.catch(() => undefined);
    this.closed = new Promise<QmpCloseInfo>((resolve) => {
      this.#resolveClosed = resolve;
    });
    void this.#start(target);
  }

  /** Current lifecycle state. */
  get state(): QmpState {
    return this.#state;
  }

  /** The greeting, once received. */
  get greeting(): QmpGreeting | undefined {
    return this.#greeting;
  }

  /** True when the `oob` capability was negotiated. */
  get oobEnabled(): boolean {
    return this.#oob;
  }

  /** `unix` or `tcp`, once connected. */
  get transport(): TransportKind | undefined {
    return this.#kind;
  }

  /** Counters: sent, received, queued, in flight, unroutable, late replies, dropped events. */
  get stats(): QmpStats {
    let dropped = this.#stats.droppedEvents;
    for (const it of this.#iterators) dropped += it.dropped;
    return {
      ...this.#stats,
      droppedEvents: dropped,
      queued: this.#queue.length - this.#qhead + this.#oobQueue.length,
      inFlight: this.#inFlight.size,
    };
  }

  // ------------------------------------------------------------------ connect & negotiate

  async #start(target: QmpTarget): Promise<void> {
    this.#state = 'connecting';
    let signal = this.#opts.signal;
    if ((this.#opts.connectTimeout ?? 0) > 0 || signal !== undefined) {
      this.#connectAbort = new AbortController();
      signal =
        signal === undefined
          ? this.#connectAbort.signal
          : AbortSignal.any([signal, this.#connectAbort.signal]);
    }
    let socket: Socket;
    let usesOnData: boolean;
    try {
      const t = await openTransport(target, {
        ...this.#opts,
        ...(signal === undefined ? {} : { signal }),
        onData: (chunk) => this.#onData(chunk),
      });
      socket = t.socket;
      usesOnData = t.usesOnData;
      this.#kind = t.kind;
    } catch (err) {
      this.#teardown(
        'error',
        QmpError.is(err) ? err : new QmpError('QMP_CONNECT_FAILED', String(err), { cause: err }),
      );
      return;
    }
    if ((this.#state as QmpState) === 'closed') {
      socket.destroy();
      return;
    }
    this.#socket = socket;
    socket.setNoDelay?.(true);
    if (!usesOnData) socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => {
      this.#socketError ??= err;
    });
    socket.on('close', () => this.#onSocketClose());
    if (this.#kind === 'unix') {
      // Warm the optional addon so fd-carrying calls can dup() synchronously; failure is reported per call.
      loadFdPasser().then(
        (p) => {
          this.#fdPasser = p;
        },
        () => undefined,
      );
    }
    this.#state = 'negotiating';
    if (this.#opts.awaitGreeting === false) {
      this.#greeting = { version: { qemu: { major: 0, minor: 0, micro: 0 }, package: '' }, capabilities: [] };
      this.#becomeReady();
      return;
    }
    const ms = this.#opts.greetingTimeout ?? 5000;
    this.#greetingTimer = setTimeout(() => {
      this.#teardown(
        'error',
        new QmpError('QMP_GREETING', `no QMP greeting from ${this.name} within ${ms} ms`),
      );
    }, ms);
  }

  #onGreeting(msg: Record<string, unknown>): void {
    clearTimeout(this.#greetingTimer);
    this.#greetingTimer = undefined;
    const parsed = greetingSchema.safeParse(msg);
    if (!parsed.success) {
      this.#teardown(
        'error',
        new QmpError('QMP_GREETING', `malformed QMP greeting: ${formatIssues(parsed.error)}`, {
          raw: safeStringify(msg),
        }),
      );
      return;
    }
    const q = parsed.data.QMP;
    const capabilities = q.capabilities.filter((c): c is string => typeof c === 'string');
    this.#greeting = {
      version: { qemu: { ...q.version.qemu }, package: q.version.package ?? '' },
      capabilities,
    };
    if (this.#opts.negotiate === false) {
      this.#becomeReady();
      return;
    }
    const enable = (this.#opts.oob ?? true) && capabilities.includes('oob') ? ['oob'] : [];
    const id = this.#allocId();
    const p: Pending = {
      id,
      command: 'qmp_capabilities',
      args: enable.length > 0 ? { enable } : undefined,
      head: `{"execute":"qmp_capabilities",${enable.length > 0 ? '"arguments":{"enable":["oob"]},' : ''}"id":`,
      // Not counted in the in-band window (it is written before the window exists).
      oob: true,
      isQuit: false,
      parse: undefined,
      phase: PHASE_SENT,
      wasSent: true,
      fds: undefined,
      fdsDuped: false,
      timer: undefined,
      deadline: 0,
      timeoutMs: 0,
      signal: undefined,
      onAbort: undefined,
      resolve: () => {
        this.#oob = enable.length > 0;
        this.#becomeReady();
      },
      reject: (err) => {
        const e = err instanceof QmpCommandError ? err : undefined;
        this.#teardown(
          'error',
          new QmpNegotiationError(`capabilities negotiation failed: ${(err as Error).message}`, {
            cause: err,
            ...(e ? { errorClass: e.errorClass, desc: e.desc } : {}),
          }),
        );
      },
    };
    const ms = this.#opts.greetingTimeout ?? 5000;
    p.timer = setTimeout(() => {
      this.#teardown('error', new QmpNegotiationError(`no reply to qmp_capabilities within ${ms} ms`));
    }, ms);
    this.#inFlight.set(id, p);
    this.#write(frameOf(p), p);
  }

  #becomeReady(): void {
    if (this.#state !== 'negotiating') return;
    this.#state = 'ready';
    this.#readySettled = true;
    this.#window = Math.max(1, this.#opts.maxInFlight ?? (this.#oob ? 8 : 1));
    this.#resolveReady(this.#greeting!);
    this.#pump();
  }

  // ------------------------------------------------------------------ execute

  /**
   * Run a typed command: arguments are validated against its schema before anything is sent and
   * the reply is validated and typed. Any other name runs untyped (`Promise<unknown>`).
   * @throws {QmpCommandError} `QMP_COMMAND_FAILED` when QEMU answers with an error.
   * @throws {QmpError} `QMP_ENCODE` (bad arguments), `QMP_BAD_REPLY`, `QMP_NOT_CONNECTED`,
   *   `QMP_OOB_UNAVAILABLE`, `QMP_FD_PASSING_UNAVAILABLE`, `QMP_PROTOCOL`, `QMP_MESSAGE_TOO_LARGE`.
   * @throws {QmpTimeoutError} `QMP_TIMEOUT`. @throws {QmpAbortError} `QMP_ABORTED`.
   * @throws {QmpDisconnectedError} `QMP_DISCONNECTED` when the connection closes first.
   */
  execute<K extends QmpCommandName>(name: K, ...rest: ArgsParams<K>): Promise<QmpReply<K>>;
  execute<N extends string>(
    name: N extends QmpCommandName ? never : N,
    args?: Record<string, unknown>,
    options?: ExecuteOptions,
  ): Promise<unknown>;
  execute(name: string, args?: Record<string, unknown>, options?: ExecuteOptions): Promise<unknown> {
    let parse: ((v: unknown) => unknown) | undefined;
    if (isTypedCommand(name)) {
      const def = QMP_COMMANDS[name];
      if (def.args !== undefined) {
        const r = def.args.safeParse(args ?? {});
        if (!r.success) {
          return Promise.reject(
            new QmpError('QMP_ENCODE', `${name}: invalid arguments: ${formatIssues(r.error)}`, {
              command: name,
              cause: r.error,
            }),
          );
        }
        args = r.data as Record<string, unknown>;
      } else if (args !== undefined && Object.keys(args).length > 0) {
        return Promise.reject(new QmpError('QMP_ENCODE', `${name}: takes no arguments`, { command: name }));
      }
      parse = replyParser(name, def.reply as z.ZodType);
    }
    return this.#enqueue(name, args, options ?? {}, parse);
  }

  /**
   * Run any command by name without typing (the escape hatch for commands not in the registry or
   * newer arguments). Same semantics and errors as {@link execute}, minus validation.
   */
  executeUntyped(
    name: string,
    args?: Record<string, unknown>,
    options: ExecuteOptions = {},
  ): Promise<unknown> {
    return this.#enqueue(name, args, options, undefined);
  }

  #enqueue(
    name: string,
    args: Record<string, unknown> | undefined,
    options: ExecuteOptions,
    parse: ((v: unknown) => unknown) | undefined,
  ): Promise<unknown> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(
        new QmpError('QMP_NOT_CONNECTED', `${name}: the QMP connection to ${this.name} is closed`, {
          command: name,
          cause: this.#closeInfo?.error,
        }),
      );
    }
    if (typeof name !== 'string' || name.length === 0) {
      return Promise.reject(new QmpError('QMP_ENCODE', 'command name must be a non-empty string'));
    }
    const signal = options.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new QmpAbortError(`${name}: aborted before it was sent`, false, {
          command: name,
          cause: signal.reason,
        }),
      );
    }
    const oob = options.oob === true;
    if (oob && this.#state === 'ready' && !this.#oob) {
      return Promise.reject(
        new QmpError(
          'QMP_OOB_UNAVAILABLE',
          `${name}: exec-oob needs the oob capability, which was not negotiated`,
          {
            command: name,
          },
        ),
      );
    }
    let fds: number[] | undefined;
    let fdsDuped = false;
    if (options.fds !== undefined && options.fds.length > 0) {
      if (this.#kind === 'tcp') {
        return Promise.reject(
          new QmpError('QMP_FD_PASSING_UNAVAILABLE', `${name}: fd passing needs a unix socket, not TCP`, {
            command: name,
          }),
        );
      }
      fds = [...options.fds];
      if (this.#fdPasser !== undefined) {
        try {
          fds = fds.map((fd) => this.#fdPasser!.dupFd(fd));
          fdsDuped = true;
        } catch (cause) {
          return Promise.reject(
            new QmpError('QMP_ENCODE', `${name}: cannot duplicate the file descriptors to pass`, {
              command: name,
              cause,
            }),
          );
        }
      }
    }
    let head: string;
    try {
      // Built by hand: the same bytes as JSON.stringify({execute, arguments, id}) without the object,
      // the id appended when it is written.
      const verb = oob ? '{"exec-oob":' : '{"execute":';
      const argsJson = args === undefined ? '' : `,"arguments":${JSON.stringify(args)}`;
      head = `${verb}${JSON.stringify(name)}${argsJson},"id":`;
    } catch (cause) {
      this.#closeFds(fds, fdsDuped);
      return Promise.reject(
        new QmpError('QMP_ENCODE', `${name}: arguments are not JSON-serialisable`, { command: name, cause }),
      );
    }
    if (head.length > MAX_REQUEST_BYTES / 4 && Buffer.byteLength(head) + 12 > MAX_REQUEST_BYTES) {
      this.#closeFds(fds, fdsDuped);
      return Promise.reject(
        new QmpError('QMP_ENCODE', `${name}: request exceeds QEMU's 64 MiB message limit`, { command: name }),
      );
    }
    return new Promise<unknown>((resolve, reject) => {
      const p: Pending = {
        id: 0,
        command: name,
        args,
        head,
        oob,
        isQuit: name === 'quit',
        parse,
        resolve,
        reject,
        phase: PHASE_QUEUED,
        wasSent: false,
        fds,
        fdsDuped,
        timer: undefined,
        deadline: 0,
        timeoutMs: 0,
        signal,
        onAbort: undefined,
      };
      const timeout = options.timeout ?? this.#opts.commandTimeout ?? 30_000;
      if (timeout > 0) {
        p.timeoutMs = timeout;
        p.deadline = performance.now() + timeout;
        if (p.deadline < this.#sweepAt) this.#armSweep(p.deadline);
      }
      if (signal !== undefined) {
        p.onAbort = () => this.#onAbort(p);
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      if (oob) {
        if (this.#state === 'ready' || this.#state === 'negotiating' || this.#state === 'connecting') {
          void this.#sendOob(p);
        }
        return;
      }
      this.#queue.push(p);
      this.#schedulePump();
    });
  }

  async #sendOob(p: Pending): Promise<void> {
    try {
      await this.ready;
      if (!this.#oob) {
        throw new QmpError(
          'QMP_OOB_UNAVAILABLE',
          `${p.command}: exec-oob needs the oob capability, which was not negotiated`,
          {
            command: p.command,
          },
        );
      }
      // allow-oob comes from the (cached) schema: QEMU refuses exec-oob for any other command.
      const schema = await this.schema();
      if (p.phase !== PHASE_QUEUED) return;
      if (!schema.allowsOob(p.command)) {
        throw new QmpError(
          'QMP_OOB_UNAVAILABLE',
          `${p.command}: this command does not allow exec-oob (allow-oob is not set)`,
          {
            command: p.command,
          },
        );
      }
    } catch (err) {
      if (p.phase === PHASE_QUEUED) this.#settle(p, err, false);
      return;
    }
    this.#oobQueue.push(p);
    this.#pump();
  }

  /** Batch the commands issued in one synchronous burst into one write. */
  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    if ((this.#state !== 'ready' && !this.#draining) || this.#writeLock || this.#dispatching) return;
    let batch = '';
    const sent: Pending[] = [];
    while (this.#oobQueue.length > 0) {
      const head = this.#oobQueue[0]!;
      // One fd batch in QEMU at a time: a new batch would replace (and close) an unconsumed one.
      if (head.phase === PHASE_QUEUED && head.fds !== undefined && this.#fdHolder !== undefined) break;
      const p = this.#oobQueue.shift()!;
      if (p.phase !== PHASE_QUEUED) continue;
      if (p.fds !== undefined) {
        this.#flush(batch, sent);
        batch = '';
        sent.length = 0;
        void this.#writeFds(p);
        return;
      }
      p.phase = PHASE_SENT;
      p.id = this.#allocId();
      this.#inFlight.set(p.id, p);
      batch += frameOf(p);
      sent.push(p);
    }
    const q = this.#queue;
    while (this.#qhead < q.length && this.#inBand < this.#window) {
      const p = q[this.#qhead]!;
      if (p.phase === PHASE_QUEUED && p.fds !== undefined && this.#fdHolder !== undefined) break;
      q[this.#qhead] = undefined as unknown as Pending;
      this.#qhead++;
      if (p.phase !== PHASE_QUEUED) continue;
      if (p.fds !== undefined) {
        this.#flush(batch, sent);
        batch = '';
        sent.length = 0;
        this.#inBand++;
        void this.#writeFds(p);
        this.#compactQueue();
        return;
      }
      p.phase = PHASE_SENT;
      p.id = this.#allocId();
      this.#inFlight.set(p.id, p);
      this.#inBand++;
      if (p.isQuit) this.#shutdownExpected = true;
      batch += frameOf(p);
      sent.push(p);
    }
    this.#compactQueue();
    this.#flush(batch, sent);
  }

  /** A wire id no in-flight or abandoned command holds. */
  #allocId(): number {
    return this.#freeIds.pop() ?? this.#nextId++;
  }

  #compactQueue(): void {
    if (this.#qhead === this.#queue.length) {
      this.#queue = [];
      this.#qhead = 0;
    } else if (this.#qhead > 4096 && this.#qhead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#qhead);
      this.#qhead = 0;
    }
  }

  #flush(batch: string, sent: Pending[]): void {
    if (batch.length === 0) return;
    this.#stats.sent += sent.length;
    if (this.#opts.onSend !== undefined) for (const p of sent) this.#logSend(p);
    this.#socket?.write(batch);
  }

  #write(frame: string, p: Pending): void {
    this.#stats.sent++;
    if (this.#opts.onSend !== undefined) this.#logSend(p);
    this.#socket?.write(frame);
  }

  #logSend(p: Pending): void {
    try {
      this.#opts.onSend?.(JSON.stringify((this.#opts.redact ?? redactSecrets)(requestOf(p))));
    } catch {
      // a logging hook must never break the connection
    }
  }

  async #writeFds(p: Pending): Promise<void> {
    this.#writeLock = true;
    this.#writing = p;
    try {
      const passer = this.#fdPasser ?? (await loadFdPasser());
      this.#fdPasser = passer;
      if (
        p.phase !== PHASE_QUEUED ||
        (this.#state !== 'ready' && !this.#draining) ||
        this.#socket === undefined
      ) {
        return;
      }
      if (!p.fdsDuped) {
        p.fds = p.fds!.map((fd) => passer.dupFd(fd));
        p.fdsDuped = true;
      }
      p.phase = PHASE_SENT;
      p.wasSent = true;
      this.#fdHolder = p;
      p.id = this.#allocId();
      this.#inFlight.set(p.id, p);
      this.#stats.sent++;
      if (this.#opts.onSend !== undefined) this.#logSend(p);
      await passer.writeWithFds(this.#socket, Buffer.from(frameOf(p)), p.fds!);
      this.#closeFds(p.fds, p.fdsDuped);
      p.fds = [];
    } catch (err) {
      const e = QmpError.is(err)
        ? err
        : new QmpError(
            'QMP_TRANSPORT',
            `${p.command}: sending the file descriptors failed: ${(err as Error).message}`,
            {
              command: p.command,
              ...idOf(p),
              cause: err,
            },
          );
      if (p.phase === PHASE_QUEUED || p.phase === PHASE_SENT) {
        this.#settle(p, e, false);
      }
      if (e.code === 'QMP_TRANSPORT') this.#teardown('error', e);
    } finally {
      // A command that never reached PHASE_SENT still holds the window slot pump() gave it.
      if (p.phase !== PHASE_SENT && p.phase !== PHASE_ABANDONED && !p.oob && !p.wasSent) this.#inBand--;
      this.#writing = undefined;
      this.#writeLock = false;
      this.#pump();
    }
  }

  #closeFds(fds: number[] | undefined, duped: boolean): void {
    if (!duped || fds === undefined || this.#fdPasser === undefined) return;
    for (const fd of fds) {
      try {
        this.#fdPasser.closeFd(fd);
      } catch {
        // already closed
      }
    }
    fds.length = 0;
  }

  /** Settle a pending command exactly once and release its resources. */
  #settle(p: Pending, error: unknown, ok: boolean, value?: unknown): void {
    if (p.phase === PHASE_DONE) return;
    const wasSent = p.phase === PHASE_SENT;
    const wasAbandoned = p.phase === PHASE_ABANDONED;
    p.phase = PHASE_DONE;
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort);
    this.#closeFds(p.fds, p.fdsDuped);
    if (wasSent && !p.oob) this.#inBand--;
    if (wasAbandoned) return;
    if (ok) p.resolve(value);
    else p.reject(error);
    if (this.#draining) this.#checkDrained();
  }

  #abandon(p: Pending, error: QmpError): void {
    // Sent: the reply will come; keep the id routed so it is swallowed, but free the window slot.
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (p.onAbort !== undefined) p.signal?.removeEventListener('abort', p.onAbort);
    if (!p.oob) this.#inBand--;
    p.phase = PHASE_ABANDONED;
    p.reject(error);
    this.#pump();
    if (this.#draining) this.#checkDrained();
  }

  /**
   * One timer serves every command's deadline: armed for the earliest one and re-armed by the sweep,
   * so a command costs a number instead of a timer (commands nearly always finish first).
   */
  #armSweep(at: number): void {
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepAt = at;
    this.#sweepTimer = setTimeout(() => this.#sweep(), Math.max(1, Math.ceil(at - performance.now())));
  }

  #sweep(): void {
    this.#sweepTimer = undefined;
    this.#sweepAt = Number.POSITIVE_INFINITY;
    if (this.#state === 'closed') return;
    const now = performance.now() + 0.5;
    let next = Number.POSITIVE_INFINITY;
    const check = (p: Pending): void => {
      if (p.deadline === 0 || (p.phase !== PHASE_QUEUED && p.phase !== PHASE_SENT)) return;
      if (p.deadline <= now) this.#onTimeout(p, p.timeoutMs);
      else if (p.deadline < next) next = p.deadline;
    };
    for (const p of [...this.#inFlight.values()]) check(p);
    for (let i = this.#qhead; i < this.#queue.length; i++) check(this.#queue[i]!);
    for (const p of [...this.#oobQueue]) check(p);
    if (this.#writing !== undefined) check(this.#writing);
    if ((this.#state as QmpState) !== 'closed' && next !== Number.POSITIVE_INFINITY && next < this.#sweepAt)
      this.#armSweep(next);
  }

  #onTimeout(p: Pending, ms: number): void {
    const sent = p.phase === PHASE_SENT;
    const err = new QmpTimeoutError(
      `${labelOf(p)}: no reply within ${ms} ms${sent ? '' : ' (never sent)'}`,
      ms,
      { command: p.command, ...idOf(p) },
    );
    if (sent) this.#abandon(p, err);
    else this.#settle(p, err, false);
    if (sent && this.#opts.disconnectOnTimeout === true) this.#teardown('error', err);
  }

  #onAbort(p: Pending): void {
    const sent = p.phase === PHASE_SENT;
    const err = new QmpAbortError(
      `${labelOf(p)}: aborted ${sent ? 'after it was sent (QEMU still runs it)' : 'before it was sent'}`,
      sent,
      { command: p.command, ...idOf(p), cause: p.signal?.reason },
    );
    if (sent) this.#abandon(p, err);
    else this.#settle(p, err, false);
  }

  // ------------------------------------------------------------------ input

  #onData(chunk: Buffer): void {
    let frames: FrameResult[];
    try {
      frames = this.#framer.push(chunk);
    } catch (err) {
      this.#teardown(
        'error',
        new QmpError('QMP_PROTOCOL', `framer failure: ${(err as Error).message}`, { cause: err }),
      );
      return;
    }
    // Replies free window slots one by one; write the commands they make room for in one go.
    this.#dispatching = true;
    try {
      for (let i = 0; i < frames.length; i++) {
        if (this.#state === 'closed') return;
        const f = frames[i]!;
        if (f.kind === 'message') this.#onMessage(f.value);
        else this.#onFrameError(f);
      }
    } finally {
      this.#dispatching = false;
    }
    this.#pump();
  }

  #onFrameError(f: Extract<FrameResult, { kind: 'error' }>): void {
    if (this.#greeting === undefined) {
      this.#teardown(
        'error',
        new QmpError('QMP_GREETING', `expected a QMP greeting, got: ${JSON.stringify(f.raw.slice(0, 200))}`, {
          raw: f.raw,
        }),
      );
      return;
    }
    if (f.reason === 'too-large') {
      const err = new QmpError('QMP_MESSAGE_TOO_LARGE', f.message, { raw: f.raw });
      this.#opts.onProtocolError?.(err);
      this.#teardown('error', err);
      return;
    }
    this.#protocolError(
      new QmpError('QMP_PROTOCOL', `${f.message}: ${JSON.stringify(f.raw.slice(0, 200))}`, { raw: f.raw }),
    );
  }

  #protocolError(err: QmpError): void {
    try {
      this.#opts.onProtocolError?.(err);
    } catch {
      // hooks never break the connection
    }
    if ((this.#opts.protocolErrorPolicy ?? 'disconnect') === 'disconnect') {
      this.#teardown('error', err);
      return;
    }
    for (const p of [...this.#inFlight.values()]) {
      // Forgotten but not released: QEMU may still answer these ids, so they are never reused.
      this.#inFlight.delete(p.id);
      if (p.phase === PHASE_SENT) {
        this.#settle(
          p,
          new QmpError('QMP_PROTOCOL', `${p.command}: ${err.message}`, {
            command: p.command,
            ...idOf(p),
            cause: err,
            raw: err.raw,
          }),
          false,
        );
      }
    }
    this.#pump();
  }

  #onMessage(msg: Record<string, unknown>): void {
    this.#stats.received++;
    if (this.#opts.onReceive !== undefined) {
      try {
        this.#opts.onReceive(JSON.stringify((this.#opts.redact ?? redactSecrets)(msg)));
      } catch {
        // hooks never break the connection
      }
    }
    const id = msg.id;
    if (id !== undefined) {
      const p = typeof id === 'number' ? this.#inFlight.get(id) : undefined;
      if (p === undefined) {
        this.#unroutable(msg);
        return;
      }
      this.#inFlight.delete(id as number);
      // The reply is in: QEMU is done with this id, so the next command may carry it.
      this.#freeIds.push(id as number);
      this.#onReply(p, msg);
      return;
    }
    if (typeof msg.event === 'string') {
      if (this.#greeting === undefined) {
        if (++this.#preGreeting > (this.#opts.maxPreGreetingMessages ?? 16)) {
          this.#teardown(
            'error',
            new QmpError(
              'QMP_GREETING',
              `more than ${this.#opts.maxPreGreetingMessages ?? 16} messages before the QMP greeting`,
              {
                raw: safeStringify(msg),
              },
            ),
          );
        }
        return;
      }
      this.#onEvent(msg as unknown as QmpEvent);
      return;
    }
    if (this.#greeting === undefined) {
      if ('QMP' in msg) {
        this.#onGreeting(msg);
        return;
      }
      this.#teardown(
        'error',
        new QmpError('QMP_GREETING', `expected a QMP greeting, got: ${safeStringify(msg).slice(0, 200)}`, {
          raw: safeStringify(msg),
        }),
      );
      return;
    }
    if ('error' in msg) {
      const e = msg.error as { class?: unknown; desc?: unknown } | undefined;
      this.#protocolError(
        new QmpError(
          'QMP_PROTOCOL',
          `QMP error without an id (the server could not parse a request): ${typeof e?.class === 'string' ? e.class : '?'}: ${typeof e?.desc === 'string' ? e.desc : '?'}`,
          { raw: safeStringify(msg) },
        ),
      );
      return;
    }
    this.#unroutable(msg);
  }

  #unroutable(msg: Record<string, unknown>): void {
    this.#stats.unroutable++;
    try {
      this.#opts.onUnroutable?.(msg);
    } catch {
      // hooks never break the connection
    }
  }

  #onReply(p: Pending, msg: Record<string, unknown>): void {
    if (p === this.#fdHolder) this.#fdHolder = undefined;
    if (p.phase === PHASE_ABANDONED) {
      this.#stats.lateReplies++;
      p.phase = PHASE_DONE;
      this.#closeFds(p.fds, p.fdsDuped);
      return;
    }
    if ('return' in msg) {
      let value: unknown = msg.return;
      if (p.parse !== undefined) {
        try {
          value = p.parse(value);
        } catch (err) {
          this.#settle(p, QmpError.is(err) ? withId(err, p.id) : err, false);
          this.#pump();
          return;
        }
      }
      this.#settle(p, undefined, true, value);
      this.#pump();
      return;
    }
    const e = msg.error as { class?: unknown; desc?: unknown } | undefined;
    if (typeof e === 'object' && e !== null && typeof e.class === 'string' && typeof e.desc === 'string') {
      this.#settle(p, new QmpCommandError(p.command, p.id, e.class, e.desc, requestOf(p), msg), false);
    } else {
      this.#settle(
        p,
        new QmpError('QMP_BAD_REPLY', `${labelOf(p)}: reply has neither "return" nor a well-formed "error"`, {
          command: p.command,
          ...idOf(p),
          raw: safeStringify(msg),
        }),
        false,
      );
    }
    this.#pump();
  }

  // ------------------------------------------------------------------ events

  #onEvent(ev: QmpEvent): void {
    this.#stats.events++;
    if (ev.event === 'SHUTDOWN') this.#shutdownExpected = true;
    const named = this.#listeners.get(ev.event);
    const all = this.#listeners.get('*');
    if (named !== undefined) this.#callListeners(named, ev);
    if (all !== undefined) this.#callListeners(all, ev);
    for (const it of this.#iterators) it.push(ev);
  }

  #callListeners(set: Set<Listener>, ev: QmpEvent): void {
    for (const fn of set.size === 1 ? set : [...set]) {
      try {
        fn(ev);
      } catch (err) {
        if (this.#opts.onListenerError !== undefined) this.#opts.onListenerError(err, ev);
        else
          process.emitWarning(
            `QMP event listener for ${ev.event} threw: ${String(err)}`,
            'QmpListenerWarning',
          );
      }
    }
  }

  /**
   * Call `listener` for every event named `name` (`'*'`: every event), synchronously as it is
   * read. Returns a function that unsubscribes. Listeners must be quick; a throwing listener is
   * reported through `onListenerError` and never affects others or replies.
   */
  on<N extends QmpKnownEventName>(name: N, listener: (event: QmpEvent<N>) => void): () => void;
  on(name: string, listener: (event: QmpEvent) => void): () => void;
  on(name: string, listener: (event: QmpEvent) => void): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    const fn = listener as Listener;
    set.add(fn);
    return () => {
      const s = this.#listeners.get(name);
      if (s === undefined) return;
      s.delete(fn);
      if (s.size === 0) this.#listeners.delete(name);
    };
  }

  /** Number of listeners currently registered (all names), for leak checks. */
  get listenerCount(): number {
    let n = 0;
    for (const s of this.#listeners.values()) n += s.size;
    return n + this.#iterators.size + this.#waiters.size;
  }

  /**
   * An async iterator over events with a bounded queue (see {@link EventIteratorOptions} for the
   * overflow policy). It ends when the connection closes, its signal aborts, or on `break`.
   */
  events(options: EventIteratorOptions = {}): AsyncIterableIterator<QmpEvent> {
    const q: EventQueue = new EventQueue(options, () => {
      this.#iterators.delete(q);
      options.signal?.removeEventListener('abort', onAbort);
    });
    const onAbort = (): void => q.end();
    if (this.#state === 'closed') {
      if (options.onClose === 'throw' && this.#closeInfo?.error) q.fail(this.#closeInfo.error);
      else q.end();
      return q;
    }
    if (options.signal?.aborted) {
      q.end();
      return q;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#iterators.add(q);
    return q;
  }

  /**
   * Wait for the next event named `name` (or any of `name` when an array) that satisfies `match`.
   * Only events read after this call are considered.
   * @throws {QmpTimeoutError} `QMP_TIMEOUT`; {@link QmpAbortError} `QMP_ABORTED`;
   *   {@link QmpDisconnectedError} `QMP_DISCONNECTED` when the connection closes first.
   */
  waitFor<N extends QmpKnownEventName>(name: N, options?: WaitForOptions<QmpEvent<N>>): Promise<QmpEvent<N>>;
  waitFor(name: string | readonly string[], options?: WaitForOptions): Promise<QmpEvent>;
  waitFor(name: string | readonly string[], options: WaitForOptions = {}): Promise<QmpEvent> {
    const names = typeof name === 'string' ? [name] : [...name];
    const label = names.join('|');
    return new Promise<QmpEvent>((resolve, reject) => {
      if (this.#state === 'closed') {
        reject(
          new QmpDisconnectedError(`waiting for ${label}: the connection is closed`, {
            cause: this.#closeInfo?.error,
          }),
        );
        return;
      }
      if (options.signal?.aborted) {
        reject(new QmpAbortError(`waiting for ${label}: aborted`, false, { cause: options.signal.reason }));
        return;
      }
      const offs: Array<() => void> = [];
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        fail: (err) => {
          cleanup();
          reject(err);
        },
      };
      const cleanup = (): void => {
        for (const off of offs) off();
        if (timer !== undefined) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(waiter);
      };
      const onAbort = (): void =>
        waiter.fail(
          new QmpAbortError(`waiting for ${label}: aborted`, false, { cause: options.signal?.reason }),
        );
      const onEvent = (ev: QmpEvent): void => {
        if (options.match !== undefined) {
          let ok = false;
          try {
            ok = options.match(ev);
          } catch (err) {
            waiter.fail(new QmpError('QMP_ABORTED', `waiting for ${label}: match() threw`, { cause: err }));
            return;
          }
          if (!ok) return;
        }
        cleanup();
        resolve(ev);
      };
      for (const n of names) offs.push(this.on(n, onEvent));
      this.#waiters.add(waiter);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const ms = options.timeout ?? 0;
      if (ms > 0) {
        timer = setTimeout(
          () => waiter.fail(new QmpTimeoutError(`no ${label} event within ${ms} ms`, ms)),
          ms,
        );
      }
    });
  }

  /**
   * Run a command and wait for an event it causes, subscribing **before** the command is written,
   * so an event that arrives before the reply (DEVICE_DELETED on s390, SHUTDOWN before `quit`'s
   * reply) is never missed. Resolves when both the reply and a matching event have arrived.
   * @throws Everything {@link execute} throws, plus `QMP_TIMEOUT` when the event does not come.
   */
  async executeAndWaitFor<K extends QmpCommandName>(
    name: K,
    args: QmpArgs<K>,
    options: ExecuteAndWaitOptions,
  ): Promise<{ reply: QmpReply<K>; event: QmpEvent }> {
    const names = options.anyOf ?? (options.event === undefined ? [] : [options.event]);
    if (names.length === 0) {
      throw new QmpError('QMP_ENCODE', 'executeAndWaitFor needs `event` or `anyOf`', { command: name });
    }
    const timeout = options.timeout ?? this.#opts.commandTimeout ?? 30_000;
    const ac = new AbortController();
    const signal = options.signal === undefined ? ac.signal : AbortSignal.any([options.signal, ac.signal]);
    const started = Date.now();
    const eventP = this.waitFor(names, { ...(options.match ? { match: options.match } : {}), signal });
    // Keep a failure of the wait from becoming unhandled while the command runs.
    eventP.catch(() => undefined);
    try {
      const exec = this.execute as (n: string, a: unknown, o: ExecuteOptions) => Promise<unknown>;
      const reply = (await exec.call(this, name, args, {
        ...(options.oob === undefined ? {} : { oob: options.oob }),
        ...(options.fds === undefined ? {} : { fds: options.fds }),
        timeout,
        signal,
      })) as QmpReply<K>;
      const left = timeout > 0 ? Math.max(1, timeout - (Date.now() - started)) : 0;
      let timer: NodeJS.Timeout | undefined;
      const event = await Promise.race([
        eventP,
        new Promise<never>((_, reject) => {
          if (left > 0) {
            timer = setTimeout(
              () =>
                reject(
                  new QmpTimeoutError(
                    `${name}: replied, but no ${names.join('|')} event within ${timeout} ms`,
                    timeout,
                    {
                      command: name,
                    },
                  ),
                ),
              left,
            );
          }
        }),
      ]).finally(() => clearTimeout(timer));
      return { reply, event };
    } finally {
      ac.abort();
    }
  }

  // ------------------------------------------------------------------ helpers

  /**
   * The QAPI schema of this QEMU (`query-qmp-schema`, about 200 KB on 7.2), fetched once per
   * connection and cached.
   */
  schema(options: ExecuteOptions = {}): Promise<QmpSchema> {
    if (this.#schema === undefined) {
      const p = this.execute('query-qmp-schema', undefined, options).then(
        (entries) => new QmpSchema(entries as SchemaInfo[]),
      );
      this.#schema = p;
      p.catch(() => {
        if (this.#schema === p) this.#schema = undefined;
      });
    }
    return this.#schema;
  }

  /**
   * Run an HMP command line through `human-monitor-command` and return its output.
   * @throws Everything {@link execute} throws.
   */
  hmp(commandLine: string, options: ExecuteOptions = {}): Promise<string> {
    return this.execute('human-monitor-command', { 'command-line': commandLine }, options);
  }

  // ------------------------------------------------------------------ close

  /**
   * Close the connection: every pending command rejects with `QMP_DISCONNECTED`, event iterators
   * end, and the promise resolves once the socket is released. Idempotent.
   *
   * With `drain: true` new commands are refused (`QMP_NOT_CONNECTED`) while the queued and in-flight
   * ones finish (each within its own timeout), then the connection closes; `drainTimeout` (ms) caps
   * the wait, after which whatever is left rejects as above.
   */
  async close(options: { drain?: boolean; drainTimeout?: number } = {}): Promise<QmpCloseInfo> {
    if (this.#state === 'closed') return this.closed;
    if (options.drain === true && this.#state === 'ready' && !this.#draining) {
      this.#draining = true;
      this.#state = 'closing';
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = (): void => {
          if (timer !== undefined) clearTimeout(timer);
          this.#onDrained = undefined;
          resolve();
        };
        this.#onDrained = done;
        if (options.drainTimeout !== undefined && options.drainTimeout > 0)
          timer = setTimeout(done, options.drainTimeout);
        this.#checkDrained();
      });
    }
    if ((this.#state as QmpState) !== 'closed') {
      this.#state = 'closing';
      this.#teardown('client', undefined);
    }
    return this.closed;
  }

  /** Commands still owed a reply (queued or in flight, not abandoned). */
  #outstanding(): number {
    let n = this.#oobQueue.length + (this.#writing === undefined ? 0 : 1);
    for (let i = this.#qhead; i < this.#queue.length; i++) if (this.#queue[i]!.phase === PHASE_QUEUED) n++;
    for (const p of this.#inFlight.values()) if (p.phase === PHASE_SENT) n++;
    return n;
  }

  #checkDrained(): void {
    if (this.#onDrained !== undefined && (this.#state === 'closed' || this.#outstanding() === 0))
      this.#onDrained();
  }

  /** `await using qmp = await connectQmp(path)` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close().then(() => undefined);
  }

  #onSocketClose(): void {
    const err = this.#socketError;
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (this.#state === 'closed') {
      this.#finish();
      return;
    }
    if (this.#shutdownExpected && (err === undefined || code === 'ECONNRESET' || code === 'EPIPE')) {
      this.#teardown('shutdown', undefined);
    } else if (err !== undefined) {
      this.#teardown(
        'error',
        new QmpError('QMP_TRANSPORT', `QMP socket error on ${this.name}: ${code ?? err.message}`, {
          cause: err,
        }),
      );
    } else {
      this.#teardown('eof', new QmpError('QMP_TRANSPORT', `${this.name} closed the QMP connection`));
    }
    this.#finish();
  }

  #socketReleased = false;

  #finish(): void {
    this.#socketReleased = true;
    if (this.#closeInfo !== undefined) this.#resolveClosed(this.#closeInfo);
  }

  #teardown(reason: QmpCloseInfo['reason'], error: QmpError | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closeInfo = { reason, error };
    // Abort only a connect still in progress (creating the abort reason is not free).
    if (this.#socket === undefined) this.#connectAbort?.abort();
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    if (this.#greetingTimer !== undefined) clearTimeout(this.#greetingTimer);
    this.#greetingTimer = undefined;

    const why =
      reason === 'client'
        ? 'the client closed the connection'
        : reason === 'shutdown'
          ? 'QEMU shut down'
          : (error?.message ?? 'the connection closed');
    const pendingError = (p: Pending): QmpError => {
      if (error !== undefined && (error.code === 'QMP_PROTOCOL' || error.code === 'QMP_MESSAGE_TOO_LARGE')) {
        return new QmpError(error.code, `${p.command}: ${error.message}`, {
          command: p.command,
          ...idOf(p),
          cause: error,
          ...(error.raw === undefined ? {} : { raw: error.raw }),
        });
      }
      return new QmpDisconnectedError(`${labelOf(p)}: ${why}`, {
        command: p.command,
        ...idOf(p),
        ...(error === undefined ? {} : { cause: error }),
      });
    };
    const all: Pending[] = [];
    for (const p of this.#inFlight.values()) all.push(p);
    for (let i = this.#qhead; i < this.#queue.length; i++) all.push(this.#queue[i]!);
    for (const p of this.#oobQueue) all.push(p);
    if (this.#writing !== undefined && this.#writing.phase === PHASE_QUEUED) all.push(this.#writing);
    this.#inFlight.clear();
    this.#queue = [];
    this.#qhead = 0;
    this.#oobQueue = [];
    for (const p of all) {
      if (p.phase === PHASE_ABANDONED) {
        p.phase = PHASE_DONE;
        this.#closeFds(p.fds, p.fdsDuped);
        continue;
      }
      if (p.phase === PHASE_DONE) continue;
      if (
        p.isQuit &&
        p.phase === PHASE_SENT &&
        reason === 'shutdown' &&
        this.#opts.resolveQuitOnEof !== false
      ) {
        this.#settle(p, undefined, true, {});
      } else {
        this.#settle(p, pendingError(p), false);
      }
    }
    this.#inBand = 0;
    this.#fdHolder = undefined;
    this.#onDrained?.();
    const closeErr =
      error ?? (reason === 'client' ? undefined : new QmpDisconnectedError(`the connection closed: ${why}`));
    for (const it of [...this.#iterators]) {
      if (it.closeMode === 'throw' && closeErr !== undefined) it.fail(closeErr);
      else it.end();
    }
    this.#iterators.clear();
    for (const w of [...this.#waiters]) {
      w.fail(
        new QmpDisconnectedError(`waiting for an event: ${why}`, error === undefined ? {} : { cause: error }),
      );
    }
    this.#listeners.clear();
    if (!this.#readySettled) {
      this.#readySettled = true;
      this.#rejectReady(
        error ??
          new QmpError('QMP_NOT_CONNECTED', `the QMP connection to ${this.name} closed before it was ready`),
      );
    }
    this.#framer.reset();
    const s = this.#socket;
    if (s === undefined || s.destroyed || this.#socketReleased) {
      this.#finish();
    } else {
      s.destroy();
    }
  }
}

/**
 * The bytes written for a pending command: compact JSON with no line terminator (QEMU's JSON streamer
 * ends a request at its closing brace, and reads its monitor socket one byte per syscall).
 */
function frameOf(p: Pending): string {
  return `${p.head}${p.id}}`;
}

/** `command (id N)` once written, `command` before (ids are assigned on the wire). */
function labelOf(p: Pending): string {
  return p.id === 0 ? p.command : `${p.command} (id ${p.id})`;
}

/** The `id` error option of a pending command: none until it was written. */
function idOf(p: Pending): { id?: number } {
  return p.id === 0 ? {} : { id: p.id };
}

/** The request object of a pending command, as it was written. */
function requestOf(p: Pending): Record<string, unknown> {
  const r: Record<string, unknown> =
    p.oob && p.command !== 'qmp_capabilities' ? { 'exec-oob': p.command } : { execute: p.command };
  if (p.args !== undefined) r.arguments = p.args;
  r.id = p.id;
  return r;
}

function withId(err: QmpError, id: number): QmpError {
  if (err.id !== undefined) return err;
  return new QmpError(err.code, err.message, {
    ...(err.command === undefined ? {} : { command: err.command }),
    id,
    cause: err.cause,
    ...(err.raw === undefined ? {} : { raw: err.raw }),
  });
}

/**
 * Connect to a QMP server and resolve once the greeting and negotiation are done.
 * @throws {QmpError} `QMP_CONNECT_FAILED`, `QMP_GREETING`, `QMP_NEGOTIATION`, `QMP_ABORTED`; the
 *   client is closed and nothing is left running.
 */
export async function connectQmp(target: QmpTarget, options: QmpClientOptions = {}): Promise<QmpClient> {
  const client = new QmpClient(target, options);
  try {
    await client.ready;
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}
