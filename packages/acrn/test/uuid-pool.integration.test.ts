/**
 * The UUID pool across processes: two node processes share one state dir and must never hold the
 * same UUID; a lock left by a process that died is recovered. The children import the built
 * package (dist/), which beforeAll builds.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childPids, isAlive, makeTempDir, type TempDir } from '@vmm/test-utils';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACRN_UUID_LOCK_FILE, ACRN_UUIDS, createUuidPool } from '../src/index.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
let tmp: TempDir;
let child: string;

beforeAll(async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await execa(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: pkg });
  tmp = await makeTempDir('vmm-acrn-xproc-');
  child = tmp.join('pool-child.mjs');
  await writeFile(
    child,
    `import { appendFileSync, existsSync } from 'node:fs';
import { createUuidPool } from ${JSON.stringify(pathToFileURL(join(pkg, 'dist', 'index.js')).href)};
const [stateDir, go, log, holderPid, rounds, keep] = process.argv.slice(2);
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));
const pool = createUuidPool({ stateDir, lockTimeoutMs: 30000 });
for (let i = 0; i < Number(rounds); i++) {
  const lease = await pool.acquire('churn-' + process.pid + '-' + i);
  appendFileSync(log, lease.uuid + ' + ' + process.pid + '\\n');
  appendFileSync(log, lease.uuid + ' - ' + process.pid + '\\n');
  await lease.release();
}
const held = [];
for (let i = 0; i < Number(keep); i++) {
  held.push((await pool.acquire('keep-' + process.pid + '-' + i, { pid: Number(holderPid) })).uuid);
}
process.stdout.write(JSON.stringify(held));
`,
  );
}, 120_000);
afterAll(async () => {
  await tmp?.remove();
});
afterEach(() => {
  expect(childPids()).toEqual([]);
});

describe('UUID pool across processes', () => {
  it('two processes racing on one state dir never share a UUID', async () => {
    const stateDir = tmp.join('state-race');
    const go = tmp.join('go');
    const log = tmp.join('race.log');
    const run = () => execa(process.execPath, [child, stateDir, go, log, String(process.pid), '25', '4']);
    const a = run();
    const b = run();
    await new Promise((r) => setTimeout(r, 300)); // both are up and polling for the start line
    await writeFile(go, '');
    const [ra, rb] = await Promise.all([a, b]);
    const heldA = JSON.parse(ra.stdout) as string[];
    const heldB = JSON.parse(rb.stdout) as string[];
    expect(heldA).toHaveLength(4);
    expect(heldB).toHaveLength(4);
    expect(new Set([...heldA, ...heldB]).size).toBe(8);
    expect([...heldA, ...heldB].sort()).toEqual([...ACRN_UUIDS].sort());

    // replay the churn: a UUID is never taken twice without a release in between
    const holder = new Map<string, string>();
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(100);
    for (const line of lines) {
      const [uuid, op, pid] = line.split(' ') as [string, string, string];
      if (op === '+') {
        expect(holder.get(uuid), line).toBeUndefined();
        holder.set(uuid, pid);
      } else {
        expect(holder.get(uuid), line).toBe(pid);
        holder.delete(uuid);
      }
    }
    // the parent sees the children's leases (held for this process's pid) and cannot get a ninth
    const pool = createUuidPool({ stateDir });
    expect((await pool.list()).length).toBe(8);
    await expect(pool.acquire('ninth')).rejects.toMatchObject({ code: 'ACRN_UUID_EXHAUSTED' });
    expect(existsSync(join(stateDir, ACRN_UUID_LOCK_FILE))).toBe(false);
  });

  it('recovers the lock from a process that died holding it', async () => {
    const stateDir = tmp.join('state-stale');
    await createUuidPool({ stateDir }).list();
    const lock = join(stateDir, ACRN_UUID_LOCK_FILE);
    // a process takes the lock the way the pool does, then hangs (as if stuck mid-update)
    const holder = execa(
      process.execPath,
      [
        '-e',
        `require('node:fs').writeFileSync(${JSON.stringify(lock)}, JSON.stringify({ pid: process.pid, nonce: 'held', createdAt: Date.now() }));
         setInterval(() => {}, 1 << 30);`,
      ],
      { reject: false },
    );
    await expect.poll(() => existsSync(lock), { timeout: 30_000 }).toBe(true);
    const pool = createUuidPool({ stateDir, lockTimeoutMs: 20_000 });
    const started = Date.now();
    const pending = pool.acquire('after-crash');
    await new Promise((r) => setTimeout(r, 300));
    expect(isAlive(holder.pid!)).toBe(true);
    holder.kill('SIGKILL');
    await holder;
    const lease = await pending;
    expect(lease.uuid).toBe(ACRN_UUIDS[0]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(existsSync(lock)).toBe(false);
  });
});
