import { startFakeQmp } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { connectQmp } from './client.js';
import {
  addNetdevByFds,
  blkDevice,
  cpuDevice,
  deleteDevice,
  hotplugBlockDevice,
  hotplugMemory,
  hotplugNvdimm,
  netDevice,
  rawBlockdev,
  scsiDevice,
  unixSocketChardev,
  vfioDevice,
  vhostUserDevice,
  virtSerialPort,
  vsockDevice,
} from './hotplug.js';

describe('argument builders (govmm 1b wire shapes, current QEMU types)', () => {
  it('rawBlockdev: ExecuteBlockdevAdd / WithCache / MAIN discard', () => {
    expect(rawBlockdev({ nodeName: 'd0', filename: '/dev/sdb', readOnly: true })).toEqual({
      driver: 'raw',
      'node-name': 'd0',
      'read-only': true,
      file: { driver: 'host_device', filename: '/dev/sdb' },
    });
    expect(
      rawBlockdev({
        nodeName: 'd1',
        filename: '/img',
        direct: true,
        noFlush: false,
        discardUnmap: true,
        aio: 'native',
      }),
    ).toEqual({
      driver: 'raw',
      'node-name': 'd1',
      'read-only': false,
      file: { driver: 'file', filename: '/img', aio: 'native', discard: 'unmap' },
      cache: { direct: true, 'no-flush': false },
      discard: 'unmap',
    });
    expect(rawBlockdev({ nodeName: 'f', filename: '/dev/fdset/3' }).file).toEqual({
      driver: 'file',
      filename: '/dev/fdset/3',
    });
    expect(() => rawBlockdev({ nodeName: '', filename: '/x' })).toThrow(
      expect.objectContaining({ code: 'QMP_ENCODE' }),
    );
  });

  it('blkDevice: PCI (romfile, disable-modern, share-rw, num-queues int) and CCW (devno)', () => {
    expect(
      blkDevice({
        id: 'v0',
        drive: 'd0',
        bus: 'pci-bridge-0',
        addr: '0x3',
        romfile: '',
        disableModern: true,
        shared: true,
        queues: 4,
      }),
    ).toEqual({
      driver: 'virtio-blk-pci',
      id: 'v0',
      drive: 'd0',
      bus: 'pci-bridge-0',
      addr: '0x3',
      romfile: '',
      'disable-modern': true,
      'share-rw': true,
      'num-queues': 4,
    });
    expect(blkDevice({ id: 'v1', drive: 'd1', transport: 'ccw', bus: 'fe.0.0005', romfile: 'x' })).toEqual({
      driver: 'virtio-blk-ccw',
      id: 'v1',
      drive: 'd1',
      devno: 'fe.0.0005',
    });
  });

  it('scsiDevice: ExecuteSCSIDeviceAdd driver check, scsi-id/lun only when >= 0', () => {
    expect(
      scsiDevice({
        id: 's',
        drive: 'd',
        driver: 'scsi-hd',
        bus: 'scsi0.0',
        scsiId: 1,
        lun: -1,
        shared: true,
      }),
    ).toEqual({
      id: 's',
      driver: 'scsi-hd',
      drive: 'd',
      bus: 'scsi0.0',
      'scsi-id': 1,
      'share-rw': true,
    });
    expect(() => scsiDevice({ id: 's', drive: 'd', driver: 'ide-hd' as 'scsi-hd', bus: 'b' })).toThrow(
      /invalid SCSI driver provided: ide-hd/,
    );
  });

  it('netDevice: mq true and vectors 2q+2 (PCI); CCW uses devno', () => {
    expect(
      netDevice({
        id: 'n',
        netdev: 'tap0',
        mac: '52:54:00:00:00:01',
        bus: 'rp1',
        addr: '0x0',
        queues: 4,
        romfile: '',
      }),
    ).toEqual({
      id: 'n',
      driver: 'virtio-net-pci',
      netdev: 'tap0',
      bus: 'rp1',
      addr: '0x0',
      romfile: '',
      mac: '52:54:00:00:00:01',
      mq: true,
      vectors: 10,
    });
    expect(netDevice({ id: 'n', netdev: 't', transport: 'ccw', bus: '0.0.1', queues: 2 })).toEqual({
      id: 'n',
      driver: 'virtio-net-ccw',
      netdev: 't',
      devno: '0.0.1',
      mq: true,
    });
  });

  it('vfio, vhost-user, vsock, virtserialport, cpu, chardev', () => {
    expect(vfioDevice({ id: 'v', host: '0000:01:00.0', bus: 'rp1', romfile: '' })).toEqual({
      driver: 'vfio-pci',
      id: 'v',
      host: '0000:01:00.0',
      bus: 'rp1',
      romfile: '',
    });
    expect(
      vfioDevice({ sysfsdev: '/sys/devices/vfio_ap/matrix/uuid', driver: 'vfio-ap', transport: 'ccw' }),
    ).toEqual({
      driver: 'vfio-ap',
      sysfsdev: '/sys/devices/vfio_ap/matrix/uuid',
    });
    expect(() => vfioDevice({ id: 'x' })).toThrow(/exactly one of host and sysfsdev/);
    expect(
      vhostUserDevice({ id: 'u', driver: 'vhost-user-blk-pci', chardev: 'c', addr: '0x4', bus: 'b' }),
    ).toEqual({
      driver: 'vhost-user-blk-pci',
      id: 'u',
      chardev: 'c',
      bus: 'b',
      addr: '0x4',
    });
    expect(
      vsockDevice({ id: 'vs', guestCid: 3, vhostfd: 'vfd', addr: '0x5', romfile: '', disableModern: true }),
    ).toEqual({
      driver: 'vhost-vsock-pci',
      id: 'vs',
      'guest-cid': 3,
      vhostfd: 'vfd',
      addr: '0x5',
      romfile: '',
      'disable-modern': true,
    });
    expect(virtSerialPort({ id: 'p', name: 'org.x', chardev: 'c' })).toEqual({
      driver: 'virtserialport',
      id: 'p',
      name: 'org.x',
      chardev: 'c',
    });
    expect(
      cpuDevice({ driver: 'host-x86_64-cpu', id: 'c1', socketId: 1, dieId: 0, coreId: 0, threadId: -1 }),
    ).toEqual({
      driver: 'host-x86_64-cpu',
      id: 'c1',
      'socket-id': 1,
      'die-id': 0,
      'core-id': 0,
    });
    expect(unixSocketChardev({ id: 'ch', path: '/s', server: true, wait: false, reconnect: 5 })).toEqual({
      id: 'ch',
      backend: {
        type: 'socket',
        data: { server: true, addr: { type: 'unix', data: { path: '/s' } }, wait: false },
      },
    });
    expect(unixSocketChardev({ id: 'ch', path: '/s', reconnect: 5, wait: true }).backend.data).toEqual({
      server: false,
      addr: { type: 'unix', data: { path: '/s' } },
      reconnect: 5,
    });
  });
});

describe('multi-step helpers (fake server)', () => {
  it('hotplugBlockDevice undoes blockdev-add when device_add fails', async () => {
    await using server = await startFakeQmp({
      handler: (req) =>
        req.command === 'device_add'
          ? { error: { class: 'GenericError', desc: "Bus 'x' not found" } }
          : undefined,
    });
    await using qmp = await connectQmp(server.path);
    const err = await hotplugBlockDevice(
      qmp,
      rawBlockdev({ nodeName: 'n1', filename: '/img' }),
      blkDevice({ id: 'd1', drive: 'n1', bus: 'x' }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'QMP_HOTPLUG_FAILED', cause: { errorClass: 'GenericError' } });
    expect((err as Error).message).toMatch(/rolled back \(blockdev-del n1\)/);
    expect(server.connections[0]!.requests.map((r) => [r.command, r.arguments])).toEqual([
      ['qmp_capabilities', { enable: ['oob'] }],
      ['blockdev-add', rawBlockdev({ nodeName: 'n1', filename: '/img' })],
      ['device_add', blkDevice({ id: 'd1', drive: 'n1', bus: 'x' })],
      ['blockdev-del', { 'node-name': 'n1' }],
    ]);
  });

  it('hotplugMemory / hotplugNvdimm: object-add then device_add, object-del on failure', async () => {
    await using server = await startFakeQmp({
      handler: (req) =>
        req.command === 'device_add' && req.arguments?.driver === 'nvdimm'
          ? { error: { class: 'GenericError', desc: 'nvdimm is not enabled' } }
          : undefined,
    });
    await using qmp = await connectQmp(server.path);
    await hotplugMemory(qmp, { id: 'm0', size: 1 << 30, memPath: '/dev/hugepages', share: true });
    await expect(
      hotplugNvdimm(qmp, { id: '1', memPath: '/pmem', size: 1 << 28, pmem: true }),
    ).rejects.toMatchObject({
      code: 'QMP_HOTPLUG_FAILED',
    });
    expect(server.connections[0]!.requests.slice(1).map((r) => [r.command, r.arguments])).toEqual([
      [
        'object-add',
        {
          'qom-type': 'memory-backend-file',
          id: 'm0',
          size: 1 << 30,
          'mem-path': '/dev/hugepages',
          share: true,
        },
      ],
      ['device_add', { driver: 'pc-dimm', id: 'dimmm0', memdev: 'm0' }],
      [
        'object-add',
        {
          'qom-type': 'memory-backend-file',
          id: 'nvdimmbackmem1',
          size: 1 << 28,
          'mem-path': '/pmem',
          share: true,
          pmem: true,
        },
      ],
      ['device_add', { driver: 'nvdimm', id: 'nvdimm1', memdev: 'nvdimmbackmem1' }],
      ['object-del', { id: 'nvdimmbackmem1' }],
    ]);
    await expect(hotplugMemory(qmp, { id: 'bad', size: 1.5 })).rejects.toMatchObject({ code: 'QMP_ENCODE' });
  });

  it('deleteDevice resolves only on DEVICE_DELETED for that id', async () => {
    await using server = await startFakeQmp({
      handler: (_req, conn) => {
        setTimeout(() => {
          conn.event('DEVICE_DELETED', { path: '/machine/peripheral/other', device: 'other' });
          conn.event('DEVICE_DELETED', { path: '/machine/peripheral/d1/virtio-backend' });
          conn.event('DEVICE_DELETED', { path: '/machine/peripheral/d1', device: 'd1' });
        }, 20);
        return undefined;
      },
    });
    await using qmp = await connectQmp(server.path);
    const ev = await deleteDevice(qmp, 'd1', { timeout: 2000 });
    expect(ev.data).toEqual({ path: '/machine/peripheral/d1', device: 'd1' });
    await expect(deleteDevice(qmp, 'never', { timeout: 100 })).rejects.toMatchObject({ code: 'QMP_TIMEOUT' });
  });

  it('addNetdevByFds without the fds reaching QEMU is rejected before netdev_add', async () => {
    await using server = await startFakeQmp();
    await using qmp = await connectQmp(server.path);
    await expect(addNetdevByFds(qmp, { type: 'tap', id: 't', fds: [] })).rejects.toMatchObject({
      code: 'QMP_ENCODE',
    });
  });
});
