/**
 * Every error @vmm/qmp raises: one base class ({@link QmpError}) with a stable `code`, and one
 * subclass per failure kind, so a far-end refusal ({@link QmpCommandError}) never looks like a
 * transport failure ({@link QmpDisconnectedError}).
 */

/** Stable error codes, each documented in the package README. */
export const QMP_ERROR_CODES = {
  /** The socket could not be opened (ENOENT, ECONNREFUSED, connect timeout, bad target). */
  QMP_CONNECT_FAILED: 'QMP_CONNECT_FAILED',
  /** No greeting in time, or the first message was not a QMP greeting. */
  QMP_GREETING: 'QMP_GREETING',
  /** `qmp_capabilities` was refused: the session is unusable. */
  QMP_NEGOTIATION: 'QMP_NEGOTIATION',
  /** The server sent bytes that are not a QMP message (malformed JSON, non-object, id-less error). */
  QMP_PROTOCOL: 'QMP_PROTOCOL',
  /** A server message exceeded `maxMessageBytes`. */
  QMP_MESSAGE_TOO_LARGE: 'QMP_MESSAGE_TOO_LARGE',
  /** A reply had an id but neither `return` nor a well-formed `error`, or failed its reply schema. */
  QMP_BAD_REPLY: 'QMP_BAD_REPLY',
  /** QEMU answered `{"error": {"class", "desc"}}`. */
  QMP_COMMAND_FAILED: 'QMP_COMMAND_FAILED',
  /** No reply within the command's `timeout`. */
  QMP_TIMEOUT: 'QMP_TIMEOUT',
  /** The caller's `AbortSignal` fired. */
  QMP_ABORTED: 'QMP_ABORTED',
  /** The connection closed while the command was queued or in flight. */
  QMP_DISCONNECTED: 'QMP_DISCONNECTED',
  /** The client is closed (or closing): nothing can be sent. */
  QMP_NOT_CONNECTED: 'QMP_NOT_CONNECTED',
  /** Arguments could not be encoded (invalid per the command's schema, not JSON, or too large). */
  QMP_ENCODE: 'QMP_ENCODE',
  /** `exec-oob` was asked for a command that does not allow it, or oob was not negotiated. */
  QMP_OOB_UNAVAILABLE: 'QMP_OOB_UNAVAILABLE',
  /** fd passing is impossible: the `@vmm/fdpass` addon is missing, or the transport is not a unix socket. */
  QMP_FD_PASSING_UNAVAILABLE: 'QMP_FD_PASSING_UNAVAILABLE',
  /** Writing to the socket failed (EPIPE, ECONNRESET, sendmsg error). */
  QMP_TRANSPORT: 'QMP_TRANSPORT',
  /** An event iterator's bounded queue overflowed under the `'error'` overflow policy. */
  QMP_EVENT_OVERFLOW: 'QMP_EVENT_OVERFLOW',
  /** A multi-step helper failed and rolled back (the cause says which step), no vCPU slot was free, or a migration failed. */
  QMP_HOTPLUG_FAILED: 'QMP_HOTPLUG_FAILED',
} as const;

/** One of {@link QMP_ERROR_CODES}. */
export type QmpErrorCode = keyof typeof QMP_ERROR_CODES;

const brand = Symbol.for('@vmm/qmp.QmpError');

function named(ctor: { prototype: Error }, name: string): void {
  Object.defineProperty(ctor.prototype, 'name', { value: name, writable: true, configurable: true });
}

/** Extra, optional context every {@link QmpError} may carry. */
export interface QmpErrorOptions extends ErrorOptions {
  /** The wire command involved, if any. */
  command?: string;
  /** The library-generated id of the command involved, if any. */
  id?: number;
  /** The raw frame(s) involved (truncated to 4 KiB), for debugging. */
  raw?: string;
}

const RAW_LIMIT = 4096;

/** Truncate a raw frame for inclusion in an error. */
export function truncateRaw(raw: string, limit: number = RAW_LIMIT): string {
  return raw.length <= limit ? raw : `${raw.slice(0, limit)}…(${raw.length - limit} more chars)`;
}

/** The base class of every @vmm/qmp error. Check with {@link QmpError.is} across realms. */
export class QmpError extends Error {
  static {
    named(QmpError, 'QmpError');
    Object.defineProperty(QmpError.prototype, brand, { value: true });
  }
  /** Stable code, one of {@link QMP_ERROR_CODES}. */
  readonly code: QmpErrorCode;
  /** The wire command involved, if any. */
  readonly command: string | undefined;
  /** The library-generated command id involved, if any. */
  readonly id: number | undefined;
  /** Raw frame(s) involved, truncated; for debugging only. */
  readonly raw: string | undefined;

  constructor(code: QmpErrorCode, message: string, options: QmpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.command = options.command;
    this.id = options.id;
    this.raw = options.raw === undefined ? undefined : truncateRaw(options.raw);
  }

  /** True for any @vmm/qmp error, even from a duplicate install (unlike `instanceof`). */
  static is(value: unknown): value is QmpError {
    return typeof value === 'object' && value !== null && brand in value;
  }
}

/**
 * QEMU refused a command: `{"error": {"class", "desc"}}`. Code `QMP_COMMAND_FAILED`.
 * `errorClass` is an open string (`GenericError`, `CommandNotFound`, `DeviceNotActive`,
 * `DeviceNotFound`, `KVMMissingCap`, or a future class); never parse `desc`.
 */
export class QmpCommandError extends QmpError {
  static {
    named(QmpCommandError, 'QmpCommandError');
  }
  /** QEMU's error class. */
  readonly errorClass: string;
  /** QEMU's human-readable description. */
  readonly desc: string;
  /** The request as sent (object form). */
  readonly request: unknown;
  /** The full error response. */
  readonly response: unknown;

  constructor(
    command: string,
    id: number | undefined,
    errorClass: string,
    desc: string,
    request: unknown,
    response: unknown,
  ) {
    super('QMP_COMMAND_FAILED', `${command}: ${errorClass}: ${desc}`, {
      command,
      ...(id === undefined ? {} : { id }),
      raw: safeStringify(response),
    });
    this.errorClass = errorClass;
    this.desc = desc;
    this.request = request;
    this.response = response;
  }
}

/** `qmp_capabilities` failed. Code `QMP_NEGOTIATION`; the client closes. */
export class QmpNegotiationError extends QmpError {
  static {
    named(QmpNegotiationError, 'QmpNegotiationError');
  }
  /** QEMU's error class, when QEMU answered with an error. */
  readonly errorClass: string | undefined;
  /** QEMU's description, when QEMU answered with an error. */
  readonly desc: string | undefined;

  constructor(message: string, options: QmpErrorOptions & { errorClass?: string; desc?: string } = {}) {
    super('QMP_NEGOTIATION', message, options);
    this.errorClass = options.errorClass;
    this.desc = options.desc;
  }
}

/** The connection closed with commands pending. Code `QMP_DISCONNECTED`; `cause` says why. */
export class QmpDisconnectedError extends QmpError {
  static {
    named(QmpDisconnectedError, 'QmpDisconnectedError');
  }
  constructor(message: string, options: QmpErrorOptions = {}) {
    super('QMP_DISCONNECTED', message, options);
  }
}

/** A command got no reply within its `timeout`. Code `QMP_TIMEOUT`. */
export class QmpTimeoutError extends QmpError {
  static {
    named(QmpTimeoutError, 'QmpTimeoutError');
  }
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options: QmpErrorOptions = {}) {
    super('QMP_TIMEOUT', message, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's signal aborted the operation. Code `QMP_ABORTED`; `cause` is the signal's reason. */
export class QmpAbortError extends QmpError {
  static {
    named(QmpAbortError, 'QmpAbortError');
  }
  /** Whether the command had already been written to the socket (QEMU then still runs it). */
  readonly sent: boolean;
  constructor(message: string, sent: boolean, options: QmpErrorOptions = {}) {
    super('QMP_ABORTED', message, options);
    this.sent = sent;
  }
}

/** Stringify without ever throwing (cyclic values, BigInt). */
export function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
