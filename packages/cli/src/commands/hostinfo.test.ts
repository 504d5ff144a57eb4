import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HostInfoSchema } from '@vmm/hostinfo';
import { describe, expect, it } from 'vitest';
import { runVmm } from '../../test/run-vmm.js';

const FX = fileURLToPath(new URL('../../../hostinfo/test/fixtures/', import.meta.url));
/** Fixture files' modes depend on the checkout's umask. */
const modeOf = (path: string): string => (statSync(path).mode & 0o7777).toString(8).padStart(4, '0');

const run = runVmm;

const roots = (name: string, dev = name) => [
  '--proc-root',
  `${FX}proc/${name}`,
  '--sys-root',
  `${FX}sys/${name}`,
  '--dev-root',
  `${FX}dev/${dev}`,
];

describe('vmm hostinfo', () => {
  it('--json prints a HostInfo that validates against the schema', async () => {
    const r = await run(['hostinfo', '--json', ...roots('s390x-lpar'), '--qemu', '/nonexistent/qemu']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const info = HostInfoSchema.parse(JSON.parse(r.out));
    expect(info).toMatchObject({
      arch: 's390x',
      cpu: { count: 4, modelName: 'IBM z15 (8561)', virtualization: 'sie' },
    });
    expect(info.qemu).toMatchObject({ path: null, error: { code: 'HOSTINFO_QEMU_NOT_FOUND' } });
  });

  it('prints an aligned table by default', async () => {
    const r = await run(['hostinfo', ...roots('amd64-baremetal'), '--qemu', '/nonexistent/qemu']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('Architecture    amd64 (x86_64), kernel 6.1.0-27-amd64');
    expect(lines).toContain('CPU             16 x Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz (GenuineIntel)');
    expect(lines).toContain('Virtualization  vmx');
    expect(lines).toContain('Memory          191996 MiB total, 182955 MiB available, 8191 MiB swap');
    expect(lines).toContain('Hugepages       2M 1024/1024 free, 1G 0/0 free (default 2M)');
    expect(lines).toContain(
      `KVM device      ${FX}dev/amd64-baremetal/kvm present (mode ${modeOf(`${FX}dev/amd64-baremetal/kvm`)}), read/write (not a character device); modules: kvm, kvm_intel`,
    );
    expect(lines).toContain(`Accelerator     kvm: ${FX}dev/amd64-baremetal/kvm is read/write`);
    expect(lines).toContain(
      `vhost-vsock     ${FX}dev/amd64-baremetal/vhost-vsock present (mode ${modeOf(`${FX}dev/amd64-baremetal/vhost-vsock`)}), read/write (not a character device)`,
    );
  });

  it('honours VMM_ACCEL from the environment', async () => {
    const r = await run(['hostinfo', '--json', ...roots('amd64-baremetal')], { VMM_ACCEL: 'tcg' });
    expect(JSON.parse(r.out).accel).toMatchObject({ accel: 'tcg', override: 'tcg' });
  });

  it('a missing root is one line on stderr with the code, exit 1, no stack', async () => {
    const r = await run(['hostinfo', '--proc-root', '/nonexistent/proc']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'vmm: procRoot /nonexistent/proc is not a readable directory [HOSTINFO_FILE_UNREADABLE]\n',
    );
  });

  it('unknown flags are usage errors (exit 2)', async () => {
    const r = await run(['hostinfo', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^vmm: vmm hostinfo: .*bogus.*\n$/);
  });
});
