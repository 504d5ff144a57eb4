import { describe, expect, it } from 'vitest';
import { SandboxError } from './errors.js';
import {
  buildSocketPath,
  checkSandboxId,
  defaultStateDir,
  MAX_SOCKET_PATH_BYTES,
  newSandboxId,
  sandboxPaths,
} from './paths.js';

describe('defaultStateDir', () => {
  it.each([
    [{ VMM_STATE_DIR: '/s' }, 1000, '/s'],
    [{ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000, '/run/user/1000/vmm'],
    [{}, 0, '/run/vmm'],
  ])('%j uid %i -> %s', (env, uid, dir) => expect(defaultStateDir(env, uid)).toBe(dir));
  it('falls back to a per-user temp dir', () => expect(defaultStateDir({}, 1234)).toMatch(/vmm-1234$/));
});

describe('sandbox ids', () => {
  it.each(['a', 'abc-DEF_1.2', '0'.repeat(64)])('accepts %s', (id) => expect(checkSandboxId(id)).toBe(id));
  it.each(['', '-a', '../x', 'a/b', 'a'.repeat(65), 'sp ace'])('refuses %j', (id) => {
    expect(() => checkSandboxId(id)).toThrow(
      expect.objectContaining({ code: 'SANDBOX_INVALID_CONFIG', path: 'id' }),
    );
  });
  it('generates valid ids', () => expect(checkSandboxId(newSandboxId())).toMatch(/^[0-9a-f]{12}$/));
});

describe('socket paths (107-byte limit)', () => {
  it('keeps short paths in the run directory', () => {
    const p = sandboxPaths('/run/vmm', 'abc');
    expect(p.socketDir).toBe('/run/vmm/abc');
    expect(p.qmp).toBe('/run/vmm/abc/qmp.sock');
    expect(p.console).toBe('/run/vmm/abc/console.sock');
    expect(p.consoleLog).toBe('/run/vmm/abc/console.log');
  });
  it('shortens deterministically when the run directory is too long', () => {
    const state = `/tmp/${'d'.repeat(40)}`;
    const id = 'x'.repeat(64);
    const a = sandboxPaths(state, id);
    expect(a.socketDir).toMatch(new RegExp(`^${state}/s/[0-9a-f]{16}$`));
    expect(Buffer.byteLength(a.console)).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES);
    expect(sandboxPaths(state, id)).toEqual(a);
    expect(sandboxPaths(state, `${'x'.repeat(63)}y`).socketDir).not.toBe(a.socketDir);
    expect(a.runDir).toBe(`${state}/${id}`);
  });
  it('falls back to the temp dir when even the state dir is too long', () => {
    const p = sandboxPaths(`/${'s'.repeat(120)}`, 'abc');
    expect(p.socketDir).toMatch(/vmm-s\/[0-9a-f]{16}$/);
  });
  it('counts bytes, not characters', () => {
    const p = buildSocketPath(`/${'é'.repeat(53)}`);
    expect(Buffer.byteLength(p)).toBe(MAX_SOCKET_PATH_BYTES);
    expect(() => buildSocketPath(`/${'é'.repeat(53)}x`)).toThrow(/got 108, max 107/);
  });
  it('refuses empty paths', () => {
    expect(() => buildSocketPath('')).toThrow(SandboxError);
  });
});
