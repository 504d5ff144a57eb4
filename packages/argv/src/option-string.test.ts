import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildOptions,
  encodeOptionString,
  escapeOptionValue,
  OPTION_IMPLIED_KEYS,
  parseOptionPairs,
  parseOptionString,
} from './option-string.js';

const CORPUS = new URL('../test/fixtures/libvirt-corpus/libvirt-qemu-options.tsv', import.meta.url);

function corpusRows(): Array<{ option: string; value: string; source: string }> {
  const lines = readFileSync(CORPUS, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const [header, ...rows] = lines;
  expect(header).toBe('option\tvalue\tsource');
  return rows.map((l) => {
    const [option, value, source] = l.split('\t');
    return { option: option!, value: value!, source: source! };
  });
}

describe('escapeOptionValue', () => {
  it.each([
    ['', ''],
    ['plain', 'plain'],
    ['a,b', 'a,,b'],
    [',', ',,'],
    [',,', ',,,,'],
    ['a=b,c', 'a=b,,c'],
  ])('%j -> %j', (input, expected) => {
    expect(escapeOptionValue(input)).toBe(expected);
  });
});

describe('parseOptionString (QemuOpts semantics)', () => {
  it('splits on single commas and unescapes ,,', () => {
    expect(parseOptionString('file=/a,,b,format=raw')).toEqual([
      { key: 'file', value: '/a,b' },
      { key: 'format', value: 'raw' },
    ]);
  });
  it('keeps = inside values', () => {
    expect(parseOptionString('value=This is,, more tricky value=escaped')).toEqual([
      { key: 'value', value: 'This is, more tricky value=escaped' },
    ]);
  });
  it('reads an implied first key only when asked', () => {
    expect(parseOptionString('socket,id=c0,server,nowait', { impliedKey: 'backend' })).toEqual([
      { key: undefined, value: 'socket' },
      { key: 'id', value: 'c0' },
      { key: 'server', value: undefined },
      { key: 'nowait', value: undefined },
    ]);
    expect(parseOptionString('socket,id=c0')).toEqual([
      { key: 'socket', value: undefined },
      { key: 'id', value: 'c0' },
    ]);
  });
  it('reads an implied value with escaped commas and a later =', () => {
    expect(parseOptionString('a,,b=c,x=y', { impliedKey: 'path' })).toEqual([
      { key: undefined, value: 'a,b=c' },
      { key: 'x', value: 'y' },
    ]);
  });
  it('an explicit key in first position wins over the implied key', () => {
    expect(parseOptionString('driver=virtio-net-pci,netdev=n0', { impliedKey: 'driver' })).toEqual([
      { key: 'driver', value: 'virtio-net-pci' },
      { key: 'netdev', value: 'n0' },
    ]);
  });
  it('handles empty values and the empty string', () => {
    expect(parseOptionString('')).toEqual([]);
    expect(parseOptionString('a=,b=')).toEqual([
      { key: 'a', value: '' },
      { key: 'b', value: '' },
    ]);
  });
  it('resolves flags as QemuOpts does', () => {
    expect(parseOptionPairs('socket,server,nowait,id=x', 'backend')).toEqual([
      ['backend', 'socket'],
      ['server', 'on'],
      ['wait', 'off'],
      ['id', 'x'],
    ]);
  });
});

describe('encodeOptionString', () => {
  it('escapes values, writes flags and implied values', () => {
    expect(
      encodeOptionString([
        { key: undefined, value: 'virtio-blk-pci' },
        { key: 'drive', value: 'a,b' },
        { key: 'server', value: undefined },
      ]),
    ).toBe('virtio-blk-pci,drive=a,,b,server');
  });
  it('refuses keys QEMU cannot read back', () => {
    expect(() => encodeOptionString([{ key: 'a,b', value: '1' }])).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_OPTION_STRING' }),
    );
    expect(() => encodeOptionString([{ key: 'a=b', value: '1' }])).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_OPTION_STRING' }),
    );
  });
  it('refuses an implied value QEMU would read as key=value, and implied entries after the first', () => {
    expect(() => encodeOptionString([{ key: undefined, value: 'a=b' }])).toThrow(
      expect.objectContaining({ code: 'ARGV_INVALID_OPTION_STRING' }),
    );
    expect(encodeOptionString([{ key: undefined, value: 'a,b=c' }])).toBe('a,,b=c');
    expect(() =>
      encodeOptionString([
        { key: 'a', value: '1' },
        { key: undefined, value: 'x' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'ARGV_INVALID_OPTION_STRING' }));
  });
});

describe('libvirt corpus (766 real option values)', () => {
  const rows = corpusRows();
  it('has the documented size', () => {
    expect(rows).toHaveLength(766);
    expect(rows.filter((r) => r.value.includes(',,'))).toHaveLength(20);
  });
  it('parses every value into key/value lists and re-encodes it byte for byte', () => {
    let escapedValues = 0;
    for (const { option, value, source } of rows) {
      const impliedKey = OPTION_IMPLIED_KEYS[option];
      const entries = parseOptionString(value, impliedKey === undefined ? {} : { impliedKey });
      expect(entries.length, `${option} ${value} (${source})`).toBeGreaterThan(0);
      for (const e of entries) {
        if (e.key !== undefined) expect(e.key).not.toMatch(/[,=]/);
        if (e.value?.includes(',')) escapedValues += 1;
      }
      expect(encodeOptionString(entries), `${option} ${value} (${source})`).toBe(value);
    }
    // the 20 rows with ",," hold at least 20 values with a literal comma
    expect(escapedValues).toBeGreaterThanOrEqual(20);
  });
  it('reads the escaped values as QEMU does', () => {
    const row = rows.find((r) => r.value.startsWith('file=/dev/HostVG/QEMU,,Guest'));
    expect(parseOptionPairs(row!.value)).toEqual([
      ['file', '/dev/HostVG/QEMU,Guest,,1'],
      ['format', 'raw'],
      ['if', 'none'],
      ['id', 'drive-ide0-0-0'],
    ]);
    const name = rows.find((r) => r.option === '-name' && r.value.includes(',,'));
    expect(parseOptionPairs(name!.value, '-name' in OPTION_IMPLIED_KEYS ? 'guest' : undefined)).toEqual([
      ['guest', 'foo=1,bar=2'],
      ['debug-threads', 'on'],
    ]);
  });
});

describe('round trip property (fast-check)', () => {
  const key = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,11}$/);
  const anyValue = fc.string({ unit: 'binary', maxLength: 40 });
  it('arbitrary values in any field parse back exactly, with no extra keys', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(key, anyValue), { selector: ([k]) => k, maxLength: 8 }),
        (pairs) => {
          const text = buildOptions(undefined, pairs);
          const parsed = parseOptionString(text);
          expect(parsed).toEqual(pairs.map(([k, v]) => ({ key: k, value: v })));
        },
      ),
      { numRuns: 2000 },
    );
  });
  it('an arbitrary implied head value parses back when it has no = before a comma', () => {
    fc.assert(
      fc.property(
        anyValue.filter((v) => !/^[^,]*=/.test(v)),
        fc.tuple(key, anyValue),
        (head, [k, v]) => {
          const text = buildOptions(head, [[k, v]]);
          expect(parseOptionString(text, { impliedKey: 'driver' })).toEqual([
            { key: undefined, value: head },
            { key: k, value: v },
          ]);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
