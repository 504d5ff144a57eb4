import { describe, expect, it } from 'vitest';
import { createGuestConsoleParser } from './console-parser.js';

describe('createGuestConsoleParser', () => {
  it('splits chunks into lines and parses markers', () => {
    const p = createGuestConsoleParser();
    expect(
      p.push('[    1.0] Run /init\r\nGUEST-READY cpus=1 mem-mb=256 blk=[] net=[] uptime=2.3\r\nHOTPLUG-'),
    ).toEqual([
      { line: '[    1.0] Run /init', event: undefined, truncated: false },
      {
        line: 'GUEST-READY cpus=1 mem-mb=256 blk=[] net=[] uptime=2.3',
        event: { kind: 'ready', cpus: 1, memMb: 256, blk: [], net: [], uptime: 2.3 },
        truncated: false,
      },
    ]);
    expect(p.push('BLK vda')).toEqual([]);
    expect(p.push('\n')).toEqual([
      { line: 'HOTPLUG-BLK vda', event: { kind: 'hotplugBlk', device: 'vda' }, truncated: false },
    ]);
    expect(p.flush()).toEqual([]);
  });

  it('gives the same result fed byte by byte, UTF-8 split across chunks included', () => {
    const text = 'naïve ✓ line\nCPUS 2\r\nMEM-MB 384\nGUEST-POWEROFF';
    const whole = createGuestConsoleParser();
    const expected = [...whole.push(text), ...whole.flush()];
    const bytes = new TextEncoder().encode(text);
    const p = createGuestConsoleParser();
    const got = [];
    for (const b of bytes) got.push(...p.push(Uint8Array.of(b)));
    got.push(...p.flush());
    expect(got).toEqual(expected);
    expect(got.map((l) => l.event?.kind)).toEqual([undefined, 'cpus', 'memMb', 'poweroff']);
    expect(got[0]?.line).toBe('naïve ✓ line');
  });

  it('bounds memory: an overlong line is cut once and its rest dropped', () => {
    const p = createGuestConsoleParser({ maxLineLength: 8 });
    expect(p.push('0123456789abcdef')).toEqual([{ line: '01234567', event: undefined, truncated: true }]);
    expect(p.push('more junk')).toEqual([]);
    expect(p.push('...\nCPUS 3\n')).toEqual([
      { line: 'CPUS 3', event: { kind: 'cpus', cpus: 3 }, truncated: false },
    ]);
    expect(() => createGuestConsoleParser({ maxLineLength: 0 })).toThrow(RangeError);
  });
});
