import { describe, expect, it } from 'vitest';
import { QemuArchError } from './errors.js';
import { serializeKernelParams } from './kernel-params.js';
import { createQemuArch, type QemuArch } from './qemu-arch.js';

function errorOf(fn: () => unknown): QemuArchError {
  try {
    fn();
  } catch (e) {
    if (QemuArchError.is(e)) return e;
    throw e;
  }
  throw new Error('expected a QemuArchError');
}

const AMD64_BASE =
  'tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1 i8042.noaux=1 noreplace-smp reboot=k console=hvc0 console=hvc1 cryptomgr.notests net.ifnames=0 pci=lastbus=0';
const PPC_BASE =
  'tsc=reliable no_timer_check rcupdate.rcu_expedited=1 noreplace-smp reboot=k console=hvc0 console=hvc1 cryptomgr.notests net.ifnames=0';
const DAX = 'root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4';
const NO_DAX = 'root=/dev/pmem0p1 rootflags=data=ordered,errors=remount-ro ro rootfstype=ext4';
const VDA = 'root=/dev/vda1 rootflags=data=ordered,errors=remount-ro ro rootfstype=ext4';

describe('per-arch table (reference 1c: qemu_arch_base.go + per-arch)', () => {
  it.each([
    ['amd64', 'pc', '/usr/bin/qemu-system-x86_64', 240, 'kernel_irqchip=on', 'pci', 'pci.0', 'pci'],
    [
      'arm64',
      'virt',
      '/usr/bin/qemu-system-aarch64',
      123,
      'usb=off,gic-version=host',
      'pci',
      'pcie.0',
      'pci',
    ],
    ['ppc64le', 'pseries', '/usr/bin/qemu-system-ppc64', 128, 'usb=off', 'pci', 'pci.0', 'pci'],
    ['s390x', 's390-ccw-virtio', '/usr/bin/qemu-system-s390x', 248, undefined, 'ccw', null, 'ccw'],
  ] as const)(
    '%s: default machine %s, %s, max %i vCPUs, options %s',
    (arch, machine, path, max, options, bt, bus, transport) => {
      const a = createQemuArch({ arch });
      expect(a.machineType).toBe(machine);
      expect(a.qemuPath).toBe(path);
      expect(a.maxVcpus).toBe(max);
      expect(a.machine).toEqual({
        type: machine,
        acceleration: 'kvm',
        ...(options === undefined ? {} : { options }),
      });
      expect(a.bridgeType).toBe(bt);
      expect(a.bridgeBus).toBe(bus);
      expect(a.transport).toBe(transport);
      expect(a.cpuModel).toBe('host');
    },
  );

  it.each([
    ['pc', 'pci', 'pci.0', 'pci', true, true, false],
    ['q35', 'pci', 'pcie.0', 'pci', true, true, true],
    ['virt', 'pci', 'pcie.0', 'pci', true, true, false],
    ['microvm', null, null, 'mmio', false, false, false],
  ] as const)(
    'amd64 %s: bridges %s on %s, %s, block hotplug %s, memory hotplug %s, root ports %s',
    (m, bt, bus, t, blk, mem, rp) => {
      const a = createQemuArch({ arch: 'amd64', machineType: m });
      expect([a.bridgeType, a.bridgeBus, a.transport]).toEqual([bt, bus, t]);
      expect(a.capabilities).toMatchObject({
        blockDeviceHotplug: blk,
        memoryHotplug: mem,
        pcieRootPorts: rp,
        iommu: rp,
        multiQueue: true,
        fsSharing: true,
      });
    },
  );

  it('capabilities of the other arches', () => {
    expect(createQemuArch({ arch: 'arm64' }).capabilities).toEqual({
      blockDeviceHotplug: true,
      multiQueue: true,
      fsSharing: true,
      memoryHotplug: true,
      vhostUser: true,
      iommu: false,
      pcieRootPorts: false,
      nvdimmImage: true,
      ignoreSharedMigration: false,
    });
    expect(createQemuArch({ arch: 'ppc64le' }).capabilities).toMatchObject({
      blockDeviceHotplug: true,
      memoryHotplug: true,
      vhostUser: true,
    });
    expect(createQemuArch({ arch: 's390x' }).capabilities).toEqual({
      blockDeviceHotplug: true,
      multiQueue: true,
      fsSharing: true,
      memoryHotplug: false,
      vhostUser: false,
      iommu: false,
      pcieRootPorts: false,
      nvdimmImage: false,
      ignoreSharedMigration: true,
    });
  });

  it('arm64 GIC: vCPU limit 8 on GICv2, 123 otherwise; host under KVM, 3 under TCG by default', () => {
    expect(createQemuArch({ arch: 'arm64', gicVersion: '2' }).maxVcpus).toBe(8);
    expect(createQemuArch({ arch: 'arm64', gicVersion: '4' }).maxVcpus).toBe(123);
    const tcg = createQemuArch({ arch: 'arm64', accel: 'tcg' });
    expect(tcg.gicVersion).toBe('3');
    expect(tcg.machine).toEqual({ type: 'virt', acceleration: 'tcg', options: 'usb=off,gic-version=3' });
    expect(errorOf(() => createQemuArch({ arch: 'arm64', accel: 'tcg', gicVersion: 'host' }))).toMatchObject({
      code: 'QEMU_ARCH_UNSUPPORTED',
      path: 'options.gicVersion',
    });
    expect(errorOf(() => createQemuArch({ arch: 'amd64', gicVersion: '3' }))).toMatchObject({
      code: 'QEMU_ARCH_INVALID_OPTIONS',
      path: 'options.gicVersion',
    });
    expect(createQemuArch({ arch: 'amd64' }).gicVersion).toBeUndefined();
  });

  it.each([
    ['amd64', 'pc-q35-7.2', 'q35', 'pcie.0'],
    ['amd64', 'pc-i440fx-7.2', 'pc', 'pci.0'],
    ['arm64', 'virt-7.2', 'virt', 'pcie.0'],
    ['ppc64le', 'pseries-7.1', 'pseries', 'pci.0'],
    ['s390x', 's390-ccw-virtio-7.2', 's390-ccw-virtio', null],
  ] as const)('%s versioned machine %s follows the %s rules', (arch, machineType, family, bus) => {
    const a = createQemuArch({ arch, machineType });
    expect(a.machineType).toBe(machineType);
    expect(a.machineFamily).toBe(family);
    expect(a.machine.type).toBe(machineType);
    expect(a.bridgeBus).toBe(bus);
  });

  it.each([
    ['amd64', 'pc-q35-'],
    ['amd64', 'pc-q35-7'],
    ['amd64', 'microvm-7.2'],
    ['amd64', 'pc-i440fx-7.2x'],
  ] as const)('%s %s is not a known versioned machine', (arch, machineType) => {
    expect(errorOf(() => createQemuArch({ arch, machineType })).code).toBe('QEMU_ARCH_UNKNOWN_MACHINE');
  });

  it('unknown machines are refused with the known list', () => {
    const e = errorOf(() => createQemuArch({ arch: 'amd64', machineType: 'pc-lite' }));
    expect(e.code).toBe('QEMU_ARCH_UNKNOWN_MACHINE');
    expect(e.path).toBe('options.machineType');
    expect(e.message).toContain('pc (pc-i440fx-X.Y), q35 (pc-q35-X.Y), virt, microvm');
    expect(errorOf(() => createQemuArch({ arch: 's390x', machineType: 'pc' })).code).toBe(
      'QEMU_ARCH_UNKNOWN_MACHINE',
    );
  });

  it('bad options name the field and keep the zod error as cause', () => {
    const e = errorOf(() => createQemuArch({ arch: 'mips' as 'amd64' }));
    expect(e).toMatchObject({ code: 'QEMU_ARCH_INVALID_OPTIONS', path: 'options.arch' });
    expect(e.cause).toBeInstanceOf(Error);
    expect(errorOf(() => createQemuArch({ arch: 'amd64', bogus: 1 } as never)).code).toBe(
      'QEMU_ARCH_INVALID_OPTIONS',
    );
    expect(errorOf(() => createQemuArch({ arch: 'amd64', cpuFeatures: 'a,,b' })).path).toBe(
      'options.cpuFeatures',
    );
    expect(errorOf(() => createQemuArch({ arch: 'amd64', memOffsetMiB: -1 })).path).toBe(
      'options.memOffsetMiB',
    );
  });
});

describe('machine options', () => {
  it('IOMMU on q35: split irqchip; elsewhere refused', () => {
    expect(createQemuArch({ arch: 'amd64', machineType: 'q35', iommu: true }).machine.options).toBe(
      'kernel_irqchip=split',
    );
    for (const [arch, machineType] of [
      ['amd64', 'pc'],
      ['amd64', 'microvm'],
      ['arm64', 'virt'],
      ['ppc64le', 'pseries'],
      ['s390x', 's390-ccw-virtio'],
    ] as const) {
      expect(errorOf(() => createQemuArch({ arch, machineType, iommu: true }))).toMatchObject({
        code: 'QEMU_ARCH_UNSUPPORTED',
        path: 'options.iommu',
      });
    }
  });
  it('nvdimm=on only with an image on machines that take an NVDIMM image', () => {
    expect(createQemuArch({ arch: 'amd64', image: true }).machine.options).toBe(
      'kernel_irqchip=on,nvdimm=on',
    );
    expect(createQemuArch({ arch: 'arm64', image: true }).machine.options).toBe(
      'usb=off,gic-version=host,nvdimm=on',
    );
    expect(createQemuArch({ arch: 'ppc64le', image: true }).machine.options).toBe('usb=off,nvdimm=on');
    expect(createQemuArch({ arch: 's390x', image: true }).machine.options).toBeUndefined();
    expect(createQemuArch({ arch: 'amd64', machineType: 'microvm', image: true }).machine.options).toBe(
      'kernel_irqchip=on',
    );
    expect(createQemuArch({ arch: 'amd64', image: true, disableImageNvdimm: true }).machine.options).toBe(
      'kernel_irqchip=on',
    );
  });
  it('machineAccelerators are appended, a leading comma dropped', () => {
    expect(createQemuArch({ arch: 'amd64', machineAccelerators: 'nosmm' }).machine.options).toBe(
      'kernel_irqchip=on,nosmm',
    );
    expect(
      createQemuArch({ arch: 's390x', machineAccelerators: ',dump-guest-core=off' }).machine.options,
    ).toBe('dump-guest-core=off');
  });
  it('accel is argv acceleration, not an option', () => {
    expect(createQemuArch({ arch: 'amd64', accel: 'tcg' }).machine).toEqual({
      type: 'pc',
      acceleration: 'tcg',
      options: 'kernel_irqchip=on',
    });
  });
});

describe('CPU model and nesting', () => {
  it('host, features appended without a trailing comma, vmx=off for amd64 templates', () => {
    expect(createQemuArch({ arch: 'amd64', cpuFeatures: 'pmu=off' }).cpuModel).toBe('host,pmu=off');
    expect(createQemuArch({ arch: 'amd64', vmTemplate: true }).cpuModel).toBe('host,vmx=off');
    expect(createQemuArch({ arch: 'amd64', vmTemplate: true, cpuFeatures: '+x2apic' }).cpuModel).toBe(
      'host,vmx=off,+x2apic',
    );
    expect(createQemuArch({ arch: 'arm64', vmTemplate: true }).cpuModel).toBe('host');
    expect(createQemuArch({ arch: 'amd64', cpuModel: 'max' }).cpuModel).toBe('max');
  });
  it('nested runs unless checks are disabled', () => {
    expect(createQemuArch({ arch: 'amd64' }).nestedRun).toBe(false);
    expect(createQemuArch({ arch: 'amd64', nested: true }).nestedRun).toBe(true);
    expect(createQemuArch({ arch: 'amd64', nested: null }).nestedRun).toBe(false);
    expect(createQemuArch({ arch: 'amd64', nested: true, disableNestingChecks: true }).nestedRun).toBe(false);
  });
  it('vhost-net on unless disabled; never on s390x (Kata passes vhost=false there)', () => {
    expect(createQemuArch({ arch: 'amd64' }).vhostNet).toBe(true);
    expect(createQemuArch({ arch: 'amd64', disableVhostNet: true }).vhostNet).toBe(false);
    expect(createQemuArch({ arch: 's390x' }).vhostNet).toBe(false);
  });
});

describe('kernel parameters (parity)', () => {
  const line = (a: QemuArch, debug = false) => a.kernelCommandLine(debug);
  it('amd64 without IOMMU: base + iommu=off + quiet', () => {
    expect(line(createQemuArch({ arch: 'amd64' }))).toBe(`${AMD64_BASE} iommu=off quiet`);
    expect(line(createQemuArch({ arch: 'amd64' }), true)).toBe(`${AMD64_BASE} iommu=off debug`);
  });
  it('amd64 q35 with IOMMU: intel_iommu=on iommu=pt', () => {
    expect(line(createQemuArch({ arch: 'amd64', machineType: 'q35', iommu: true }))).toBe(
      `${AMD64_BASE} intel_iommu=on iommu=pt quiet`,
    );
  });
  it('amd64 with an image: NVDIMM DAX root + systemd params', () => {
    expect(line(createQemuArch({ arch: 'amd64', image: true }))).toBe(
      `${AMD64_BASE} iommu=off ${DAX} quiet systemd.show_status=false`,
    );
    expect(line(createQemuArch({ arch: 'amd64', image: true }), true)).toBe(
      `${AMD64_BASE} iommu=off ${DAX} debug systemd.show_status=true systemd.log_level=debug`,
    );
    expect(line(createQemuArch({ arch: 'amd64', image: true, disableImageNvdimm: true }))).toBe(
      `${AMD64_BASE} iommu=off ${VDA} quiet systemd.show_status=false`,
    );
    expect(line(createQemuArch({ arch: 'amd64', machineType: 'microvm', image: true }))).toBe(
      `${AMD64_BASE} iommu=off ${VDA} quiet systemd.show_status=false`,
    );
  });
  it('arm64, ppc64le, s390x', () => {
    expect(line(createQemuArch({ arch: 'arm64' }))).toBe(
      'console=hvc0 console=hvc1 iommu.passthrough=0 quiet',
    );
    expect(line(createQemuArch({ arch: 'arm64', image: true }))).toBe(
      `console=hvc0 console=hvc1 iommu.passthrough=0 ${DAX} quiet systemd.show_status=false`,
    );
    expect(line(createQemuArch({ arch: 'ppc64le' }))).toBe(`${PPC_BASE} quiet`);
    expect(line(createQemuArch({ arch: 'ppc64le', image: true }))).toBe(
      `${PPC_BASE} ${NO_DAX} quiet systemd.show_status=false`,
    );
    expect(line(createQemuArch({ arch: 's390x' }))).toBe('console=ttysclp0 quiet');
    expect(line(createQemuArch({ arch: 's390x', image: true }), true)).toBe(
      `console=ttysclp0 ${VDA} debug systemd.show_status=true systemd.log_level=debug`,
    );
  });
  it('returns a new frozen list each call', () => {
    const a = createQemuArch({ arch: 'amd64' });
    const p = a.kernelParams();
    expect(Object.isFrozen(p)).toBe(true);
    expect(a.kernelParams()).not.toBe(p);
    expect(serializeKernelParams(p)).toBe(a.kernelCommandLine());
  });
});

describe('pflash and migration', () => {
  it('arm64 takes none or two pflash images; others any', () => {
    const arm = createQemuArch({ arch: 'arm64' });
    expect(arm.pflash([])).toEqual([]);
    expect(arm.pflash(['/a', '/b'])).toEqual(['/a', '/b']);
    expect(errorOf(() => arm.pflash(['/a']))).toMatchObject({
      code: 'QEMU_ARCH_INVALID_OPTIONS',
      path: 'pflash',
    });
    expect(errorOf(() => arm.pflash(['/a', '/b', '/c'])).code).toBe('QEMU_ARCH_INVALID_OPTIONS');
    expect(createQemuArch({ arch: 'amd64' }).pflash(['/a'])).toEqual(['/a']);
  });
  it('x-ignore-shared and migration wait per arch', () => {
    expect(createQemuArch({ arch: 'arm64' }).capabilities.ignoreSharedMigration).toBe(false);
    expect(createQemuArch({ arch: 'amd64' }).capabilities.ignoreSharedMigration).toBe(true);
    expect(createQemuArch({ arch: 'arm64' }).rules.migrationWaitTimeoutMs).toBe(10_000);
    expect(createQemuArch({ arch: 's390x' }).rules.migrationWaitTimeoutMs).toBe(5000);
  });
});

describe('topology through the arch', () => {
  it('cpuTopology defaults maxVcpus to the arch limit and enforces it', () => {
    expect(createQemuArch({ arch: 's390x' }).cpuTopology(2)).toEqual({
      cpus: 2,
      sockets: 248,
      cores: 1,
      threads: 1,
      maxCpus: 248,
    });
    expect(errorOf(() => createQemuArch({ arch: 'arm64', gicVersion: '2' }).cpuTopology(1, 9)).code).toBe(
      'QEMU_ARCH_INVALID_TOPOLOGY',
    );
  });
  it('memoryTopology per arch, with the instance offset and slots default 10', () => {
    expect(createQemuArch({ arch: 'amd64', memOffsetMiB: 100 }).memoryTopology(2048, 8192)).toMatchObject({
      size: '2048M',
      slots: 10,
      maxMem: '9316M',
    });
    expect(createQemuArch({ arch: 'arm64', memOffsetMiB: 100 }).memoryTopology(2048, 8192, 4)).toMatchObject({
      maxMem: '8192M',
      slots: 4,
    });
    expect(createQemuArch({ arch: 'ppc64le' }).memoryTopology(2048, 8000).maxMem).toBe('8960M');
    expect(
      createQemuArch({ arch: 'ppc64le', qemuVersion: { major: 2, minor: 9 } }).memoryTopology(2048, 8000)
        .maxMem,
    ).toBe('33280M');
    expect(createQemuArch({ arch: 's390x' }).memoryTopology(2048, 8192).maxMem).toBe('8192M');
  });
});

describe('immutability and isolation (Kata quirks 10 and 11)', () => {
  it('the description is frozen', () => {
    const a = createQemuArch({ arch: 'amd64', qemuVersion: { major: 7, minor: 2 } });
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.machine)).toBe(true);
    expect(Object.isFrozen(a.capabilities)).toBe(true);
    expect(Object.isFrozen(a.options)).toBe(true);
    expect(Object.isFrozen(a.options.qemuVersion)).toBe(true);
    expect(Object.isFrozen(a.rules)).toBe(true);
    expect(Object.isFrozen(a.rules.machines[0])).toBe(true);
    expect(() => {
      (a as { cpuModel: string }).cpuModel = 'x';
    }).toThrow(TypeError);
  });
  it('creating many amd64 instances never accumulates iommu=off (Kata appended to a package slice)', () => {
    const first = createQemuArch({ arch: 'amd64' }).kernelCommandLine();
    for (let i = 0; i < 5; i++) createQemuArch({ arch: 'amd64' });
    createQemuArch({ arch: 'amd64', machineType: 'q35', iommu: true });
    const again = createQemuArch({ arch: 'amd64' }).kernelCommandLine();
    expect(again).toBe(first);
    expect(again.match(/iommu=off/g)).toHaveLength(1);
    expect(createQemuArch({ arch: 'amd64', image: true }).kernelCommandLine().match(/root=/g)).toHaveLength(
      1,
    );
  });
  it('s390x instances never share a CCW bridge map (Kata seeded every instance with one package-level bridge)', () => {
    const a = createQemuArch({ arch: 's390x' });
    const b = createQemuArch({ arch: 's390x' });
    const da = a.devices();
    const db = b.devices();
    const sameArch = a.devices();
    da.console('/run/a.sock');
    da.rng();
    expect(db.console('/run/b.sock')[0]).toMatchObject({ devno: 'fe.0.0001' });
    expect(sameArch.console('/run/c.sock')[0]).toMatchObject({ devno: 'fe.0.0001' });
    expect(da.bridges.placements().map((p) => p.deviceId)).toEqual(['serial0', 'rng0']);
    expect(db.bridges.placements().map((p) => p.deviceId)).toEqual(['serial0']);
  });
  it('network ids count per builder, not per process', () => {
    const a = createQemuArch({ arch: 'amd64' });
    const x = a.devices();
    const y = a.devices();
    expect(x.network({ ifName: 'tap0' }).id).toBe('network-0');
    expect(x.network({ ifName: 'tap1' }).id).toBe('network-1');
    expect(y.network({ ifName: 'tap0' }).id).toBe('network-0');
  });
  it('restoreBridges checks the bridge type against the machine', () => {
    const a = createQemuArch({ arch: 'amd64' });
    const state = createQemuArch({ arch: 's390x' }).createBridges().toState();
    expect(errorOf(() => a.restoreBridges(state))).toMatchObject({
      code: 'QEMU_ARCH_INVALID_OPTIONS',
      path: 'state[0].type',
    });
    const alloc = a.createBridges(2);
    alloc.add('x', 'pci');
    expect(a.restoreBridges(alloc.toState()).find('x')?.pciPath).toBe('02/01');
    expect(createQemuArch({ arch: 'amd64', machineType: 'microvm' }).createBridges(3).bridges).toEqual([]);
  });
});
