import { z } from 'zod';

/** Outcome of one host requirement. `warn` still lets sandboxes run (e.g. TCG instead of KVM). */
export const HOST_CHECK_STATUSES = ['pass', 'warn', 'fail'] as const;

/** One of {@link HOST_CHECK_STATUSES}. */
export type HostCheckStatus = (typeof HOST_CHECK_STATUSES)[number];

/**
 * One requirement a host must meet to run sandboxes, with its verdict. Shared by `vmm check`
 * (QEMU/KVM checks from {@link runHostChecks}) and `@vmm/acrn` (ACRN checks).
 */
export interface HostCheck {
  /** Stable kebab-case identifier, e.g. `kvm`, `qemu-binary`; safe to match on in scripts. */
  id: string;
  /** Short human title, e.g. "QEMU binary". */
  title: string;
  /** `pass`: met. `warn`: sandboxes run, degraded. `fail`: sandboxes cannot run. */
  status: 'pass' | 'warn' | 'fail';
  /** What was found, in one sentence (the reason behind the status). */
  detail: string;
  /** What to do about a `warn` or `fail`, when there is something to do. */
  fix?: string;
}

/** Every check, in order, and the overall verdict. */
export interface HostCheckReport {
  /** `true` when no check has status `fail`: sandboxes can run on this host. */
  ok: boolean;
  checks: HostCheck[];
}

/** Runtime schema of {@link HostCheck} (validates JSON from `vmm check --json`, or ACRN's checks). */
export const HostCheckSchema: z.ZodType<HostCheck> = z.strictObject({
  id: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/),
  title: z.string().min(1),
  status: z.enum(HOST_CHECK_STATUSES),
  detail: z.string().min(1),
  fix: z.string().min(1).optional(),
});

/** Runtime schema of {@link HostCheckReport}; `ok` must agree with the checks. */
export const HostCheckReportSchema: z.ZodType<HostCheckReport> = z
  .strictObject({ ok: z.boolean(), checks: z.array(HostCheckSchema) })
  .refine((r) => r.ok === !r.checks.some((c) => c.status === 'fail'), {
    message: 'ok must be true exactly when no check failed',
    path: ['ok'],
  });

/**
 * Build a report from checks: `ok` is `true` when none has status `fail`.
 * @param checks - the checks, in the order to print them.
 */
export function toHostCheckReport(checks: HostCheck[]): HostCheckReport {
  return { ok: !checks.some((c) => c.status === 'fail'), checks };
}
