import { expectTypeOf, test } from 'vitest';
import type { HostCheck, HostCheckReport } from './host-check.js';
import type { HostInfo } from './host-info.js';

test('HostCheck and HostCheckReport have exactly the shape @vmm/acrn codes against', () => {
  expectTypeOf<HostCheck>().toEqualTypeOf<{
    id: string;
    title: string;
    status: 'pass' | 'warn' | 'fail';
    detail: string;
    fix?: string;
  }>();
  expectTypeOf<HostCheckReport>().toEqualTypeOf<{ ok: boolean; checks: HostCheck[] }>();
});

test('HostInfo facts are typed, not any', () => {
  expectTypeOf<HostInfo['arch']>().toEqualTypeOf<'amd64' | 'arm64' | 'ppc64le' | 's390x' | null>();
  expectTypeOf<HostInfo['accel']['accel']>().toEqualTypeOf<'kvm' | 'tcg'>();
  expectTypeOf<HostInfo['memory']>().not.toBeAny();
});
