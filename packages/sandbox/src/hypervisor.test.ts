import { describe, expect, it } from 'vitest';
import { SANDBOX_ERROR_CODES, SandboxConfigError, SandboxError } from './errors.js';
import { parseHypervisorType } from './hypervisor.js';

describe('parseHypervisorType', () => {
  it.each([
    ['qemu', 'qemu'],
    [' QEMU ', 'qemu'],
    ['acrn', 'acrn'],
    ['mock', 'mock'],
  ])('%j -> %s', (s, t) => expect(parseHypervisorType(s)).toBe(t));
  it.each(['firecracker', 'clh', '', 'kvm'])('refuses %j', (s) => {
    expect(() => parseHypervisorType(s)).toThrow(
      expect.objectContaining({
        code: 'SANDBOX_UNKNOWN_HYPERVISOR',
        message: expect.stringContaining('Unknown hypervisor type'),
      }),
    );
  });
});

describe('SandboxError', () => {
  it('keeps code, cause, stderr tail, and is recognised across realms', () => {
    const cause = new Error('boom');
    const e = new SandboxError('SANDBOX_HYPERVISOR_EXITED', 'QEMU exited', {
      cause,
      stderrTail: ['qemu: bad thing'],
      exit: { code: null, signal: 'SIGKILL' },
      sandboxId: 'x',
    });
    expect(e.name).toBe('SandboxError');
    expect(e.cause).toBe(cause);
    expect(e.message).toContain('qemu stderr: qemu: bad thing');
    expect(e.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(SandboxError.is(e)).toBe(true);
    expect(SandboxError.is({ ...e })).toBe(false);
    expect(SandboxError.is(new Error('x'))).toBe(false);
    expect(Object.keys(SANDBOX_ERROR_CODES)).toContain(e.code);
    const fake = Object.create(Object.getPrototypeOf(e)) as object;
    expect(SandboxError.is(fake)).toBe(true);
  });
  it('SandboxConfigError names the first field and lists every issue', () => {
    const e = new SandboxConfigError([
      { path: 'memorySize', message: 'too small' },
      { path: 'numVcpus', message: 'bad' },
    ]);
    expect(e.code).toBe('SANDBOX_INVALID_CONFIG');
    expect(e.path).toBe('memorySize');
    expect(e.message).toBe('memorySize: too small (and 1 more)');
    expect(e.issues).toHaveLength(2);
    expect(e.name).toBe('SandboxConfigError');
  });
});
