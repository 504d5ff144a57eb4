import { HostinfoError } from './errors.js';

/** A QEMU version, from `qemu-system-* --version`. */
export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
  /** The distribution package in parentheses, e.g. `Debian 1:7.2+dfsg-7+deb12u18+b3`, or `null`. */
  package: string | null;
  /** The version line as printed. */
  text: string;
}

const VERSION =
  /QEMU emulator version (\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?[^\s(]*(?:\s*\(([^)\n]{0,200})\))?/;

/**
 * Parse `qemu-system-* --version` output: `QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)`.
 * @throws {HostinfoError} `HOSTINFO_QEMU_VERSION` when no version line is found.
 */
export function parseQemuVersion(stdout: string): QemuVersion {
  const head = stdout.slice(0, 4096);
  const m = VERSION.exec(head);
  if (m === null) {
    const first = head.split('\n', 1)[0]?.slice(0, 120) ?? '';
    throw new HostinfoError('HOSTINFO_QEMU_VERSION', `no "QEMU emulator version" in output: "${first}"`);
  }
  const line = head.slice(m.index).split('\n', 1)[0]!.trim();
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    micro: m[3] === undefined ? 0 : Number(m[3]),
    package: m[4]?.trim() || null,
    text: line,
  };
}
