/**
 * QMP events: their shape, typed data for the events vmm relies on, and the bounded queue behind
 * event iterators. Nothing here touches a socket, so a slow consumer can never delay a reply: the
 * client pushes into queues synchronously and moves on.
 */
import { QmpError } from './errors.js';

/** `timestamp` of an event. `-1/-1` means QEMU could not read the host clock. */
export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

/**
 * Data of the events vmm's higher layers wait for (QEMU 7.2 `qapi/*.json`). Other events are
 * delivered too, with `data: Record<string, unknown> | undefined`.
 */
export interface QmpEventMap {
  SHUTDOWN: { guest: boolean; reason: string };
  POWERDOWN: undefined;
  RESET: { guest: boolean; reason: string };
  STOP: undefined;
  RESUME: undefined;
  SUSPEND: undefined;
  WAKEUP: undefined;
  DEVICE_DELETED: { device?: string; path: string };
  DEVICE_UNPLUG_GUEST_ERROR: { device?: string; path: string };
  ACPI_DEVICE_OST: {
    info: { device?: string; slot: string; 'slot-type': string; source: number; status: number };
  };
  BALLOON_CHANGE: { actual: number };
  MIGRATION: { status: string };
  MIGRATION_PASS: { pass: number };
  GUEST_PANICKED: { action: string; info?: Record<string, unknown> };
  BLOCK_JOB_COMPLETED: {
    type: string;
    device: string;
    len: number;
    offset: number;
    speed: number;
    error?: string;
  };
  JOB_STATUS_CHANGE: { id: string; status: string };
  NIC_RX_FILTER_CHANGED: { name?: string; path: string };
  VSERPORT_CHANGE: { id: string; open: boolean };
  MEMORY_DEVICE_SIZE_CHANGE: { id?: string; size: number; 'qom-path': string };
  DUMP_COMPLETED: { result: { status: string; completed: number; total: number }; error?: string };
}

/** A known event name (typed data) from {@link QmpEventMap}. */
export type QmpKnownEventName = keyof QmpEventMap;

/** One QMP event. `data` is typed for names in {@link QmpEventMap}. */
export interface QmpEvent<N extends string = string> {
  event: N;
  data: N extends QmpKnownEventName ? QmpEventMap[N] : Record<string, unknown> | undefined;
  timestamp: QmpTimestamp;
}

/** What an event iterator does when its queue is full. */
export const OVERFLOW_POLICIES = ['drop-oldest', 'drop-newest', 'error'] as const;

/**
 * `drop-oldest` (default): discard the oldest queued event; `drop-newest`: discard the incoming
 * one; `error`: the iterator throws `QMP_EVENT_OVERFLOW` on its next read and ends.
 */
export type OverflowPolicy = (typeof OVERFLOW_POLICIES)[number];

/** Options for {@link QmpClient.events}. */
export interface EventIteratorOptions {
  /** Only these event names. @default all events */
  names?: readonly string[];
  /** Queue bound. @default 1024 */
  maxQueue?: number;
  /** What to do when the queue is full. @default 'drop-oldest' */
  overflow?: OverflowPolicy;
  /** Ends the iterator (it returns `done`) when aborted. */
  signal?: AbortSignal;
  /** When the connection closes: `'end'` finishes the iterator, `'throw'` throws the close cause. @default 'end' */
  onClose?: 'end' | 'throw';
}

/**
 * A bounded FIFO of events consumed as an async iterator. `push` never blocks and never throws.
 * @internal exported for the client and tests
 */
export class EventQueue implements AsyncIterableIterator<QmpEvent> {
  readonly #max: number;
  readonly #policy: OverflowPolicy;
  readonly #names: ReadonlySet<string> | undefined;
  readonly #onDone: () => void;
  /** What happens when the connection closes (from {@link EventIteratorOptions.onClose}). */
  readonly closeMode: 'end' | 'throw';
  #buf: QmpEvent[] = [];
  #head = 0;
  #waiter: { resolve: (r: IteratorResult<QmpEvent>) => void; reject: (e: unknown) => void } | undefined;
  #ended = false;
  #error: unknown;
  /** Events discarded because the queue was full. */
  dropped = 0;

  constructor(options: EventIteratorOptions, onDone: () => void) {
    this.#max = Math.max(1, options.maxQueue ?? 1024);
    this.#policy = options.overflow ?? 'drop-oldest';
    this.#names = options.names === undefined ? undefined : new Set(options.names);
    this.#onDone = onDone;
    this.closeMode = options.onClose ?? 'end';
  }

  /** Events waiting to be read. */
  get size(): number {
    return this.#buf.length - this.#head;
  }

  /** Deliver an event (ignored if filtered out or the iterator ended). */
  push(ev: QmpEvent): void {
    if (this.#ended || (this.#names !== undefined && !this.#names.has(ev.event))) return;
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w.resolve({ value: ev, done: false });
      return;
    }
    if (this.size >= this.#max) {
      this.dropped++;
      if (this.#policy === 'drop-newest') return;
      if (this.#policy === 'error') {
        this.fail(new QmpError('QMP_EVENT_OVERFLOW', `event queue overflowed (${this.#max} events queued)`));
        return;
      }
      this.#head++;
    }
    this.#buf.push(ev);
    if (this.#head > 1024 && this.#head * 2 > this.#buf.length) {
      this.#buf = this.#buf.slice(this.#head);
      this.#head = 0;
    }
  }

  /** End the iterator after the queued events are read. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onDone();
    const w = this.#waiter;
    if (w !== undefined && this.size === 0) {
      this.#waiter = undefined;
      if (this.#error !== undefined) w.reject(this.#error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  /** End the iterator with an error (thrown once the queued events are read). */
  fail(err: unknown): void {
    if (this.#ended) return;
    this.#error = err;
    this.end();
  }

  next(): Promise<IteratorResult<QmpEvent>> {
    if (this.size > 0) {
      const ev = this.#buf[this.#head]!;
      this.#buf[this.#head] = undefined as unknown as QmpEvent;
      this.#head++;
      if (this.#head === this.#buf.length) {
        this.#buf = [];
        this.#head = 0;
      }
      return Promise.resolve({ value: ev, done: false });
    }
    if (this.#ended) {
      if (this.#error !== undefined) {
        const err = this.#error;
        this.#error = undefined;
        return Promise.reject(err);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#waiter !== undefined) {
      return Promise.reject(new TypeError('next() called again before the previous call settled'));
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<QmpEvent>> {
    this.#buf = [];
    this.#head = 0;
    this.#error = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
