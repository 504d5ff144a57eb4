import { describe, expect, it } from 'vitest';
import { GUEST_ERROR_CODES, GuestError } from './errors.js';

describe('GuestError', () => {
  it('carries code, cause and a bounded stderr tail', () => {
    const cause = new Error('boom');
    const e = new GuestError('GUEST_APT_FAILED', 'apt-get download failed', {
      cause,
      stderr: `${'x'.repeat(5000)}END`,
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('GuestError');
    expect(e.code).toBe('GUEST_APT_FAILED');
    expect(e.cause).toBe(cause);
    expect(e.stderr?.endsWith('END')).toBe(true);
    expect(e.stderr?.length).toBeLessThanOrEqual(4097);
    expect(Object.keys(e)).not.toContain('name');
  });

  it('is() recognises copies from another realm by brand, and nothing else', () => {
    const foreign = Object.create({ [Symbol.for('@vmm/guest.GuestError')]: true });
    expect(GuestError.is(foreign)).toBe(true);
    expect(GuestError.is(new GuestError('GUEST_ABORTED', 'x'))).toBe(true);
    expect(GuestError.is(new Error('x'))).toBe(false);
    expect(GuestError.is(null)).toBe(false);
    expect(GuestError.is('GUEST_ABORTED')).toBe(false);
  });

  it('has package-prefixed SCREAMING_SNAKE codes keyed by themselves', () => {
    for (const [k, v] of Object.entries(GUEST_ERROR_CODES)) {
      expect(k).toBe(v);
      expect(k).toMatch(/^GUEST_[A-Z_]+$/);
    }
  });
});
