import { writeFile } from 'node:fs/promises';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from './command.js';
import { withQmpTarget } from './qmp-target.js';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await makeTempDir('vmm-qmp-target-');
});
afterAll(async () => {
  await tmp.remove();
});

function ctx(stateDir: string): CommandContext {
  return {
    values: { 'state-dir': stateDir },
    positionals: [],
    io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: {} },
    debug: false,
    signal: new AbortController().signal,
  };
}

describe('withQmpTarget', () => {
  it('uses a target with a slash, or naming an existing file, as the socket path', async () => {
    const c = ctx(tmp.join('state'));
    expect(await withQmpTarget(c, 'qmp', '/run/vm/qmp.sock', async (p) => p)).toBe('/run/vm/qmp.sock');
    const here = tmp.join('qmp.sock');
    await writeFile(here, '');
    const cwd = process.cwd();
    process.chdir(tmp.path);
    try {
      expect(await withQmpTarget(c, 'qmp', 'qmp.sock', async (p) => p)).toBe('qmp.sock');
    } finally {
      process.chdir(cwd);
    }
  });

  it('says plainly when the target is neither a path nor a sandbox', async () => {
    for (const target of ['nosuchbox', 'bad id!']) {
      await expect(
        withQmpTarget(ctx(tmp.join('state')), 'qmp', target, async (p) => p),
      ).rejects.toMatchObject({
        code: 'CLI_USAGE',
        message: expect.stringContaining(
          `"${target}" is neither a QMP socket path nor a sandbox in ${tmp.join('state')}`,
        ),
      });
    }
  });

  it('hands a running sandbox socket to nobody else; refuses a sandbox that is not running', async () => {
    const { Sandbox } = await import('@vmm/sandbox');
    const kernel = tmp.join('vmlinux');
    await writeFile(kernel, 'k');
    await Sandbox.create(
      { arch: 'amd64', kernelPath: kernel, initrdPath: kernel },
      { stateDir: tmp.join('state'), id: 'idle' },
    );
    await expect(withQmpTarget(ctx(tmp.join('state')), 'qmp', 'idle', async (p) => p)).rejects.toMatchObject({
      code: 'SANDBOX_INVALID_STATE',
    });
  });
});
