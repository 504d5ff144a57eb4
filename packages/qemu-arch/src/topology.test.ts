import { describe, expect, it } from 'vitest';
import {
  baseMemoryTopology,
  cpuTopology,
  genericMemoryTopology,
  PPC64LE_OLD_QEMU_MAXMEM_MIB,
  ppc64leMemoryTopology,
} from './topology.js';

describe('cpuTopology (Kata cpuTopology)', () => {
  it('puts every possible vCPU in its own socket', () => {
    expect(cpuTopology(2, 8)).toEqual({ cpus: 2, sockets: 8, cores: 1, threads: 1, maxCpus: 8 });
  });
  it('accepts vcpus == maxVcpus == archMax', () => {
    expect(cpuTopology(240, 240, 240).maxCpus).toBe(240);
  });
  it.each([
    [0, 4, 'vcpus'],
    [1, 0, 'maxVcpus'],
    [5, 4, 'vcpus'],
    [1.5, 4, 'vcpus'],
    [1, 241, 'maxVcpus'],
  ])('rejects vcpus=%s maxVcpus=%s (path %s)', (v, m, path) => {
    expect(() => cpuTopology(v, m, 240)).toThrow(
      expect.objectContaining({ code: 'QEMU_ARCH_INVALID_TOPOLOGY', path }),
    );
  });
});

describe('memory topology', () => {
  it('base: maxmem is the host memory; the offset is ignored (Kata qemuArchBase)', () => {
    expect(baseMemoryTopology(2048, 8192, 10, 512)).toEqual({
      size: '2048M',
      slots: 10,
      maxMem: '8192M',
      sizeMiB: 2048,
      maxMemMiB: 8192,
    });
  });
  it('generic: maxmem = host + offset + 1024 (NVDIMM room)', () => {
    expect(genericMemoryTopology(2048, 8192, 10, 0).maxMem).toBe('9216M');
    expect(genericMemoryTopology(2048, 8192, 4, 100)).toMatchObject({ maxMem: '9316M', slots: 4 });
  });
  it('ppc64le: host aligned down to 256 MiB, then + offset + 1024', () => {
    expect(ppc64leMemoryTopology(2048, 8000, 10, 0).maxMem).toBe(`${7936 + 1024}M`);
    expect(ppc64leMemoryTopology(2048, 8192, 10, 10).maxMem).toBe(`${8192 + 10 + 1024}M`);
  });
  it('ppc64le: QEMU < 2.10 caps host memory at 32256 MiB (an input, not a global)', () => {
    expect(ppc64leMemoryTopology(2048, 65536, 10, 0, { major: 2, minor: 9 }).maxMem).toBe(
      `${PPC64LE_OLD_QEMU_MAXMEM_MIB + 1024}M`,
    );
    expect(ppc64leMemoryTopology(2048, 65536, 10, 0, { major: 2, minor: 10 }).maxMem).toBe(
      `${65536 + 1024}M`,
    );
    expect(ppc64leMemoryTopology(2048, 65536, 10, 0, { major: 7, minor: 2 }).maxMem).toBe(`${65536 + 1024}M`);
  });
  it('ppc64le: host memory below 256 MiB leaves nothing', () => {
    expect(() => ppc64leMemoryTopology(128, 200, 1, 0)).toThrow(
      expect.objectContaining({ code: 'QEMU_ARCH_INVALID_MEMORY', path: 'hostMemMiB' }),
    );
  });
  it.each([
    [0, 8192, 10, 0, 'memMiB'],
    [2048, 0, 10, 0, 'hostMemMiB'],
    [2048, 8192, -1, 0, 'slots'],
    [2048, 8192, 256, 0, 'slots'],
    [2048, 8192, 10, -1, 'offsetMiB'],
    [9000, 8192, 10, 0, 'memMiB'],
  ])('base rejects mem=%s host=%s slots=%s offset=%s (%s)', (mem, host, slots, off, path) => {
    expect(() => baseMemoryTopology(mem, host, slots, off)).toThrow(
      expect.objectContaining({ code: 'QEMU_ARCH_INVALID_MEMORY', path }),
    );
  });
  it('slots 0 is allowed (no hotplug slots)', () => {
    expect(genericMemoryTopology(512, 1024, 0).slots).toBe(0);
  });
});
