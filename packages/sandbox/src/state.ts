/**
 * The state store: one directory per sandbox under the state directory (0700), one `state.json`
 * (0600) written atomically (temp file + fsync + rename + directory fsync), schema-versioned and
 * validated on every read.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { zodIssues } from './config.js';
import { SandboxError } from './errors.js';
import { SANDBOX_ID_PATTERN } from './paths.js';

/** Current version of the state file schema. Files of any other version are refused. */
export const STATE_SCHEMA_VERSION = 1;

/** Hypervisor types (Kata `HypervisorType`, those vmm implements). */
export const HYPERVISOR_TYPES = ['qemu', 'acrn', 'mock'] as const;
/** One of {@link HYPERVISOR_TYPES}. */
export type HypervisorType = (typeof HYPERVISOR_TYPES)[number];

/** Lifecycle states of a sandbox. */
export const SANDBOX_STATUSES = ['created', 'running', 'paused', 'stopped'] as const;
/** One of {@link SANDBOX_STATUSES}. */
export type SandboxStatus = (typeof SANDBOX_STATUSES)[number];

/** What is persisted for one sandbox. */
export const sandboxStateSchema = z.strictObject({
  /** Schema version, {@link STATE_SCHEMA_VERSION}. */
  version: z.literal(STATE_SCHEMA_VERSION),
  id: z.string().regex(SANDBOX_ID_PATTERN),
  hypervisorType: z.enum(HYPERVISOR_TYPES),
  /** ISO-8601 creation time. */
  createdAt: z.iso.datetime(),
  status: z.enum(SANDBOX_STATUSES),
  /** The validated hypervisor config (re-validated when attaching). */
  config: z.record(z.string(), z.unknown()),
  /** Hypervisor process id while it runs. */
  pid: z.number().int().positive().nullable(),
  /** `/proc/<pid>/stat` start time of that process, to tell it from a reused pid. */
  pidStartTime: z.string().regex(/^\d+$/).nullable(),
  /** Paths of the QMP and console sockets, the console log and QEMU's stderr. */
  paths: z.strictObject({
    runDir: z.string().min(1),
    socketDir: z.string().min(1),
    qmp: z.string().min(1),
    console: z.string().min(1),
    consoleLog: z.string().min(1),
    stderr: z.string().min(1),
  }),
  /** Hypervisor-specific state (bridges, hotplugged devices, ...), validated by the hypervisor. */
  hypervisor: z.record(z.string(), z.unknown()),
});

/** A sandbox's persisted state. */
export type SandboxState = z.infer<typeof sandboxStateSchema>;

function ioError(what: string, path: string, err: unknown): SandboxError {
  return new SandboxError('SANDBOX_STATE_IO', `${what} ${path}: ${(err as Error).message}`, { cause: err });
}

/** Create a directory (and parents) with mode 0700, and fix the mode if it already existed. */
export async function ensurePrivateDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
    await chmod(path, 0o700);
  } catch (err) {
    throw ioError('cannot create directory', path, err);
  }
}

/**
 * Write `data` as JSON to `path` atomically: a temp file in the same directory (0600), fsync, rename
 * over the target, fsync the directory. Readers see the old file or the new one, never a torn one.
 *
 * @throws {SandboxError} `SANDBOX_STATE_IO`.
 */
export async function writeJsonAtomic(path: string, data: unknown): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const text = `${JSON.stringify(data, null, 2)}\n`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ioError('cannot write', path, err);
  }
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Directory fsync is best effort (some file systems refuse it); the rename already happened.
  }
}

/**
 * Read and validate a state file.
 *
 * @throws {SandboxError} `SANDBOX_NOT_FOUND` when it does not exist, `SANDBOX_STATE_INVALID` when it
 *   is not JSON, has another schema version, or fails validation (the field is named),
 *   `SANDBOX_STATE_IO` for other read errors.
 */
export async function readStateFile(path: string, id?: string): Promise<SandboxState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SandboxError('SANDBOX_NOT_FOUND', `no sandbox ${id ?? ''} (no ${path})`.replace('  ', ' '), {
        cause: err,
        ...(id === undefined ? {} : { sandboxId: id }),
      });
    }
    throw ioError('cannot read', path, err);
  }
  return parseState(text, path);
}

/**
 * Parse and validate state file contents.
 * @throws {SandboxError} `SANDBOX_STATE_INVALID` naming the field.
 */
export function parseState(text: string, source = 'state'): SandboxState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SandboxError('SANDBOX_STATE_INVALID', `${source}: not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== STATE_SCHEMA_VERSION) {
    throw new SandboxError(
      'SANDBOX_STATE_INVALID',
      `${source}: state schema version ${JSON.stringify(version)} is not supported (expected ${STATE_SCHEMA_VERSION})`,
      { path: 'version' },
    );
  }
  const r = sandboxStateSchema.safeParse(json);
  if (!r.success) {
    const first = zodIssues(r.error)[0] ?? { path: '', message: 'invalid' };
    throw new SandboxError('SANDBOX_STATE_INVALID', `${source}: ${first.path}: ${first.message}`, {
      path: first.path,
      cause: r.error,
    });
  }
  return r.data;
}

/** Options of {@link StateStore}. */
export interface StateStoreOptions {
  /** The state directory. */
  stateDir: string;
}

/** Reads and writes sandbox state under one state directory. */
export class StateStore {
  /** The state directory. */
  readonly stateDir: string;

  constructor(options: StateStoreOptions) {
    this.stateDir = options.stateDir;
  }

  /** Path of a sandbox's state file. */
  statePath(id: string): string {
    return join(this.stateDir, id, 'state.json');
  }

  /**
   * Create the run directory of a new sandbox (0700).
   * @throws {SandboxError} `SANDBOX_EXISTS` when it already exists, `SANDBOX_STATE_IO`.
   */
  async createSandboxDir(id: string): Promise<string> {
    await ensurePrivateDir(this.stateDir);
    const dir = join(this.stateDir, id);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new SandboxError('SANDBOX_EXISTS', `sandbox ${id} already exists (${dir})`, {
          sandboxId: id,
          cause: err,
        });
      }
      throw ioError('cannot create', dir, err);
    }
    return dir;
  }

  /**
   * Create a sandbox's directory and its first state in one step: the state is written into a
   * private temp directory that is then renamed to `<stateDir>/<id>`, so a crash never leaves a
   * sandbox directory without a state file. A directory of that id without a state file is debris of
   * an interrupted removal and is cleared first.
   * @throws {SandboxError} `SANDBOX_EXISTS`, `SANDBOX_STATE_INVALID`, `SANDBOX_STATE_IO`.
   */
  async createWithState(state: SandboxState): Promise<void> {
    const valid = parseState(JSON.stringify(state), 'new state');
    await ensurePrivateDir(this.stateDir);
    // Temp directories of an earlier create of this id that crashed before its rename.
    for (const e of await readdir(this.stateDir).catch(() => [] as string[])) {
      if (e.startsWith(`.${valid.id}.`) && e.endsWith('.new')) {
        await rm(join(this.stateDir, e), { recursive: true, force: true }).catch(() => undefined);
      }
    }
    const dir = join(this.stateDir, valid.id);
    const tmp = join(this.stateDir, `.${valid.id}.${randomBytes(6).toString('hex')}.new`);
    try {
      await mkdir(tmp, { mode: 0o700 });
    } catch (err) {
      throw ioError('cannot create', tmp, err);
    }
    try {
      await writeJsonAtomic(join(tmp, 'state.json'), valid);
      const debris = await stat(dir).then(
        () =>
          stat(this.statePath(valid.id)).then(
            () => false,
            () => true,
          ),
        () => false,
      );
      if (debris) await rm(dir, { recursive: true, force: true });
      try {
        await rename(tmp, dir);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') {
          throw new SandboxError('SANDBOX_EXISTS', `sandbox ${valid.id} already exists (${dir})`, {
            sandboxId: valid.id,
            cause: err,
          });
        }
        throw ioError('cannot create', dir, err);
      }
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Write a sandbox's state atomically (validated first). @throws {SandboxError} `SANDBOX_STATE_INVALID`, `SANDBOX_STATE_IO` */
  async write(state: SandboxState): Promise<void> {
    const r = sandboxStateSchema.safeParse(state);
    if (!r.success) {
      const first = zodIssues(r.error)[0] ?? { path: '', message: 'invalid' };
      throw new SandboxError(
        'SANDBOX_STATE_INVALID',
        `refusing to write state: ${first.path}: ${first.message}`,
        {
          path: first.path,
          cause: r.error,
        },
      );
    }
    await writeJsonAtomic(this.statePath(state.id), r.data);
  }

  /**
   * Read a sandbox's state. A sandbox directory that is a symbolic link is refused: state is only
   * ever read from inside the state directory.
   * @throws {SandboxError} as {@link readStateFile}, and `SANDBOX_STATE_INVALID` for a symlink.
   */
  async read(id: string): Promise<SandboxState> {
    const dir = join(this.stateDir, id);
    if (
      await lstat(dir).then(
        (st) => st.isSymbolicLink(),
        () => false,
      )
    ) {
      throw new SandboxError('SANDBOX_STATE_INVALID', `${dir} is a symbolic link, not a sandbox directory`, {
        sandboxId: id,
        path: 'id',
      });
    }
    return readStateFile(this.statePath(id), id);
  }

  /** Ids of the sandboxes in the state directory (directories holding a state file), sorted. */
  async list(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.stateDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw ioError('cannot list', this.stateDir, err);
    }
    const ids: string[] = [];
    for (const e of entries) {
      if (!SANDBOX_ID_PATTERN.test(e)) continue;
      try {
        if ((await lstat(join(this.stateDir, e))).isSymbolicLink()) continue;
        if ((await stat(this.statePath(e))).isFile()) ids.push(e);
      } catch {
        // no state file (being created or removed)
      }
    }
    return ids.sort();
  }

  /** Remove a sandbox's directory (idempotent). @throws {SandboxError} `SANDBOX_STATE_IO` */
  async remove(id: string): Promise<void> {
    const dir = join(this.stateDir, id);
    try {
      await rm(dir, { recursive: true, force: true });
    } catch (err) {
      throw ioError('cannot remove', dir, err);
    }
  }
}
