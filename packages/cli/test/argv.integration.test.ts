import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { childPids, killAllQemus, makeTempDir, spawnQemu, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const run = promisify(execFile);
let tmp: TempDir;

beforeAll(async () => {
  // These tests run the built command, as a user would; `pnpm --filter @vmm/cli build` makes it.
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm --filter @vmm/cli build\` first`);
  tmp = await makeTempDir('vmm-cli-argv,');
});

afterAll(async () => {
  await killAllQemus();
  await tmp.remove();
  expect(childPids()).toEqual([]);
});

/** Run the built `vmm` with `input` on stdin; resolves with exit code and output. */
function vmm(args: string[], input = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
    child.stdin.end(input);
  });
}

describe('vmm argv (built CLI) against QEMU 7.2', () => {
  it('the printed JSON argv starts a real QEMU that opens the comma path', async () => {
    const disk = tmp.join('disk,1=x.img');
    writeFileSync(disk, '');
    await truncate(disk, 1 << 20);
    const config = tmp.join('vm.json');
    writeFileSync(
      config,
      JSON.stringify({
        machine: { type: 'q35' },
        memory: { size: '128M' },
        devices: [
          { kind: 'block', id: 'blk0', file: disk },
          { kind: 'rng', id: 'rng0' },
        ],
        smp: { cpus: 1, maxCpus: 2 },
      }),
    );
    const { stdout } = await run(process.execPath, [BIN, 'argv', '--json', config]);
    const argv = JSON.parse(stdout) as string[];
    expect(argv.at(-2)).toBe('-smp');
    const q = await spawnQemu({ machine: null, args: argv });
    try {
      expect(q.stderr()).not.toMatch(/error/i);
      // QEMU holds exactly that file open
      const open = readdirSync(`/proc/${q.pid}/fd`).map((fd) => {
        try {
          return readlinkSync(`/proc/${q.pid}/fd/${fd}`);
        } catch {
          return '';
        }
      });
      expect(open).toContain(disk);
    } finally {
      await q.kill();
    }
  });

  it('reads stdin with -, and shell-quoted output round-trips through sh', async () => {
    const r = await vmm(
      ['argv', '-'],
      JSON.stringify({ name: "it's a,vm", kernel: { path: '/k', params: 'console=ttyS0 quiet' } }),
    );
    expect(r.code).toBe(0);
    const { stdout } = await run('sh', ['-c', `printf '%s\\n' ${r.out.trim()}`]);
    expect(stdout.split('\n').slice(0, -1)).toEqual([
      '-name',
      "it's a,,vm",
      '-kernel',
      '/k',
      '-append',
      'console=ttyS0 quiet',
    ]);
  });

  it('a bad config exits 1 with one line naming the field', async () => {
    const r = await vmm(['argv', '-'], JSON.stringify({ smp: { cpus: 4, maxCpus: 2 } }));
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'vmm: smp.maxCpus: MaxCPUs 2 must be equal to or greater than CPUs 4 (got 2) [ARGV_INVALID_CONFIG]\n',
    );
  });
});
