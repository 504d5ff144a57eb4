/**
 * Kernel parameters: the lists Kata shares between architectures, and `SerializeParams`.
 */

/** One kernel parameter. `value: ''` is a bare flag (`quiet`). */
export interface KernelParam {
  readonly key: string;
  readonly value: string;
}

const p = (key: string, value = ''): KernelParam => Object.freeze({ key, value });
const list = (...params: KernelParam[]): readonly KernelParam[] => Object.freeze(params);

/** Appended when not debugging (Kata `kernelParamsNonDebug`). */
export const KERNEL_PARAMS_NON_DEBUG: readonly KernelParam[] = list(p('quiet'));
/** Appended when debugging (Kata `kernelParamsDebug`). */
export const KERNEL_PARAMS_DEBUG: readonly KernelParam[] = list(p('debug'));
/** Appended with an image (systemd guest), not debugging (Kata `kernelParamsSystemdNonDebug`). */
export const KERNEL_PARAMS_SYSTEMD_NON_DEBUG: readonly KernelParam[] = list(
  p('systemd.show_status', 'false'),
);
/** Appended with an image (systemd guest), debugging (Kata `kernelParamsSystemdDebug`). */
export const KERNEL_PARAMS_SYSTEMD_DEBUG: readonly KernelParam[] = list(
  p('systemd.show_status', 'true'),
  p('systemd.log_level', 'debug'),
);
/** Root on the NVDIMM image with DAX (amd64, arm64). */
export const KERNEL_ROOT_NVDIMM_DAX: readonly KernelParam[] = list(
  p('root', '/dev/pmem0p1'),
  p('rootflags', 'dax,data=ordered,errors=remount-ro ro'),
  p('rootfstype', 'ext4'),
);
/** Root on the NVDIMM image without DAX (ppc64le). */
export const KERNEL_ROOT_NVDIMM_NO_DAX: readonly KernelParam[] = list(
  p('root', '/dev/pmem0p1'),
  p('rootflags', 'data=ordered,errors=remount-ro ro'),
  p('rootfstype', 'ext4'),
);
/** Root on a virtio-blk image (s390x, or NVDIMM disabled). */
export const KERNEL_ROOT_VIRTIO_BLK: readonly KernelParam[] = list(
  p('root', '/dev/vda1'),
  p('rootflags', 'data=ordered,errors=remount-ro ro'),
  p('rootfstype', 'ext4'),
);

/** `kernelParam('console', 'hvc0')`: a frozen {@link KernelParam}. */
export function kernelParam(key: string, value = ''): KernelParam {
  return p(key, value);
}

/**
 * Kata's `SerializeParams(params, "=")` joined by spaces: `key=value`, a bare `key` or `value` when
 * the other is empty, nothing when both are.
 */
export function serializeKernelParams(params: readonly KernelParam[]): string {
  const out: string[] = [];
  for (const { key, value } of params) {
    if (key === '' && value === '') continue;
    if (key === '') out.push(value);
    else if (value === '') out.push(key);
    else out.push(`${key}=${value}`);
  }
  return out.join(' ');
}
