/**
 * Boots the default guest in the real QEMU (TCG on these machines, see guestAccel) and checks its
 * console report for everything the sandbox relies on: ready, disk, net, vCPU, memory and NVDIMM
 * hotplug, and a clean power-off.
 */
import { execFileSync } from 'node:child_process';
import { childPids, killAllQemus, makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ensureGuest, type GuestImage } from '../src/index.js';
import { type GuestVm, startGuestVm } from './helpers/vm.js';

let image: GuestImage;
let tmp: TempDir;

beforeAll(async () => {
  image = await ensureGuest({ timeoutMs: 300_000 });
  tmp = await makeTempDir('vmm-guest-');
}, 300_000);

afterAll(async () => {
  await killAllQemus();
  await tmp?.remove();
});

describe('the default guest under QEMU', () => {
  let vm: GuestVm;
  afterAll(async () => {
    await vm?.stop();
  });

  it('boots to GUEST-READY and reports disk, net, vCPU, memory and NVDIMM hotplug, then powers off cleanly', async () => {
    vm = await startGuestVm(image, { machineOptions: ['nvdimm=on'] });
    onTestFailed(() => console.log(vm.diagnostics()));
    console.log(`accel: ${vm.accel.accel} (${vm.accel.reason})`);
    const ready = await vm.console.waitFor('ready', undefined, { timeoutMs: 60_000 });
    console.log(
      `GUEST-READY ${((ready.at - vm.spawnedAt) / 1000).toFixed(2)} s after spawn (guest uptime ${ready.event.uptime} s)`,
    );
    expect(ready.event).toMatchObject({ cpus: 1, memMb: 256, blk: [], net: [] });
    const { qmp, console: con } = vm;

    // virtio-blk on a PCIe root port, then unplug.
    const disk = tmp.join('disk.img');
    execFileSync('truncate', ['-s', '16M', disk]);
    await qmp.execute('blockdev-add', {
      'node-name': 'd1',
      driver: 'raw',
      file: { driver: 'file', filename: disk },
    });
    let mark = con.events.length;
    await qmp.execute('device_add', { driver: 'virtio-blk-pci', id: 'vd1', drive: 'd1', bus: 'rp1' });
    const plugged = await con.waitFor('hotplugBlk', undefined, { from: mark });
    expect(plugged.event.device).toBe('vda');
    mark = con.events.length;
    const qmark = qmp.events.length;
    await qmp.execute('device_del', { id: 'vd1' });
    await qmp.waitEvent('DEVICE_DELETED', (d) => d.device === 'vd1', { from: qmark });
    expect((await con.waitFor('unplugBlk', undefined, { from: mark })).event.device).toBe('vda');
    await qmp.execute('blockdev-del', { 'node-name': 'd1' });

    // virtio-net on the other root port, then unplug.
    await qmp.execute('netdev_add', { type: 'user', id: 'n1' });
    mark = con.events.length;
    await qmp.execute('device_add', { driver: 'virtio-net-pci', id: 'nic1', netdev: 'n1', bus: 'rp2' });
    expect((await con.waitFor('hotplugNet', undefined, { from: mark })).event.device).toBe('eth0');
    mark = con.events.length;
    const nmark = qmp.events.length;
    await qmp.execute('device_del', { id: 'nic1' });
    await qmp.waitEvent('DEVICE_DELETED', (d) => d.device === 'nic1', { from: nmark });
    expect((await con.waitFor('unplugNet', undefined, { from: mark })).event.device).toBe('eth0');
    await qmp.execute('netdev_del', { id: 'n1' });

    // A vCPU into the first free slot: the guest onlines it and reports CPUS 2.
    const slots = (await qmp.execute('query-hotpluggable-cpus')) as {
      type: string;
      props: Record<string, number>;
      'qom-path'?: string;
    }[];
    // Lowest core-id first. QEMU lists slots highest first; plugging core 3 first (as Kata's loop
    // over that list would) makes a later pc-dimm unplug never emit DEVICE_DELETED under TCG in 7.2,
    // although the guest removes the memory.
    const free = slots
      .filter((s) => s['qom-path'] === undefined)
      .sort((a, b) => (a.props['core-id'] ?? 0) - (b.props['core-id'] ?? 0));
    expect(free.map((s) => s.props['core-id'])).toEqual([1, 2, 3]);
    mark = con.events.length;
    await qmp.execute('device_add', { driver: free[0]!.type, id: 'cpu-hp1', ...free[0]!.props });
    expect((await con.waitFor('cpus', undefined, { from: mark })).event.cpus).toBe(2);

    // A 128 MiB pc-dimm: onlined movable, so it can be unplugged again.
    await qmp.execute('object-add', {
      'qom-type': 'memory-backend-ram',
      id: 'mem1',
      size: 128 * 1024 * 1024,
    });
    mark = con.events.length;
    await qmp.execute('device_add', { driver: 'pc-dimm', id: 'dimm1', memdev: 'mem1' });
    expect((await con.waitFor('memMb', undefined, { from: mark })).event.memMb).toBe(384);
    mark = con.events.length;
    const dmark = qmp.events.length;
    await qmp.execute('device_del', { id: 'dimm1' });
    await qmp.waitEvent('DEVICE_DELETED', (d) => d.device === 'dimm1', { from: dmark });
    expect((await con.waitFor('memMb', undefined, { from: mark })).event.memMb).toBe(256);
    await qmp.execute('object-del', { id: 'mem1' });

    // A 16 MiB file as an NVDIMM (ACPI NFIT hotplug): nfit + nd_pmem make it pmem0, with its size.
    const pmem = tmp.join('pmem.img');
    execFileSync('truncate', ['-s', '16M', pmem]);
    await qmp.execute('object-add', {
      'qom-type': 'memory-backend-file',
      id: 'nvmem1',
      'mem-path': pmem,
      size: 16 * 1024 * 1024,
      share: true,
    });
    mark = con.events.length;
    await qmp.execute('device_add', { driver: 'nvdimm', id: 'nv1', memdev: 'nvmem1' });
    expect((await con.waitFor('hotplugPmem', undefined, { from: mark })).event).toEqual({
      kind: 'hotplugPmem',
      device: 'pmem0',
      bytes: 16 * 1024 * 1024,
    });

    // ACPI power button: the guest says so and powers off; QEMU exits 0.
    mark = con.events.length;
    await qmp.execute('system_powerdown');
    await con.waitFor('poweroff', undefined, { from: mark });
    const exit = await vm.qemu.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(con.events.filter((e) => e.event.kind === 'error' || e.event.kind === 'malformed')).toEqual([]);
  });

  it('leaves no QEMU behind', async () => {
    await vm?.stop();
    expect(childPids()).toEqual([]);
  });
});
