import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('AMD-V (svm) detection, through the same readHostInfo path as vmx', () => {
  const roots = (proc: string) => ({
    procRoot: proc,
    sysRoot: fx('sys', 'amd64-epyc'),
    devRoot: fx('dev', 'amd64-baremetal'),
    env: {},
    qemu: false,
  });

  it('a bare-metal EPYC with svm: virtualization svm, the check passes as AMD-V', async () => {
    const info = await readHostInfo(roots(fx('proc', 'amd64-epyc')));
    expect(info.cpu).toMatchObject({ vendor: 'AuthenticAMD', virtualization: 'svm' });
    // exact tokens: "svm_lock" is there too, and "hypervisor" is not
    expect(info.cpu?.flags).toEqual(expect.arrayContaining(['svm', 'svm_lock', 'npt']));
    expect(info.cpu?.flags).not.toContain('vmx');
    expect(info.nested).toMatchObject({ nested: false, method: 'cpuinfo-flags' });
    expect(runHostChecks(info).checks.find((c) => c.id === 'virt-extensions')).toMatchObject({
      status: 'pass',
      detail: 'AMD-V (svm)',
    });
  });

  it('the same EPYC with SVM disabled in firmware (no vmx, no svm): null, and the check says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostinfo-nosvm-'));
    try {
      cpSync(fx('proc', 'amd64-epyc'), dir, { recursive: true });
      const cpuinfo = readFileSync(join(dir, 'cpuinfo'), 'utf8');
      const stripped = cpuinfo.replaceAll(' svm ', ' ');
      expect(stripped).not.toBe(cpuinfo);
      writeFileSync(join(dir, 'cpuinfo'), stripped);
      const info = await readHostInfo(roots(dir));
      expect(info.cpu?.flags).toContain('svm_lock'); // a flag that merely starts with "svm" is not svm
      expect(info.cpu?.flags).not.toContain('svm');
      expect(info.cpu?.virtualization).toBeNull();
      expect(info.nested.nested).toBe(false);
      expect(info.warnings).toEqual([]);
      expect(runHostChecks(info).checks.find((c) => c.id === 'virt-extensions')).toEqual({
        id: 'virt-extensions',
        title: 'CPU virtualization extensions',
        status: 'warn',
        detail: `no vmx or svm flag in /proc/cpuinfo; ${fx('dev', 'amd64-baremetal')}/kvm exists anyway`,
        fix: 'enable VT-x / AMD-V (SVM) in the firmware setup',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
