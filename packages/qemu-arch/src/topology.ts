/**
 * CPU and memory topology rules (Kata `cpuTopology`, `memoryTopology` and `genericMemoryTopology`).
 */
import { QemuArchError } from './errors.js';

/** `-smp` as Kata computes it: every possible vCPU is its own socket. */
export interface CpuTopology {
  /** vCPUs at boot. */
  readonly cpus: number;
  /** Sockets (= `maxCpus`). */
  readonly sockets: number;
  /** Cores per socket (always 1). */
  readonly cores: number;
  /** Threads per core (always 1). */
  readonly threads: number;
  /** Most vCPUs the guest can have (hotplug ceiling). */
  readonly maxCpus: number;
}

/** `-m` as Kata computes it. */
export interface MemoryTopology {
  /** Boot memory, `<MiB>M`. */
  readonly size: string;
  /** Hotplug slots (`slots=`; 0 means none). */
  readonly slots: number;
  /** Hotplug ceiling, `<MiB>M`. */
  readonly maxMem: string;
  /** Boot memory in MiB. */
  readonly sizeMiB: number;
  /** Hotplug ceiling in MiB. */
  readonly maxMemMiB: number;
}

function positiveInt(
  value: number,
  path: string,
  code: 'QEMU_ARCH_INVALID_TOPOLOGY' | 'QEMU_ARCH_INVALID_MEMORY',
): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new QemuArchError(code, `${path} must be a positive integer, got ${value}`, { path });
  }
}

/**
 * Kata's `cpuTopology(vcpus, maxvcpus)`: `{cpus: vcpus, sockets: maxVcpus, cores: 1, threads: 1,
 * maxCpus: maxVcpus}`.
 *
 * @param archMax - the architecture's vCPU ceiling; `maxVcpus` above it is refused.
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_TOPOLOGY` when a count is not a positive integer,
 *   `vcpus > maxVcpus` (QEMU refuses it) or `maxVcpus > archMax`.
 */
export function cpuTopology(
  vcpus: number,
  maxVcpus: number,
  archMax: number = Number.MAX_SAFE_INTEGER,
): CpuTopology {
  positiveInt(vcpus, 'vcpus', 'QEMU_ARCH_INVALID_TOPOLOGY');
  positiveInt(maxVcpus, 'maxVcpus', 'QEMU_ARCH_INVALID_TOPOLOGY');
  if (vcpus > maxVcpus) {
    throw new QemuArchError(
      'QEMU_ARCH_INVALID_TOPOLOGY',
      `vcpus (${vcpus}) must not exceed maxVcpus (${maxVcpus})`,
      {
        path: 'vcpus',
      },
    );
  }
  if (maxVcpus > archMax) {
    throw new QemuArchError(
      'QEMU_ARCH_INVALID_TOPOLOGY',
      `maxVcpus (${maxVcpus}) exceeds this architecture's limit of ${archMax}`,
      { path: 'maxVcpus' },
    );
  }
  return Object.freeze({ cpus: vcpus, sockets: maxVcpus, cores: 1, threads: 1, maxCpus: maxVcpus });
}

/** Inputs common to every memory rule. */
function checkMemory(memMiB: number, hostMemMiB: number, slots: number, offsetMiB: number): void {
  positiveInt(memMiB, 'memMiB', 'QEMU_ARCH_INVALID_MEMORY');
  positiveInt(hostMemMiB, 'hostMemMiB', 'QEMU_ARCH_INVALID_MEMORY');
  if (!Number.isInteger(slots) || slots < 0 || slots > 255) {
    throw new QemuArchError('QEMU_ARCH_INVALID_MEMORY', `slots must be an integer in 0..255, got ${slots}`, {
      path: 'slots',
    });
  }
  if (!Number.isSafeInteger(offsetMiB) || offsetMiB < 0 || offsetMiB > 0xffff_ffff) {
    throw new QemuArchError(
      'QEMU_ARCH_INVALID_MEMORY',
      `offsetMiB must be an integer in 0..2^32-1, got ${offsetMiB}`,
      {
        path: 'offsetMiB',
      },
    );
  }
}

function memory(memMiB: number, maxMemMiB: number, slots: number): MemoryTopology {
  if (memMiB > maxMemMiB) {
    throw new QemuArchError(
      'QEMU_ARCH_INVALID_MEMORY',
      `memMiB (${memMiB}) exceeds the hotplug ceiling maxmem (${maxMemMiB} MiB); QEMU would refuse it`,
      { path: 'memMiB' },
    );
  }
  return Object.freeze({ size: `${memMiB}M`, slots, maxMem: `${maxMemMiB}M`, sizeMiB: memMiB, maxMemMiB });
}

/**
 * Kata's `qemuArchBase.memoryTopology` (arm64, s390x): `maxmem` is the host's memory; the offset is
 * ignored, as in Kata.
 *
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_MEMORY` for non-positive sizes, slots outside 0..255, or
 *   `memMiB` above the resulting `maxmem`.
 */
export function baseMemoryTopology(
  memMiB: number,
  hostMemMiB: number,
  slots: number,
  offsetMiB = 0,
): MemoryTopology {
  checkMemory(memMiB, hostMemMiB, slots, offsetMiB);
  return memory(memMiB, hostMemMiB, slots);
}

/** Space Kata reserves above host memory for the NVDIMM image (MiB). */
export const NVDIMM_RESERVE_MIB = 1024;

/**
 * Kata's `genericMemoryTopology` (amd64): `maxmem = host + offset + 1024` (the 1 GiB leaves room for the
 * NVDIMM image).
 *
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_MEMORY` as {@link baseMemoryTopology}.
 */
export function genericMemoryTopology(
  memMiB: number,
  hostMemMiB: number,
  slots: number,
  offsetMiB = 0,
): MemoryTopology {
  checkMemory(memMiB, hostMemMiB, slots, offsetMiB);
  return memory(memMiB, hostMemMiB + offsetMiB + NVDIMM_RESERVE_MIB, slots);
}

/** Kata's `defaultMemMaxPPC64le`: the ceiling for QEMU older than 2.10 (MiB). */
export const PPC64LE_OLD_QEMU_MAXMEM_MIB = 32256;

/** A QEMU version, as `query-version` or `--version` reports it. */
export interface QemuVersionInfo {
  readonly major: number;
  readonly minor: number;
}

/**
 * Kata's ppc64le `memoryTopology`: host memory aligned down to 256 MiB (QEMU >= 2.10) or capped at
 * 32256 MiB (older QEMU), then as {@link genericMemoryTopology}. The QEMU version is an argument here,
 * where Kata read package globals set by whichever sandbox started last.
 *
 * @param qemuVersion - @default QEMU >= 2.10 (vmm needs QEMU 5.0 or later anyway)
 * @throws {QemuArchError} `QEMU_ARCH_INVALID_MEMORY` as {@link baseMemoryTopology}, also when aligning
 *   leaves no host memory (below 256 MiB).
 */
export function ppc64leMemoryTopology(
  memMiB: number,
  hostMemMiB: number,
  slots: number,
  offsetMiB = 0,
  qemuVersion?: QemuVersionInfo,
): MemoryTopology {
  checkMemory(memMiB, hostMemMiB, slots, offsetMiB);
  const modern =
    qemuVersion === undefined ||
    qemuVersion.major > 2 ||
    (qemuVersion.major === 2 && qemuVersion.minor >= 10);
  const host = modern ? hostMemMiB - (hostMemMiB % 256) : PPC64LE_OLD_QEMU_MAXMEM_MIB;
  if (host < 1) {
    throw new QemuArchError(
      'QEMU_ARCH_INVALID_MEMORY',
      `hostMemMiB (${hostMemMiB}) is below the 256 MiB alignment`,
      {
        path: 'hostMemMiB',
      },
    );
  }
  return genericMemoryTopology(memMiB, host, slots, offsetMiB);
}
