import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { formatExplanation, shellQuote } from './argv.js';

const dir = mkdtempSync(join(tmpdir(), 'vmm-cli-argv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

async function run(args: string[], stdinText?: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  stdin.end(stdinText ?? '');
  const code = await main(args, { stdout, stderr, stdin, env: {} });
  return { code, out, err };
}

const config = {
  machine: { type: 'q35' },
  devices: [{ kind: 'block', id: 'd0', file: "/tmp/it's a,b.img" }],
  smp: { cpus: 2 },
};

describe('shellQuote', () => {
  it.each([
    ['plain', 'plain'],
    ['a,,b=c/d.img', 'a,,b=c/d.img'],
    ['a b', "'a b'"],
    ["it's", `'it'\\''s'`],
    ['', "''"],
    ['$(rm -rf /)', "'$(rm -rf /)'"],
  ])('%j -> %s', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });
});

describe('vmm argv', () => {
  it('prints the argv shell-quoted', async () => {
    const r = await run(['argv', file('c.json', config)]);
    expect(r).toEqual({
      code: 0,
      out: `-machine q35 -device virtio-blk-pci,drive=d0,scsi=off,config-wce=off,serial=d0 -drive 'id=d0,file=/tmp/it'\\''s a,,b.img,aio=threads,format=raw,if=none' -smp 2\n`,
      err: '',
    });
  });
  it('--json prints a JSON array', async () => {
    const r = await run(['argv', '--json', file('c.json', config)]);
    expect(JSON.parse(r.out)).toEqual([
      '-machine',
      'q35',
      '-device',
      'virtio-blk-pci,drive=d0,scsi=off,config-wce=off,serial=d0',
      '-drive',
      "id=d0,file=/tmp/it's a,,b.img,aio=threads,format=raw,if=none",
      '-smp',
      '2',
    ]);
  });
  it('- reads the config from stdin; fds are listed on stderr', async () => {
    const r = await run(
      ['argv', '--json', '-'],
      JSON.stringify({ devices: [{ kind: 'net', type: 'tap', id: 'n0', ifName: 'tap0', fds: [10] }] }),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([
      '-netdev',
      'tap,id=n0,fds=3',
      '-device',
      'driver=virtio-net-pci,netdev=n0,mq=on,vectors=4',
    ]);
    expect(r.err).toBe('vmm argv: QEMU expects fd 3 = host fd 10 (devices[0].fds[0])\n');
  });
  it('--explain shows each option and its pairs, parsed back', async () => {
    const r = await run(['argv', '--explain', file('c.json', config)]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      `-drive 'id=d0,file=/tmp/it'\\''s a,,b.img,aio=threads,format=raw,if=none'\n    # a block backend\n    id      "d0"\n    file    "/tmp/it's a,b.img"\n`,
    );
    expect(r.out).toContain('-smp 2\n    # CPU topology\n    cpus  "2"\n');
    const j = await run(['argv', '--explain', '--json', file('c.json', config)]);
    expect(JSON.parse(j.out)[1]).toMatchObject({
      option: '-device',
      pairs: [
        ['driver', 'virtio-blk-pci'],
        ['drive', 'd0'],
        ['scsi', 'off'],
        ['config-wce', 'off'],
        ['serial', 'd0'],
      ],
    });
    expect(formatExplanation(['-S'])).toBe('-S\n    # start with the CPUs stopped\n');
  });
  it('a bad config is one line naming the field path, exit 1', async () => {
    const bad = {
      devices: [
        { kind: 'rng', id: 'r0' },
        { kind: 'block', id: 'my disk', file: '/d' },
      ],
    };
    const r = await run(['argv', file('bad.json', bad)]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /^vmm: devices\[1\]\.id \(block\): must start with a letter.* \(got "my disk"\) \[ARGV_INVALID_ID\]\n$/,
    );
    const k = await run(['argv', '-'], JSON.stringify({ devices: [{ kind: 'floppy' }] }));
    expect(k.err).toBe('vmm: devices[0].kind: unknown device kind "floppy" [ARGV_UNKNOWN_KIND]\n');
  });
  it('unreadable or invalid JSON input is CLI_INPUT; missing argument is a usage error', async () => {
    const a = await run(['argv', join(dir, 'missing.json')]);
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/^vmm: vmm argv: cannot read .*missing\.json: .*ENOENT.* \[CLI_INPUT\]\n$/);
    const b = await run(['argv', file('broken.json', '{"name":')]);
    expect(b.err).toMatch(/is not valid JSON.*\[CLI_INPUT\]\n$/);
    const c = await run(['argv']);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/exactly one config file/);
  });
});
