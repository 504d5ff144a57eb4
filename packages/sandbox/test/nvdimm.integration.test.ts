/**
 * NVDIMM hotplug (memory-backend-file + nvdimm, `nvdimm=on` added to the machine): QEMU lists each
 * device in its own slot, at its own address, with its backing file's size, and maps the file shared;
 * the default guest (its boot sets load nfit + nd_pmem) reports each one as `HOTPLUG-PMEM pmemN
 * <bytes>`, under the name `hotplugAdd` returned and with the file's size; a refused `device_add`
 * leaves no backend object behind and nothing new in the guest; unplug is refused (QEMU cannot
 * hot-unplug NVDIMMs).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseGuestLine } from '@vmm/guest';
import { connectTestQmp, makeTempDir } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { type QemuHypervisor, Sandbox } from '../src/index.js';
import { accel, guestConfig, marker } from './helpers.js';

/** QEMU's `query-memory-devices` entry of an NVDIMM. */
interface NvdimmInfo {
  type: string;
  data: { id: string; memdev: string; size: number; slot: number; node: number; addr: number };
}

/** The lines of QEMU's memory map (`/proc/<pid>/maps`) that map `path`. */
function mappingsOf(pid: number, path: string): string[] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((l) => l.endsWith(` ${path}`));
}

describe('nvdimm block hotplug', () => {
  it('plugs files as NVDIMMs (slot, address, size, shared file backend, seen by the guest), rolls back a refused one, refuses unplug', async () => {
    await using tmp = await makeTempDir('vmm-nv-');
    const sb = await Sandbox.create(
      await guestConfig({ hypervisorMachineType: 'q35', blockDeviceDriver: 'nvdimm' }),
      {
        stateDir: tmp.join('state'),
        host: { accel: accel() },
      },
    );
    const qmp = <T>(fn: (q: Awaited<ReturnType<typeof connectTestQmp>>) => Promise<T>): Promise<T> =>
      sb.withQmpSocket(async (path) => {
        const q = await connectTestQmp(path);
        try {
          return await fn(q);
        } finally {
          await q.close();
        }
      });
    const wait = { timeoutMs: 30_000 } as const;
    try {
      await sb.start();
      const con = sb.console();
      const ready = await con.waitFor(marker('ready'), { ...wait, exited: sb.exited });
      expect(ready.value).toMatchObject({ cpus: 1, memMb: 256 });
      const pid = (sb.hypervisor as QemuHypervisor).pid as number;
      expect(await qmp((q) => q.execute('qom-get', { path: '/machine', property: 'nvdimm' }))).toBe(true);
      const img0 = tmp.join('pmem0.img');
      const img1 = tmp.join('pmem1.img');
      await writeFile(img0, Buffer.alloc(16 << 20));
      await writeFile(img1, Buffer.alloc(8 << 20));
      // The guest sees each NVDIMM (ACPI NFIT hotplug → nfit → nd_pmem) under the name hotplugAdd
      // returned, with the backing file's size.
      let mark = await con.mark();
      expect(await sb.hotplugAdd({ kind: 'block', id: 'nv0', path: img0 })).toEqual({
        id: 'nv0',
        kind: 'block',
        guestAddress: 'pmem0',
      });
      expect(
        (await con.waitFor(marker('hotplugPmem'), { ...wait, from: mark, exited: sb.exited })).value,
      ).toEqual({ kind: 'hotplugPmem', device: 'pmem0', bytes: 16 << 20 });
      mark = await con.mark();
      expect(await sb.hotplugAdd({ kind: 'block', id: 'nv1', path: img1 })).toEqual({
        id: 'nv1',
        kind: 'block',
        guestAddress: 'pmem1',
      });
      expect(
        (await con.waitFor(marker('hotplugPmem'), { ...wait, from: mark, exited: sb.exited })).value,
      ).toEqual({ kind: 'hotplugPmem', device: 'pmem1', bytes: 8 << 20 });
      const afterPlugs = await con.mark();
      const mem = (await qmp((q) => q.execute('query-memory-devices'))) as NvdimmInfo[];
      expect(mem).toMatchObject([
        {
          type: 'nvdimm',
          data: {
            id: 'nv0',
            memdev: '/objects/nvdimmbackmem-nv0',
            size: 16 << 20,
            slot: 0,
            node: 0,
            hotplugged: true,
            hotpluggable: true,
          },
        },
        {
          type: 'nvdimm',
          data: {
            id: 'nv1',
            memdev: '/objects/nvdimmbackmem-nv1',
            size: 8 << 20,
            slot: 1,
            node: 0,
            hotplugged: true,
            hotpluggable: true,
          },
        },
      ]);
      const [d0, d1] = mem.map((m) => m.data) as [NvdimmInfo['data'], NvdimmInfo['data']];
      // Both sit in the hotplug memory area above the 256 MiB of boot RAM, without overlapping.
      expect(d0.addr).toBeGreaterThanOrEqual(256 << 20);
      expect(d1.addr >= d0.addr + d0.size || d0.addr >= d1.addr + d1.size).toBe(true);
      // The backends are the files themselves, shared: guest writes would land in them.
      for (const [id, img, size] of [
        ['nv0', img0, 16 << 20],
        ['nv1', img1, 8 << 20],
      ] as const) {
        const path = `/objects/nvdimmbackmem-${id}`;
        expect(await qmp((q) => q.execute('qom-get', { path, property: 'mem-path' }))).toBe(img);
        expect(await qmp((q) => q.execute('qom-get', { path, property: 'share' }))).toBe(true);
        expect(await qmp((q) => q.execute('qom-get', { path, property: 'size' }))).toBe(size);
        const maps = mappingsOf(pid, img);
        expect(maps.length).toBeGreaterThan(0);
        // Read-write and shared (`rw-s`), not a private copy.
        expect(maps.filter((l) => !/^\S+ rw-s /.test(l))).toEqual([]);
      }
      // `pci-bridge-0` is a device QEMU already has: object-add succeeds, device_add fails, and the
      // backend is deleted (a second attempt fails the same way, not on a duplicate object id).
      const img2 = tmp.join('pmem2.img');
      await writeFile(img2, Buffer.alloc(4 << 20));
      for (let attempt = 0; attempt < 2; attempt++) {
        const err = await sb
          .hotplugAdd({ kind: 'block', id: 'pci-bridge-0', path: img2 })
          .catch((e: unknown) => e as Error);
        expect(err).toMatchObject({ code: 'SANDBOX_HOTPLUG_FAILED' });
        expect((err as Error).message).toMatch(/rolled back/);
        expect((err as Error).message).toMatch(/device ID 'pci-bridge-0'/i);
        const objects = (await qmp((q) => q.execute('qom-list', { path: '/objects' }))) as { name: string }[];
        expect(objects.map((o) => o.name).filter((n) => n.startsWith('nvdimmbackmem-'))).toEqual(
          expect.arrayContaining(['nvdimmbackmem-nv0', 'nvdimmbackmem-nv1']),
        );
        expect(objects.map((o) => o.name)).not.toContain('nvdimmbackmem-pci-bridge-0');
      }
      expect(((await qmp((q) => q.execute('query-memory-devices'))) as NvdimmInfo[]).length).toBe(2);
      expect(sb.info().devices.map((d) => d.id)).toEqual(['nv0', 'nv1']);
      // QEMU unmaps the deleted backend's file (RAM blocks are freed after an RCU grace period).
      for (let i = 0; i < 100 && mappingsOf(pid, img2).length > 0; i++) await sleep(20);
      expect(mappingsOf(pid, img2)).toEqual([]);
      // An empty file cannot back an NVDIMM: refused before QEMU is asked.
      const empty = tmp.join('empty.img');
      await writeFile(empty, '');
      await expect(sb.hotplugAdd({ kind: 'block', id: 'nv2', path: empty })).rejects.toMatchObject({
        code: 'SANDBOX_INVALID_CONFIG',
        path: 'device.path',
      });
      await expect(sb.hotplugRemove('nv0')).rejects.toMatchObject({ code: 'SANDBOX_UNSUPPORTED' });
      // Since the two plugs the guest saw no pmem device come or go and reported no error (it polls
      // every 50 ms; give it a few rounds).
      await sleep(500);
      const since = (await con.read(afterPlugs))
        .split('\n')
        .map((l) => parseGuestLine(l))
        .filter((e) => e !== undefined);
      expect(since).toEqual([]);
      // Still plugged, in QEMU and in the record.
      expect(
        ((await qmp((q) => q.execute('query-memory-devices'))) as NvdimmInfo[]).map((m) => m.data.id),
      ).toEqual(['nv0', 'nv1']);
      expect(sb.info().devices.map((d) => d.id)).toEqual(['nv0', 'nv1']);
    } finally {
      await sb.stop();
    }
  });
});
