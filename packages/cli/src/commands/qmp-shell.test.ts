import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type FakeQmpServer, startFakeQmp } from '@vmm/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { makeCompleter, parseShellLine, parseShellValue } from './qmp-shell.js';

describe('parseShellLine (qmp-shell syntax)', () => {
  it.each([
    ['', { kind: 'empty' }],
    ['   # comment', { kind: 'empty' }],
    ['query-status', { kind: 'command', command: 'query-status', args: undefined }],
    ['device_del id=disk1', { kind: 'command', command: 'device_del', args: { id: 'disk1' } }],
    ['balloon value=1073741824', { kind: 'command', command: 'balloon', args: { value: 1073741824 } }],
    [
      'blockdev-add driver=raw node-name=n1 read-only=true file.driver=file file.filename=/tmp/a b=null',
      {
        kind: 'command',
        command: 'blockdev-add',
        args: {
          driver: 'raw',
          'node-name': 'n1',
          'read-only': true,
          file: { driver: 'file', filename: '/tmp/a' },
          b: null,
        },
      },
    ],
    [
      `migrate-set-capabilities capabilities=[{"capability":"events","state":true}]`,
      {
        kind: 'command',
        command: 'migrate-set-capabilities',
        args: { capabilities: [{ capability: 'events', state: true }] },
      },
    ],
    [
      `human-monitor-command command-line="info status"`,
      { kind: 'command', command: 'human-monitor-command', args: { 'command-line': 'info status' } },
    ],
    [`x s='with space' n="42"`, { kind: 'command', command: 'x', args: { s: 'with space', n: '42' } }],
    ['{"execute": "query-name"}', { kind: 'command', command: 'query-name', args: undefined }],
    [
      '{"execute": "device_del", "arguments": {"id": "d"}}',
      { kind: 'command', command: 'device_del', args: { id: 'd' } },
    ],
    ['transaction(', { kind: 'transaction-begin' }],
    [')', { kind: 'transaction-end' }],
    [':hmp', { kind: 'meta', name: 'hmp' }],
  ])('%j', (line, expected) => {
    expect(parseShellLine(line)).toEqual(expected);
  });

  it.each([
    ['device_del disk1', /expected key=value, got "disk1"/],
    ['x a=1 a=2', /given twice/],
    ['x a=1 a.b=2', /conflicts/],
    ['x .a=1', /bad argument name/],
    ['{"execute": ', /not valid JSON/],
    ['{"arguments": {}}', /needs "execute"/],
  ])('rejects %j', (line, message) => {
    expect(() => parseShellLine(line)).toThrow(message);
  });

  it('values: JSON when it parses, else text', () => {
    expect(parseShellValue('12')).toBe(12);
    expect(parseShellValue('false')).toBe(false);
    expect(parseShellValue('abc')).toBe('abc');
    expect(parseShellValue("'q'")).toBe('q');
    expect(parseShellValue('/dev/fdset/1')).toBe('/dev/fdset/1');
  });

  it('completes the first word from command names', () => {
    const c = makeCompleter(['query-status', 'query-name', 'quit', 'device_add']);
    expect(c('query-')).toEqual([['query-name', 'query-status'], 'query-']);
    expect(c('qu')).toEqual([['query-name', 'query-status', 'quit'], 'qu']);
    expect(c('device_add id=')).toEqual([[], 'device_add id=']);
  });
});

async function shell(server: FakeQmpServer, args: string[], script: string) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  stdin.end(script);
  const code = await main(['qmp-shell', server.path, ...args], { stdin, stdout, stderr, env: {} });
  return { code, out, err };
}

let server: FakeQmpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('vmm qmp-shell (scripted stdin, fake QMP server)', () => {
  it('runs each line, prints replies and errors, events as they arrive, and records history', async () => {
    server = await startFakeQmp({
      handler: (req, conn) => {
        switch (req.command) {
          case 'query-commands':
            return { return: [{ name: 'query-status' }, { name: 'device_del' }] };
          case 'query-status':
            return { return: { status: 'running', running: true } };
          case 'device_del':
            conn.event('DEVICE_DELETED', { device: 'd1', path: '/p' });
            return { return: {} };
          case 'human-monitor-command':
            return { return: `ran: ${String(req.arguments?.['command-line'])}\r\n` };
          case 'transaction':
            return { return: { n: ((req.arguments?.actions ?? []) as unknown[]).length } };
          default:
            return {
              error: { class: 'CommandNotFound', desc: `The command ${req.command} has not been found` },
            };
        }
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'vmm-hist-'));
    try {
      const hist = join(dir, 'history');
      const r = await shell(
        server,
        ['--history', hist],
        [
          'query-status',
          '# a comment',
          'device_del id=d1',
          'nope',
          'bad token',
          'transaction(',
          'blockdev-snapshot-sync device=a snapshot-file=/tmp/s',
          'abort',
          ')',
          ':hmp',
          'info status',
          ':qmp',
          '',
        ].join('\n'),
      );
      expect(r.code).toBe(1);
      const lines = r.out.trim().split('\n');
      expect(JSON.parse(lines[0]!)).toEqual({ return: { status: 'running', running: true } });
      expect(JSON.parse(lines[1]!)).toMatchObject({ event: 'DEVICE_DELETED', data: { device: 'd1' } });
      expect(JSON.parse(lines[2]!)).toEqual({ return: {} });
      expect(JSON.parse(lines[3]!)).toEqual({
        error: { class: 'CommandNotFound', desc: 'The command nope has not been found' },
      });
      expect(JSON.parse(lines[4]!)).toEqual({ return: { n: 2 } });
      expect(lines[5]).toBe('ran: info status'); // HMP text as is (its CRLF trimmed by the split)
      expect(r.err).toContain('expected key=value, got "token"');
      const tx = server.connections[0]!.requests.find((q) => q.command === 'transaction');
      expect(tx?.arguments).toEqual({
        actions: [
          { type: 'blockdev-snapshot-sync', data: { device: 'a', 'snapshot-file': '/tmp/s' } },
          { type: 'abort', data: {} },
        ],
      });
      expect(readFileSync(hist, 'utf8')).toContain('device_del id=d1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-p pretty-prints; a clean script exits 0', async () => {
    server = await startFakeQmp({ handler: () => ({ return: { a: 1 } }) });
    const r = await shell(server, ['-p'], 'query-name\n');
    expect(r.code).toBe(0);
    expect(r.out).toBe('{\n    "return": {\n        "a": 1\n    }\n}\n');
  });

  it('-H starts in HMP mode', async () => {
    server = await startFakeQmp({
      handler: (req) => ({ return: `hmp:${String(req.arguments?.['command-line'])}\n` }),
    });
    const r = await shell(server, ['-H'], 'info version\n');
    expect(r.out).toBe('hmp:info version\n');
  });

  it('input ending inside transaction( sends nothing and fails', async () => {
    server = await startFakeQmp();
    const r = await shell(server, [], 'transaction(\nabort\n');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/inside transaction/);
    expect(server.connections[0]!.requests.map((q) => q.command)).not.toContain('transaction');
  });

  it('a lost connection ends the shell with status 1', async () => {
    server = await startFakeQmp({ handler: (req) => (req.command === 'die' ? 'close' : undefined) });
    const r = await shell(server, [], 'die\nquery-status\n');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/QMP_DISCONNECTED/);
  });
});
