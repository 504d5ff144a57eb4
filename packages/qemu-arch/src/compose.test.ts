import { encodeQemuArgv } from '@vmm/argv';
import { describe, expect, it } from 'vitest';
import { PPC64LE_NVDIMM_IMAGE_UUID } from './arch/ppc64le.js';
import { composeSandboxConfig } from './compose.js';
import { QemuArchError } from './errors.js';
import { createQemuArch } from './qemu-arch.js';

describe('composeSandboxConfig', () => {
  it('q35 with IOMMU: the exact argv, bridges and root ports at fixed slots, Kata device order', () => {
    const arch = createQemuArch({ arch: 'amd64', machineType: 'q35', iommu: true, image: true });
    const s = composeSandboxConfig(arch, {
      vcpus: 2,
      memMiB: 2048,
      hostMemMiB: 8192,
      consolePath: '/run/vm/console.sock',
      bridges: 2,
      pcieRootPorts: 2,
      image: { path: '/img/rootfs.img', sizeBytes: 268435456 },
      scsi: { ioThread: true },
      rng: { filename: '/dev/urandom' },
      name: 'sandbox-abc',
      uuid: '9f8a6e2c-0b47-4e0b-8d3b-2c1e5f7a9b10',
      kernel: { path: '/boot/vmlinuz' },
    });
    expect(s.bridges).toEqual([
      { id: 'pci-bridge-0', type: 'pci', addr: 2 },
      { id: 'pci-bridge-1', type: 'pci', addr: 3 },
    ]);
    expect(s.rootPorts).toEqual([
      { id: 'rp0', slot: 4 },
      { id: 'rp1', slot: 5 },
    ]);
    expect(encodeQemuArgv(s.config).argv).toEqual([
      '-name',
      'sandbox-abc',
      '-uuid',
      '9f8a6e2c-0b47-4e0b-8d3b-2c1e5f7a9b10',
      '-machine',
      'q35,accel=kvm,kernel_irqchip=split,nvdimm=on',
      '-cpu',
      'host',
      '-m',
      '2048M,slots=10,maxmem=9216M',
      '-device',
      'pci-bridge,bus=pcie.0,id=pci-bridge-0,chassis_nr=1,shpc=on,addr=2',
      '-device',
      'pci-bridge,bus=pcie.0,id=pci-bridge-1,chassis_nr=2,shpc=on,addr=3',
      '-device',
      'pcie-root-port,id=rp0,bus=pcie.0,chassis=0,slot=0,addr=4,multifunction=off',
      '-device',
      'pcie-root-port,id=rp1,bus=pcie.0,chassis=0,slot=1,addr=5,multifunction=off',
      '-device',
      'virtio-serial-pci,id=serial0',
      '-device',
      'virtconsole,chardev=charconsole0,id=console0',
      '-chardev',
      'socket,id=charconsole0,path=/run/vm/console.sock,server=on,wait=off',
      '-device',
      'nvdimm,id=nv0,memdev=mem0',
      '-object',
      'memory-backend-file,id=mem0,mem-path=/img/rootfs.img,size=268435456',
      '-device',
      'intel-iommu,intremap=on,device-iotlb=on,caching-mode=on',
      '-device',
      'virtio-scsi-pci,id=scsi0,iothread=iothread-scsi0',
      '-object',
      'rng-random,id=rng0,filename=/dev/urandom',
      '-device',
      'virtio-rng-pci,rng=rng0',
      '-object',
      'memory-backend-ram,id=dimm1,size=2048M',
      '-numa',
      'node,memdev=dimm1',
      '-kernel',
      '/boot/vmlinuz',
      '-append',
      arch.kernelCommandLine(),
      '-object',
      'iothread,id=iothread-scsi0',
      '-smp',
      '2,cores=1,threads=1,sockets=240,maxcpus=240',
    ]);
  });

  it('s390x: CCW devnos in order, no bridge devices, no maxmem room', () => {
    const arch = createQemuArch({ arch: 's390x', accel: 'tcg', cpuModel: 'max' });
    const s = composeSandboxConfig(arch, {
      vcpus: 1,
      memMiB: 512,
      hostMemMiB: 4096,
      consolePath: '/c',
      memSlots: 0,
    });
    expect(s.config.memory).toEqual({ size: '512M', maxMem: '4096M' });
    expect(s.config.devices).toEqual([
      { kind: 'serial', id: 'serial0', devno: 'fe.0.0001' },
      {
        kind: 'char',
        backend: 'socket',
        driver: 'virtconsole',
        deviceId: 'console0',
        id: 'charconsole0',
        path: '/c',
      },
      { kind: 'scsi-controller', id: 'scsi0', devno: 'fe.0.0002' },
    ]);
    expect(s.devices.bridges.placements().map((p) => p.devno)).toEqual(['fe.0.0001', 'fe.0.0002']);
    expect(s.config.arch).toBe('s390x');
  });

  it('ppc64le pseries: the NVDIMM image gets label-size and uuid; the size is checked up front', () => {
    const arch = createQemuArch({ arch: 'ppc64le', image: true });
    const base = { vcpus: 1, memMiB: 512, hostMemMiB: 4096, consolePath: '/c' };
    const s = composeSandboxConfig(arch, {
      ...base,
      image: { path: '/img/rootfs.img', sizeBytes: 268566528 },
    });
    const argv = encodeQemuArgv(s.config).argv;
    const i = argv.indexOf(`nvdimm,id=nv0,memdev=mem0,label-size=131072,uuid=${PPC64LE_NVDIMM_IMAGE_UUID}`);
    expect(i).toBeGreaterThan(0);
    expect(argv.slice(i - 1, i + 3)).toEqual([
      '-device',
      `nvdimm,id=nv0,memdev=mem0,label-size=131072,uuid=${PPC64LE_NVDIMM_IMAGE_UUID}`,
      '-object',
      'memory-backend-file,id=mem0,mem-path=/img/rootfs.img,size=268566528',
    ]);
    expect(argv[argv.indexOf('-machine') + 1]).toBe('pseries,accel=kvm,usb=off,nvdimm=on');

    // a misaligned size fails before any device is built (the given builder's bridges stay untouched)
    const devices = arch.devices({ bridges: 1 });
    let err: unknown;
    try {
      composeSandboxConfig(arch, {
        ...base,
        devices,
        vcpus: 0, // would be a topology error, but the image check comes first
        image: { path: '/img/rootfs.img', sizeBytes: 128 * 1024 * 1024 },
      });
    } catch (e) {
      err = e;
    }
    expect(QemuArchError.is(err)).toBe(true);
    expect(err).toMatchObject({ code: 'QEMU_ARCH_INVALID_OPTIONS', path: 'options.image.sizeBytes' });
    expect((err as Error).message).toContain('a size that works: 268566528 (1 x 256 MiB + 128 KiB label)');
    expect(devices.bridges.placements()).toEqual([]);
  });

  it('ppc64le with disableImageNvdimm: virtio-blk image of any size', () => {
    const arch = createQemuArch({ arch: 'ppc64le', image: true, disableImageNvdimm: true });
    const s = composeSandboxConfig(arch, {
      vcpus: 1,
      memMiB: 512,
      hostMemMiB: 4096,
      consolePath: '/c',
      image: { path: '/img/rootfs.img', sizeBytes: 128 * 1024 * 1024 },
    });
    expect(s.config.devices?.find((d) => d.kind === 'block')).toMatchObject({
      id: 'image-rootfs',
      readOnly: true,
    });
    expect(s.config.devices?.some((d) => d.kind === 'memory-backend-file')).toBe(false);
  });

  it('reuses a given builder; scsi and iommu can be left out; kernel params default to the arch line', () => {
    const arch = createQemuArch({ arch: 'amd64', machineType: 'q35', iommu: true });
    const devices = arch.devices({ bridges: 1 });
    devices.bridges.add('early', 'pci');
    const s = composeSandboxConfig(arch, {
      vcpus: 1,
      memMiB: 256,
      hostMemMiB: 1024,
      consolePath: '/c',
      devices,
      scsi: false,
      iommu: false,
      kernel: { path: '/k', initrdPath: '/i', debug: true },
    });
    expect(s.devices).toBe(devices);
    expect(s.config.devices?.map((d) => d.kind)).toEqual(['bridge', 'serial', 'char']);
    expect(s.config.kernel).toEqual({ path: '/k', initrdPath: '/i', params: arch.kernelCommandLine(true) });
    expect(s.config.ioThreads).toBeUndefined();
    expect(devices.bridges.add('late', 'pci').addr).toBe('02');
  });

  it('bad input is a typed error', () => {
    const arch = createQemuArch({ arch: 'amd64' });
    const run = (o: Partial<Parameters<typeof composeSandboxConfig>[1]>) => {
      try {
        composeSandboxConfig(arch, { vcpus: 1, memMiB: 512, hostMemMiB: 1024, consolePath: '/c', ...o });
      } catch (e) {
        return QemuArchError.is(e) ? e.code : String(e);
      }
      return 'no error';
    };
    expect(run({ vcpus: 0 })).toBe('QEMU_ARCH_INVALID_TOPOLOGY');
    expect(run({ memMiB: 4096 })).toBe('QEMU_ARCH_INVALID_MEMORY');
    expect(run({ pcieRootPorts: 1 })).toBe('QEMU_ARCH_UNSUPPORTED');
    expect(run({ bridges: 9 })).toBe('QEMU_ARCH_INVALID_OPTIONS');
    expect(run({ consolePath: '' })).toBe('QEMU_ARCH_INVALID_OPTIONS');
  });
});
