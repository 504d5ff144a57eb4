import { describe, expect, it } from 'vitest';
import { AcrnError } from './errors.js';
import { assertSignallablePid, OutputTail, processExists, signalPid } from './process.js';

describe('assertSignallablePid', () => {
  it.each([0, -1, -process.pid, 1, process.pid, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '42', undefined])(
    'refuses %s',
    (pid) => {
      expect(() => assertSignallablePid(pid)).toThrow(expect.objectContaining({ code: 'ACRN_INVALID_PID' }));
    },
  );

  it('accepts a plain pid', () => {
    expect(() => assertSignallablePid(process.ppid)).not.toThrow();
  });

  it('guards signalPid and processExists too', () => {
    expect(() => signalPid(0, 'SIGINT')).toThrow(AcrnError);
    expect(() => signalPid(-1, 'SIGKILL')).toThrow(AcrnError);
    expect(() => processExists(0)).toThrow(AcrnError);
    expect(processExists(process.ppid)).toBe(true);
  });
});

describe('OutputTail', () => {
  it('keeps the last bytes', () => {
    const t = new OutputTail(5);
    t.push('abc');
    expect(t.toString()).toBe('abc');
    t.push(Buffer.from('defg'));
    expect(t.toString()).toBe('cdefg');
    t.push('0123456789');
    expect(t.toString()).toBe('56789');
  });
});
