import { describe, expect, it } from 'vitest';
import { QEMU_ARCH_ERROR_CODES, QemuArchError } from './errors.js';

describe('QemuArchError', () => {
  it('carries code, path, cause and an inherited name', () => {
    const cause = new Error('root');
    const e = new QemuArchError('QEMU_ARCH_UNSUPPORTED', 'nope', { path: 'options.iommu', cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('QemuArchError');
    expect(Object.keys(e)).not.toContain('name');
    expect(e.code).toBe('QEMU_ARCH_UNSUPPORTED');
    expect(e.path).toBe('options.iommu');
    expect(e.cause).toBe(cause);
    expect(new QemuArchError('QEMU_ARCH_NO_BRIDGE', 'x').path).toBe('');
  });
  it('is() works across copies (brand, not instanceof) and rejects look-alikes', () => {
    const e = new QemuArchError('QEMU_ARCH_NOT_CCW', 'x');
    expect(QemuArchError.is(e)).toBe(true);
    const foreign = Object.create(null) as Record<symbol, unknown>;
    foreign[Symbol.for('@vmm/qemu-arch.QemuArchError')] = true;
    expect(QemuArchError.is(foreign)).toBe(true);
    expect(QemuArchError.is(new Error('x'))).toBe(false);
    expect(QemuArchError.is({ code: 'QEMU_ARCH_NOT_CCW' })).toBe(false);
    expect(QemuArchError.is(null)).toBe(false);
  });
  it('codes are package-prefixed SCREAMING_SNAKE, key = value', () => {
    for (const [k, v] of Object.entries(QEMU_ARCH_ERROR_CODES)) {
      expect(k).toBe(v);
      expect(k).toMatch(/^QEMU_ARCH_[A-Z_]+$/);
    }
  });
});
