import { type GuestEvent, parseGuestLine } from './markers.js';

/** One console line from {@link createGuestConsoleParser}. */
export interface GuestConsoleLine {
  /** The line without its ending (`\n`, `\r\n`, stray `\r`s at the end). */
  line: string;
  /** The guest marker on it, if any (see `parseGuestLine`). */
  event: GuestEvent | undefined;
  /** The line was longer than `maxLineLength`: `line` holds its start, the rest was dropped. */
  truncated: boolean;
}

/** Options for {@link createGuestConsoleParser}. */
export interface GuestConsoleParserOptions {
  /** Longest line kept, in characters; longer lines are cut (memory stays bounded). @default 4096 */
  maxLineLength?: number;
}

/** Incremental console reader: feed chunks as they arrive, get whole lines back. */
export interface GuestConsoleParser {
  /** Add a chunk (bytes are decoded as UTF-8, split multi-byte characters included). Returns the lines it completed. */
  push(chunk: string | Uint8Array): GuestConsoleLine[];
  /** End of stream: returns the last, unterminated line if there is one. */
  flush(): GuestConsoleLine[];
}

/**
 * A pure, incremental splitter for the guest's console stream (serial pipe, file or socket) that
 * parses each complete line with `parseGuestLine`. Chunks may split lines and UTF-8 characters
 * anywhere; memory is bounded by `maxLineLength`.
 *
 * @example
 * const parser = createGuestConsoleParser();
 * qemu.stdout.on('data', (chunk) => { for (const { event } of parser.push(chunk)) if (event) handle(event); });
 */
export function createGuestConsoleParser(options: GuestConsoleParserOptions = {}): GuestConsoleParser {
  const max = options.maxLineLength ?? 4096;
  if (!Number.isInteger(max) || max < 1)
    throw new RangeError(`maxLineLength: ${max} is not a positive integer`);
  const decoder = new TextDecoder('utf-8');
  let partial = '';
  let dropping = false;
  const finish = (raw: string, truncated: boolean): GuestConsoleLine => {
    const line = raw.replace(/\r+$/, '');
    return { line, event: truncated ? undefined : parseGuestLine(line), truncated };
  };
  return {
    push(chunk) {
      const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      const out: GuestConsoleLine[] = [];
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        if (dropping) dropping = false;
        else out.push(finish(partial + text.slice(start, nl), false));
        partial = '';
        start = nl + 1;
      }
      if (!dropping) {
        partial += text.slice(start);
        if (partial.length > max) {
          out.push(finish(partial.slice(0, max), true));
          partial = '';
          dropping = true;
        }
      }
      return out;
    },
    flush() {
      const rest = partial + decoder.decode();
      partial = '';
      const wasDropping = dropping;
      dropping = false;
      return rest === '' || wasDropping ? [] : [finish(rest, false)];
    },
  };
}
