import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { childPids } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import {
  HostInfoSchema,
  readHostInfo,
  readHostMemorySizeKiB,
  readRunningOnVmm,
  runHostChecks,
} from '../src/index.js';

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

describe('readHostInfo against this host', () => {
  it('agrees with nproc, free, uname -m, /dev/kvm, /sys/module and qemu --version', async () => {
    const info = await readHostInfo();
    expect(HostInfoSchema.parse(info)).toEqual(info);
    expect(info.warnings).toEqual([]);

    expect(info.machine).toBe(sh('uname', ['-m']));
    expect(info.kernelRelease).toBe(sh('uname', ['-r']));
    // cpuinfo lists online CPUs; nproc (scheduler affinity) can only be fewer.
    const online = Number(sh('getconf', ['_NPROCESSORS_ONLN']));
    expect(info.cpu?.count).toBe(online);
    expect(Number(sh('nproc', []))).toBeLessThanOrEqual(online);

    // free -k prints MemTotal in KiB on its "Mem:" line.
    const memLine = sh('free', ['-k'])
      .split('\n')
      .find((l) => l.startsWith('Mem:'))!;
    expect(info.memory?.totalKiB).toBe(Number(memLine.split(/\s+/)[1]));
    expect(await readHostMemorySizeKiB()).toBe(BigInt(info.memory!.totalKiB!));

    const kvmPresent = existsSync('/dev/kvm');
    expect(info.kvm.device.present).toBe(kvmPresent);
    let rw = false;
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
      rw = true;
    } catch {}
    expect(info.kvm.device.readable && info.kvm.device.writable).toBe(rw);
    expect(info.kvm.modules.kvm_pvm).toBe(existsSync('/sys/module/kvm_pvm'));
    expect(info.vhostNet.present).toBe(existsSync('/dev/vhost-net'));
    expect(info.vhostVsock.present).toBe(existsSync('/dev/vhost-vsock'));

    const grepHypervisor = execFileSync(
      'sh',
      ['-c', "grep -m1 '^flags' /proc/cpuinfo | grep -cw hypervisor || true"],
      {
        encoding: 'utf8',
      },
    ).trim();
    if (info.arch === 'amd64') {
      expect(info.nested.nested).toBe(grepHypervisor === '1');
      expect(await readRunningOnVmm()).toBe(grepHypervisor === '1');
    }

    // QEMU: the binary found answers --version with what we parsed.
    expect(info.qemu.path).not.toBeNull();
    const printed = sh(info.qemu.path!, ['--version']).split('\n')[0];
    expect(info.qemu.version?.text).toBe(printed);
    console.log(
      `host: ${info.arch} ${info.cpu?.count} CPUs, ${info.memory?.totalKiB} KiB, accel ${info.accel.accel} (${info.accel.reason}), ${info.qemu.version?.text}`,
    );

    const report = runHostChecks(info);
    expect(report.checks.length).toBeGreaterThanOrEqual(9);
    expect(report.checks.find((c) => c.id === 'qemu-binary')?.status).toBe('pass');
    expect(childPids()).toEqual([]);
  });

  it('VMM_ACCEL in the env option overrides the decision on the real host', async () => {
    const tcg = await readHostInfo({ env: { ...process.env, VMM_ACCEL: 'tcg' }, qemu: false });
    expect(tcg.accel).toMatchObject({ accel: 'tcg', override: 'tcg' });
    const kvm = await readHostInfo({ env: { ...process.env, VMM_ACCEL: 'kvm' }, qemu: false });
    expect(kvm.accel).toMatchObject({ accel: 'kvm', override: 'kvm' });
  });
});
