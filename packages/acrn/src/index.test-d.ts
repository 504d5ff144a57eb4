import type { HostCheck } from '@vmm/hostinfo';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type AcrnDeviceConfig,
  type AcrnErrorCode,
  type AcrnStopResult,
  checkAcrnHost,
  encodeAcrnArgv,
  launchAcrnDm,
} from './index.js';

describe('public types', () => {
  it('discriminates devices on kind', () => {
    expectTypeOf<Extract<AcrnDeviceConfig, { kind: 'virtio-blk' }>>().toHaveProperty('index');
    expectTypeOf<Extract<AcrnDeviceConfig, { kind: 'console' }>['backend']>().toEqualTypeOf<
      'pty' | 'tty' | 'socket' | 'file' | 'stdio'
    >();
    // @ts-expect-error: not a device kind acrn-dm gets from this package
    const bad: AcrnDeviceConfig = { kind: 'vfio' };
    void bad;
  });

  it('returns argv as strings and checks as HostCheck', () => {
    expectTypeOf(encodeAcrnArgv).returns.toHaveProperty('argv').toEqualTypeOf<string[]>();
    expectTypeOf(checkAcrnHost).returns.resolves.toEqualTypeOf<HostCheck[]>();
    expectTypeOf(launchAcrnDm)
      .returns.resolves.toHaveProperty('stop')
      .returns.resolves.toEqualTypeOf<AcrnStopResult>();
  });

  it('has a closed error code union', () => {
    expectTypeOf<'ACRN_INVALID_CONFIG'>().toExtend<AcrnErrorCode>();
    expectTypeOf<'QMP_TIMEOUT'>().not.toExtend<AcrnErrorCode>();
  });
});
