/**
 * NVDIMM hotplug (memory-backend-file + nvdimm, `nvdimm=on` added to the machine): QEMU lists the device
 * with its backing file's size; unplug is refused (QEMU cannot hot-unplug NVDIMMs). The default guest
 * has no nd_pmem module, so the check is QEMU's view, not the guest's.
 */
import { writeFile } from 'node:fs/promises';
import { connectQmp } from '@vmm/qmp';
import { makeTempDir } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { Sandbox } from '../src/index.js';
import { accel, guestConfig } from './helpers.js';

describe('nvdimm block hotplug', () => {
  it('plugs a file as an NVDIMM and refuses to unplug it', async () => {
    await using tmp = await makeTempDir('vmm-nv-');
    const sb = await Sandbox.create(
      await guestConfig({ hypervisorMachineType: 'q35', blockDeviceDriver: 'nvdimm' }),
      {
        stateDir: tmp.join('state'),
        host: { accel: accel() },
      },
    );
    try {
      await sb.start();
      const img = tmp.join('pmem.img');
      await writeFile(img, Buffer.alloc(16 << 20));
      expect(await sb.hotplugAdd({ kind: 'block', id: 'nv0', path: img })).toEqual({
        id: 'nv0',
        kind: 'block',
        guestAddress: 'pmem0',
      });
      const q = await connectQmp(sb.paths.qmp, { connectTimeout: 5_000 });
      const mem = await q.execute('query-memory-devices');
      await q.close();
      expect(mem).toMatchObject([
        {
          type: 'nvdimm',
          data: { id: 'nv0', memdev: '/objects/nvdimmbackmem-nv0', size: 16 << 20, hotplugged: true },
        },
      ]);
      await expect(sb.hotplugRemove('nv0')).rejects.toMatchObject({ code: 'SANDBOX_UNSUPPORTED' });
    } finally {
      await sb.stop();
    }
  });
});
