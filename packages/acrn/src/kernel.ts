import { z } from 'zod';
import { parseWith } from './errors.js';

/** Most vCPUs an ACRN guest gets (Kata's `MaxAcrnVCPUs`). */
export const ACRN_MAX_VCPUS = 8;

/** One kernel parameter: `key=value`, or a bare `key` (or bare `value`) when the other is empty. */
export interface AcrnKernelParam {
  readonly key: string;
  readonly value: string;
}

const p = (key: string, value = ''): AcrnKernelParam => Object.freeze({ key, value });

/** ACRN's base kernel parameters (Kata acrn_arch_base.go `acrnKernelParams`). */
export const ACRN_KERNEL_PARAMS: readonly AcrnKernelParam[] = Object.freeze([
  p('tsc', 'reliable'),
  p('no_timer_check'),
  p('nohpet'),
  p('console', 'tty0'),
  p('console', 'ttyS0'),
  p('console', 'hvc0'),
  p('log_buf_len', '16M'),
  p('consoleblank', '0'),
  p('iommu', 'off'),
  p('i915.avail_planes_per_pipe', '0x070F00'),
  p('i915.enable_hangcheck', '0'),
  p('i915.nuclear_pageflip', '1'),
  p('i915.enable_guc_loading', '0'),
  p('i915.enable_guc_submission', '0'),
  p('i915.enable_guc', '0'),
]);

/** Added to the base when the guest boots from an image (the rootfs is virtio-blk index 0). */
export const ACRN_KERNEL_ROOT_PARAMS: readonly AcrnKernelParam[] = Object.freeze([
  p('root', '/dev/vda1 rw rootwait'),
]);

/** Non-debug parameters. */
export const ACRN_KERNEL_PARAMS_NON_DEBUG: readonly AcrnKernelParam[] = Object.freeze([p('quiet')]);
/** Debug parameters. */
export const ACRN_KERNEL_PARAMS_DEBUG: readonly AcrnKernelParam[] = Object.freeze([p('debug')]);
/** systemd parameters for an image guest, non-debug. */
export const ACRN_KERNEL_PARAMS_SYSTEMD_NON_DEBUG: readonly AcrnKernelParam[] = Object.freeze([
  p('systemd.show_status', 'false'),
]);
/** systemd parameters for an image guest, debug. */
export const ACRN_KERNEL_PARAMS_SYSTEMD_DEBUG: readonly AcrnKernelParam[] = Object.freeze([
  p('systemd.show_status', 'true'),
  p('systemd.log_level', 'debug'),
  p('systemd.log_target', 'kmsg'),
  p('printk.devkmsg', 'on'),
]);

const TOKEN = /^[^\s\u0000-\u001f\u007f]*$/;

const userParam = z.strictObject({
  key: z.string().regex(TOKEN, 'must not contain whitespace or control characters'),
  value: z.string().regex(TOKEN, 'must not contain whitespace or control characters'),
});

const kernelOptionsSchema = z.strictObject({
  debug: z.boolean().default(false),
  withImage: z.boolean().default(false),
  maxVcpus: z.int().min(1).max(ACRN_MAX_VCPUS).default(ACRN_MAX_VCPUS),
  extra: z.array(userParam).default([]),
});

/** Options of {@link acrnKernelParams}. */
export interface AcrnKernelOptions {
  /** Debug params (`debug`, verbose systemd) instead of quiet ones. @default false */
  debug?: boolean;
  /** The guest boots from an image: add `root=/dev/vda1 rw rootwait` and the systemd params. @default false */
  withImage?: boolean;
  /** `maxcpus=`; 1..8. @default 8 ({@link ACRN_MAX_VCPUS}) */
  maxVcpus?: number;
  /** The user's parameters, appended last so they win. No whitespace in keys or values. @default [] */
  extra?: readonly AcrnKernelParam[];
}

/**
 * The guest kernel parameters Kata's ACRN driver uses: base (+ root with an image), debug or
 * quiet (+ systemd with an image), `panic=1`, `maxcpus=<maxVcpus>`, then the user's.
 * Returns fresh arrays on every call (no shared slices).
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` for maxVcpus outside 1..8 or a malformed user parameter.
 */
export function acrnKernelParams(options: AcrnKernelOptions = {}): AcrnKernelParam[] {
  const o = parseWith(kernelOptionsSchema, options, 'kernelParams');
  const params: AcrnKernelParam[] = [...ACRN_KERNEL_PARAMS];
  if (o.withImage) params.push(...ACRN_KERNEL_ROOT_PARAMS);
  if (o.debug) {
    params.push(...ACRN_KERNEL_PARAMS_DEBUG);
    if (o.withImage) params.push(...ACRN_KERNEL_PARAMS_SYSTEMD_DEBUG);
  } else {
    params.push(...ACRN_KERNEL_PARAMS_NON_DEBUG);
    if (o.withImage) params.push(...ACRN_KERNEL_PARAMS_SYSTEMD_NON_DEBUG);
  }
  params.push(p('panic', '1'), p('maxcpus', String(o.maxVcpus)));
  params.push(...o.extra.map((e) => p(e.key, e.value)));
  return params;
}

/**
 * Join parameters into one command line, as Kata's `SerializeParams(params, "=")` + `" "`:
 * both empty -> skipped; one empty -> the other alone; else `key=value`.
 */
export function serializeKernelParams(params: readonly AcrnKernelParam[]): string {
  const out: string[] = [];
  for (const { key, value } of params) {
    if (key === '' && value === '') continue;
    out.push(key === '' ? value : value === '' ? key : `${key}=${value}`);
  }
  return out.join(' ');
}

/** acrn-dm's `-m` value for `memoryMiB` (`2048` -> `2048M`), as Kata's `memoryTopology`. */
export function acrnMemorySize(memoryMiB: number): string {
  return `${parseWith(z.int().min(1), memoryMiB, 'memoryMiB')}M`;
}
