/**
 * Loading of the optional `@vmm/fdpass` addon. Imported lazily, on the first fd-passing call, so
 * a missing or unbuilt addon affects nothing else.
 */
import type { Socket } from 'node:net';
import { QmpError } from './errors.js';

/** What the client needs from `@vmm/fdpass`. */
export interface FdPasser {
  writeWithFds(
    socket: Socket,
    data: Buffer,
    fds: readonly number[],
    options?: { signal?: AbortSignal },
  ): Promise<void>;
  dupFd(fd: number): number;
  closeFd(fd: number): void;
}

let loading: Promise<FdPasser> | undefined;

/**
 * Load `@vmm/fdpass` (once).
 * @throws {QmpError} `QMP_FD_PASSING_UNAVAILABLE` when the package is not installed or its addon is
 *   not built; `cause` holds the loader's error.
 */
export function loadFdPasser(): Promise<FdPasser> {
  loading ??= (async () => {
    try {
      const mod = (await import('@vmm/fdpass')) as FdPasser & { loadNative(): unknown };
      mod.loadNative();
      return mod;
    } catch (cause) {
      throw new QmpError(
        'QMP_FD_PASSING_UNAVAILABLE',
        'fd passing needs the optional @vmm/fdpass native addon, which is not available (install it and run its build)',
        { cause },
      );
    }
  })();
  return loading;
}
