import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HostCheckReportSchema } from '@vmm/hostinfo';
import { beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const FX = fileURLToPath(new URL('../../hostinfo/test/fixtures/', import.meta.url));
const run = promisify(execFile);

beforeAll(() => {
  // These tests run the built command, as a user would; `pnpm run build` (or .ci/run) makes it.
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm --filter @vmm/cli build\` first`);
});

async function vmm(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 30_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

const roots = (name: string, dev = name) => [
  '--proc-root',
  `${FX}proc/${name}`,
  '--sys-root',
  `${FX}sys/${name}`,
  '--dev-root',
  `${FX}dev/${dev}`,
];

describe('vmm check (built CLI)', () => {
  it('on this host: valid JSON, and the exit code agrees with ok', async () => {
    const r = await vmm(['check', '--json']);
    const report = HostCheckReportSchema.parse(JSON.parse(r.out));
    expect(r.code).toBe(report.ok ? 0 : 1);
    expect(report.checks.find((c) => c.id === 'qemu-binary')?.status).toBe('pass');
    // This machine's /dev/kvm comes from kvm_pvm: TCG with a warning, and still runnable.
    console.log(report.checks.map((c) => `${c.status} ${c.id}: ${c.detail}`).join('\n'));
  });

  it('a dev root without /dev/kvm: TCG warning, exit 0', async () => {
    const r = await vmm(['check', '--json', ...roots('amd64-baremetal', 'no-kvm')]);
    expect(r.code).toBe(0);
    const report = HostCheckReportSchema.parse(JSON.parse(r.out));
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.id === 'kvm')).toMatchObject({
      status: 'warn',
      detail: `no ${FX}dev/no-kvm/kvm: sandboxes will run under TCG, about 10x slower`,
      fix: 'modprobe kvm_intel, or accept TCG',
    });
  });

  it('no QEMU: fail, exit 1 (JSON and table)', async () => {
    const args = [...roots('amd64-baremetal'), '--qemu', '/nonexistent/qemu-system-x86_64'];
    const j = await vmm(['check', '--json', ...args]);
    expect(j.code).toBe(1);
    const report = HostCheckReportSchema.parse(JSON.parse(j.out));
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.id === 'qemu-binary')?.status).toBe('fail');
    const t = await vmm(['check', ...args]);
    expect(t.code).toBe(1);
    expect(t.out).toContain(
      'FAIL  QEMU binary: no executable /nonexistent/qemu-system-x86_64 (explicit path)',
    );
    expect(t.out.trimEnd().split('\n').at(-1)).toBe('This host cannot run sandboxes: 1 check failed.');
  });

  it('VMM_QEMU names the binary too; VMM_ACCEL=kvm on a host without /dev/kvm fails', async () => {
    const env = { ...process.env, VMM_QEMU: '/nonexistent/q' };
    expect((await vmm(['check', '--json', ...roots('amd64-baremetal')], env)).code).toBe(1);
    const forced = await vmm(['check', '--json', ...roots('amd64-baremetal', 'no-kvm')], {
      ...process.env,
      VMM_ACCEL: 'kvm',
    });
    expect(forced.code).toBe(1);
    expect(JSON.parse(forced.out).checks.find((c: { id: string }) => c.id === 'kvm').status).toBe('fail');
  });

  it('every fixture host with the real QEMU for its arch passes', async () => {
    for (const [name, dev] of [
      ['arm64-altra', 'arm64-altra'],
      ['ppc64le-powernv', 'ppc64le-powernv'],
      ['s390x-lpar', 's390x-lpar'],
    ] as const) {
      const r = await vmm(['check', '--json', ...roots(name, dev)]);
      const report = HostCheckReportSchema.parse(JSON.parse(r.out));
      expect({ name, code: r.code, ok: report.ok }).toEqual({ name, code: 0, ok: true });
      expect(report.checks.find((c) => c.id === 'kvm')?.status).toBe('pass');
    }
  });

  // The permission path on the real /dev/kvm: run the CLI as "nobody" (root can open anything).
  const kvmMode = (() => {
    try {
      return statSync('/dev/kvm').mode & 0o777;
    } catch {
      return undefined;
    }
  })();
  const canDrop = process.getuid?.() === 0 && kvmMode !== undefined && (kvmMode & 0o006) !== 0o006;
  if (!canDrop) {
    console.log(
      'skipping the non-root /dev/kvm test: needs root and a /dev/kvm that is not world read/write',
    );
  }
  it.runIf(canDrop)('as a user without access to /dev/kvm: warn with the access fix, exit 0', async () => {
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        'setpriv',
        [
          '--reuid',
          '65534',
          '--regid',
          '65534',
          '--clear-groups',
          // Read and search access only (no write anywhere), so nobody can load the CLI from a checkout
          // under a private directory (mktemp -d is 0700); /dev/kvm still needs write access it lacks.
          '--inh-caps',
          '+dac_read_search',
          '--ambient-caps',
          '+dac_read_search',
          process.execPath,
          BIN,
          'check',
          '--json',
        ],
        { timeout: 30_000 },
        (err, stdout) =>
          resolve({ code: err === null ? 0 : Number((err as { code?: number }).code), out: stdout }),
      );
    });
    expect(r.code).toBe(0);
    const kvm = HostCheckReportSchema.parse(JSON.parse(r.out)).checks.find((c) => c.id === 'kvm');
    expect(kvm).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(
        /^\/dev\/kvm \(mode 0\d{3}\) is not read\/write for this user: sandboxes will run under TCG/,
      ),
      fix: expect.stringContaining('group'),
    });
  });
});
