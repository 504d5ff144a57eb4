import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AcrnError, abortError, parseWith } from './errors.js';
import { pause, processExists } from './process.js';
import { plainString, uuidSchema } from './schema.js';

/**
 * The UUIDs ACRN accepts for Kata VMs, in Kata's order (acrn.go `acrnIdxToUUIDs`). ACRN derives
 * each VM's virtual seed from its UUID and only allows these pre-defined ones.
 */
export const ACRN_UUIDS: readonly string[] = Object.freeze([
  'a7ada506-1ab0-4b6b-a0da-e513ca9b8c2f',
  'dbeae168-26e4-4084-9227-622193e56325',
  '18ed60cd-e9ea-4bf4-8f87-8523fc8347a3',
  '3f90b6f8-449a-4e72-b99c-063a889fc422',
  '1ae8587b-e599-4b59-8260-6d14ac166a55',
  '75f3b94b-49ed-48fc-b019-577ef45adf2b',
  'ca62cf3c-8359-47e8-a3f7-de2d682dfb02',
  'e3189497-c3f6-4b97-9e2c-18ac0ab9064d',
]);

/** File names inside the pool's state directory. */
export const ACRN_UUID_STATE_FILE = 'acrn-uuids.json';
/** The cross-process lock file inside the pool's state directory. */
export const ACRN_UUID_LOCK_FILE = 'acrn-uuids.lock';

const poolOptionsSchema = z
  .strictObject({
    stateDir: plainString,
    uuids: z
      .array(uuidSchema)
      .min(1)
      .default([...ACRN_UUIDS]),
    maxVms: z.int().min(1).optional(),
    lockTimeoutMs: z.int().min(1).default(10_000),
    staleLockMs: z.int().min(1).default(30_000),
  })
  .superRefine((o, ctx) => {
    if (new Set(o.uuids.map((u) => u.toLowerCase())).size !== o.uuids.length) {
      ctx.addIssue({ code: 'custom', path: ['uuids'], message: 'must not repeat a UUID' });
    }
    if (o.maxVms !== undefined && o.maxVms > o.uuids.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxVms'],
        message: `must be at most ${o.uuids.length}, the number of UUIDs`,
      });
    }
  });

/** Options of {@link AcrnUuidPool}. */
export interface AcrnUuidPoolOptions {
  /** Directory for the lease file and the lock file (created 0700; files 0600). */
  stateDir: string;
  /** The UUIDs to hand out. @default ACRN_UUIDS */
  uuids?: readonly string[];
  /** Use only the first `maxVms` UUIDs (Kata asks the hypervisor for this number). @default uuids.length */
  maxVms?: number;
  /** Give up waiting for the lock after this long (`ACRN_TIMEOUT`). @default 10000 */
  lockTimeoutMs?: number;
  /** A lock file older than this is stale even if its pid is alive (pid reuse). @default 30000 */
  staleLockMs?: number;
}

/** One lease as stored. */
export interface AcrnUuidLeaseInfo {
  /** The leased UUID. */
  uuid: string;
  /** Unique id of this lease (a later lease of the same UUID has another). */
  id: string;
  /** Who holds it (e.g. the sandbox id). */
  owner: string;
  /** The process that keeps it alive; the lease is reclaimed once that process is gone. */
  pid: number;
  /** When it was leased (ISO 8601). */
  acquiredAt: string;
}

/** A UUID leased from an {@link AcrnUuidPool}. `await using` releases it. */
export interface AcrnUuidLease extends AsyncDisposable {
  /** The UUID, for acrn-dm's `-U`. */
  readonly uuid: string;
  /** Who holds it. */
  readonly owner: string;
  /**
   * Tie the lease to another process, normally acrn-dm's pid once launched, so the UUID stays
   * taken while the VM runs and is reclaimed when it is gone.
   * @throws {AcrnError} `ACRN_LEASE_LOST` (released, or reclaimed because its process died),
   * `ACRN_INVALID_PID`, `ACRN_TIMEOUT`, `ACRN_IO`, `ACRN_STATE_CORRUPT`, `ACRN_ABORTED`.
   */
  setPid(pid: number, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Give the UUID back (idempotent). Never frees a later lease of the same UUID.
   * @throws {AcrnError} `ACRN_TIMEOUT`, `ACRN_IO`, `ACRN_STATE_CORRUPT`, `ACRN_ABORTED`.
   */
  release(options?: { signal?: AbortSignal }): Promise<void>;
}

/** Options of {@link AcrnUuidPool.acquire}. */
export interface AcquireUuidOptions {
  /** Cancels waiting for the lock (`ACRN_ABORTED`). */
  signal?: AbortSignal;
  /** The process that keeps the lease alive. @default process.pid */
  pid?: number;
}

const leaseSchema = z.strictObject({
  id: z.string(),
  owner: z.string(),
  pid: z.int(),
  acquiredAt: z.string(),
});
const stateSchema = z.strictObject({
  version: z.literal(1),
  leases: z.record(z.string(), leaseSchema),
});
type State = z.output<typeof stateSchema>;

const lockSchema = z.strictObject({ pid: z.int(), nonce: z.string(), createdAt: z.number() });
type LockInfo = z.output<typeof lockSchema>;

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1) return false;
  if (pid === process.pid) return true;
  return processExists(pid);
}

function ioError(what: string, error: unknown): AcrnError {
  if (AcrnError.is(error)) return error;
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new AcrnError('ACRN_IO', `${what}: ${code}`, { cause: error });
}

/**
 * Hands out ACRN's fixed UUIDs so that no two VMs ever share one. Leases live in
 * `<stateDir>/acrn-uuids.json` and every read-modify-write of it happens under two locks: an
 * in-process queue (calls on this instance run one at a time) and a lock file
 * (`<stateDir>/acrn-uuids.lock`, created atomically) that serialises processes and pool
 * instances. A lock file whose pid is gone, or older than `staleLockMs`, is broken. Leases whose
 * process is gone are reclaimed. Kata read and wrote its `uuid.json` with no lock at all.
 */
export class AcrnUuidPool {
  readonly #o: z.output<typeof poolOptionsSchema>;
  readonly #statePath: string;
  readonly #lockPath: string;
  #queue: Promise<void> = Promise.resolve();

  /** @throws {AcrnError} `ACRN_INVALID_CONFIG` for invalid options. */
  constructor(options: AcrnUuidPoolOptions) {
    this.#o = parseWith(poolOptionsSchema, options, 'uuidPool');
    this.#statePath = join(this.#o.stateDir, ACRN_UUID_STATE_FILE);
    this.#lockPath = join(this.#o.stateDir, ACRN_UUID_LOCK_FILE);
  }

  /** The UUIDs this pool hands out, in order. */
  get uuids(): readonly string[] {
    return this.#o.uuids.slice(0, this.#o.maxVms ?? this.#o.uuids.length);
  }

  /**
   * Lease the first free UUID for `owner`.
   * @throws {AcrnError} `ACRN_UUID_EXHAUSTED`, `ACRN_TIMEOUT` (lock), `ACRN_ABORTED`, `ACRN_IO`,
   * `ACRN_STATE_CORRUPT`, `ACRN_INVALID_CONFIG`, `ACRN_INVALID_PID`.
   */
  async acquire(owner: string, options: AcquireUuidOptions = {}): Promise<AcrnUuidLease> {
    parseWith(z.string().min(1), owner, 'owner');
    const pid = options.pid ?? process.pid;
    if (pid !== process.pid) checkPid(pid);
    const leased = await this.#update(options.signal, (state) => {
      const free = this.uuids.find((u) => state.leases[u] === undefined);
      if (free === undefined) {
        const holders = Object.entries(state.leases)
          .map(([u, l]) => `${u} (${l.owner}, pid ${l.pid})`)
          .join(', ');
        throw new AcrnError(
          'ACRN_UUID_EXHAUSTED',
          `all ${this.uuids.length} ACRN UUIDs are leased to live VMs: ${holders}`,
        );
      }
      const id = randomUUID();
      state.leases[free] = { id, owner, pid, acquiredAt: new Date().toISOString() };
      return { uuid: free, id };
    });
    return this.#lease(leased.uuid, leased.id, owner);
  }

  /**
   * Give back `uuid` whoever holds it (an administrative release; a lease's own `release()` only
   * ever frees that lease). Returns whether it was leased.
   * @throws {AcrnError} `ACRN_TIMEOUT`, `ACRN_ABORTED`, `ACRN_IO`, `ACRN_STATE_CORRUPT`.
   */
  async release(uuid: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.#update(options.signal, (state) => {
      const had = state.leases[uuid] !== undefined;
      delete state.leases[uuid];
      return had;
    });
  }

  /**
   * Current leases (after reclaiming those whose process is gone).
   * @throws {AcrnError} `ACRN_TIMEOUT`, `ACRN_ABORTED`, `ACRN_IO`, `ACRN_STATE_CORRUPT`.
   */
  async list(options: { signal?: AbortSignal } = {}): Promise<AcrnUuidLeaseInfo[]> {
    return this.#update(options.signal, (state) =>
      Object.entries(state.leases).map(([uuid, l]) => ({ uuid, ...l })),
    );
  }

  #lease(uuid: string, id: string, owner: string): AcrnUuidLease {
    let released = false;
    /** This lease's record, if it still exists (it is gone once reclaimed, even if the UUID was re-leased). */
    const mine = (state: State): AcrnUuidLeaseInfo | undefined => {
      const lease = state.leases[uuid];
      return lease?.id === id ? { uuid, ...lease } : undefined;
    };
    const release = async (options: { signal?: AbortSignal } = {}): Promise<void> => {
      if (released) return;
      await this.#update(options.signal, (state) => {
        if (mine(state) !== undefined) delete state.leases[uuid];
      });
      released = true;
    };
    return {
      uuid,
      owner,
      setPid: async (pid, options = {}) => {
        checkPid(pid);
        await this.#update(options.signal, (state) => {
          const lease = state.leases[uuid];
          if (released || lease === undefined || lease.id !== id) {
            throw new AcrnError(
              'ACRN_LEASE_LOST',
              `the lease of ${uuid} for ${owner} is gone (released, or reclaimed after its process exited)`,
            );
          }
          lease.pid = pid;
        });
      },
      release,
      [Symbol.asyncDispose]: () => release(),
    };
  }

  /** Run `fn` on the state under both locks, write it back, return fn's result. */
  async #update<T>(signal: AbortSignal | undefined, fn: (state: State) => T): Promise<T> {
    const previous = this.#queue;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    // The next caller waits for both us and whoever was before us, even if we bail out early.
    this.#queue = previous.then(() => mine);
    try {
      await waitOrAbort(previous, signal);
      const unlock = await this.#lock(signal);
      try {
        const state = await this.#read();
        const before = JSON.stringify(state);
        for (const [uuid, lease] of Object.entries(state.leases)) {
          if (!alive(lease.pid)) delete state.leases[uuid];
        }
        const result = fn(state);
        if (JSON.stringify(state) !== before) await this.#write(state);
        return result;
      } finally {
        await unlock();
      }
    } finally {
      done();
    }
  }

  async #read(): Promise<State> {
    let text: string;
    try {
      text = await readFile(this.#statePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, leases: {} };
      throw ioError(`cannot read ${this.#statePath}`, error);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new AcrnError('ACRN_STATE_CORRUPT', `${this.#statePath} is not JSON`, { cause: error });
    }
    const parsed = stateSchema.safeParse(json);
    if (!parsed.success) {
      throw new AcrnError('ACRN_STATE_CORRUPT', `${this.#statePath} is not an ACRN UUID lease file`, {
        cause: parsed.error,
        issues: parsed.error.issues,
      });
    }
    return parsed.data;
  }

  /** Atomic replace: temp file, fsync, rename. */
  async #write(state: State): Promise<void> {
    const tmp = `${this.#statePath}.${process.pid}.${randomUUID()}.tmp`;
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(state, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.#statePath);
    } catch (error) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw ioError(`cannot write ${this.#statePath}`, error);
    }
  }

  /** Take the lock file; returns the unlock function. */
  async #lock(signal: AbortSignal | undefined): Promise<() => Promise<void>> {
    try {
      await mkdir(this.#o.stateDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw ioError(`cannot create ${this.#o.stateDir}`, error);
    }
    const mine: LockInfo = { pid: process.pid, nonce: randomUUID(), createdAt: Date.now() };
    const deadline = Date.now() + this.#o.lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortError(signal, 'waiting for the ACRN UUID lock');
      if (await this.#tryCreateLock(mine)) {
        return async () => {
          // Only remove the lock if it is still ours (it may have been broken as stale).
          const current = await this.#readLock();
          if (current?.nonce === mine.nonce) await rm(this.#lockPath, { force: true });
        };
      }
      const holder = await this.#readLock();
      if (holder === undefined || !alive(holder.pid) || Date.now() - holder.createdAt > this.#o.staleLockMs) {
        await this.#breakStale(holder);
      }
      if (Date.now() >= deadline) {
        const who = holder === undefined ? 'an unreadable lock file' : `pid ${holder.pid}`;
        throw new AcrnError(
          'ACRN_TIMEOUT',
          `the ACRN UUID lock ${this.#lockPath} has been held by ${who} for more than ${this.#o.lockTimeoutMs} ms`,
        );
      }
      await pause(
        5 + Math.min(attempt, 10) * 2 + Math.random() * 5,
        signal,
        'waiting for the ACRN UUID lock',
      );
    }
  }

  /** Create the lock file with its full content at once (write a temp file, then link it). */
  async #tryCreateLock(info: LockInfo): Promise<boolean> {
    const tmp = `${this.#lockPath}.${info.pid}.${info.nonce}.tmp`;
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify(info));
      } finally {
        await fh.close();
      }
      try {
        await link(tmp, this.#lockPath);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      }
    } catch (error) {
      throw ioError(`cannot create ${this.#lockPath}`, error);
    } finally {
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  /** The lock's content, or undefined when it is gone or unreadable. */
  async #readLock(): Promise<LockInfo | undefined> {
    try {
      const parsed = lockSchema.safeParse(JSON.parse(await readFile(this.#lockPath, 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Remove a stale lock without removing a fresh one that replaced it meanwhile: move it aside
   * under a private name, check it is the lock judged stale, put it back if it is not.
   */
  async #breakStale(stale: LockInfo | undefined): Promise<void> {
    if (stale === undefined) {
      // Unreadable: a lock is never visible half-written (it is linked into place complete), so it
      // is foreign garbage or already gone; only break it once it is old enough.
      try {
        const s = await stat(this.#lockPath);
        if (Date.now() - s.mtimeMs <= this.#o.staleLockMs) {
          await pause(10, undefined, 'lock');
          return;
        }
      } catch {
        return;
      }
    }
    const aside = `${this.#lockPath}.${process.pid}.${randomUUID()}.stale`;
    try {
      await rename(this.#lockPath, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw ioError(`cannot break stale lock ${this.#lockPath}`, error);
    }
    try {
      const moved = lockSchema.safeParse(JSON.parse(await readFile(aside, 'utf8')));
      const same = stale === undefined ? !moved.success : moved.success && moved.data.nonce === stale.nonce;
      if (!same) await link(aside, this.#lockPath).catch(() => undefined);
    } catch {
      // unparsable and we expected a lock: it was garbage, drop it
    } finally {
      await rm(aside, { force: true }).catch(() => undefined);
    }
  }
}

function checkPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 1) {
    throw new AcrnError('ACRN_INVALID_PID', `a lease needs the pid of a process (> 1), got ${pid}`);
  }
}

async function waitOrAbort(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise;
  if (signal.aborted) throw abortError(signal, 'waiting for the ACRN UUID pool');
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(signal, 'waiting for the ACRN UUID pool'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Create an {@link AcrnUuidPool}.
 * @throws {AcrnError} `ACRN_INVALID_CONFIG`.
 */
export function createUuidPool(options: AcrnUuidPoolOptions): AcrnUuidPool {
  return new AcrnUuidPool(options);
}
