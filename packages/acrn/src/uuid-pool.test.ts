import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AcrnError } from './errors.js';
import {
  ACRN_UUID_LOCK_FILE,
  ACRN_UUID_STATE_FILE,
  ACRN_UUIDS,
  AcrnUuidPool,
  createUuidPool,
} from './uuid-pool.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('vmm-acrn-uuid-');
});
afterEach(async () => {
  await tmp.remove();
});

const stateDir = (): string => tmp.join('state');
const lockPath = (): string => tmp.join('state', ACRN_UUID_LOCK_FILE);
const statePath = (): string => tmp.join('state', ACRN_UUID_STATE_FILE);

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

async function caught(p: Promise<unknown>): Promise<AcrnError> {
  try {
    await p;
  } catch (error) {
    if (AcrnError.is(error)) return error;
    throw error;
  }
  throw new Error('expected an AcrnError');
}

describe('AcrnUuidPool', () => {
  it("hands out Kata's UUIDs in order, then ACRN_UUID_EXHAUSTED naming the holders", async () => {
    const pool = createUuidPool({ stateDir: stateDir() });
    const got: string[] = [];
    for (let i = 0; i < 8; i++) got.push((await pool.acquire(`sb${i}`)).uuid);
    expect(got).toEqual(ACRN_UUIDS);
    const error = await caught(pool.acquire('sb8'));
    expect(error.code).toBe('ACRN_UUID_EXHAUSTED');
    expect(error.message).toMatch(/^all 8 ACRN UUIDs are leased to live VMs: a7ada506-.* \(sb0, pid \d+\)/);
    expect(existsSync(lockPath())).toBe(false);
  });

  it('releases (idempotently, also via await using) and reuses the lowest free UUID', async () => {
    const pool = new AcrnUuidPool({ stateDir: stateDir() });
    const a = await pool.acquire('a');
    const b = await pool.acquire('b');
    await a.release();
    await a.release();
    expect((await pool.acquire('c')).uuid).toBe(ACRN_UUIDS[0]);
    {
      await using d = await pool.acquire('d');
      expect(d.uuid).toBe(ACRN_UUIDS[2]);
    }
    expect((await pool.list()).map((l) => l.owner).sort()).toEqual(['b', 'c']);
    expect(await pool.release(b.uuid)).toBe(true);
    expect(await pool.release(b.uuid)).toBe(false);
  });

  it('serialises concurrent acquires on one instance (in-process lock)', async () => {
    const pool = createUuidPool({ stateDir: stateDir() });
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => pool.acquire(`sb${i}`)));
    const uuids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.uuid] : []));
    expect(new Set(uuids).size).toBe(8);
    expect(uuids.sort()).toEqual([...ACRN_UUIDS].sort());
    const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as AcrnError] : []));
    expect(rejected.map((e) => e.code)).toEqual(Array(4).fill('ACRN_UUID_EXHAUSTED'));
  });

  it('serialises instances sharing a state dir (lock file)', async () => {
    const pools = [createUuidPool({ stateDir: stateDir() }), createUuidPool({ stateDir: stateDir() })];
    const results = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => pools[i % 2]!.acquire(`sb${i}`)),
    );
    const uuids = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.uuid] : []));
    expect(uuids.length).toBe(8);
    expect(new Set(uuids).size).toBe(8);
    const state = JSON.parse(await readFile(statePath(), 'utf8'));
    expect(Object.keys(state.leases).sort()).toEqual([...ACRN_UUIDS].sort());
  });

  it('honours maxVms and custom UUID lists', async () => {
    const pool = createUuidPool({ stateDir: stateDir(), maxVms: 2 });
    expect(pool.uuids).toEqual(ACRN_UUIDS.slice(0, 2));
    await pool.acquire('a');
    await pool.acquire('b');
    expect((await caught(pool.acquire('c'))).code).toBe('ACRN_UUID_EXHAUSTED');
    expect(() => createUuidPool({ stateDir: stateDir(), maxVms: 9 })).toThrow(
      expect.objectContaining({ code: 'ACRN_INVALID_CONFIG', path: ['maxVms'] }),
    );
    expect(() => createUuidPool({ stateDir: stateDir(), uuids: [ACRN_UUIDS[0]!, ACRN_UUIDS[0]!] })).toThrow(
      expect.objectContaining({ path: ['uuids'] }),
    );
  });

  it('reclaims leases whose process is gone, and follows setPid', async () => {
    const pool = createUuidPool({ stateDir: stateDir(), maxVms: 1 });
    const lease = await pool.acquire('a');
    await lease.setPid(deadPid());
    // the VM that held it is gone: the UUID is free again
    const next = await pool.acquire('b');
    expect(next.uuid).toBe(lease.uuid);
    // the old lease can neither move nor free the new one
    await expect(lease.setPid(process.pid)).rejects.toMatchObject({ code: 'ACRN_LEASE_LOST' });
    await lease.release();
    expect((await pool.list()).map((l) => l.owner)).toEqual(['b']);
    await expect(next.setPid(0)).rejects.toMatchObject({ code: 'ACRN_INVALID_PID' });
    await expect(pool.acquire('x', { pid: -1 })).rejects.toMatchObject({ code: 'ACRN_INVALID_PID' });
  });

  it('writes private files atomically', async () => {
    await createUuidPool({ stateDir: stateDir() }).acquire('a');
    expect((await stat(stateDir())).mode & 0o777).toBe(0o700);
    expect((await stat(statePath())).mode & 0o777).toBe(0o600);
    const state = JSON.parse(await readFile(statePath(), 'utf8'));
    expect(state).toEqual({
      version: 1,
      leases: {
        [ACRN_UUIDS[0]!]: {
          id: expect.any(String),
          owner: 'a',
          pid: process.pid,
          acquiredAt: expect.any(String),
        },
      },
    });
  });

  it('refuses a corrupt state file instead of handing out UUIDs blindly', async () => {
    const pool = createUuidPool({ stateDir: stateDir() });
    await pool.acquire('a');
    await writeFile(statePath(), '{"leases": 3}');
    expect((await caught(pool.acquire('b'))).code).toBe('ACRN_STATE_CORRUPT');
    await writeFile(statePath(), 'not json');
    expect((await caught(pool.acquire('b'))).code).toBe('ACRN_STATE_CORRUPT');
    expect(existsSync(lockPath())).toBe(false);
  });
});

describe('lock file', () => {
  async function plantLock(pid: number, createdAt = Date.now()): Promise<void> {
    await createUuidPool({ stateDir: stateDir() }).list(); // creates the dir
    await writeFile(lockPath(), JSON.stringify({ pid, nonce: 'planted', createdAt }));
  }

  it('breaks a lock whose process is dead', async () => {
    await plantLock(deadPid());
    const pool = createUuidPool({ stateDir: stateDir(), lockTimeoutMs: 5_000 });
    expect((await pool.acquire('a')).uuid).toBe(ACRN_UUIDS[0]);
    expect(existsSync(lockPath())).toBe(false);
  });

  it('breaks a lock older than staleLockMs even if its pid is alive (pid reuse)', async () => {
    await plantLock(process.pid, Date.now() - 60_000);
    const pool = createUuidPool({ stateDir: stateDir(), staleLockMs: 30_000 });
    expect((await pool.acquire('a')).uuid).toBe(ACRN_UUIDS[0]);
  });

  it('waits for a live fresh lock, then times out with ACRN_TIMEOUT and leaves it alone', async () => {
    await plantLock(process.pid);
    const pool = createUuidPool({ stateDir: stateDir(), lockTimeoutMs: 300 });
    const started = Date.now();
    const error = await caught(pool.acquire('a'));
    expect(error.code).toBe('ACRN_TIMEOUT');
    expect(error.message).toMatch(new RegExp(`held by pid ${process.pid}`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(JSON.parse(await readFile(lockPath(), 'utf8')).nonce).toBe('planted');
  });

  it('gets the lock as soon as the holder lets go', async () => {
    await plantLock(process.pid);
    const pool = createUuidPool({ stateDir: stateDir() });
    const pending = pool.acquire('a');
    await new Promise((r) => setTimeout(r, 100));
    await rm(lockPath()); // the holder lets go
    expect((await pending).uuid).toBe(ACRN_UUIDS[0]);
  });

  it('aborts a wait for the lock', async () => {
    await plantLock(process.pid);
    const pool = createUuidPool({ stateDir: stateDir() });
    const error = await caught(pool.acquire('a', { signal: AbortSignal.timeout(100) }));
    expect(error.code).toBe('ACRN_ABORTED');
    // the queue is not wedged by the aborted call
    await rm(lockPath());
    expect((await pool.acquire('b')).uuid).toBe(ACRN_UUIDS[0]);
  });

  it('treats an unreadable lock as garbage only once it is old', async () => {
    await plantLock(process.pid);
    await writeFile(lockPath(), 'garbage');
    const fresh = createUuidPool({ stateDir: stateDir(), lockTimeoutMs: 200 });
    expect((await caught(fresh.acquire('a'))).code).toBe('ACRN_TIMEOUT');
    const old = new Date(Date.now() - 120_000);
    await utimes(lockPath(), old, old);
    expect((await createUuidPool({ stateDir: stateDir() }).acquire('a')).uuid).toBe(ACRN_UUIDS[0]);
  });
});
