/**
 * The sandbox verbs end to end, each `vmm` a separate process (built dist/bin.js), against the real
 * default guest: `run --detach`, `ps`, `hotplug add disk`, `console`, `stop`; `run --stop-when-ready`
 * (the quick start); and Ctrl-C on a foreground `run` stopping the VM cleanly.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { guestAccel, isAlive, makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/commands/run.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const execFileP = promisify(execFile);

let tmp: TempDir;
let env: NodeJS.ProcessEnv;

async function vmm(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await execFileP(process.execPath, [BIN, ...args], { env, timeout: 180_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

/** Running and not a zombie (a detached QEMU's exit is reaped by init, not by us). */
const alive = (pid: number): boolean => isAlive(pid);

beforeAll(async () => {
  tmp = await makeTempDir('vmm-cli-sb-');
  const a = guestAccel();
  console.log(`guest accel: ${a.accel} (${a.reason})`);
  env = { ...process.env, VMM_STATE_DIR: tmp.join('state'), VMM_ACCEL: a.accel };
});

afterAll(async () => {
  // Whatever a failed test left running.
  const left = await vmm('ps', '--json');
  for (const s of JSON.parse(left.out || '[]') as { id: string }[]) await vmm('stop', s.id);
  await tmp?.remove();
});

describe('vmm sandbox verbs across processes', () => {
  it('run --detach, then ps, hotplug add disk, console, stop from separate processes', async () => {
    const run = await vmm('run', '--detach', '--json', '--id', 'det');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.out) as RunSummary;
    expect(summary).toMatchObject({ id: 'det', stateDir: tmp.join('state') });
    expect(summary.guestReadySeconds).toBeGreaterThan(0);
    expect(run.err).toMatch(/guest ready: GUEST-READY/);
    const pid = summary.pid as number;
    expect(alive(pid)).toBe(true);

    const ps = JSON.parse((await vmm('ps', '--json')).out) as { id: string; status: string; pid: number }[];
    expect(ps).toMatchObject([{ id: 'det', status: 'running', pid }]);

    const img = tmp.join('disk.img');
    await writeFile(img, Buffer.alloc(4 << 20));
    const add = await vmm('hotplug', 'add', 'disk', 'det', img, '--driver', 'virtio-blk');
    expect(add).toMatchObject({ code: 0, out: expect.stringMatching(/^det: added disk0 on rp0/) });
    let consoleText = '';
    for (let i = 0; i < 100 && !consoleText.includes('HOTPLUG-BLK vda'); i++) {
      await sleep(100);
      consoleText = (await vmm('console', 'det')).out;
    }
    expect(consoleText).toContain('HOTPLUG-BLK vda');
    expect((await vmm('ps')).out).toMatch(/det\s+running\s+\d+\s+1\s+512M\s+disk0/);
    // QMP by sandbox id, from yet another process (under the sandbox's lock)
    const status = await vmm('qmp', 'det', 'query-status', '--compact');
    expect(status).toMatchObject({
      code: 0,
      out: '{"status":"running","singlestep":false,"running":true}\n',
    });
    const hmp = await vmm('qmp', '--hmp', 'det', 'info', 'status');
    expect(hmp).toMatchObject({ code: 0, out: expect.stringContaining('VM status: running') });

    expect(await vmm('stop', 'det')).toMatchObject({ code: 0, out: 'stopped det (quit)\n' });
    expect(alive(pid)).toBe(false);
    expect(existsSync(summary.qmp)).toBe(false);
    expect((await vmm('ps')).out).toBe('no sandboxes\n');
    expect(await vmm('stop', 'det')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/SANDBOX_NOT_FOUND/),
    });
  });

  it('run --stop-when-ready (the quick start) boots, reports and stops cleanly', async () => {
    const r = await vmm('run', '--stop-when-ready');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^sandbox [0-9a-f]{12} is running \((kvm|tcg), pid \d+\)\n {2}qmp: /);
    expect(r.err).toMatch(/QMP ready\n.*guest ready: GUEST-READY cpus=1 mem-mb=512/s);
    expect(r.err).toMatch(/stopped \(quit\)\n$/);
    expect((await vmm('ps')).out).toBe('no sandboxes\n');
  });

  it('Ctrl-C on a foreground run stops the VM cleanly', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--id', 'fg'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    for (let i = 0; i < 600 && !err.includes('Ctrl-C stops it'); i++) await sleep(100);
    expect(err).toContain('Ctrl-C stops it');
    const ps = JSON.parse((await vmm('ps', '--json')).out) as { id: string; pid: number }[];
    const pid = ps.find((s) => s.id === 'fg')?.pid as number;
    expect(alive(pid)).toBe(true);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(err).toMatch(/interrupted: stopping the VM\n.*stopped \(quit\)\n$/s);
    expect(alive(pid)).toBe(false);
    expect((await vmm('ps')).out).toBe('no sandboxes\n');
  });
});
