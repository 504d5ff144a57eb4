import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { HostinfoError } from './errors.js';

/**
 * Default cap on bytes read from one file: 16 MiB. /proc/cpuinfo is about 1.5 KiB per logical CPU
 * on x86, so this covers 8192 CPUs (the x86 kernel's NR_CPUS maximum) with room to spare.
 */
export const DEFAULT_MAX_FILE_BYTES: number = 16 * 1024 * 1024;

const CHUNK = 64 * 1024;
const decoder = new TextDecoder('utf-8', { fatal: false });

/** A bounded read: the text (cut back to the last complete line when capped) and whether it was capped. */
export interface BoundedText {
  text: string;
  truncated: boolean;
}

function abortError(signal: AbortSignal, path: string): HostinfoError {
  return new HostinfoError('HOSTINFO_ABORTED', `reading ${path} was aborted`, { cause: signal.reason, path });
}

/**
 * Read at most `maxBytes` of a file, in 64 KiB chunks until EOF (procfs files report size 0, so
 * the size cannot be trusted). Opened `O_NONBLOCK`, so a FIFO in a fixture tree fails instead of
 * hanging. Invalid UTF-8 decodes to U+FFFD, which the parsers skip.
 *
 * @throws {HostinfoError} `HOSTINFO_FILE_UNREADABLE` (cause kept), `HOSTINFO_ABORTED`.
 */
export async function readBounded(
  path: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<BoundedText> {
  if (signal?.aborted) throw abortError(signal, path);
  const chunks: Buffer[] = [];
  let total = 0;
  let truncated = false;
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    for (;;) {
      if (signal?.aborted) throw abortError(signal, path);
      const want = Math.min(CHUNK, maxBytes - total + 1);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) {
        truncated = true;
        break;
      }
    }
  } catch (err) {
    if (HostinfoError.is(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new HostinfoError('HOSTINFO_FILE_UNREADABLE', `cannot read ${path}: ${code}`, { cause: err, path });
  } finally {
    await fh?.close();
  }
  let bytes = Buffer.concat(chunks, total);
  if (truncated) {
    bytes = bytes.subarray(0, maxBytes);
    const nl = bytes.lastIndexOf(0x0a);
    bytes = bytes.subarray(0, nl + 1);
  }
  return { text: decoder.decode(bytes), truncated };
}

/** `true` when `err` is a HOSTINFO_FILE_UNREADABLE caused by a missing file or path component. */
export function isMissing(err: unknown): boolean {
  if (!HostinfoError.is(err) || err.code !== 'HOSTINFO_FILE_UNREADABLE') return false;
  const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
