import { describe, expect, it } from 'vitest';
import { AcrnError } from './errors.js';
import { ACRN_KERNEL_PARAMS, acrnKernelParams, acrnMemorySize, serializeKernelParams } from './kernel.js';

const BASE =
  'tsc=reliable no_timer_check nohpet console=tty0 console=ttyS0 console=hvc0 log_buf_len=16M consoleblank=0 ' +
  'iommu=off i915.avail_planes_per_pipe=0x070F00 i915.enable_hangcheck=0 i915.nuclear_pageflip=1 ' +
  'i915.enable_guc_loading=0 i915.enable_guc_submission=0 i915.enable_guc=0';

describe('acrnKernelParams', () => {
  it('non-debug, no image', () => {
    expect(serializeKernelParams(acrnKernelParams())).toBe(`${BASE} quiet panic=1 maxcpus=8`);
  });

  it('debug, no image', () => {
    expect(serializeKernelParams(acrnKernelParams({ debug: true }))).toBe(`${BASE} debug panic=1 maxcpus=8`);
  });

  it('non-debug with an image: root after the base, systemd after quiet', () => {
    expect(serializeKernelParams(acrnKernelParams({ withImage: true }))).toBe(
      `${BASE} root=/dev/vda1 rw rootwait quiet systemd.show_status=false panic=1 maxcpus=8`,
    );
  });

  it('debug with an image', () => {
    expect(serializeKernelParams(acrnKernelParams({ withImage: true, debug: true }))).toBe(
      `${BASE} root=/dev/vda1 rw rootwait debug systemd.show_status=true systemd.log_level=debug ` +
        'systemd.log_target=kmsg printk.devkmsg=on panic=1 maxcpus=8',
    );
  });

  it('maxVcpus and user params last', () => {
    expect(
      serializeKernelParams(
        acrnKernelParams({
          maxVcpus: 2,
          extra: [
            { key: 'agent.log', value: 'debug' },
            { key: 'ro', value: '' },
          ],
        }),
      ),
    ).toBe(`${BASE} quiet panic=1 maxcpus=2 agent.log=debug ro`);
  });

  it('does not grow shared lists between calls (Kata appended to package slices)', () => {
    const before = ACRN_KERNEL_PARAMS.length;
    const a = acrnKernelParams({ withImage: true });
    const b = acrnKernelParams({ withImage: true });
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
    expect(ACRN_KERNEL_PARAMS.length).toBe(before);
    expect(Object.isFrozen(ACRN_KERNEL_PARAMS)).toBe(true);
  });

  it.each([0, 9, 240, 1.5])('rejects maxVcpus %d (ACRN has at most 8)', (maxVcpus) => {
    try {
      acrnKernelParams({ maxVcpus });
      expect.unreachable();
    } catch (e) {
      expect(AcrnError.is(e) && e.code).toBe('ACRN_INVALID_CONFIG');
      expect(AcrnError.is(e) && e.path).toEqual(['maxVcpus']);
    }
  });

  it.each([
    [{ key: 'a b', value: '' }, ['extra', 0, 'key']],
    [{ key: 'a', value: 'x\ny' }, ['extra', 0, 'value']],
    [{ key: 'a', value: 'x init=/bin/sh' }, ['extra', 0, 'value']],
  ])('rejects user param %j', (param, path) => {
    try {
      acrnKernelParams({ extra: [param] });
      expect.unreachable();
    } catch (e) {
      expect(AcrnError.is(e) && e.path).toEqual(path);
    }
  });
});

describe('serializeKernelParams', () => {
  it('follows SerializeParams("=")', () => {
    expect(
      serializeKernelParams([
        { key: '', value: '' },
        { key: 'k', value: '' },
        { key: '', value: 'v' },
        { key: 'a', value: 'b' },
      ]),
    ).toBe('k v a=b');
    expect(serializeKernelParams([])).toBe('');
  });
});

describe('acrnMemorySize', () => {
  it('MiB with an M suffix', () => {
    expect(acrnMemorySize(2048)).toBe('2048M');
    expect(() => acrnMemorySize(0)).toThrow(/memoryMiB/);
    expect(() => acrnMemorySize(1.5)).toThrow(AcrnError);
  });
});
