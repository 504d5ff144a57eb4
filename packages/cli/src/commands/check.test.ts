import { fileURLToPath } from 'node:url';
import { type HostCheckReport, HostCheckReportSchema } from '@vmm/hostinfo';
import { describe, expect, it } from 'vitest';
import { runVmm } from '../../test/run-vmm.js';
import { formatReport } from './check.js';

const FX = fileURLToPath(new URL('../../../hostinfo/test/fixtures/', import.meta.url));

const run = runVmm;

const roots = (name: string, dev = name) => [
  '--proc-root',
  `${FX}proc/${name}`,
  '--sys-root',
  `${FX}sys/${name}`,
  '--dev-root',
  `${FX}dev/${dev}`,
];

describe('formatReport', () => {
  it('one line per check, fixes under warnings and failures, then the verdict', () => {
    const report: HostCheckReport = {
      ok: false,
      checks: [
        { id: 'arch', title: 'Host architecture', status: 'pass', detail: 'amd64 (x86_64)' },
        {
          id: 'kvm',
          title: 'KVM acceleration',
          status: 'warn',
          detail: 'no /dev/kvm',
          fix: 'modprobe kvm_intel',
        },
        {
          id: 'qemu-binary',
          title: 'QEMU binary',
          status: 'fail',
          detail: 'not found',
          fix: 'apt-get install qemu-system-x86',
        },
      ],
    };
    expect(formatReport(report)).toBe(
      [
        'PASS  Host architecture: amd64 (x86_64)',
        'WARN  KVM acceleration: no /dev/kvm',
        '      fix: modprobe kvm_intel',
        'FAIL  QEMU binary: not found',
        '      fix: apt-get install qemu-system-x86',
        '',
        'This host cannot run sandboxes: 1 check failed.',
        '',
      ].join('\n'),
    );
    expect(formatReport({ ok: true, checks: [report.checks[1]!] })).toContain(
      'This host can run sandboxes (1 warning).',
    );
  });
});

describe('vmm check', () => {
  it('a fixture host with KVM and the real QEMU: exit 0, valid JSON', async () => {
    const r = await run(['check', '--json', ...roots('amd64-baremetal')], { PATH: '/usr/bin' });
    const report = HostCheckReportSchema.parse(JSON.parse(r.out));
    expect(r.code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.id === 'kvm')?.status).toBe('pass');
  });

  it('no /dev/kvm: a TCG warning, exit 0', async () => {
    const r = await run(['check', '--json', ...roots('amd64-baremetal', 'no-kvm')], { PATH: '/usr/bin' });
    expect(r.code).toBe(0);
    const report = HostCheckReportSchema.parse(JSON.parse(r.out));
    expect(report.checks.find((c) => c.id === 'kvm')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('TCG, about 10x slower'),
      fix: expect.stringContaining('modprobe kvm_intel'),
    });
  });

  it('no QEMU: fail, exit 1', async () => {
    const r = await run(['check', ...roots('amd64-baremetal'), '--qemu', '/nonexistent/qemu-system-x86_64']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL {2}QEMU binary: no executable \/nonexistent\/qemu-system-x86_64/m);
    expect(r.out).toContain('This host cannot run sandboxes: 1 check failed.');
  });

  it('--memory changes the sandbox size checked', async () => {
    const r = await run(['check', '--json', ...roots('ppc64le-kvm-guest', 'no-kvm'), '--memory', '65536'], {
      PATH: '/usr/bin',
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).checks.find((c: { id: string }) => c.id === 'memory').status).toBe('fail');
  });

  it.each(['0', 'abc', '2G', '-1', '1.5'])('--memory=%s is a usage error', async (v) => {
    const r = await run(['check', `--memory=${v}`]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--memory must be a whole number of MiB');
  });
});
