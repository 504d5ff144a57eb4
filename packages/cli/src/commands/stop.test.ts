import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Sandbox } from '@vmm/sandbox';
import { isAlive, makeTempDir } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { mockSandbox, runVmm } from '../../test/sandbox-helpers.js';

describe('vmm stop / pause / resume', () => {
  it('pauses, resumes and stops a sandbox by id, removing its directory', async () => {
    await using tmp = await makeTempDir('vmm-stop-');
    const sb = await mockSandbox(tmp.path, 'm1');
    expect(await runVmm(['pause', 'm1', '--state-dir', tmp.path])).toEqual({
      code: 0,
      out: 'paused m1\n',
      err: '',
    });
    expect(JSON.parse((await runVmm(['ps', '--json', '--state-dir', tmp.path])).out)[0].status).toBe(
      'paused',
    );
    expect(await runVmm(['resume', 'm1', '--state-dir', tmp.path])).toEqual({
      code: 0,
      out: 'resumed m1\n',
      err: '',
    });
    expect(await runVmm(['stop', 'm1', '--state-dir', tmp.path])).toEqual({
      code: 0,
      out: 'stopped m1 (quit)\n',
      err: '',
    });
    expect(existsSync(sb.paths.runDir)).toBe(false);
  });

  it('reports an unknown sandbox and usage errors', async () => {
    await using tmp = await makeTempDir('vmm-stop-');
    const r = await runVmm(['stop', 'nope', '--state-dir', tmp.path]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/SANDBOX_NOT_FOUND/);
    expect((await runVmm(['stop', '--state-dir', tmp.path])).code).toBe(2);
    expect((await runVmm(['pause', '../x', '--state-dir', tmp.path])).err).toMatch(/SANDBOX_INVALID_CONFIG/);
    expect((await runVmm(['stop', 'x', '--grace', 'soon'])).err).toMatch(/--grace must be a whole number/);
  });

  it('lists an unrecorded process running a QEMU sandbox as orphaned, and stop kills it', async () => {
    await using tmp = await makeTempDir('vmm-stop-');
    // A QEMU sandbox that was created but never recorded a start (nothing boots: the "QEMU" below is
    // a stand-in process naming the sandbox's QMP socket on its command line, as QEMU's does).
    await writeFile(tmp.join('k'), 'kernel');
    await writeFile(tmp.join('i'), 'initrd');
    const stateDir = tmp.join('state');
    const sb = await Sandbox.create(
      { kernelPath: tmp.join('k'), initrdPath: tmp.join('i'), memorySize: 256 },
      { stateDir, id: 'orph', host: { accel: 'tcg' } },
    );
    const fake = spawn(
      process.execPath,
      ['-e', 'setTimeout(() => {}, 60_000)', '--', '-qmp', `unix:${sb.paths.qmp}`],
      {
        stdio: 'ignore',
      },
    );
    const exited = once(fake, 'exit');
    try {
      const pid = fake.pid as number;
      for (let i = 0; i < 100 && !isAlive(pid); i++) await sleep(10);
      const ps = await runVmm(['ps', '--state-dir', stateDir]);
      const lines = ps.out.split('\n');
      expect(lines[1]?.split(/\s+/).slice(0, 3)).toEqual(['orph', 'orphaned', String(pid)]);
      expect(lines[2]).toBe(
        `  orphaned: QEMU pid ${pid} runs this sandbox but its state (created) does not record it: the managing process died while starting it (vmm stop orph kills it)`,
      );
      const json = JSON.parse((await runVmm(['ps', '--json', '--state-dir', stateDir])).out);
      expect(json).toMatchObject([{ id: 'orph', status: 'created', pid: null, orphan: { pid } }]);
      expect(await runVmm(['stop', 'orph', '--state-dir', stateDir])).toEqual({
        code: 0,
        out: `stopped orph (already-stopped; orphan QEMU pid ${pid} killed)\n`,
        err: '',
      });
      expect(isAlive(pid)).toBe(false);
      expect(await exited).toEqual([null, 'SIGKILL']);
      expect(existsSync(sb.paths.runDir)).toBe(false);
      expect((await runVmm(['ps', '--state-dir', stateDir])).out).toBe('no sandboxes\n');
    } finally {
      fake.kill('SIGKILL');
    }
  });
});
