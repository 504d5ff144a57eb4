import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { HostCheckSchema } from '@vmm/hostinfo';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkAcrnHost } from './checks.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('vmm-acrn-check-');
  await mkdir(tmp.join('dev'));
  await mkdir(tmp.join('proc'));
  await mkdir(tmp.join('bin'));
});
afterEach(async () => {
  await tmp.remove();
});

const INTEL = 'processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n';
const AMD = 'processor\t: 0\nvendor_id\t: AuthenticAMD\n';

async function host(opts: { node?: 'vhm' | 'hsm' | 'file'; cpu?: string; bins?: 'ok' | 'noexec' | 'none' }) {
  if (opts.node === 'vhm') await symlink('/dev/null', tmp.join('dev', 'acrn_vhm')); // a real char device
  if (opts.node === 'hsm') await symlink('/dev/null', tmp.join('dev', 'acrn_hsm'));
  if (opts.node === 'file') await writeFile(tmp.join('dev', 'acrn_vhm'), '');
  if (opts.cpu !== undefined) await writeFile(tmp.join('proc', 'cpuinfo'), opts.cpu);
  if (opts.bins !== 'none') {
    for (const b of ['acrn-dm', 'acrnctl']) {
      await writeFile(tmp.join('bin', b), '#!/bin/sh\n');
      await chmod(tmp.join('bin', b), opts.bins === 'noexec' ? 0o644 : 0o755);
    }
  }
  return checkAcrnHost({
    devRoot: tmp.join('dev'),
    procRoot: tmp.join('proc'),
    acrnDmPath: tmp.join('bin', 'acrn-dm'),
    acrnctlPath: tmp.join('bin', 'acrnctl'),
  });
}

const byId = (checks: { id: string; status: string }[]) =>
  Object.fromEntries(checks.map((c) => [c.id, c.status]));

describe('checkAcrnHost', () => {
  it('passes on an ACRN Service VM with both binaries', async () => {
    const checks = await host({ node: 'vhm', cpu: INTEL, bins: 'ok' });
    expect(checks.map((c) => c.id)).toEqual([
      'acrn-device',
      'acrn-intel-cpu',
      'acrn-dm-binary',
      'acrnctl-binary',
    ]);
    expect(byId(checks)).toEqual({
      'acrn-device': 'pass',
      'acrn-intel-cpu': 'pass',
      'acrn-dm-binary': 'pass',
      'acrnctl-binary': 'pass',
    });
    expect(checks[0]).toEqual({
      id: 'acrn-device',
      title: 'ACRN hypervisor device',
      status: 'pass',
      detail: `${tmp.join('dev', 'acrn_vhm')} is a character device this process can open read-write`,
    });
    // exactly the model `vmm check` uses
    for (const c of checks) expect(HostCheckSchema.parse(c)).toEqual(c);
  });

  it('fails with fixes on a host that is not ACRN', async () => {
    const checks = await host({ cpu: AMD, bins: 'none' });
    expect(byId(checks)).toEqual({
      'acrn-device': 'fail',
      'acrn-intel-cpu': 'fail',
      'acrn-dm-binary': 'fail',
      'acrnctl-binary': 'fail',
    });
    expect(checks[0]?.detail).toBe(
      `${tmp.join('dev', 'acrn_vhm')} does not exist: this host is not an ACRN Service VM`,
    );
    expect(checks[1]?.detail).toBe('the CPU vendor is AuthenticAMD; ACRN runs on Intel x86-64 only');
    expect(checks[2]?.detail).toBe(
      `${tmp.join('bin', 'acrn-dm')} does not exist; it is needed to start ACRN VMs`,
    );
    for (const c of checks) {
      expect(c.fix).toEqual(expect.any(String));
      expect(HostCheckSchema.parse(c)).toEqual(c);
    }
  });

  it('warns when only the upstream HSM node exists', async () => {
    const [device] = await host({ node: 'hsm', cpu: INTEL });
    expect(device?.status).toBe('warn');
    expect(device?.detail).toMatch(/acrn_vhm is missing but .*acrn_hsm/);
  });

  it('fails a device node that is not a character device', async () => {
    const [device] = await host({ node: 'file', cpu: INTEL });
    expect(device?.status).toBe('fail');
    expect(device?.detail).toMatch(/is not a character device$/);
  });

  it('fails binaries that are not executable or not files', async () => {
    const checks = await host({ node: 'vhm', cpu: INTEL, bins: 'noexec' });
    expect(checks[2]).toMatchObject({ status: 'fail', fix: `chmod +x ${tmp.join('bin', 'acrn-dm')}` });
    const dirAsBinary = await checkAcrnHost({
      devRoot: tmp.join('dev'),
      acrnDmPath: tmp.path,
      acrnctlPath: tmp.path,
    });
    expect(dirAsBinary[2]).toMatchObject({ status: 'fail', detail: `${tmp.path} is not a regular file` });
  });

  it('warns when cpuinfo cannot be read, and rejects bad options', async () => {
    const checks = await host({ node: 'vhm', bins: 'ok' });
    expect(checks[1]).toMatchObject({ id: 'acrn-intel-cpu', status: 'warn' });
    await expect(checkAcrnHost({ devRoot: '' })).rejects.toMatchObject({
      code: 'ACRN_INVALID_CONFIG',
      path: ['devRoot'],
    });
    await expect(checkAcrnHost({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ACRN_ABORTED',
    });
  });

  it('runs against the real host', async () => {
    const checks = await checkAcrnHost();
    expect(checks).toHaveLength(4);
    for (const c of checks) expect(HostCheckSchema.parse(c)).toEqual(c);
  });
});
