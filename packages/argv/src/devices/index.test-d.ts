import { describe, expectTypeOf, it } from 'vitest';
import type { BlockDeviceConfig } from './block.js';
import { DEVICE_REGISTRY, type Device, type DeviceKind, type DeviceOfKind } from './index.js';
import type { NetDeviceConfig } from './net.js';

describe('Device union', () => {
  it('narrows on kind', () => {
    const d = {} as Device;
    if (d.kind === 'block') expectTypeOf(d).toEqualTypeOf<BlockDeviceConfig>();
    if (d.kind === 'net') expectTypeOf(d.fds).toEqualTypeOf<number[] | undefined>();
  });
  it('DeviceOfKind picks one member', () => {
    expectTypeOf<DeviceOfKind<'net'>>().toEqualTypeOf<NetDeviceConfig>();
    expectTypeOf<DeviceOfKind<'vsock'>['contextId']>().toEqualTypeOf<number>();
  });
  it('kinds are a closed string-literal union', () => {
    expectTypeOf<'block'>().toExtend<DeviceKind>();
    expectTypeOf<'floppy'>().not.toExtend<DeviceKind>();
    expectTypeOf<DeviceKind>().toEqualTypeOf<keyof typeof DEVICE_REGISTRY>();
  });
  it('rejects unknown kinds and missing required fields at compile time', () => {
    // @ts-expect-error unknown kind
    const a: Device = { kind: 'floppy', id: 'f' };
    // @ts-expect-error block needs file
    const b: Device = { kind: 'block', id: 'd' };
    const c: Device = { kind: 'block', id: 'd', file: '/f', transport: 'ccw' };
    expectTypeOf(c).toExtend<Device>();
    void a;
    void b;
  });
  it('the registry entry of a kind encodes exactly that kind', () => {
    expectTypeOf(DEVICE_REGISTRY.block.encode).parameter(0).toEqualTypeOf<BlockDeviceConfig>();
  });
});
