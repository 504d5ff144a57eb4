/**
 * x86_64 pc and q35: a config built from the arch and @vmm/argv boots (TCG, firmware running) to QMP,
 * and `query-pci` shows the bridges and root ports at the slots the allocator reported; a device
 * hotplugged at the allocator's bridge address lands on that bridge at that slot.
 */
import { encodeQemuArgv } from '@vmm/argv';
import {
  childPids,
  connectTestQmp,
  killAllQemus,
  liveQemus,
  makeTempDir,
  openSocketCount,
  spawnQemu,
  type TempDir,
} from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSandboxConfig, createQemuArch } from '../src/index.js';

interface PciDevice {
  slot: number;
  function: number;
  qdev_id: string;
  pci_bridge?: { bus: { number: number; secondary: number }; devices?: PciDevice[] };
}

let tmp: TempDir;
let socketsBefore = 0;
beforeAll(async () => {
  socketsBefore = openSocketCount();
  tmp = await makeTempDir('qemu-arch-pci-');
});
afterAll(async () => {
  await killAllQemus();
  expect(liveQemus().size).toBe(0);
  expect(childPids()).toEqual([]);
  // every QMP connection these tests opened is closed again
  expect(openSocketCount()).toBeLessThanOrEqual(socketsBefore);
  await tmp.remove();
});

describe.each([
  { machineType: 'pc', rootPorts: 0 },
  { machineType: 'q35', rootPorts: 3 },
])('amd64 $machineType', ({ machineType, rootPorts }) => {
  it('query-pci shows bridges, root ports and a hotplugged device where the allocator put them', async () => {
    const arch = createQemuArch({ arch: 'amd64', machineType, accel: 'tcg', cpuModel: 'max' });
    const s = composeSandboxConfig(arch, {
      vcpus: 1,
      memMiB: 256,
      hostMemMiB: 2048,
      consolePath: tmp.join(`${machineType}.console`),
      bridges: 2,
      pcieRootPorts: rootPorts,
    });
    const { acceleration: _a, ...machine } = s.config.machine ?? { type: machineType };
    const { argv } = encodeQemuArgv({ ...s.config, machine });
    await using q = await spawnQemu({
      binary: arch.qemuPath,
      machine: null,
      accel: 'tcg',
      paused: false,
      args: argv,
    });
    const qmp = await connectTestQmp(q.qmpPath);
    try {
      expect(await qmp.execute('query-status')).toMatchObject({ status: 'running' });

      const placed = s.devices.bridges.add('hot-rng0', 'pci');
      expect(placed).toMatchObject({ bridge: { id: 'pci-bridge-0', addr: 2 }, addr: '01', pciPath: '02/01' });
      await qmp.execute('device_add', {
        driver: 'virtio-rng-pci',
        id: placed.deviceId,
        bus: placed.bridge.id,
        addr: `0x${placed.addr}`,
      });

      // Devices behind a bridge are listed once the firmware has numbered its secondary bus.
      const deadline = Date.now() + 60_000;
      let root: { bus: number; devices: PciDevice[] } | undefined;
      for (;;) {
        const buses = (await qmp.execute('query-pci')) as { bus: number; devices: PciDevice[] }[];
        root = buses.find((b) => b.bus === 0);
        const bridge = root?.devices.find((d) => d.qdev_id === 'pci-bridge-0');
        if ((bridge?.pci_bridge?.bus.secondary ?? 0) > 0 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(root).toBeDefined();
      const byId = new Map((root?.devices ?? []).map((d) => [d.qdev_id, d]));
      for (const b of s.bridges) {
        expect(byId.get(b.id), b.id).toMatchObject({ slot: b.addr, function: 0 });
        expect(byId.get(b.id)?.pci_bridge).toBeDefined();
      }
      expect(s.rootPorts).toHaveLength(rootPorts);
      for (const rp of s.rootPorts)
        expect(byId.get(rp.id), rp.id).toMatchObject({ slot: rp.slot, function: 0 });
      const onBridge = byId.get('pci-bridge-0')?.pci_bridge?.devices ?? [];
      expect(onBridge.find((d) => d.qdev_id === 'hot-rng0')).toMatchObject({
        slot: placed.slot,
        function: 0,
      });
    } finally {
      await qmp.close();
    }
  });
});
