import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type HostInfo, HostInfoSchema } from '@vmm/hostinfo';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const FX = fileURLToPath(new URL('../../hostinfo/test/fixtures/', import.meta.url));
const run = promisify(execFile);

beforeAll(() => {
  // These tests run the built command, as a user would; `pnpm run build` (or .ci/run) makes it.
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm --filter @vmm/cli build\` first`);
});

interface FixtureHost {
  name: string;
  sys: string;
  dev: string;
  facts: Record<string, unknown>;
}
const HOSTS = JSON.parse(readFileSync(`${FX}hosts.json`, 'utf8')) as FixtureHost[];

function pick(value: unknown, path: string): unknown {
  let v: unknown = value;
  for (const key of path.split('.'))
    v = v === null || v === undefined ? undefined : (v as Record<string, unknown>)[key];
  return v;
}

async function vmm(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 30_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

describe('vmm hostinfo --json (built CLI)', () => {
  it.each(HOSTS)('--proc-root fixtures/proc/$name reproduces its facts', async (host) => {
    const r = await vmm([
      'hostinfo',
      '--json',
      '--proc-root',
      `${FX}proc/${host.name}`,
      '--sys-root',
      `${FX}sys/${host.sys}`,
      '--dev-root',
      `${FX}dev/${host.dev}`,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const info = HostInfoSchema.parse(JSON.parse(r.out));
    for (const [path, want] of Object.entries(host.facts)) expect(pick(info, path), path).toEqual(want);
    expect(info.roots.proc).toBe(`${FX}proc/${host.name}`);
  });

  it('with only --proc-root, the CPU and memory facts still come from the fixture', async () => {
    const r = await vmm(['hostinfo', '--json', '--proc-root', `${FX}proc/arm64-altra`]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out) as HostInfo;
    expect(info).toMatchObject({
      arch: 'arm64',
      cpu: { count: 80, modelName: 'ARM Neoverse-N1' },
      memory: { totalKiB: 263698108 },
    });
    expect(info.roots).toEqual({ proc: `${FX}proc/arm64-altra`, sys: '/sys', dev: '/dev' });
  });

  it('on this host: matches nproc, free, uname -m and /dev/kvm', async () => {
    const r = await vmm(['hostinfo', '--json']);
    expect(r.code).toBe(0);
    const info = HostInfoSchema.parse(JSON.parse(r.out));
    expect(info.machine).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
    // cpuinfo lists online CPUs; nproc (affinity) can only be fewer.
    const online = Number(execFileSync('getconf', ['_NPROCESSORS_ONLN'], { encoding: 'utf8' }));
    expect(info.cpu?.count).toBe(online);
    expect(Number(execFileSync('nproc', { encoding: 'utf8' }))).toBeLessThanOrEqual(online);
    const mem = execFileSync('free', ['-k'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Mem:'))!;
    expect(info.memory?.totalKiB).toBe(Number(mem.split(/\s+/)[1]));
    let kvm = false;
    try {
      execFileSync('test', ['-e', '/dev/kvm']);
      kvm = true;
    } catch {}
    expect(info.kvm.device.present).toBe(kvm);
    expect(info.qemu.version?.major).toBeGreaterThanOrEqual(5);
  });

  it('prints a table without --json', async () => {
    const r = await vmm([
      'hostinfo',
      '--proc-root',
      `${FX}proc/s390x-lpar`,
      '--sys-root',
      `${FX}sys/s390x-lpar`,
      '--dev-root',
      `${FX}dev/s390x-lpar`,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('CPU             4 x IBM z15 (8561) (IBM/S390)');
    expect(r.out).toContain(
      'Nested          no: LPAR (PR/SM) only: KVM guests run as first-level SIE guests',
    );
  });

  it('errors are one line; --debug adds the stack', async () => {
    const r = await vmm(['hostinfo', '--proc-root', '/nonexistent']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('vmm: procRoot /nonexistent is not a readable directory [HOSTINFO_FILE_UNREADABLE]\n');
    const d = await vmm(['hostinfo', '--proc-root', '/nonexistent', '--debug']);
    expect(d.code).toBe(1);
    expect(d.err.split('\n').length).toBeGreaterThan(3);
    expect(d.err).toContain('HostinfoError');
  });
});
