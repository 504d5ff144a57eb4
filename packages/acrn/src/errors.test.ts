import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ACRN_ERROR_CODES, AcrnError, formatPath, fromZodError, parseWith } from './errors.js';

describe('AcrnError', () => {
  it('carries code, details and cause; name is inherited and not enumerable', () => {
    const cause = new Error('inner');
    const e = new AcrnError('ACRN_LAUNCH_FAILED', 'boom', {
      cause,
      stderr: 'x',
      exitCode: 2,
      command: ['a'],
    });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('AcrnError');
    expect(Object.keys(e)).not.toContain('name');
    expect(e.cause).toBe(cause);
    expect([e.code, e.stderr, e.exitCode, e.command]).toEqual(['ACRN_LAUNCH_FAILED', 'x', 2, ['a']]);
    expect(new AcrnError('ACRN_IO', 'no cause')).not.toHaveProperty('cause');
  });

  it('is() works across realms and rejects look-alikes', () => {
    expect(AcrnError.is(new AcrnError('ACRN_IO', 'x'))).toBe(true);
    expect(AcrnError.is({ code: 'ACRN_IO', name: 'AcrnError' })).toBe(false);
    expect(AcrnError.is(null)).toBe(false);
    const foreign = runInNewContext(
      'const b = Symbol.for("@vmm/acrn.AcrnError"); const o = new Error("x"); Object.defineProperty(o, b, { value: true }); o',
    );
    expect(AcrnError.is(foreign)).toBe(true);
  });

  it('has a code table whose keys are its values', () => {
    for (const [k, v] of Object.entries(ACRN_ERROR_CODES)) expect(k).toBe(v);
  });
});

describe('zod mapping', () => {
  it('names the first issue path and keeps every issue', () => {
    const schema = z.object({ devices: z.array(z.object({ filePath: z.string() })), name: z.string() });
    const r = schema.safeParse({ devices: [{ filePath: 1 }], name: 2 });
    if (r.success) throw new Error('expected failure');
    const e = fromZodError('config', r.error);
    expect(e.code).toBe('ACRN_INVALID_CONFIG');
    expect(e.path).toEqual(['devices', 0, 'filePath']);
    expect(e.issues).toHaveLength(2);
    expect(e.message).toMatch(/^config\.devices\[0\]\.filePath: .* \(and 1 more issue\(s\)\)$/);
    expect(e.cause).toBe(r.error);
  });

  it('parseWith returns parsed data or throws AcrnError', () => {
    expect(parseWith(z.int().default(3), undefined, 'n')).toBe(3);
    expect(() => parseWith(z.int(), 'x', 'n')).toThrow(
      expect.objectContaining({ code: 'ACRN_INVALID_CONFIG', path: [] }),
    );
  });

  it('formats paths', () => {
    expect(formatPath([])).toBe('(root)');
    expect(formatPath(['a', 0, 'b', 1])).toBe('a[0].b[1]');
  });
});
