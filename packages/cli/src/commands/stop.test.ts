import { existsSync } from 'node:fs';
import { makeTempDir } from '@vmm/test-utils';
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
});
