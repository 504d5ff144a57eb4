import { describe, expect, it } from 'vitest';
import { KERNEL_ROOT_NVDIMM_DAX, kernelParam, serializeKernelParams } from './kernel-params.js';

describe('serializeKernelParams (Kata SerializeParams with "=")', () => {
  it('writes key=value, bare keys and bare values; skips empty pairs', () => {
    expect(
      serializeKernelParams([
        kernelParam('console', 'hvc0'),
        kernelParam('quiet'),
        { key: '', value: 'lonely' },
        { key: '', value: '' },
        kernelParam('a', 'b'),
      ]),
    ).toBe('console=hvc0 quiet lonely a=b');
  });
  it('keeps the value with a space verbatim, as Kata does', () => {
    expect(serializeKernelParams(KERNEL_ROOT_NVDIMM_DAX)).toBe(
      'root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4',
    );
  });
  it('lists are frozen', () => {
    expect(Object.isFrozen(KERNEL_ROOT_NVDIMM_DAX)).toBe(true);
    expect(Object.isFrozen(KERNEL_ROOT_NVDIMM_DAX[0])).toBe(true);
  });
});
