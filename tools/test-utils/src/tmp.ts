import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory that removes itself (recursively) when disposed. */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
  /** Join path segments onto the directory. */
  join(...segments: string[]): string;
  remove(): Promise<void>;
}

/**
 * Create a private (0700) temporary directory. Kept short (under /tmp) so unix socket paths inside it
 * stay well within the 107-byte limit.
 */
export async function makeTempDir(prefix = 'vmm-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const remove = (): Promise<void> => rm(path, { recursive: true, force: true });
  return {
    path,
    join: (...segments) => join(path, ...segments),
    remove,
    [Symbol.asyncDispose]: remove,
  };
}
