import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectNested, parseRunningOnVmm } from './nested.js';
import { parseCpuinfo } from './parse-cpuinfo.js';

const read = (p: string): string => readFileSync(new URL(`../test/fixtures/${p}`, import.meta.url), 'utf8');

describe('parseRunningOnVmm (Kata RunningOnVMM parity)', () => {
  it.each([
    ['flags\t\t: fpu vme hypervisor lahf_lm', true],
    ['flags\t\t: fpu vme vmx', false],
    ['flags: hypervisor', true], // "flags:" has the prefix too
    ['flagsX : hypervisor', true], // prefix match, as Go's HasPrefix
    ['flags : hypervisorx', false], // token must match exactly
    ['flags : Hypervisor', false],
  ])('%s -> %s', (line, want) => {
    expect(parseRunningOnVmm(`processor : 0\n${line}\n`)).toBe(want);
  });

  it('only the first flags line counts', () => {
    expect(parseRunningOnVmm('flags : fpu\nflags : hypervisor\n')).toBe(false);
    expect(parseRunningOnVmm('flags : hypervisor\nflags : fpu\n')).toBe(true);
  });

  it('skips a bare "flags" line with no other field, like Go (len(fields) < 2)', () => {
    expect(parseRunningOnVmm('flags\nflags : hypervisor\n')).toBe(true);
  });

  it('ignores "vmx flags" (first field is "vmx")', () => {
    expect(() => parseRunningOnVmm('vmx flags\t: hypervisor\n')).toThrowError(
      expect.objectContaining({ code: 'HOSTINFO_NO_CPU_FLAGS' }),
    );
  });

  it('throws HOSTINFO_NO_CPU_FLAGS naming the file when there is no flags line', () => {
    expect(() => parseRunningOnVmm(read('proc/arm64-altra/cpuinfo'), { file: '/p/cpuinfo' })).toThrowError(
      expect.objectContaining({
        code: 'HOSTINFO_NO_CPU_FLAGS',
        path: '/p/cpuinfo',
        message: expect.stringContaining('/p/cpuinfo'),
      }),
    );
    expect(() => parseRunningOnVmm('')).toThrowError(
      expect.objectContaining({ code: 'HOSTINFO_NO_CPU_FLAGS' }),
    );
  });

  it('answers the fixtures: nested capture true, bare metal false', () => {
    expect(parseRunningOnVmm(read('proc/amd64-nested/cpuinfo'))).toBe(true);
    expect(parseRunningOnVmm(read('proc/amd64-baremetal/cpuinfo'))).toBe(false);
  });
});

describe('detectNested per arch', () => {
  it('amd64 uses the flags rule', () => {
    const text = read('proc/amd64-nested/cpuinfo');
    expect(detectNested('amd64', { cpuinfoText: text })).toEqual({
      nested: true,
      kataRunningOnVmm: true,
      method: 'cpuinfo-flags',
      evidence: 'flags line has "hypervisor"',
    });
    expect(() => detectNested('amd64', { cpuinfoText: 'processor : 0\n' })).toThrowError(
      expect.objectContaining({ code: 'HOSTINFO_NO_CPU_FLAGS' }),
    );
  });

  it('ppc64le: PowerNV is bare metal, pSeries is a guest (KVM or PowerVM)', () => {
    const nv = detectNested('ppc64le', { cpuinfo: parseCpuinfo(read('proc/ppc64le-powernv/cpuinfo')) });
    expect(nv).toMatchObject({ nested: false, kataRunningOnVmm: false, method: 'cpuinfo-platform' });
    const guest = detectNested('ppc64le', { cpuinfo: parseCpuinfo(read('proc/ppc64le-kvm-guest/cpuinfo')) });
    expect(guest).toMatchObject({ nested: true, kataRunningOnVmm: false });
    expect(guest.evidence).toContain('KVM/QEMU');
    const lpar = detectNested('ppc64le', {
      cpuinfo: parseCpuinfo(
        'processor : 0\ncpu : POWER10\n\nplatform : pSeries\nmachine : CHRP IBM,9080-HEX\n',
      ),
    });
    expect(lpar.nested).toBe(true);
    expect(lpar.evidence).toContain('PowerVM');
    expect(detectNested('ppc64le', {}).nested).toBeNull();
  });

  it('s390x: LPAR only is not nested; a VM level (z/VM, KVM) is; no sysinfo is unknown', () => {
    const lpar = detectNested('s390x', { sysinfo: read('proc/s390x-lpar/sysinfo') });
    expect(lpar).toMatchObject({ nested: false, kataRunningOnVmm: false, method: 's390-sysinfo' });
    const zvm = detectNested('s390x', {
      sysinfo:
        'LPAR Name:            LP01\nVM00 Name:            LINUX01\nVM00 Control Program: z/VM    7.3.0   \n',
    });
    expect(zvm).toMatchObject({ nested: true, evidence: 'guest of z/VM 7.3.0 in an LPAR' });
    const kvm = detectNested('s390x', { sysinfo: 'LPAR Name: LP01\nVM00 Control Program: KVM/Linux\n' });
    expect(kvm.nested).toBe(true);
    expect(detectNested('s390x', {})).toMatchObject({ nested: null, method: 'none' });
  });

  it('arm64: /sys/hypervisor, device tree, DMI, else unknown', () => {
    expect(detectNested('arm64', { hypervisorType: 'xen\n' })).toMatchObject({
      nested: true,
      method: 'sys-hypervisor',
    });
    expect(detectNested('arm64', { deviceTreeCompatible: 'linux,dummy-virt\0' })).toMatchObject({
      nested: true,
      method: 'device-tree',
    });
    expect(
      detectNested('arm64', { deviceTreeCompatible: 'raspberrypi,4-model-b\0brcm,bcm2711\0' }),
    ).toMatchObject({
      nested: false,
      method: 'device-tree',
    });
    expect(detectNested('arm64', { deviceTreeHypervisor: 'xen,xen-4.17\0xen,xen\0' })).toMatchObject({
      nested: true,
    });
    expect(
      detectNested('arm64', { dmiSysVendor: 'QEMU\n', dmiProductName: 'KVM Virtual Machine\n' }),
    ).toMatchObject({
      nested: true,
      method: 'dmi',
      kataRunningOnVmm: false,
    });
    expect(detectNested('arm64', { dmiSysVendor: 'Amazon EC2', dmiProductName: 'c6g.metal' }).nested).toBe(
      false,
    );
    expect(detectNested('arm64', { dmiSysVendor: 'Amazon EC2', dmiProductName: 'c6g.large' }).nested).toBe(
      true,
    );
    expect(detectNested('arm64', { dmiSysVendor: 'GIGABYTE', dmiProductName: 'R272-P30-00' }).nested).toBe(
      false,
    );
    expect(detectNested('arm64', {})).toMatchObject({
      nested: null,
      kataRunningOnVmm: false,
      method: 'none',
    });
  });
});
