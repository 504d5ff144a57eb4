import { encodeDevice } from '@vmm/argv';
import { describe, expect, it } from 'vitest';
import {
  PPC64LE_NVDIMM_IMAGE_UUID,
  SPAPR_NVDIMM_BLOCK_SIZE,
  SPAPR_NVDIMM_LABEL_SIZE,
} from './arch/ppc64le.js';
import { BridgeAllocator } from './bridges.js';
import { checkNvdimmImageSize } from './devices.js';
import { QemuArchError } from './errors.js';
import type { QemuArchOptions } from './options.js';
import { createQemuArch } from './qemu-arch.js';

function errorOf(fn: () => unknown): QemuArchError {
  try {
    fn();
  } catch (e) {
    if (QemuArchError.is(e)) return e;
    throw e;
  }
  throw new Error('expected a QemuArchError');
}

const KiB = 1024;
const MiB = 1024 * KiB;
const devicesOf = (o: QemuArchOptions, bridges?: number) => createQemuArch(o).devices({ bridges });
const argvOf = (arch: string, machineType: string, d: Parameters<typeof encodeDevice>[0]) =>
  encodeDevice(d, { arch: arch as 'amd64', machineType }).argv;

describe('bridges', () => {
  it('pc: pci-bridge on pci.0 at 2+i, chassis i+1, shpc on', () => {
    const d = devicesOf({ arch: 'amd64' }, 2);
    expect(d.bridgeDevices()).toEqual([
      {
        kind: 'bridge',
        bridgeType: 'pci',
        bus: 'pci.0',
        id: 'pci-bridge-0',
        chassis: 1,
        shpc: true,
        addr: '2',
      },
      {
        kind: 'bridge',
        bridgeType: 'pci',
        bus: 'pci.0',
        id: 'pci-bridge-1',
        chassis: 2,
        shpc: true,
        addr: '3',
      },
    ]);
    expect(argvOf('amd64', 'pc', d.bridgeDevices()[1]!)).toEqual([
      '-device',
      'pci-bridge,bus=pci.0,id=pci-bridge-1,chassis_nr=2,shpc=on,addr=3',
    ]);
  });
  it.each([
    ['amd64', 'q35', 'pcie.0'],
    ['amd64', 'virt', 'pcie.0'],
    ['arm64', 'virt', 'pcie.0'],
    ['ppc64le', 'pseries', 'pci.0'],
  ] as const)('%s %s: bridges on %s', (arch, machineType, bus) => {
    expect(devicesOf({ arch, machineType }).bridgeDevices()[0]).toMatchObject({ bus, addr: '2' });
  });
  it('no bridge devices on s390x (CCW) or microvm', () => {
    expect(devicesOf({ arch: 's390x' }).bridgeDevices()).toEqual([]);
    expect(devicesOf({ arch: 'amd64', machineType: 'microvm' }).bridgeDevices()).toEqual([]);
  });
  it('a given allocator must match the machine', () => {
    const arch = createQemuArch({ arch: 'amd64' });
    expect(
      errorOf(() => arch.devices({ bridges: BridgeAllocator.create([{ id: 'c', type: 'ccw', addr: 0 }]) }))
        .code,
    ).toBe('QEMU_ARCH_INVALID_OPTIONS');
    expect(errorOf(() => arch.devices({ networkIndex: -1 })).path).toBe('options.networkIndex');
  });
});

describe('PCIe root ports', () => {
  it('q35: rp<i> on pcie.0, chassis 0, slot i, fixed addresses after the bridges', () => {
    const d = devicesOf({ arch: 'amd64', machineType: 'q35' }, 2);
    expect(d.rootPortLayout(2)).toEqual([
      { id: 'rp0', slot: 4 },
      { id: 'rp1', slot: 5 },
    ]);
    const ports = d.pcieRootPorts(2);
    expect(ports[1]).toEqual({
      kind: 'pcie-root-port',
      id: 'rp1',
      bus: 'pcie.0',
      chassis: '0',
      slot: '1',
      multifunction: false,
      addr: '5',
    });
    expect(argvOf('amd64', 'q35', ports[0]!)).toEqual([
      '-device',
      'pcie-root-port,id=rp0,bus=pcie.0,chassis=0,slot=0,addr=4,multifunction=off',
    ]);
  });
  it('start after the highest bridge slot, also for restored bridges', () => {
    const arch = createQemuArch({ arch: 'amd64', machineType: 'q35' });
    const restored = BridgeAllocator.fromState([{ id: 'pci-bridge-0', type: 'pci', addr: 7, devices: {} }]);
    expect(arch.devices({ bridges: restored }).rootPortLayout(1)).toEqual([{ id: 'rp0', slot: 8 }]);
    expect(arch.devices({ bridges: 0 }).rootPortLayout(1)).toEqual([{ id: 'rp0', slot: 2 }]);
  });
  it('fit on pcie.0 up to slot 0x1e; refused off q35', () => {
    const d = devicesOf({ arch: 'amd64', machineType: 'q35' }, 1);
    expect(d.rootPortLayout(28).at(-1)).toEqual({ id: 'rp27', slot: 0x1e });
    expect(errorOf(() => d.rootPortLayout(29)).code).toBe('QEMU_ARCH_INVALID_OPTIONS');
    expect(errorOf(() => devicesOf({ arch: 'amd64' }).pcieRootPorts(1)).code).toBe('QEMU_ARCH_UNSUPPORTED');
    expect(errorOf(() => devicesOf({ arch: 'arm64' }).pcieRootPorts(1)).code).toBe('QEMU_ARCH_UNSUPPORTED');
  });
});

describe('console', () => {
  it('serial0 + virtconsole console0 on charconsole0', () => {
    const [serial, con] = devicesOf({ arch: 'amd64' }).console('/run/vm/console.sock');
    expect(serial).toEqual({ kind: 'serial', id: 'serial0' });
    expect(con).toEqual({
      kind: 'char',
      backend: 'socket',
      driver: 'virtconsole',
      deviceId: 'console0',
      id: 'charconsole0',
      path: '/run/vm/console.sock',
    });
    expect(argvOf('amd64', 'pc', con)).toEqual([
      '-device',
      'virtconsole,chardev=charconsole0,id=console0',
      '-chardev',
      'socket,id=charconsole0,path=/run/vm/console.sock,server=on,wait=off',
    ]);
  });
  it('nested: disable-modern on PCI; never on CCW or MMIO', () => {
    expect(devicesOf({ arch: 'amd64', nested: true }).console('/c')[0]).toEqual({
      kind: 'serial',
      id: 'serial0',
      disableModern: true,
    });
    expect(devicesOf({ arch: 'amd64', nested: true, disableNestingChecks: true }).console('/c')[0]).toEqual({
      kind: 'serial',
      id: 'serial0',
    });
    expect(devicesOf({ arch: 'amd64', machineType: 'microvm', nested: true }).console('/c')[0]).toEqual({
      kind: 'serial',
      id: 'serial0',
    });
    expect(devicesOf({ arch: 's390x', nested: true }).console('/c')[0]).toEqual({
      kind: 'serial',
      id: 'serial0',
      devno: 'fe.0.0001',
    });
  });
  it('s390x: CCW devno from the bridge', () => {
    const [serial] = devicesOf({ arch: 's390x' }).console('/c');
    expect(argvOf('s390x', 's390-ccw-virtio', serial)).toEqual([
      '-device',
      'virtio-serial-ccw,id=serial0,devno=fe.0.0001',
    ]);
  });
  it('a path QEMU cannot take is a typed error with the argv error as cause', () => {
    const e = errorOf(() => devicesOf({ arch: 'amd64' }).console('/bad\npath'));
    expect(e.code).toBe('QEMU_ARCH_INVALID_OPTIONS');
    expect(e.path).toBe('path');
    expect((e.cause as { code?: string }).code).toBe('ARGV_UNESCAPABLE_VALUE');
  });
});

describe('image', () => {
  const img = { path: '/images/rootfs.img', sizeBytes: 134217728 };
  it.each([['amd64'], ['arm64']] as const)('%s: NVDIMM nv0 on mem0, no label area', (arch) => {
    expect(devicesOf({ arch, image: true }).image(img)).toEqual({
      kind: 'memory-backend-file',
      driver: 'nvdimm',
      id: 'mem0',
      deviceId: 'nv0',
      memPath: '/images/rootfs.img',
      size: 134217728,
    });
  });
  it('amd64 NVDIMM argv', () => {
    expect(argvOf('amd64', 'pc', devicesOf({ arch: 'amd64', image: true }).image(img))).toEqual([
      '-device',
      'nvdimm,id=nv0,memdev=mem0',
      '-object',
      'memory-backend-file,id=mem0,mem-path=/images/rootfs.img,size=134217728',
    ]);
  });
  const ppcImg = { path: '/images/rootfs.img', sizeBytes: 256 * MiB + 128 * KiB };
  it('ppc64le pseries: NVDIMM with the minimum label size QEMU accepts (128 KiB) and a UUID', () => {
    const d = devicesOf({ arch: 'ppc64le', image: true }).image(ppcImg);
    expect(d).toEqual({
      kind: 'memory-backend-file',
      driver: 'nvdimm',
      id: 'mem0',
      deviceId: 'nv0',
      memPath: '/images/rootfs.img',
      size: 268566528,
      labelSize: 131072,
      uuid: PPC64LE_NVDIMM_IMAGE_UUID,
    });
    expect(SPAPR_NVDIMM_LABEL_SIZE).toBe(131072);
    expect(SPAPR_NVDIMM_BLOCK_SIZE).toBe(268435456);
    expect(argvOf('ppc64le', 'pseries', d)).toEqual([
      '-device',
      `nvdimm,id=nv0,memdev=mem0,label-size=131072,uuid=${PPC64LE_NVDIMM_IMAGE_UUID}`,
      '-object',
      'memory-backend-file,id=mem0,mem-path=/images/rootfs.img,size=268566528',
    ]);
  });
  it('ppc64le pseries: a given UUID, and any n x 256 MiB + 128 KiB size', () => {
    const uuid = '0b6f3c52-8d1e-4a7f-9c3b-5e2d1f0a4b6c';
    expect(
      devicesOf({ arch: 'ppc64le', machineType: 'pseries-7.1', image: true }).image({
        ...ppcImg,
        sizeBytes: 3 * 256 * MiB + 128 * KiB,
        uuid,
      }),
    ).toMatchObject({ size: 805437440, labelSize: 131072, uuid });
  });
  it.each([
    ['the Kata-style 128 MiB image', 128 * MiB, '268566528 (1 x 256 MiB + 128 KiB label)'],
    ['an exact 256 MiB (no room for the label)', 256 * MiB, '268566528 (1 x 256 MiB + 128 KiB label)'],
    ['only a label', 128 * KiB, '268566528 (1 x 256 MiB + 128 KiB label)'],
    [
      '512 MiB + 4 KiB + label',
      512 * MiB + 4 * KiB + 128 * KiB,
      '537001984 (2 x 256 MiB + 128 KiB label) or 805437440 (3 x 256 MiB + 128 KiB label)',
    ],
  ])(
    'ppc64le pseries: %s is refused before QEMU sees it, naming a size that works',
    (_, sizeBytes, works) => {
      const e = errorOf(() => devicesOf({ arch: 'ppc64le', image: true }).image({ ...ppcImg, sizeBytes }));
      expect(e.code).toBe('QEMU_ARCH_INVALID_OPTIONS');
      expect(e.path).toBe('image.sizeBytes');
      expect(e.message).toContain(`image.sizeBytes: ${sizeBytes} bytes`);
      expect(e.message).toContain('multiple of 268435456 (256 MiB)');
      expect(e.message).toContain(`a size that works: ${works}`);
    },
  );
  it('ppc64le with disableImageNvdimm: virtio-blk, no size rule', () => {
    expect(
      devicesOf({ arch: 'ppc64le', image: true, disableImageNvdimm: true }).image({
        ...ppcImg,
        sizeBytes: 12345,
      }),
    ).toMatchObject({ kind: 'block', id: 'image-rootfs', file: '/images/rootfs.img' });
  });
  it('checkNvdimmImageSize: only pseries NVDIMM images have the rule', () => {
    expect(() => checkNvdimmImageSize(createQemuArch({ arch: 'amd64' }), 12345)).not.toThrow();
    expect(() =>
      checkNvdimmImageSize(createQemuArch({ arch: 'ppc64le' }), 256 * MiB + 128 * KiB),
    ).not.toThrow();
    const e = errorOf(() => checkNvdimmImageSize(createQemuArch({ arch: 'ppc64le' }), 16 * MiB, 'x.size'));
    expect(e.path).toBe('x.size');
  });
  it('ppc64le pseries: a bad UUID is refused by the argv schema', () => {
    const e = errorOf(() => devicesOf({ arch: 'ppc64le', image: true }).image({ ...ppcImg, uuid: 'nope' }));
    expect(e.code).toBe('QEMU_ARCH_INVALID_OPTIONS');
    expect(e.path).toBe('uuid');
  });
  it('s390x: read-only shared virtio-blk with a devno', () => {
    const d = devicesOf({ arch: 's390x', image: true }).image(img);
    expect(d).toEqual({
      kind: 'block',
      driver: 'virtio-blk',
      id: 'image-rootfs',
      file: '/images/rootfs.img',
      format: 'raw',
      aio: 'threads',
      interface: 'none',
      readOnly: true,
      shareRW: true,
      devno: 'fe.0.0001',
    });
    expect(argvOf('s390x', 's390-ccw-virtio', d)).toEqual([
      '-device',
      'virtio-blk-ccw,drive=image-rootfs,scsi=off,config-wce=off,devno=fe.0.0001,share-rw=on,serial=image-rootfs',
      '-drive',
      'id=image-rootfs,file=/images/rootfs.img,aio=threads,format=raw,if=none,readonly=on',
    ]);
  });
  it('disableImageNvdimm or microvm: virtio-blk', () => {
    expect(
      devicesOf({ arch: 'amd64', image: true, disableImageNvdimm: true, nested: true }).image(img),
    ).toMatchObject({
      kind: 'block',
      id: 'image-rootfs',
      disableModern: true,
    });
    expect(
      devicesOf({ arch: 'amd64', machineType: 'microvm', image: true }).image({ ...img, id: 'x' }),
    ).toMatchObject({
      kind: 'block',
      id: 'image-x',
    });
  });
  it('a zero size is refused', () => {
    expect(
      errorOf(() => devicesOf({ arch: 'amd64', image: true }).image({ ...img, sizeBytes: 0 })).code,
    ).toBe('QEMU_ARCH_INVALID_OPTIONS');
  });
});

describe('block', () => {
  it('ids are cut to 31 characters', () => {
    expect(devicesOf({ arch: 'amd64' }).block({ id: `drive-${'a'.repeat(40)}`, file: '/d' }).id).toHaveLength(
      31,
    );
  });
});

describe('SCSI controller', () => {
  it('scsi0, optionally with an IO thread', () => {
    const d = devicesOf({ arch: 'amd64' });
    expect(d.scsiController()).toEqual({
      device: { kind: 'scsi-controller', id: 'scsi0' },
      ioThread: undefined,
    });
    const r = d.scsiController({ ioThread: true });
    expect(r.ioThread).toEqual({ id: 'iothread-scsi0' });
    expect(argvOf('amd64', 'pc', r.device)).toEqual([
      '-device',
      'virtio-scsi-pci,id=scsi0,iothread=iothread-scsi0',
    ]);
    expect(d.scsiController({ ioThread: 'io1' }).device).toMatchObject({ ioThread: 'io1' });
  });
  it('s390x: devno; nested PCI: disable-modern', () => {
    expect(devicesOf({ arch: 's390x' }).scsiController().device).toEqual({
      kind: 'scsi-controller',
      id: 'scsi0',
      devno: 'fe.0.0001',
    });
    expect(devicesOf({ arch: 'ppc64le', nested: true }).scsiController().device).toMatchObject({
      disableModern: true,
    });
  });
});

describe('9p volumes', () => {
  it('extra-9p-<tag>, local, security none, multidevs remap', () => {
    const v = devicesOf({ arch: 'amd64' }).volume9p({ mountTag: 'shared', hostPath: '/srv/share' });
    expect(v).toEqual({
      kind: 'fs',
      fsDriver: 'local',
      id: 'extra-9p-shared',
      path: '/srv/share',
      mountTag: 'shared',
      securityModel: 'none',
      multidevs: 'remap',
    });
    expect(argvOf('amd64', 'pc', v)).toEqual([
      '-device',
      'virtio-9p-pci,fsdev=extra-9p-shared,mount_tag=shared',
      '-fsdev',
      'local,id=extra-9p-shared,path=/srv/share,security_model=none,multidevs=remap',
    ]);
  });
  it('arm64 leaves multidevs out; ids are cut to 31; s390x gets a devno', () => {
    expect(devicesOf({ arch: 'arm64' }).volume9p({ mountTag: 't', hostPath: '/s' })).not.toHaveProperty(
      'multidevs',
    );
    expect(devicesOf({ arch: 'amd64' }).volume9p({ mountTag: 'a'.repeat(40), hostPath: '/s' }).id).toBe(
      `extra-9p-${'a'.repeat(22)}`,
    );
    expect(devicesOf({ arch: 's390x' }).volume9p({ mountTag: 't', hostPath: '/s' })).toMatchObject({
      devno: 'fe.0.0001',
    });
  });
});

describe('sockets, vsock, rng, vfio, iommu', () => {
  it('socket: virtserialport with the chardev id cut to 31', () => {
    const s = devicesOf({ arch: 'amd64' }).socket({
      deviceId: 'channel0',
      id: `charch0${'x'.repeat(40)}`,
      hostPath: '/run/kata.sock',
      name: 'agent.channel.0',
    });
    expect(s).toEqual({
      kind: 'char',
      backend: 'socket',
      driver: 'virtserialport',
      deviceId: 'channel0',
      id: `charch0${'x'.repeat(24)}`,
      path: '/run/kata.sock',
      name: 'agent.channel.0',
    });
  });
  it('vsock-<cid>', () => {
    const v = devicesOf({ arch: 'amd64', nested: true }).vsock({ contextId: 3, vhostFd: 9 });
    expect(v).toEqual({ kind: 'vsock', id: 'vsock-3', contextId: 3, vhostFd: 9, disableModern: true });
    expect(devicesOf({ arch: 's390x' }).vsock({ contextId: 7 })).toEqual({
      kind: 'vsock',
      id: 'vsock-7',
      contextId: 7,
      devno: 'fe.0.0001',
    });
    expect(errorOf(() => devicesOf({ arch: 'amd64' }).vsock({ contextId: 2 })).code).toBe(
      'QEMU_ARCH_INVALID_OPTIONS',
    );
  });
  it('rng0 with a filename; s390x devno', () => {
    expect(devicesOf({ arch: 'amd64' }).rng({ filename: '/dev/urandom' })).toEqual({
      kind: 'rng',
      id: 'rng0',
      filename: '/dev/urandom',
    });
    expect(devicesOf({ arch: 's390x' }).rng()).toEqual({ kind: 'rng', id: 'rng0', devno: 'fe.0.0001' });
  });
  it('vfio by BDF; not on s390x', () => {
    expect(
      devicesOf({ arch: 'amd64' }).vfio({ bdf: '0000:01:00.0', vendorId: '0x10de', bus: 'rp0' }),
    ).toEqual({
      kind: 'vfio',
      bdf: '0000:01:00.0',
      vendorId: '0x10de',
      bus: 'rp0',
    });
    expect(errorOf(() => devicesOf({ arch: 's390x' }).vfio({ bdf: '0000:01:00.0' })).code).toBe(
      'QEMU_ARCH_UNSUPPORTED',
    );
    expect(errorOf(() => devicesOf({ arch: 'amd64' }).vfio({ bdf: 'nope' })).code).toBe(
      'QEMU_ARCH_INVALID_OPTIONS',
    );
  });
  it('iommu: q35 with iommu only', () => {
    const d = devicesOf({ arch: 'amd64', machineType: 'q35', iommu: true });
    expect(d.iommu()).toEqual({ kind: 'iommu', intremap: true, deviceIotlb: true, cachingMode: true });
    expect(argvOf('amd64', 'q35', d.iommu())).toEqual([
      '-device',
      'intel-iommu,intremap=on,device-iotlb=on,caching-mode=on',
    ]);
    expect(errorOf(() => devicesOf({ arch: 'amd64', machineType: 'q35' }).iommu())).toMatchObject({
      code: 'QEMU_ARCH_UNSUPPORTED',
      path: 'options.iommu',
    });
    expect(errorOf(() => devicesOf({ arch: 'arm64' }).iommu()).code).toBe('QEMU_ARCH_UNSUPPORTED');
  });
});

describe('network', () => {
  it('tap by name: network-<n>, scripts "no", vhost on', () => {
    const d = devicesOf({ arch: 'amd64' });
    const n = d.network({ ifName: 'tap0_kata', macAddress: '02:00:ca:fe:00:01' });
    expect(n).toEqual({
      kind: 'net',
      type: 'tap',
      id: 'network-0',
      ifName: 'tap0_kata',
      macAddress: '02:00:ca:fe:00:01',
      downScript: 'no',
      script: 'no',
      vhost: true,
    });
    expect(d.networkIndex).toBe(1);
  });
  it('tap by fds with vhost fds; scripts left out; argv numbers vhost fds first', () => {
    const n = devicesOf({ arch: 'amd64' }).network({ ifName: 'tap0', fds: [10, 11], vhostFds: [12, 13] });
    expect(n).toMatchObject({ fds: [10, 11], vhostFds: [12, 13], vhost: true });
    expect(n).not.toHaveProperty('script');
    const enc = encodeDevice(n, { arch: 'amd64', machineType: 'pc' });
    expect(enc.argv).toEqual([
      '-netdev',
      'tap,id=network-0,vhost=on,vhostfds=3:4,fds=5:6',
      '-device',
      'driver=virtio-net-pci,netdev=network-0,mq=on,vectors=6',
    ]);
  });
  it('macvtap by fds; without fds it is refused and the counter does not move', () => {
    const d = devicesOf({ arch: 'amd64', disableVhostNet: true });
    const e = errorOf(() => d.network({ type: 'macvtap', ifName: 'macvtap0' }));
    expect(e.code).toBe('QEMU_ARCH_INVALID_OPTIONS');
    expect(d.networkIndex).toBe(0);
    expect(d.network({ type: 'macvtap', ifName: 'macvtap0', fds: [7], vhostFds: [8] })).toEqual({
      kind: 'net',
      type: 'macvtap',
      id: 'network-0',
      ifName: 'macvtap0',
      fds: [7],
    });
  });
  it('s390x: no vhost, devno from the bridge', () => {
    const d = devicesOf({ arch: 's390x' });
    d.console('/c');
    expect(d.network({ ifName: 'tap0' })).toEqual({
      kind: 'net',
      type: 'tap',
      id: 'network-0',
      ifName: 'tap0',
      downScript: 'no',
      script: 'no',
      devno: 'fe.0.0002',
    });
  });
});

describe('vhost-user', () => {
  const dev = 'f'.repeat(40);
  it('net/scsi/blk/fs ids via MakeNameID(…, 31)', () => {
    const d = devicesOf({ arch: 'amd64' });
    expect(
      d.vhostUser({ type: 'net', devId: dev, socketPath: '/s', macAddress: '02:00:00:00:00:01' }),
    ).toEqual({
      kind: 'vhost-user-net',
      socketPath: '/s',
      charDevId: `char-${'f'.repeat(26)}`,
      typeDevId: `net-${'f'.repeat(27)}`,
      address: '02:00:00:00:00:01',
    });
    expect(d.vhostUser({ type: 'scsi', devId: 'd1', socketPath: '/s' })).toEqual({
      kind: 'vhost-user-scsi',
      socketPath: '/s',
      charDevId: 'char-d1',
      typeDevId: 'scsi-d1',
    });
    expect(d.vhostUser({ type: 'blk', devId: 'd1', socketPath: '/s' })).toEqual({
      kind: 'vhost-user-blk',
      socketPath: '/s',
      charDevId: 'char-d1',
    });
    expect(
      d.vhostUser({ type: 'fs', devId: 'd1', socketPath: '/s', tag: 'kataShared', cacheSize: 1024 }),
    ).toEqual({
      kind: 'vhost-user-fs',
      socketPath: '/s',
      charDevId: 'char-d1',
      tag: 'kataShared',
      cacheSize: 1024,
    });
  });
  it('refusals: s390x, missing MAC or tag, unknown type', () => {
    expect(
      errorOf(() => devicesOf({ arch: 's390x' }).vhostUser({ type: 'blk', devId: 'd', socketPath: '/s' }))
        .code,
    ).toBe('QEMU_ARCH_UNSUPPORTED');
    const d = devicesOf({ arch: 'amd64' });
    expect(errorOf(() => d.vhostUser({ type: 'net', devId: 'd', socketPath: '/s' })).path).toBe('macAddress');
    expect(errorOf(() => d.vhostUser({ type: 'fs', devId: 'd', socketPath: '/s' })).path).toBe('tag');
    expect(errorOf(() => d.vhostUser({ type: 'gpu' as 'fs', devId: 'd', socketPath: '/s' })).path).toBe(
      'type',
    );
  });
});

describe('device configs are frozen', () => {
  it('freezes what it returns', () => {
    const d = devicesOf({ arch: 's390x' });
    expect(Object.isFrozen(d.rng())).toBe(true);
    expect(Object.isFrozen(d.console('/c')[0])).toBe(true);
  });
});
