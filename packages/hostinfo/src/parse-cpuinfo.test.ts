import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCpuinfo } from './parse-cpuinfo.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../test/fixtures/proc/${name}/cpuinfo`, import.meta.url), 'utf8');

describe('parseCpuinfo: x86', () => {
  it('parses the real nested amd64 capture (this machine)', () => {
    const c = parseCpuinfo(fixture('amd64-nested'));
    expect(c.format).toBe('x86');
    expect(c.count).toBe(2);
    expect(c.processors.map((p) => p.index)).toEqual([0, 1]);
    expect(c.vendor).toBe('AuthenticAMD');
    expect(c.modelName).toBe('AMD EPYC');
    expect(c.flags).toContain('hypervisor');
    expect(c.flags).not.toContain('svm');
    expect(c.processors[1]!.fields['cpu MHz']).toMatch(/^\d+\.\d+$/);
    expect(c.processors[0]!.fields['power management']).toBe('');
    expect(c.skippedLines).toBe(0);
  });

  it('parses a bare-metal Xeon: 16 processors, vmx, the separate "vmx flags" line', () => {
    const c = parseCpuinfo(fixture('amd64-baremetal'));
    expect(c.count).toBe(16);
    expect(c.modelName).toBe('Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz');
    expect(c.vendor).toBe('GenuineIntel');
    expect(c.flags).toContain('vmx');
    expect(c.flags).not.toContain('hypervisor');
    expect(c.flags).not.toContain('ept_x_only'); // from "vmx flags", not "flags"
    expect(c.processors[15]!.fields['physical id']).toBe('1');
  });
});

describe('parseCpuinfo: arm64', () => {
  it('parses Features, CPU implementer/part and names the core', () => {
    const c = parseCpuinfo(fixture('arm64-altra'));
    expect(c.format).toBe('arm64');
    expect(c.count).toBe(80);
    expect(c.vendor).toBe('ARM');
    expect(c.modelName).toBe('ARM Neoverse-N1');
    expect(c.flags).toEqual(
      'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs'.split(
        ' ',
      ),
    );
    expect(c.processors[79]!.fields).toMatchObject({
      'CPU implementer': '0x41',
      'CPU architecture': '8',
      'CPU variant': '0x3',
      'CPU part': '0xd0c',
      'CPU revision': '1',
    });
  });

  it('falls back to raw numbers for an unknown part', () => {
    const c = parseCpuinfo('processor\t: 0\nFeatures\t: fp\nCPU implementer\t: 0x99\nCPU part\t: 0x123\n');
    expect(c.modelName).toBe('0x99 part 0x123');
  });
});

describe('parseCpuinfo: ppc64le', () => {
  it('parses processors and the platform trailer of a PowerNV host (no flags)', () => {
    const c = parseCpuinfo(fixture('ppc64le-powernv'));
    expect(c.format).toBe('ppc64');
    expect(c.count).toBe(32);
    expect(c.modelName).toBe('POWER9, altivec supported');
    expect(c.vendor).toBe('IBM');
    expect(c.flags).toEqual([]);
    expect(c.processors[0]!.fields).toMatchObject({
      clock: '3800.000000MHz',
      revision: '2.3 (pvr 004e 1203)',
    });
    expect(c.global).toMatchObject({
      timebase: '512000000',
      platform: 'PowerNV',
      model: '9006-22P',
      machine: 'PowerNV 9006-22P',
      firmware: 'OPAL',
      MMU: 'Radix',
    });
  });

  it('parses a pSeries KVM guest', () => {
    const c = parseCpuinfo(fixture('ppc64le-kvm-guest'));
    expect(c.count).toBe(4);
    expect(c.global.platform).toBe('pSeries');
    expect(c.global.machine).toBe('CHRP IBM pSeries (emulated by qemu)');
  });
});

describe('parseCpuinfo: s390x', () => {
  it('parses the summary, "processor N:" lines and the per-cpu blocks into one entry per CPU', () => {
    const c = parseCpuinfo(fixture('s390x-lpar'));
    expect(c.format).toBe('s390x');
    expect(c.count).toBe(4);
    expect(c.vendor).toBe('IBM/S390');
    expect(c.modelName).toBe('IBM z15 (8561)');
    expect(c.flags).toContain('sie');
    expect(c.flags).toContain('vxe2');
    expect(c.global['# processors']).toBe('4');
    expect(c.global.facilities?.split(' ')).toContain('168');
    expect(c.global.cache5).toBe(
      'level=4 type=Unified scope=Shared size=983040K line_size=256 associativity=60',
    );
    expect(c.processors.map((p) => p.index)).toEqual([0, 1, 2, 3]);
    expect(c.processors[2]!.fields).toMatchObject({
      version: '00',
      identification: '2A0F78',
      machine: '8561',
      'cpu number': '2',
      'core id': '2',
      'cpu MHz static': '5200',
    });
  });

  it('counts from "# processors" on old kernels without per-cpu blocks', () => {
    const c = parseCpuinfo(
      'vendor_id       : IBM/S390\n# processors    : 2\nfeatures\t: esan3 zarch sie \nprocessor 0: version = FF,  identification = FFFFFF,  machine = 2964\n',
    );
    expect(c.count).toBe(1);
    expect(c.modelName).toBe('IBM z13 (2964)');
    const bare = parseCpuinfo('vendor_id       : IBM/S390\n# processors    : 2\nfeatures\t: esan3\n');
    expect(bare.count).toBe(2);
  });
});

describe('parseCpuinfo: damaged input', () => {
  it('keeps the processors of a truncated file', () => {
    const text = fixture('amd64-baremetal');
    const cut = text.slice(0, Math.floor(text.length / 2));
    const c = parseCpuinfo(cut);
    expect(c.count).toBeGreaterThan(6);
    expect(c.count).toBeLessThan(16);
    expect(c.flags).toContain('vmx');
  });

  it('skips lines with control bytes or no colon, and keeps the rest', () => {
    const c = parseCpuinfo('processor\t: 0\n\u0000\u0001garbage\nno colon\nflags\t\t: fpu\n');
    expect(c.count).toBe(1);
    expect(c.flags).toEqual(['fpu']);
    expect(c.skippedLines).toBe(2);
  });

  it.each([
    ['empty', ''],
    ['binary', '\u0000\u0007\ufffd\ufffd\n\u0001'],
    ['no key-value lines', 'hello\nworld\n'],
  ])('throws HOSTINFO_PARSE on %s', (_name, text) => {
    expect(() => parseCpuinfo(text, { file: '/f/cpuinfo' })).toThrowError(
      expect.objectContaining({ code: 'HOSTINFO_PARSE', path: '/f/cpuinfo' }),
    );
  });

  it('stores hostile keys as plain data', () => {
    const c = parseCpuinfo('processor\t: 0\n__proto__\t: x\nflags\t: a\n');
    expect(Object.getOwnPropertyDescriptor(c.processors[0]!.fields, '__proto__')?.value).toBe('x');
    expect(c.flags).toEqual(['a']);
  });
});
