import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FrameResult, QmpFramer } from './framer.js';

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

function whole(input: Buffer, max?: number): FrameResult[] {
  return new QmpFramer(max === undefined ? {} : { maxMessageBytes: max }).push(input);
}

function byteByByte(input: Buffer, max?: number): FrameResult[] {
  const f = new QmpFramer(max === undefined ? {} : { maxMessageBytes: max });
  const out: FrameResult[] = [];
  for (let i = 0; i < input.length; i++) out.push(...f.push(input.subarray(i, i + 1)));
  return out;
}

const values = (r: FrameResult[]): unknown[] => r.map((x) => (x.kind === 'message' ? x.value : x.reason));

const PRETTY =
  '{\r\n    "return": {\r\n        "status": "running",\r\n        "x": [\r\n            {\r\n                "a": 1\r\n            }\r\n        ]\r\n    },\r\n    "id": 3\r\n}\r\n';

const CASES: Array<[string, string, unknown[]]> = [
  ['compact line', '{"return": {}, "id": 1}\r\n', [{ return: {}, id: 1 }]],
  [
    'several messages in one read',
    '{"return": {}, "id": 1}\r\n{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n{"return": 5, "id": 2}\r\n',
    [
      { return: {}, id: 1 },
      { event: 'STOP', timestamp: { seconds: 1, microseconds: 2 } },
      { return: 5, id: 2 },
    ],
  ],
  ['pretty=on multi-line object', PRETTY, [{ return: { status: 'running', x: [{ a: 1 }] }, id: 3 }]],
  [
    'braces, quotes and escaped CR/LF inside strings',
    '{"return": "a}b{\\"c\\" \\r\\n {\\"x\\": 1}", "id": 4}\r\n',
    [{ return: 'a}b{"c" \r\n {"x": 1}', id: 4 }],
  ],
  ['escaped backslash before a quote', '{"return": "a\\\\", "id": 5}\r\n', [{ return: 'a\\', id: 5 }]],
  ['non-ASCII UTF-8 and \\u escapes', '{"return": "é€😀\\u00E9", "id": 6}\r\n', [{ return: 'é€😀é', id: 6 }]],
  ['no trailing newline', '{"return": {}}', [{ return: {} }]],
  [
    'blank lines and whitespace between frames',
    '\r\n\r\n  {"a": 1}\r\n\t\r\n{"b": 2}\n',
    [{ a: 1 }, { b: 2 }],
  ],
  ['malformed JSON', '{"return": }\r\n{"ok": 1}\r\n', ['malformed', { ok: 1 }]],
  ['NaN', '{"return": NaN}\r\n', ['malformed']],
  ['trailing garbage after a frame', '{"a": 1} garbage\r\n{"b": 2}\r\n', [{ a: 1 }, 'not-object', { b: 2 }]],
  ['a JSON array', '[1, 2]\r\n', ['not-object']],
  ['a number', '42\r\n', ['not-object']],
  ['a string', '"x"\r\n', ['not-object']],
  ['an HMP banner', "QEMU 7.2.0 monitor - type 'help' for more information\r\n", ['not-object']],
  // JSON forbids raw control characters in strings: the frame still ends at its closing brace
  // (no split at the newline, even before a column-0 brace) and is one malformed frame.
  ['raw newline inside a string', '{"return": "a\nb", "id": 7}\r\n{"ok": 1}\r\n', ['malformed', { ok: 1 }]],
  [
    'raw CR LF then a column-0 brace inside a string',
    '{"return": "a\r\n{\\"x\\": 1}", "id": 8}\r\n{"ok": 2}\r\n',
    ['malformed', { ok: 2 }],
  ],
  [
    'a truncated object followed by a new one',
    '{"return": {"a": 1\r\n{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n',
    ['malformed', { event: 'STOP', timestamp: { seconds: 1, microseconds: 2 } }],
  ],
];

describe('QmpFramer', () => {
  it.each(CASES)('%s (whole)', (_name, input, expected) => {
    expect(values(whole(enc(input)))).toEqual(expected);
  });

  it.each(CASES)('%s (byte by byte)', (_name, input, expected) => {
    expect(values(byteByByte(enc(input)))).toEqual(expected);
  });

  it('keeps the raw text of malformed frames', () => {
    const [r] = whole(enc('{"return": }\r\n'));
    expect(r).toMatchObject({ kind: 'error', reason: 'malformed', raw: '{"return": }' });
    const [s] = whole(enc("QEMU 7.2.0 monitor - type 'help'\r\n"));
    expect(s).toMatchObject({ kind: 'error', raw: "QEMU 7.2.0 monitor - type 'help'" });
  });

  it('a raw (unescaped) newline inside a string is one malformed frame with the raw text', () => {
    const text = '{"return": "line1\nline2", "id": 7}';
    // Per JSON a raw control character in a string is invalid, and JSON.parse agrees.
    expect(() => JSON.parse(text)).toThrow(/control character/);
    const input = enc(`${text}\r\n{"id": 8}\r\n`);
    for (const out of [whole(input), byteByByte(input)]) {
      expect(out).toHaveLength(2);
      expect(out[0]).toMatchObject({ kind: 'error', reason: 'malformed', raw: text });
      expect((out[0] as { message: string }).message).toMatch(/^malformed JSON: .*control character/);
      expect(out[1]).toMatchObject({ kind: 'message', value: { id: 8 } });
    }
    // Nothing is left half-framed: a frame cut right after the raw newline is still waiting for
    // its closing brace, and completes (as malformed) when it arrives.
    const f = new QmpFramer();
    expect(f.push(enc('{"return": "line1\n'))).toEqual([]);
    expect(f.pendingBytes).toBeGreaterThan(0);
    expect(values(f.push(enc('line2", "id": 7}\r\n')))).toEqual(['malformed']);
    expect(f.pendingBytes).toBe(0);
  });

  it('splits inside a UTF-8 sequence, between CR and LF, and inside a \\u escape', () => {
    const input = enc('{"return": "é\\u00E9"}\r\n{"id": 1}\r\n');
    const cut = [13, 14, 17, 21, 24];
    const f = new QmpFramer();
    const out: FrameResult[] = [];
    let from = 0;
    for (const c of cut) {
      out.push(...f.push(input.subarray(from, c)));
      from = c;
    }
    out.push(...f.push(input.subarray(from)));
    expect(values(out)).toEqual([{ return: 'éé' }, { id: 1 }]);
  });

  it('does not keep references to the caller buffer (reused buffers are safe)', () => {
    const f = new QmpFramer();
    const buf = Buffer.from('{"return": "ab');
    expect(f.push(buf)).toEqual([]);
    buf.fill(0x20);
    expect(values(f.push(Buffer.from('cd"}\r\n')))).toEqual([{ return: 'abcd' }]);
  });

  it('reports a never-terminated message once at the cap, then discards input', () => {
    const f = new QmpFramer({ maxMessageBytes: 1024 });
    const out: FrameResult[] = [];
    out.push(...f.push(enc('{"return": "')));
    for (let i = 0; i < 100; i++) out.push(...f.push(Buffer.alloc(100, 0x61)));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'error', reason: 'too-large' });
    expect(f.poisoned).toBe(true);
    expect(f.pendingBytes).toBe(0);
    expect(f.push(enc('{"a": 1}\r\n'))).toEqual([]);
    f.reset();
    expect(values(f.push(enc('{"a": 1}\r\n')))).toEqual([{ a: 1 }]);
  });

  it('caps stray text too (a flood with no newline)', () => {
    expect(values(whole(Buffer.alloc(5000, 0x61), 1000))).toEqual(['too-large']);
  });

  it('accepts a 5 MB reply whole and in 64 KiB chunks without quadratic copying', () => {
    const big = `{"return": "${'x'.repeat(5 * 1024 * 1024)}", "id": 9}\r\n`;
    const input = enc(big);
    expect((whole(input)[0] as unknown as { value: { id: number } }).value.id).toBe(9);
    const f = new QmpFramer();
    const out: FrameResult[] = [];
    for (let i = 0; i < input.length; i += 65536) out.push(...f.push(input.subarray(i, i + 65536)));
    expect(out).toHaveLength(1);
    expect((out[0] as unknown as { value: { return: string } }).value.return).toHaveLength(5 * 1024 * 1024);
  });

  it('property: any chunking of any message sequence yields the same frames as whole delivery', () => {
    const jsonValue = fc.jsonValue({ maxDepth: 3 });
    const message = fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 });
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 50 }),
        (msgs, pretty, sizes) => {
          const text = msgs
            .map(
              (m) =>
                `${pretty ? JSON.stringify(m, null, 4).replaceAll('\n', '\r\n') : JSON.stringify(m)}\r\n`,
            )
            .join('');
          const input = enc(text);
          const f = new QmpFramer();
          const out: FrameResult[] = [];
          let at = 0;
          let k = 0;
          while (at < input.length) {
            const size = sizes[k++ % sizes.length]!;
            out.push(...f.push(input.subarray(at, at + size)));
            at += size;
          }
          expect(values(out)).toEqual(JSON.parse(JSON.stringify(msgs)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
