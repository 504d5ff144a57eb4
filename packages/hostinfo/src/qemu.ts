import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { type HostArch, QEMU_SYSTEM_BINARIES } from './arch.js';
import { HostinfoError } from './errors.js';
import { parseQemuVersion, type QemuVersion } from './parse-qemu-version.js';

/** Directories searched after `PATH`, as distributions install QEMU (`/usr/libexec`: RHEL's qemu-kvm). */
export const QEMU_EXTRA_DIRS: readonly string[] = ['/usr/bin', '/usr/libexec', '/usr/local/bin'];

/** Default timeout for `qemu-system-* --version`, in milliseconds. */
export const DEFAULT_QEMU_VERSION_TIMEOUT_MS = 5000;

/** `PATH` directories (absolute ones only; an empty or relative entry would mean the cwd) then {@link QEMU_EXTRA_DIRS}, without repeats. */
export function defaultQemuSearchDirs(env: Record<string, string | undefined>): string[] {
  const fromPath = (env.PATH ?? '').split(':').filter((d) => d !== '' && isAbsolute(d));
  return [...new Set([...fromPath, ...QEMU_EXTRA_DIRS])];
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where a QEMU binary was found, and every path tried. */
export interface FoundQemu {
  path: string;
  searched: string[];
}

/**
 * Find the QEMU system emulator for `arch`: an explicit `path` if given (it must exist and be
 * executable), else `qemu-system-<arch>` in each of `searchDirs` in order, then on amd64 RHEL's
 * `qemu-kvm` when `/usr/libexec` is searched.
 *
 * @param options.env - supplies `PATH` for the default search. @default process.env
 * @param options.searchDirs - @default defaultQemuSearchDirs(env)
 * @throws {HostinfoError} `HOSTINFO_QEMU_NOT_FOUND` naming every path tried.
 */
export async function findQemu(options: {
  arch: HostArch;
  path?: string | undefined;
  searchDirs?: readonly string[] | undefined;
  env?: Record<string, string | undefined> | undefined;
}): Promise<FoundQemu> {
  const binary = QEMU_SYSTEM_BINARIES[options.arch];
  let candidates: string[];
  if (options.path !== undefined) {
    candidates = [options.path];
  } else {
    const dirs = options.searchDirs ?? defaultQemuSearchDirs(options.env ?? process.env);
    candidates = dirs.map((d) => join(d, binary));
    if (options.arch === 'amd64' && dirs.includes('/usr/libexec')) candidates.push('/usr/libexec/qemu-kvm');
  }
  for (const candidate of candidates) {
    if (await isExecutableFile(candidate)) return { path: candidate, searched: candidates };
  }
  const what = options.path !== undefined ? `${options.path} (explicit path)` : binary;
  const tried = candidates.length === 0 ? 'no directories to search' : `tried ${candidates.join(', ')}`;
  throw new HostinfoError('HOSTINFO_QEMU_NOT_FOUND', `no executable ${what}; ${tried}`, {
    path: candidates[0] ?? binary,
  });
}

/**
 * Run `<path> --version` (no shell, 64 KiB output cap, killed with SIGKILL on timeout or abort)
 * and parse it.
 *
 * @param options.timeoutMs - @default 5000
 * @param options.env - environment of the child (`LC_ALL=C` is added). @default process.env
 * @throws {HostinfoError} `HOSTINFO_QEMU_VERSION` (failed, timed out, unparseable; cause kept),
 * `HOSTINFO_ABORTED`.
 */
export function readQemuVersion(
  path: string,
  options: {
    timeoutMs?: number;
    signal?: AbortSignal | undefined;
    env?: Record<string, string | undefined> | undefined;
  } = {},
): Promise<QemuVersion> {
  const timeout = options.timeoutMs ?? DEFAULT_QEMU_VERSION_TIMEOUT_MS;
  const { signal } = options;
  if (signal?.aborted) {
    return Promise.reject(
      new HostinfoError('HOSTINFO_ABORTED', `${path} --version aborted`, { cause: signal.reason, path }),
    );
  }
  return new Promise((resolve, reject) => {
    execFile(
      path,
      ['--version'],
      {
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024,
        encoding: 'utf8',
        windowsHide: true,
        env: { ...(options.env ?? process.env), LC_ALL: 'C' },
        ...(signal === undefined ? {} : { signal }),
      },
      (err, stdout) => {
        if (err !== null) {
          if (signal?.aborted) {
            reject(
              new HostinfoError('HOSTINFO_ABORTED', `${path} --version aborted`, {
                cause: signal.reason,
                path,
              }),
            );
            return;
          }
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
          const why = e.killed ? `timed out after ${timeout} ms` : (e.code ?? e.signal ?? e.message);
          reject(
            new HostinfoError('HOSTINFO_QEMU_VERSION', `${path} --version failed: ${why}`, {
              cause: err,
              path,
            }),
          );
          return;
        }
        try {
          resolve(parseQemuVersion(stdout));
        } catch (parseErr) {
          reject(
            new HostinfoError('HOSTINFO_QEMU_VERSION', `${path} --version: ${(parseErr as Error).message}`, {
              cause: parseErr,
              path,
            }),
          );
        }
      },
    );
  });
}
