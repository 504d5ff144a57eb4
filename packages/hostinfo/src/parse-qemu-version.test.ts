import { describe, expect, it } from 'vitest';
import { parseQemuVersion } from './parse-qemu-version.js';

describe('parseQemuVersion', () => {
  it.each([
    [
      'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n',
      { major: 7, minor: 2, micro: 22, package: 'Debian 1:7.2+dfsg-7+deb12u18+b3' },
    ],
    [
      'QEMU emulator version 6.2.0 (qemu-kvm-6.2.0-11.el9)\n',
      { major: 6, minor: 2, micro: 0, package: 'qemu-kvm-6.2.0-11.el9' },
    ],
    [
      'QEMU emulator version 9.1.50 (v9.1.0-1234-gabcdef)\n',
      { major: 9, minor: 1, micro: 50, package: 'v9.1.0-1234-gabcdef' },
    ],
    ['QEMU emulator version 8.0.0\n', { major: 8, minor: 0, micro: 0, package: null }],
    ['QEMU emulator version 2.11\n', { major: 2, minor: 11, micro: 0, package: null }],
  ])('%s', (out, want) => {
    expect(parseQemuVersion(out)).toMatchObject(want);
  });
  it('keeps the version line as text', () => {
    expect(parseQemuVersion('QEMU emulator version 8.0.0\nCopyright').text).toBe(
      'QEMU emulator version 8.0.0',
    );
  });
  it.each(['', 'qemu-img version 7.2.0', 'garbage\u0000'])('throws HOSTINFO_QEMU_VERSION on %j', (out) => {
    expect(() => parseQemuVersion(out)).toThrowError(
      expect.objectContaining({ code: 'HOSTINFO_QEMU_VERSION' }),
    );
  });
});
