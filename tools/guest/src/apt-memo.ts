/**
 * Remembers the last apt resolution next to the cache, keyed on the apt state it came from (the
 * lists, sources, preferences, apt config and dpkg status: names, sizes, mtimes). apt-cache costs
 * ~0.7 s per call where apt keeps no pkgcache.bin (Debian's Docker images), which would dominate a
 * warm {@link ensureGuest}; a stat of those files costs about a millisecond. Any `apt-get update`,
 * install or source change alters the key, and the next call asks apt-cache again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ResolvedPackages } from './apt.js';
import { debPackageSchema } from './manifest.js';

/** Files and directories whose change may change what apt-cache answers. */
export const APT_STATE_PATHS: readonly string[] = [
  '/var/lib/apt/lists',
  '/etc/apt/sources.list',
  '/etc/apt/sources.list.d',
  '/etc/apt/preferences',
  '/etc/apt/preferences.d',
  '/etc/apt/apt.conf',
  '/etc/apt/apt.conf.d',
  '/var/lib/dpkg/status',
];

const memoSchema = z.object({
  aptState: z.string(),
  kernel: debPackageSchema,
  busybox: debPackageSchema,
  release: z.string(),
});

/** Key of the current apt state: sha256 over (path, size, mtime) of {@link APT_STATE_PATHS} and their entries. */
export async function aptStateKey(paths: readonly string[] = APT_STATE_PATHS): Promise<string> {
  const hash = createHash('sha256');
  const add = async (path: string): Promise<boolean> => {
    try {
      const s = await stat(path);
      hash.update(`${path}\0${s.size}\0${s.mtimeMs}\0`);
      return s.isDirectory();
    } catch {
      hash.update(`${path}\0-\0`);
      return false;
    }
  };
  for (const p of paths) {
    if (!(await add(p))) continue;
    const entries = await readdir(p).catch(() => [] as string[]);
    for (const e of entries.sort()) await add(join(p, e));
  }
  return hash.digest('hex');
}

/** The remembered resolution, if its apt state key still matches. */
export async function readAptMemo(file: string, aptState: string): Promise<ResolvedPackages | undefined> {
  try {
    const memo = memoSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!memo.success || memo.data.aptState !== aptState) return undefined;
    return { kernel: memo.data.kernel, busybox: memo.data.busybox, release: memo.data.release };
  } catch {
    return undefined;
  }
}

/** Remember a resolution (atomically; a failure to write only costs the next call an apt-cache run). */
export async function writeAptMemo(
  file: string,
  aptState: string,
  resolved: ResolvedPackages,
): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, JSON.stringify({ aptState, ...resolved }));
    await rename(tmp, file);
  } catch {
    // best effort
  }
}
