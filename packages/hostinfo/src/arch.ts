/** Architectures vmm runs guests on, in Go/Kata naming (`GOARCH`). */
export const HOST_ARCHES = ['amd64', 'arm64', 'ppc64le', 's390x'] as const;

/** One of {@link HOST_ARCHES}. */
export type HostArch = (typeof HOST_ARCHES)[number];

const FROM_MACHINE: Readonly<Record<string, HostArch>> = {
  // `uname -m` / /proc/sys/kernel/arch spellings
  x86_64: 'amd64',
  aarch64: 'arm64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  // Go / Kata / Debian spellings, accepted as-is
  amd64: 'amd64',
  arm64: 'arm64',
};

/**
 * Map a kernel machine name (`uname -m`, /proc/sys/kernel/arch) to Kata naming:
 * `x86_64` → `amd64`, `aarch64` → `arm64`, `ppc64le`, `s390x`.
 * @returns `null` for anything else (i686, armv7l, big-endian ppc64, riscv64, ...).
 */
export function toHostArch(machine: string): HostArch | null {
  return Object.hasOwn(FROM_MACHINE, machine) ? FROM_MACHINE[machine]! : null;
}

/**
 * The kernel machine name for Node's `process.arch` (+ endianness): `x64` → `x86_64`,
 * `arm64` → `aarch64`, `ppc64` little-endian → `ppc64le`, `s390x`; else the value unchanged.
 */
export function machineFromNodeArch(nodeArch: string, endianness: 'BE' | 'LE'): string {
  if (nodeArch === 'x64') return 'x86_64';
  if (nodeArch === 'arm64') return 'aarch64';
  if (nodeArch === 'ppc64') return endianness === 'LE' ? 'ppc64le' : 'ppc64';
  return nodeArch;
}

/** QEMU system emulator per architecture, as Kata's per-arch `defaultQemuPath` names it. */
export const QEMU_SYSTEM_BINARIES: Readonly<Record<HostArch, string>> = {
  amd64: 'qemu-system-x86_64',
  arm64: 'qemu-system-aarch64',
  ppc64le: 'qemu-system-ppc64',
  s390x: 'qemu-system-s390x',
};
