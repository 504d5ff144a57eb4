/**
 * Concurrency (issue 8): operations on one sandbox from several processes are serialised by its lock
 * file (with stale-lock recovery), and many sandboxes driven from one process stay independent.
 * Child processes run i8-concurrency-child.mjs on the built package.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { connectQmp } from '@vmm/qmp';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, type HypervisorConfig, readStateFile, Sandbox } from '../src/index.js';
import { accel } from './helpers.js';
import { filesUnder, lightConfig, livePidsMentioning } from './i8-util.js';

const child = new URL('./i8-concurrency-child.mjs', import.meta.url).pathname;
const pkgDir = new URL('..', import.meta.url).pathname;
let tmp: TempDir;
let config: HypervisorConfig;
let hostAccel: 'kvm' | 'tcg';

beforeAll(async () => {
  execFileSync('pnpm', ['exec', 'tsc', '-p', 'tsconfig.build.json'], { cwd: pkgDir, stdio: 'pipe' });
  tmp = await makeTempDir('vmm-i8k-');
  config = await lightConfig();
  hostAccel = accel();
});

afterAll(async () => {
  await tmp?.remove();
});

/** Run the child to completion; rejects with its stderr on a non-zero exit. */
async function run(...args: string[]): Promise<void> {
  const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(p, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`child ${args[0]} exited ${code}: ${stderr}`);
}

describe('one sandbox, several processes', () => {
  it('the lock file gives mutual exclusion across processes (no interleaved critical sections)', async () => {
    const lockPath = tmp.join('excl.lock');
    const log = tmp.join('excl.log');
    await writeFile(log, '');
    await Promise.all([1, 2, 3, 4].map(() => run('lock', lockPath, log, '25')));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4 * 25 * 2);
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]?.startsWith('+')).toBe(true);
      expect(lines[i + 1]).toBe(`-${lines[i]?.slice(1)}`);
    }
  });

  it('a lock whose holder was kill -9ed is taken over at once and reported as recovered', async () => {
    const lockPath = tmp.join('stale.lock');
    const holder = spawn(process.execPath, [child, 'hold', lockPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    for await (const line of createInterface({ input: holder.stdout as NodeJS.ReadableStream })) {
      if (line === 'HELD') break;
    }
    await expect(acquireLock(lockPath, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'SANDBOX_LOCK_TIMEOUT',
      message: expect.stringContaining(`held by pid ${holder.pid}`),
    });
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    const t0 = performance.now();
    const lock = await acquireLock(lockPath, { timeoutMs: 5_000 });
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(lock.recovered).toBe(true);
    await lock.release();
    const again = await acquireLock(lockPath, { timeoutMs: 1_000 });
    expect(again.recovered).toBe(false);
    await again.release();
  });

  it('hotplugs from 3 processes at once lose no record and share no bridge slot', async () => {
    const stateDir = tmp.join('multi');
    const sb = await Sandbox.create(config, { stateDir, id: 'shared', host: { accel: hostAccel } });
    try {
      await sb.start();
      const prefixes = ['a', 'b', 'c'];
      for (const p of prefixes)
        for (let i = 0; i < 3; i++) await writeFile(tmp.join(`${p}${i}.img`), Buffer.alloc(1 << 20));
      await Promise.all(prefixes.map((p) => run('hotplug', stateDir, 'shared', p, '3', tmp.path)));
      const st = await readStateFile(sb.paths.state, 'shared');
      const devices = (st.hypervisor as { devices: { id: string; bus: string; addr: string }[] }).devices;
      expect(devices.map((d) => d.id).sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2', 'c0', 'c1', 'c2']);
      expect(new Set(devices.map((d) => `${d.bus}/${d.addr}`)).size).toBe(9);
      const q = await connectQmp(sb.paths.qmp, { connectTimeout: 5_000 });
      try {
        const names = (
          (await q.execute('qom-list', { path: '/machine/peripheral' })) as { name: string }[]
        ).map((c) => c.name);
        for (const d of devices) expect(names).toContain(d.id);
      } finally {
        await q.close();
      }
    } finally {
      await sb.stop({ graceMs: 1_000 });
    }
    expect(await filesUnder(stateDir)).toEqual([]);
  });
});

describe('many sandboxes, one process', () => {
  it('run independently: pausing, killing or hotplugging one leaves the others untouched', async () => {
    const stateDir = tmp.join('many');
    const boxes = await Promise.all(
      [0, 1, 2, 3].map((i) => Sandbox.create(config, { stateDir, id: `m${i}`, host: { accel: hostAccel } })),
    );
    try {
      await Promise.all(boxes.map((b) => b.start()));
      const [a, b, c, d] = boxes as [Sandbox, Sandbox, Sandbox, Sandbox];
      await a.pause();
      process.kill(b.info().pid as number, 'SIGKILL');
      await b.exited;
      await writeFile(tmp.join('solo.img'), Buffer.alloc(1 << 20));
      await c.hotplugAdd({ kind: 'block', id: 'solo', path: tmp.join('solo.img'), attach: 'virtio-blk' });
      const list = await Sandbox.list({ stateDir });
      expect(list.map((i) => [i.id, i.status, i.devices.map((x) => x.id)])).toEqual([
        ['m0', 'paused', []],
        ['m1', 'stopped', []],
        ['m2', 'running', ['solo']],
        ['m3', 'running', []],
      ]);
      await d.pause();
      await d.resume();
      await a.resume();
      expect(a.info().status).toBe('running');
    } finally {
      await Promise.all(boxes.map((b) => b.stop({ graceMs: 1_000 })));
    }
    expect(livePidsMentioning(stateDir)).toEqual([]);
    expect(await filesUnder(stateDir)).toEqual([]);
  });
});
