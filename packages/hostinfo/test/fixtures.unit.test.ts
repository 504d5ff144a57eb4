import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  HostInfoSchema,
  readHostInfo,
  readHostMemorySizeKiB,
  readRunningOnVmm,
  runHostChecks,
} from '../src/index.js';

const fx = (kind: 'proc' | 'sys' | 'dev', name: string): string =>
  fileURLToPath(new URL(`./fixtures/${kind}/${name}`, import.meta.url));

/** One fixture host: the roots it reads from and the facts it must reproduce (test/fixtures/hosts.json). */
interface FixtureHost {
  name: string;
  sys: string;
  dev: string;
  facts: Record<string, unknown>;
}

const FIXTURE_HOSTS = JSON.parse(
  readFileSync(new URL('./fixtures/hosts.json', import.meta.url), 'utf8'),
) as FixtureHost[];

/** `a.b.c` lookup (arrays support `.length`). */
function pick(value: unknown, path: string): unknown {
  let v: unknown = value;
  for (const key of path.split('.'))
    v = v === null || v === undefined ? undefined : (v as Record<string, unknown>)[key];
  return v;
}

describe('readHostInfo against each fixture tree', () => {
  it.each(FIXTURE_HOSTS)('$name', async (host) => {
    const info = await readHostInfo({
      procRoot: fx('proc', host.name),
      sysRoot: fx('sys', host.sys),
      devRoot: fx('dev', host.dev),
      env: {},
      qemu: false,
    });
    expect(HostInfoSchema.parse(info)).toEqual(info);
    for (const [path, want] of Object.entries(host.facts)) {
      expect(pick(info, path), path).toEqual(want);
    }
    expect(info.warnings).toEqual([]);
    const report = runHostChecks(info);
    expect(report.checks.find((c) => c.id === 'arch')?.status).toBe('pass');
    expect(report.checks.find((c) => c.id === 'memory')?.status).toBe('pass');
  });

  it('the Kata-parity readers agree with the fixtures', async () => {
    expect(await readHostMemorySizeKiB({ procRoot: fx('proc', 'amd64-baremetal') })).toBe(196604356n);
    expect(await readRunningOnVmm({ procRoot: fx('proc', 'amd64-nested') })).toBe(true);
    expect(await readRunningOnVmm({ procRoot: fx('proc', 'amd64-baremetal') })).toBe(false);
    // Kata answers false off x86 without reading cpuinfo.
    expect(await readRunningOnVmm({ procRoot: fx('proc', 'ppc64le-kvm-guest') })).toBe(false);
    expect(await readRunningOnVmm({ procRoot: fx('proc', 'arm64-altra') })).toBe(false);
  });

  it('VMM_ACCEL from the env option is honoured and reported', async () => {
    const roots = {
      procRoot: fx('proc', 'amd64-nested'),
      sysRoot: fx('sys', 'amd64-nested'),
      devRoot: fx('dev', 'amd64-nested'),
      qemu: false,
    };
    const forced = await readHostInfo({ ...roots, env: { VMM_ACCEL: 'kvm' } });
    expect(forced.accel).toMatchObject({ accel: 'kvm', override: 'kvm', kvmUsable: false });
    const bad = await readHostInfo({ ...roots, env: { VMM_ACCEL: 'xen' } });
    expect(bad.accel.invalidOverride).toBe('xen');
    expect(bad.warnings.map((w) => w.code)).toEqual(['HOSTINFO_BAD_ACCEL']);
    expect(runHostChecks(bad).ok).toBe(false);
  });
});
