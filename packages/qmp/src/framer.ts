/**
 * The QMP framer: bytes in, JSON objects out. Pure (no socket, no timers).
 *
 * It tracks brace depth outside strings, byte by byte, so it frames QEMU's compact output (one
 * object per CRLF-terminated line) and `pretty=on` output (objects spanning lines) alike, and an
 * escaped quote, brace or `\r\n` inside a string never ends a frame. JSON's structural characters are
 * all ASCII and UTF-8 continuation bytes are >= 0x80, so scanning raw bytes is exact; a frame is
 * decoded only once complete, so a chunk boundary inside a UTF-8 sequence or a `\uXXXX` escape is
 * harmless. Each byte is scanned once and a frame split over chunks is concatenated once (O(n)).
 */

/** Options for {@link QmpFramer}. */
export interface FramerOptions {
  /**
   * Largest message accepted, in bytes. A frame that grows past it is reported once as
   * `too-large` and the framer then discards all further input (the stream cannot be trusted).
   * @default 16 MiB
   */
  maxMessageBytes?: number;
}

/** One result of {@link QmpFramer.push}: a parsed object, or a framing error with the raw text. */
export type FrameResult =
  | { readonly kind: 'message'; readonly value: Record<string, unknown>; readonly bytes: number }
  | {
      readonly kind: 'error';
      /** `malformed`: not valid JSON; `not-object`: valid JSON but not an object, or stray text; `too-large`: over the cap. */
      readonly reason: 'malformed' | 'not-object' | 'too-large';
      readonly message: string;
      /** The offending text (truncated to 4 KiB for `too-large`). */
      readonly raw: string;
    };

/** Default {@link FramerOptions.maxMessageBytes}: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES: number = 16 * 1024 * 1024;

const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * Incremental, string-aware framer for QMP server output. Feed it chunks with {@link push}; each call
 * returns the frames completed by that chunk, in wire order.
 */
export class QmpFramer {
  readonly #max: number;
  /** Pieces of the frame in progress (only when a frame spans chunks). */
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  /** 0: between frames; 1: inside an object frame; 2: inside stray (non-object) text until LF. */
  #mode = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;
  #prev = LF;
  #poisoned = false;

  constructor(options: FramerOptions = {}) {
    this.#max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes buffered for the frame in progress. */
  get pendingBytes(): number {
    return this.#partBytes;
  }

  /** True once a `too-large` error was reported: all later input is discarded. */
  get poisoned(): boolean {
    return this.#poisoned;
  }

  /** Feed a chunk; returns the frames (and framing errors) it completed, in order. */
  push(chunk: Uint8Array): FrameResult[] {
    const out: FrameResult[] = [];
    if (this.#poisoned) return out;
    const n = chunk.length;
    let start = 0; // start of the current frame within this chunk
    let i = 0;
    let mode = this.#mode;
    let depth = this.#depth;
    let inString = this.#inString;
    let escaped = this.#escaped;
    let prev = this.#prev;
    const max = this.#max;
    while (i < n) {
      const b = chunk[i]!;
      if (mode === 0) {
        if (b === SPACE || b === LF || b === CR || b === TAB) {
          prev = b;
          i++;
          continue;
        }
        start = i;
        if (b === LBRACE) {
          mode = 1;
          depth = 1;
          inString = false;
          escaped = false;
        } else {
          mode = 2;
        }
        prev = b;
        i++;
        continue;
      }
      if (mode === 2) {
        // Stray text (a non-object value, an HMP banner, trailing garbage): report it up to the LF.
        if (b === LF) {
          out.push(this.#stray(chunk, start, i));
          mode = 0;
        }
        prev = b;
        i++;
        if (mode === 2 && this.#partBytes + (i - start) > max) {
          out.push(this.#tooLarge(chunk, start, i));
          return out;
        }
        continue;
      }
      // mode 1: inside an object
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
      } else if (b === QUOTE) {
        inString = true;
      } else if (b === LBRACE || b === LBRACKET) {
        if (b === LBRACE && prev === LF && depth > 0) {
          // A `{` at the start of a line inside an unfinished object: QEMU (compact or pretty) only
          // ever starts a top-level object in column 0, so the previous frame was truncated.
          out.push(this.#truncated(chunk, start, i));
          start = i;
          depth = 1;
          prev = b;
          i++;
          continue;
        }
        depth++;
      } else if (b === RBRACE || b === RBRACKET) {
        depth--;
        if (depth === 0) {
          out.push(this.#complete(chunk, start, i + 1));
          mode = 0;
        }
      }
      prev = b;
      i++;
      if (mode === 1 && this.#partBytes + (i - start) > max) {
        out.push(this.#tooLarge(chunk, start, i));
        return out;
      }
    }
    if (mode !== 0) {
      const piece = chunk.subarray(start, n);
      if (piece.length > 0) {
        // Copy: the caller may reuse its buffer.
        this.#parts.push(Uint8Array.prototype.slice.call(piece));
        this.#partBytes += piece.length;
      }
    }
    this.#mode = mode;
    this.#depth = depth;
    this.#inString = inString;
    this.#escaped = escaped;
    this.#prev = prev;
    return out;
  }

  /** Forget any partial frame (e.g. after a reconnect). */
  reset(): void {
    this.#parts = [];
    this.#partBytes = 0;
    this.#mode = 0;
    this.#depth = 0;
    this.#inString = false;
    this.#escaped = false;
    this.#prev = LF;
    this.#poisoned = false;
  }

  #take(chunk: Uint8Array, start: number, end: number): string {
    if (this.#partBytes === 0) return decode(chunk, start, end);
    const parts = this.#parts;
    parts.push(chunk.subarray(start, end));
    const total = this.#partBytes + (end - start);
    const joined = Buffer.concat(parts, total);
    this.#parts = [];
    this.#partBytes = 0;
    return joined.toString('utf8');
  }

  #complete(chunk: Uint8Array, start: number, end: number): FrameResult {
    const bytes = this.#partBytes + (end - start);
    const text = this.#take(chunk, start, end);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return {
        kind: 'error',
        reason: 'malformed',
        message: `malformed JSON: ${(err as Error).message}`,
        raw: text,
      };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { kind: 'error', reason: 'not-object', message: 'QMP message is not a JSON object', raw: text };
    }
    return { kind: 'message', value: value as Record<string, unknown>, bytes };
  }

  #truncated(chunk: Uint8Array, start: number, end: number): FrameResult {
    const text = this.#take(chunk, start, end);
    return {
      kind: 'error',
      reason: 'malformed',
      message: 'truncated JSON object (a new object began before it closed)',
      raw: text,
    };
  }

  #stray(chunk: Uint8Array, start: number, end: number): FrameResult {
    const text = this.#take(chunk, start, end).replace(/\r$/, '');
    let message = 'QMP message is not a JSON object';
    try {
      JSON.parse(text);
    } catch {
      message = 'unexpected text between QMP messages';
    }
    return { kind: 'error', reason: 'not-object', message, raw: text };
  }

  #tooLarge(chunk: Uint8Array, start: number, end: number): FrameResult {
    const head = this.#parts.length > 0 ? this.#parts[0]! : chunk.subarray(start, end);
    const raw = decode(head, 0, Math.min(head.length, 4096));
    const size = this.#partBytes + (end - start);
    this.#parts = [];
    this.#partBytes = 0;
    this.#poisoned = true;
    return {
      kind: 'error',
      reason: 'too-large',
      message: `QMP message exceeds maxMessageBytes (${this.#max} bytes; ${size} read so far)`,
      raw,
    };
  }
}

function decode(bytes: Uint8Array, start: number, end: number): string {
  if (Buffer.isBuffer(bytes)) return bytes.toString('utf8', start, end);
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
}
