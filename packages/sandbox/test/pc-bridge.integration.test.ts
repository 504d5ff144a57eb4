/**
 * A pc VM with Kata's pci-bridge (ACPI hotplug on): disk hotplug on a bridge slot with the guest's
 * report, save to a file and restore into a new QEMU, a stop that leaves nothing behind, and VM
 * templating (save a template's device state, boot a VM from it).
 */
import { existsSync } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { childPids, makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../src/index.js';
import { accel, guestConfig, marker } from './helpers.js';

describe('pc sandbox with a Kata-style PCI bridge', () => {
  let tmp: TempDir;
  let sb: Sandbox;
  const wait = { timeoutMs: 30_000 } as const;
  const sandboxes: Sandbox[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir('vmm-pc-');
    sb = await Sandbox.create(
      await guestConfig({ hypervisorMachineType: 'pc', blockDeviceDriver: 'virtio-blk' }),
      {
        stateDir: tmp.join('state'),
        host: { accel: accel() },
      },
    );
    sandboxes.push(sb);
    await sb.start();
    await sb.console().waitFor(marker('ready'), { ...wait, exited: sb.exited });
  });

  afterAll(async () => {
    for (const s of sandboxes) await s.stop({ graceMs: 1_000 }).catch(() => undefined);
    await tmp?.remove();
  });

  it('hotplugs a virtio-blk disk on bridge slot 1 and unplugs it', async () => {
    const con = sb.console();
    const img = tmp.join('b.img');
    await writeFile(img, Buffer.alloc(8 << 20));
    let mark = await con.mark();
    const r = await sb.hotplugAdd({ kind: 'block', id: 'bdisk', path: img });
    expect(r).toEqual({ id: 'bdisk', kind: 'block', bus: 'pci-bridge-0', addr: '01', guestAddress: '02/01' });
    const plugged = await con.waitFor(marker('hotplugBlk'), { ...wait, from: mark });
    mark = await con.mark();
    await sb.hotplugRemove('bdisk');
    expect((await con.waitFor(marker('unplugBlk'), { ...wait, from: mark })).value.device).toBe(
      plugged.value.device,
    );
    // The slot is free again: the next disk gets slot 1 too.
    const again = await sb.hotplugAdd({ kind: 'block', id: 'bdisk2', path: img });
    expect(again.addr).toBe('01');
    await sb.hotplugRemove('bdisk2');
  });

  it('saves to a file and restores into a new QEMU that carries on', async () => {
    const file = tmp.join('vm.state');
    await sb.save(file);
    expect(sb.status).toBe('paused');
    const config = await guestConfig({ hypervisorMachineType: 'pc', blockDeviceDriver: 'virtio-blk' });
    const restored = await Sandbox.create(config, {
      stateDir: tmp.join('state'),
      host: { accel: accel() },
      restoreFrom: file,
    });
    sandboxes.push(restored);
    await sb.stop();
    await restored.start({ timeoutMs: 60_000 });
    expect(restored.status).toBe('running');
    // The restored guest is the same running guest: it sees a new disk without rebooting.
    const con = restored.console();
    const img = tmp.join('r.img');
    await writeFile(img, Buffer.alloc(1 << 20));
    const mark = await con.mark();
    await restored.hotplugAdd({ kind: 'block', id: 'rdisk', path: img });
    await con.waitFor(marker('hotplugBlk'), { ...wait, from: mark });
    expect(await con.read(0)).not.toContain('GUEST-READY');
  });

  it('stop leaves no process, socket or run directory', async () => {
    const s = sandboxes[1] as Sandbox;
    const pid = s.info().pid as number;
    expect(pid).toBeGreaterThan(0);
    const r = await s.stop();
    expect(r.method).toBe('quit');
    expect(childPids()).not.toContain(pid);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(s.paths.runDir)).toBe(false);
    expect(existsSync(s.paths.qmp)).toBe(false);
    expect(existsSync(s.paths.console)).toBe(false);
    expect(await Sandbox.list({ stateDir: s.stateDir })).toEqual([]);
    expect(await s.stop()).toMatchObject({ method: 'already-stopped' });
  });
});

describe('VM templating (Kata bootToBeTemplate / bootFromTemplate)', () => {
  it('saves a template (device state only, RAM in the shared file) and boots a VM from it', async () => {
    await using tmp = await makeTempDir('vmm-tpl-');
    const memoryPath = `/dev/shm/vmm-tpl-${process.pid}`;
    const devicesStatePath = tmp.join('devices.state');
    const a = accel();
    try {
      const tpl = await Sandbox.create(
        await guestConfig({ hypervisorMachineType: 'pc', bootToBeTemplate: true, memoryPath, memSlots: 0 }),
        { stateDir: tmp.join('state'), host: { accel: a } },
      );
      await tpl.start();
      await tpl.console().waitFor(marker('ready'), { timeoutMs: 30_000, exited: tpl.exited });
      await tpl.save(devicesStatePath);
      await tpl.stop();
      // Only device state went to the file: far less than the 256 MiB of RAM.
      const { size } = await stat(devicesStatePath);
      expect(size).toBeLessThan(16 << 20);
      const vm = await Sandbox.create(
        await guestConfig({
          hypervisorMachineType: 'pc',
          bootFromTemplate: true,
          memoryPath,
          devicesStatePath,
          memSlots: 0,
        }),
        { stateDir: tmp.join('state'), host: { accel: a } },
      );
      try {
        await vm.start({ timeoutMs: 60_000 });
        const con = vm.console();
        const img = tmp.join('t.img');
        await writeFile(img, Buffer.alloc(1 << 20));
        const mark = await con.mark();
        await vm.hotplugAdd({ kind: 'block', id: 'tdisk', path: img, attach: 'virtio-blk' });
        await con.waitFor(marker('hotplugBlk'), { timeoutMs: 30_000, from: mark });
        // The guest carried on from the template: it never booted in this QEMU.
        expect(await con.read(0)).not.toContain('GUEST-READY');
      } finally {
        await vm.stop();
      }
    } finally {
      await rm(memoryPath, { force: true });
    }
  });
});
