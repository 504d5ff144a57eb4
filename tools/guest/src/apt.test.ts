import { describe, expect, it } from 'vitest';
import { debFileName, parseAptRecords, parseKernelDependency, parsePolicyCandidates } from './apt.js';

// Captured from `apt-cache show --no-all-versions linux-image-amd64 busybox-static` on Debian 12 (trimmed).
const SHOW = `Package: linux-image-amd64
Source: linux-signed-amd64 (6.1.192+2)
Version: 6.1.192-2
Installed-Size: 13
Maintainer: Debian Kernel Team <debian-kernel@lists.debian.org>
Architecture: amd64
Provides: wireguard-modules (= 1.0.0)
Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)
Description-en: Linux for 64-bit PCs (meta-package)
 This package depends on the latest Linux kernel and modules for use on
 PCs with AMD64, Intel 64 or VIA Nano processors.

Package: busybox-static
Source: busybox (1:1.35.0-4+deb12u1)
Version: 1:1.35.0-4+deb12u1+b1
Architecture: amd64
Description-en: Standalone rescue shell with tons of builtin utilities
 BusyBox combines tiny versions of many common UNIX utilities into a single

`;

describe('apt parsers', () => {
  it('splits apt-cache show records and joins continuation lines', () => {
    const recs = parseAptRecords(SHOW);
    expect(recs.map((r) => r.get('Package'))).toEqual(['linux-image-amd64', 'busybox-static']);
    expect(recs[1]?.get('Version')).toBe('1:1.35.0-4+deb12u1+b1');
    expect(recs[0]?.get('Description-en')).toContain('\nThis package depends');
  });

  it.each<[string, { name: string; version: string | undefined } | undefined]>([
    [
      'linux-image-6.1.0-56-amd64 (= 6.1.192-2)',
      { name: 'linux-image-6.1.0-56-amd64', version: '6.1.192-2' },
    ],
    ['linux-image-6.1.0-56-amd64', { name: 'linux-image-6.1.0-56-amd64', version: undefined }],
    [
      'linux-image-6.12.9+bpo-amd64 (= 6.12.9-1~bpo12+1)',
      { name: 'linux-image-6.12.9+bpo-amd64', version: '6.12.9-1~bpo12+1' },
    ],
    [
      'foo (>= 1), linux-image-6.1.0-9-amd64 (= 6.1.27-1)',
      { name: 'linux-image-6.1.0-9-amd64', version: '6.1.27-1' },
    ],
    [
      'linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)',
      { name: 'linux-image-6.1.0-56-cloud-amd64', version: '6.1.192-2' },
    ],
    ['initramfs-tools', undefined],
    ['', undefined],
  ])('parseKernelDependency(%j)', (depends, expected) => {
    expect(parseKernelDependency(depends)).toEqual(expected);
  });

  it('reads candidates from apt-cache policy, leaving out (none)', () => {
    const out = `linux-image-6.1.0-56-amd64:
  Installed: (none)
  Candidate: 6.1.192-2
  Version table:
     6.1.192-2 500
        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
busybox-static:
  Installed: (none)
  Candidate: (none)
`;
    expect(parsePolicyCandidates(out)).toEqual(new Map([['linux-image-6.1.0-56-amd64', '6.1.192-2']]));
  });

  it('names .deb files as apt-get download does (epoch colon as %3a)', () => {
    expect(debFileName({ name: 'busybox-static', version: '1:1.35.0-4+deb12u1+b1' })).toBe(
      'busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb',
    );
    expect(debFileName({ name: 'linux-image-6.1.0-56-amd64', version: '6.1.192-2' })).toBe(
      'linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb',
    );
  });
});
