import { describe, expect, it } from 'vitest';
import { runHostChecks } from './checks.js';
import { HostCheckReportSchema } from './host-check.js';
import type { HostInfo } from './host-info.js';

const node = (path: string, present = true, mode = '0660') => ({
  path,
  present,
  charDevice: present,
  readable: present,
  writable: present,
  mode: present ? mode : null,
});

/** A healthy bare-metal amd64 host with KVM. */
function healthy(): HostInfo {
  return {
    arch: 'amd64',
    machine: 'x86_64',
    kernelRelease: '6.1.0',
    cpu: {
      count: 8,
      vendor: 'GenuineIntel',
      modelName: 'Xeon',
      flags: ['vmx'],
      format: 'x86',
      virtualization: 'vmx',
      truncated: false,
    },
    memory: {
      totalKiB: 16 * 1024 * 1024,
      availableKiB: 12 * 1024 * 1024,
      freeKiB: 10 * 1024 * 1024,
      swapTotalKiB: 0,
    },
    hugepages: {
      defaultSizeKiB: 2048,
      sizes: [{ sizeKiB: 2048, total: 512, free: 500, reserved: 0, surplus: 0 }],
    },
    nested: {
      nested: false,
      kataRunningOnVmm: false,
      method: 'cpuinfo-flags',
      evidence: 'flags line has no "hypervisor"',
    },
    kvm: {
      device: node('/dev/kvm'),
      modules: { kvm: true, kvm_intel: true, kvm_amd: false, kvm_hv: false, kvm_pr: false, kvm_pvm: false },
    },
    accel: {
      accel: 'kvm',
      kvmUsable: true,
      reason: '/dev/kvm is read/write',
      override: null,
      invalidOverride: null,
    },
    vhostNet: node('/dev/vhost-net'),
    vhostVsock: node('/dev/vhost-vsock'),
    qemu: {
      binary: 'qemu-system-x86_64',
      path: '/usr/bin/qemu-system-x86_64',
      version: { major: 7, minor: 2, micro: 22, package: null, text: 'QEMU emulator version 7.2.22' },
      searched: ['/usr/bin/qemu-system-x86_64'],
      error: null,
    },
    roots: { proc: '/proc', sys: '/sys', dev: '/dev' },
    warnings: [],
  };
}

const byId = (info: HostInfo, id: string) => runHostChecks(info).checks.find((c) => c.id === id);

describe('runHostChecks', () => {
  it('a healthy host passes every check, in the documented order', () => {
    const report = runHostChecks(healthy());
    expect(HostCheckReportSchema.parse(report)).toEqual(report);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual([
      'arch',
      'qemu-binary',
      'kvm',
      'virt-extensions',
      'vhost-net',
      'vhost-vsock',
      'memory',
      'hugepages',
      'nested',
    ]);
    expect(report.checks.every((c) => c.status === 'pass')).toBe(true);
    expect(byId(healthy(), 'qemu-binary')?.detail).toBe('/usr/bin/qemu-system-x86_64: QEMU 7.2.22');
  });

  it('no /dev/kvm: warn (TCG, ~10x slower) with the module to load; still ok', () => {
    const info = healthy();
    info.kvm.device = node('/dev/kvm', false);
    info.accel = { ...info.accel, accel: 'tcg', kvmUsable: false };
    const r = runHostChecks(info);
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.id === 'kvm')).toEqual({
      id: 'kvm',
      title: 'KVM acceleration',
      status: 'warn',
      detail: 'no /dev/kvm: sandboxes will run under TCG, about 10x slower',
      fix: 'modprobe kvm_intel, or accept TCG',
    });
  });

  it('kvm_pvm: warn, with VMM_ACCEL=kvm as the way to force it', () => {
    const info = healthy();
    info.kvm.modules.kvm_pvm = true;
    info.accel = { ...info.accel, accel: 'tcg', kvmUsable: false };
    const c = byId(info, 'kvm');
    expect(c?.status).toBe('warn');
    expect(c?.detail).toContain('kvm_pvm');
    expect(c?.fix).toContain('VMM_ACCEL=kvm');
  });

  it('/dev/kvm not read/write: warn; the fix depends on the mode', () => {
    const info = healthy();
    info.kvm.device = { ...node('/dev/kvm'), writable: false };
    info.accel = { ...info.accel, accel: 'tcg', kvmUsable: false };
    expect(byId(info, 'kvm')).toMatchObject({
      status: 'warn',
      detail:
        '/dev/kvm (mode 0660) is not read/write for this user: sandboxes will run under TCG, about 10x slower',
      fix: 'add the user to the group owning /dev/kvm (usually "kvm"), or run as root',
    });
    info.kvm.device = { ...node('/dev/kvm', true, '0600'), writable: false };
    expect(byId(info, 'kvm')?.fix).toContain('MODE="0660"');
  });

  it('VMM_ACCEL=kvm without a usable device fails; VMM_ACCEL=tcg warns', () => {
    const info = healthy();
    info.kvm.device = node('/dev/kvm', false);
    info.accel = {
      accel: 'kvm',
      kvmUsable: false,
      reason: 'VMM_ACCEL=kvm (/dev/kvm is missing)',
      override: 'kvm',
      invalidOverride: null,
    };
    const r = runHostChecks(info);
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.id === 'kvm')).toMatchObject({
      status: 'fail',
      detail: 'VMM_ACCEL=kvm but /dev/kvm is missing: QEMU cannot start with accel=kvm',
    });
    const tcg = healthy();
    tcg.accel = { ...tcg.accel, accel: 'tcg', override: 'tcg' };
    expect(byId(tcg, 'kvm')).toMatchObject({ status: 'warn', fix: 'unset VMM_ACCEL to use KVM' });
  });

  it('an invalid VMM_ACCEL adds a failing accel-override check', () => {
    const info = healthy();
    info.accel = { ...info.accel, invalidOverride: 'xen' };
    const r = runHostChecks(info);
    expect(r.ok).toBe(false);
    expect(r.checks.map((c) => c.id)).toContain('accel-override');
  });

  it('no QEMU fails; an old QEMU fails; an unknown version warns', () => {
    const none = healthy();
    none.qemu = {
      ...none.qemu,
      path: null,
      version: null,
      error: {
        code: 'HOSTINFO_QEMU_NOT_FOUND',
        message: 'no executable qemu-system-x86_64; tried /usr/bin/qemu-system-x86_64',
      },
    };
    const r = runHostChecks(none);
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.id === 'qemu-binary')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('apt-get install qemu-system-x86'),
    });
    const old = healthy();
    old.qemu.version = { major: 4, minor: 2, micro: 1, package: null, text: '' };
    expect(byId(old, 'qemu-binary')?.status).toBe('fail');
    expect(runHostChecks(old, { minQemu: { major: 4, minor: 0 } }).ok).toBe(true);
    const unknown = healthy();
    unknown.qemu = {
      ...unknown.qemu,
      version: null,
      error: { code: 'HOSTINFO_QEMU_VERSION', message: 'timed out' },
    };
    expect(byId(unknown, 'qemu-binary')?.status).toBe('warn');
  });

  it('unsupported arch fails', () => {
    const info = healthy();
    info.arch = null;
    info.machine = 'riscv64';
    expect(byId(info, 'arch')).toMatchObject({
      status: 'fail',
      detail: 'machine "riscv64" is not one vmm runs guests on',
    });
  });

  it('memory: fail below the sandbox size, warn when little is available', () => {
    const small = healthy();
    small.memory = { totalKiB: 1024 * 1024, availableKiB: 900 * 1024, freeKiB: 0, swapTotalKiB: 0 };
    expect(byId(small, 'memory')?.status).toBe('fail');
    const tight = healthy();
    tight.memory = { totalKiB: 4 * 1024 * 1024, availableKiB: 2100 * 1024, freeKiB: 0, swapTotalKiB: 0 };
    expect(byId(tight, 'memory')?.status).toBe('warn');
    expect(
      runHostChecks(tight, { sandboxMemoryMiB: 512 }).checks.find((c) => c.id === 'memory')?.status,
    ).toBe('pass');
    const unknown = healthy();
    unknown.memory = null;
    expect(byId(unknown, 'memory')?.status).toBe('fail');
  });

  it('missing vhost devices and virtualization extensions warn', () => {
    const info = healthy();
    info.vhostNet = node('/dev/vhost-net', false);
    info.vhostVsock = node('/dev/vhost-vsock', false);
    info.cpu = { ...info.cpu!, virtualization: null };
    const r = runHostChecks(info);
    expect(r.ok).toBe(true);
    expect(r.checks.find((c) => c.id === 'vhost-net')).toMatchObject({
      status: 'warn',
      fix: 'modprobe vhost_net',
    });
    expect(r.checks.find((c) => c.id === 'vhost-vsock')).toMatchObject({
      status: 'warn',
      fix: 'modprobe vhost_vsock',
    });
    expect(r.checks.find((c) => c.id === 'virt-extensions')).toMatchObject({
      status: 'warn',
      fix: expect.stringContaining('firmware'),
    });
  });

  it('rejects invalid options with HOSTINFO_INVALID_OPTIONS', () => {
    expect(() => runHostChecks(healthy(), { sandboxMemoryMiB: 0 })).toThrowError(
      expect.objectContaining({
        code: 'HOSTINFO_INVALID_OPTIONS',
        message: expect.stringContaining('sandboxMemoryMiB'),
      }),
    );
  });
});
