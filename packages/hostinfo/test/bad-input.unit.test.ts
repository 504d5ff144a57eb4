import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HostinfoError,
  parseCpuinfo,
  readCpuinfo,
  readHostInfo,
  readHostMemorySizeKiB,
  readMeminfo,
  readRunningOnVmm,
  runHostChecks,
} from '../src/index.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
let root: string;
let n = 0;

/** A fresh proc root copied from a fixture, with files overridden (null deletes). */
function procTree(from: string, files: Record<string, string | Buffer | null> = {}): string {
  n += 1;
  const dir = join(root, `proc-${n}`);
  cpSync(join(FIXTURES, 'proc', from), dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    if (content === null) rmSync(join(dir, name), { force: true });
    else writeFileSync(join(dir, name), content);
  }
  return dir;
}

const roots = (proc: string) => ({
  procRoot: proc,
  sysRoot: join(FIXTURES, 'sys/amd64-baremetal'),
  devRoot: join(FIXTURES, 'dev/amd64-baremetal'),
  env: {},
  qemu: false,
});

beforeAll(() => {
  root = join(tmpdir(), `hostinfo-bad-${process.pid}`);
  mkdirSync(root, { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('missing files', () => {
  it('readHostInfo gives a documented partial result with warnings naming each file', async () => {
    const proc = procTree('amd64-baremetal', { cpuinfo: null, meminfo: null });
    const info = await readHostInfo(roots(proc));
    expect(info.cpu).toBeNull();
    expect(info.memory).toBeNull();
    expect(info.nested).toMatchObject({ nested: null, method: 'none' });
    expect(info.warnings).toEqual([
      { code: 'HOSTINFO_FILE_UNREADABLE', message: `cannot read ${proc}/cpuinfo: ENOENT` },
      { code: 'HOSTINFO_FILE_UNREADABLE', message: `cannot read ${proc}/meminfo: ENOENT` },
    ]);
    const report = runHostChecks(info);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.id === 'memory')).toMatchObject({ status: 'fail' });
  });

  it('the single-file readers throw typed errors with the path and the errno cause', async () => {
    const proc = procTree('amd64-baremetal', { cpuinfo: null, meminfo: null });
    for (const read of [readCpuinfo, readMeminfo, readHostMemorySizeKiB, readRunningOnVmm]) {
      const err = await read({ procRoot: proc }).catch((e: unknown) => e);
      expect(HostinfoError.is(err), read.name).toBe(true);
      expect(err).toMatchObject({ code: 'HOSTINFO_FILE_UNREADABLE', cause: { code: 'ENOENT' } });
    }
  });

  it('a missing root directory is an error, not an empty result', async () => {
    await expect(readHostInfo({ procRoot: join(root, 'nope') })).rejects.toMatchObject({
      code: 'HOSTINFO_FILE_UNREADABLE',
      message: expect.stringContaining('procRoot'),
    });
  });

  it('a proc root without sys/kernel/arch falls back to this process and says so', async () => {
    const proc = procTree('amd64-baremetal', { 'sys/kernel/arch': null });
    const info = await readHostInfo(roots(proc));
    expect(info.machine).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
    expect(info.warnings[0]?.message).toContain('sys/kernel/arch');
  });

  it('a missing MemTotal line is HOSTINFO_NO_MEMTOTAL; a missing flags line on x86 is HOSTINFO_NO_CPU_FLAGS', async () => {
    const proc = procTree('amd64-baremetal', {
      meminfo: 'MemFree: 1 kB\n',
      cpuinfo: 'processor\t: 0\nvendor_id\t: GenuineIntel\n',
    });
    await expect(readHostMemorySizeKiB({ procRoot: proc })).rejects.toMatchObject({
      code: 'HOSTINFO_NO_MEMTOTAL',
      path: `${proc}/meminfo`,
    });
    await expect(readRunningOnVmm({ procRoot: proc })).rejects.toMatchObject({
      code: 'HOSTINFO_NO_CPU_FLAGS',
      path: `${proc}/cpuinfo`,
    });
    const info = await readHostInfo(roots(proc));
    expect(info.memory).toMatchObject({ totalKiB: null, freeKiB: 1 });
    expect(info.nested.nested).toBeNull();
    expect(info.warnings.map((w) => w.code).sort()).toEqual([
      'HOSTINFO_NO_CPU_FLAGS',
      'HOSTINFO_NO_MEMTOTAL',
    ]);
  });
});

describe('truncated and garbage files', () => {
  it('a cpuinfo cut mid-line keeps the complete processors', async () => {
    const full = readFileSync(join(FIXTURES, 'proc/amd64-baremetal/cpuinfo'), 'utf8');
    const proc = procTree('amd64-baremetal', {
      cpuinfo: full.slice(0, full.indexOf('processor\t: 5') + 40),
      meminfo: 'MemTotal:  1024',
    });
    const info = await readHostInfo(roots(proc));
    expect(info.cpu?.count).toBe(6);
    expect(info.cpu?.virtualization).toBe('vmx');
    expect(info.nested.nested).toBe(false);
    // "MemTotal:  1024" without kB: not well-formed for Kata; meminfo still parses (a count).
    expect(info.memory?.totalKiB).toBeNull();
  });

  it('binary garbage is HOSTINFO_PARSE, reported as a warning by readHostInfo', async () => {
    const garbage = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919 + 13) % 256));
    const proc = procTree('amd64-baremetal', { cpuinfo: garbage, meminfo: garbage });
    const info = await readHostInfo(roots(proc));
    expect(info.cpu).toBeNull();
    expect(info.memory).toBeNull();
    expect(info.warnings.map((w) => w.code)).toEqual(['HOSTINFO_PARSE', 'HOSTINFO_PARSE']);
    await expect(readCpuinfo({ procRoot: proc })).rejects.toMatchObject({ code: 'HOSTINFO_PARSE' });
  });

  it('an empty file is HOSTINFO_PARSE', async () => {
    const proc = procTree('amd64-baremetal', { meminfo: '' });
    await expect(readMeminfo({ procRoot: proc })).rejects.toMatchObject({
      code: 'HOSTINFO_PARSE',
      message: expect.stringContaining('empty file'),
    });
  });
});

describe('size limits', () => {
  it('a 10 MB cpuinfo parses in one pass (6,000+ processors)', async () => {
    const one = readFileSync(join(FIXTURES, 'proc/amd64-baremetal/cpuinfo'), 'utf8').split('\n\n')[0]!;
    const blocks: string[] = [];
    let size = 0;
    for (let i = 0; size < 10 * 1024 * 1024; i++) {
      const b = one.replace(/^processor\t: \d+/, `processor\t: ${i}`);
      blocks.push(b);
      size += b.length + 2;
    }
    const text = `${blocks.join('\n\n')}\n`;
    const proc = procTree('amd64-baremetal', { cpuinfo: text });
    const c = await readCpuinfo({ procRoot: proc });
    expect(c.truncated).toBe(false);
    expect(c.count).toBe(blocks.length);
    expect(c.processors.at(-1)?.index).toBe(blocks.length - 1);
    expect(parseCpuinfo(text).flags).toContain('vmx');
  });

  it('beyond maxFileBytes the read stops, cuts back to a whole line, and says so', async () => {
    const full = readFileSync(join(FIXTURES, 'proc/amd64-baremetal/cpuinfo'), 'utf8');
    const proc = procTree('amd64-baremetal');
    const info = await readHostInfo({ ...roots(proc), maxFileBytes: 8192 });
    expect(info.cpu?.truncated).toBe(true);
    expect(info.cpu?.count).toBeLessThan(16);
    expect(info.cpu?.count).toBeGreaterThan(0);
    expect(info.warnings.map((w) => w.code)).toContain('HOSTINFO_TRUNCATED');
    expect(full.length).toBeGreaterThan(8192);
  });

  it('a FIFO in a fixture tree fails instead of hanging', async () => {
    const proc = procTree('amd64-baremetal', { cpuinfo: null });
    execFileSync('mkfifo', [join(proc, 'cpuinfo')]);
    const err = await readCpuinfo({ procRoot: proc }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expect.stringMatching(/^HOSTINFO_(FILE_UNREADABLE|PARSE)$/) });
  });
});

describe('options and cancellation', () => {
  it.each([
    [{ procRoot: '' }, 'procRoot'],
    [{ maxFileBytes: 1 }, 'maxFileBytes'],
    [{ qemuTimeoutMs: -1 }, 'qemuTimeoutMs'],
    [{ bogus: 1 }, '(options)'],
  ])('invalid options are HOSTINFO_INVALID_OPTIONS naming the field: %j', async (opts, field) => {
    await expect(readHostInfo(opts as never)).rejects.toMatchObject({
      code: 'HOSTINFO_INVALID_OPTIONS',
      message: expect.stringContaining(field),
    });
  });

  it('an aborted signal rejects with HOSTINFO_ABORTED', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(
      readHostInfo({ ...roots(procTree('amd64-baremetal')), signal: ac.signal }),
    ).rejects.toMatchObject({
      code: 'HOSTINFO_ABORTED',
    });
  });
});
