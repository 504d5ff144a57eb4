import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, isProcessAlive, processStartTime } from './lock.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('vmm-lock-');
});
afterEach(async () => {
  await tmp.remove();
});

/**
 * A child node process that holds the lock the way acquireLock writes it (owner JSON linked into
 * place), prints "locked", and keeps it until killed.
 */
async function holder(path: string): Promise<ReturnType<typeof spawn>> {
  const script = `
    const fs = require('node:fs');
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const tmp = ${JSON.stringify(path)} + '.child.tmp';
    fs.writeFileSync(tmp, JSON.stringify({ pid: process.pid, start, token: 'child' }));
    fs.linkSync(tmp, ${JSON.stringify(path)});
    fs.unlinkSync(tmp);
    console.log('locked');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  expect(chunk.toString()).toContain('locked');
  return child;
}

describe('process identity', () => {
  it('knows this process and not a dead one', () => {
    const start = processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(isProcessAlive(process.pid, start)).toBe(true);
    expect(isProcessAlive(process.pid, '1')).toBe(false); // same pid, another start time: reused pid
    expect(isProcessAlive(2 ** 22 + 1)).toBe(false);
  });
});

describe('acquireLock', () => {
  it('serialises holders in one process', async () => {
    const path = tmp.join('lock');
    const order: string[] = [];
    const a = await acquireLock(path);
    const pending = acquireLock(path, { pollMs: 5 }).then(async (b) => {
      order.push('b');
      await b.release();
    });
    await new Promise((r) => setTimeout(r, 50));
    order.push('a');
    await a.release();
    await a.release(); // idempotent
    await pending;
    expect(order).toEqual(['a', 'b']);
    expect(await readdir(tmp.path)).toEqual([]);
  });

  it('times out with the holder named', async () => {
    const path = tmp.join('lock');
    await using _held = await acquireLock(path);
    await expect(acquireLock(path, { timeoutMs: 60, pollMs: 10 })).rejects.toMatchObject({
      code: 'SANDBOX_LOCK_TIMEOUT',
      message: expect.stringContaining(`pid ${process.pid}`),
    });
  });

  it('is cancelled by an AbortSignal', async () => {
    const path = tmp.join('lock');
    await using _held = await acquireLock(path);
    await expect(acquireLock(path, { signal: AbortSignal.timeout(30) })).rejects.toMatchObject({
      code: 'SANDBOX_ABORTED',
    });
  });

  it('waits for a lock held by another process, and takes it over when that process dies', async () => {
    const path = tmp.join('lock');
    const child = await holder(path);
    await expect(acquireLock(path, { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'SANDBOX_LOCK_TIMEOUT',
    });
    child.kill('SIGKILL');
    await once(child, 'exit');
    const lock = await acquireLock(path, { timeoutMs: 2_000 });
    expect(JSON.parse(await readFile(path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('recovers a stale lock whose pid was reused', async () => {
    const path = tmp.join('lock');
    await writeFile(path, JSON.stringify({ pid: process.pid, start: '1', token: 'old' }));
    const lock = await acquireLock(path, { timeoutMs: 500 });
    expect(JSON.parse(await readFile(path, 'utf8')).token).not.toBe('old');
    await lock.release();
    expect((await readdir(tmp.path)).length).toBe(0);
  });

  it('reports a removed sandbox directory', async () => {
    await expect(acquireLock(tmp.join('gone/lock'))).rejects.toMatchObject({ code: 'SANDBOX_NOT_FOUND' });
  });
});
