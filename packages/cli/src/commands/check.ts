import { type HostCheckReport, readHostInfo, runHostChecks } from '@vmm/hostinfo';
import { type Command, printJson } from '../command.js';
import { CliError } from '../errors.js';
import { HOST_FLAGS, HOST_FLAGS_USAGE, hostInfoOptions } from './hostinfo.js';

const LABEL = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

/** The report as one line per check (plus its fix), then the verdict. */
export function formatReport(report: HostCheckReport): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${LABEL[c.status]}  ${c.title}: ${c.detail}`);
    if (c.fix !== undefined && c.status !== 'pass') lines.push(`      fix: ${c.fix}`);
  }
  const warns = report.checks.filter((c) => c.status === 'warn').length;
  const fails = report.checks.filter((c) => c.status === 'fail').length;
  lines.push(
    '',
    report.ok
      ? `This host can run sandboxes${warns > 0 ? ` (${warns} warning${warns === 1 ? '' : 's'})` : ''}.`
      : `This host cannot run sandboxes: ${fails} check${fails === 1 ? '' : 's'} failed.`,
  );
  return `${lines.join('\n')}\n`;
}

/** `vmm check`: can this host run sandboxes, and why not. Exit 0 when it can (TCG counts). */
export const command: Command = {
  name: 'check',
  summary: 'check whether this host can run sandboxes (exit 0: yes, possibly with warnings; 1: no)',
  usage: `[--json] [--memory <MiB>] [--proc-root <dir>] [--sys-root <dir>] [--dev-root <dir>] [--qemu <path>]

  --memory <MiB>     guest memory the check must fit (default 2048, Kata's default sandbox)
${HOST_FLAGS_USAGE}

Exit status: 0 when sandboxes can run (KVM, or TCG with a warning), 1 when a check fails.`,
  options: { ...HOST_FLAGS, memory: { type: 'string' } },
  async run(ctx) {
    const raw = ctx.values.memory;
    let sandboxMemoryMiB: number | undefined;
    if (typeof raw === 'string') {
      sandboxMemoryMiB = /^[1-9][0-9]{0,7}$/.test(raw) ? Number(raw) : Number.NaN;
      if (Number.isNaN(sandboxMemoryMiB)) {
        throw new CliError('CLI_USAGE', `vmm check: --memory must be a whole number of MiB, got "${raw}"`);
      }
    }
    const info = await readHostInfo(hostInfoOptions(ctx));
    const report = runHostChecks(info, sandboxMemoryMiB === undefined ? {} : { sandboxMemoryMiB });
    if (ctx.values.json === true) printJson(ctx.io, report);
    else ctx.io.stdout.write(formatReport(report));
    return report.ok ? 0 : 1;
  },
};
