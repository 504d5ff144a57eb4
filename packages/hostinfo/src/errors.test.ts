import { describe, expect, it } from 'vitest';
import { HOSTINFO_ERROR_CODES, HostinfoError } from './errors.js';

describe('HostinfoError', () => {
  it('carries code, path and cause; name is inherited and not enumerable', () => {
    const cause = new Error('ENOENT');
    const e = new HostinfoError('HOSTINFO_FILE_UNREADABLE', 'cannot read /proc/x', {
      cause,
      path: '/proc/x',
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('HostinfoError');
    expect(Object.keys(e)).not.toContain('name');
    expect(e.code).toBe('HOSTINFO_FILE_UNREADABLE');
    expect(e.path).toBe('/proc/x');
    expect(e.cause).toBe(cause);
    expect(e.stack).toContain('cannot read /proc/x');
  });

  it('has no cause property when none is given', () => {
    expect('cause' in new HostinfoError('HOSTINFO_PARSE', 'x')).toBe(false);
  });

  it('is() works across realms via a global symbol brand, and rejects look-alikes', () => {
    const foreign = Object.create({ [Symbol.for('@vmm/hostinfo.HostinfoError')]: true }) as object;
    expect(HostinfoError.is(foreign)).toBe(true);
    expect(HostinfoError.is(new HostinfoError('HOSTINFO_PARSE', 'x'))).toBe(true);
    expect(HostinfoError.is(Object.assign(new Error('x'), { code: 'HOSTINFO_PARSE' }))).toBe(false);
    expect(HostinfoError.is(null)).toBe(false);
    expect(HostinfoError.is('HOSTINFO_PARSE')).toBe(false);
  });

  it('codes are package-prefixed SCREAMING_SNAKE, keyed by themselves', () => {
    for (const [k, v] of Object.entries(HOSTINFO_ERROR_CODES)) {
      expect(k).toBe(v);
      expect(k).toMatch(/^HOSTINFO_[A-Z_]+$/);
    }
  });
});
