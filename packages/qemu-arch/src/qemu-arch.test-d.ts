import type { Device, MachineConfig, PcieRootPortConfig, QemuConfig, VhostUserConfig } from '@vmm/argv';
import { describe, expectTypeOf, it } from 'vitest';
import { composeSandboxConfig } from './compose.js';
import { createQemuArch } from './qemu-arch.js';

describe('types line up with @vmm/argv', () => {
  const arch = createQemuArch({ arch: 'amd64', machineType: 'q35' });
  it('the composed config is a QemuConfig and the machine a MachineConfig', () => {
    const s = composeSandboxConfig(arch, { vcpus: 1, memMiB: 512, hostMemMiB: 1024, consolePath: '/c' });
    expectTypeOf(s.config).toEqualTypeOf<QemuConfig>();
    expectTypeOf(arch.machine).toEqualTypeOf<Readonly<MachineConfig>>();
  });
  it('builders return argv device configs', () => {
    const d = arch.devices();
    expectTypeOf(d.pcieRootPorts(1)).toEqualTypeOf<PcieRootPortConfig[]>();
    expectTypeOf(d.vhostUser).returns.toEqualTypeOf<VhostUserConfig>();
    expectTypeOf(d.console('/c')).items.toMatchTypeOf<Device>();
    expectTypeOf(d.image).returns.toMatchTypeOf<Device>();
  });
  it('options are checked at compile time', () => {
    // @ts-expect-error not an architecture
    createQemuArch({ arch: 'riscv64' });
    // @ts-expect-error not an accelerator
    createQemuArch({ arch: 'amd64', accel: 'hvf' });
  });
});
