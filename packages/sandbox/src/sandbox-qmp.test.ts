import { writeFile } from 'node:fs/promises';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from './sandbox.js';

let tmp: TempDir;
let config: { arch: 'amd64'; kernelPath: string; initrdPath: string };
beforeAll(async () => {
  tmp = await makeTempDir('vmm-sb-qmp-');
  config = { arch: 'amd64', kernelPath: tmp.join('vmlinux'), initrdPath: tmp.join('initrd') };
  await writeFile(config.kernelPath, 'kernel');
  await writeFile(config.initrdPath, 'initrd');
});
afterAll(async () => {
  await tmp.remove();
});

describe('Sandbox.withQmpSocket', () => {
  it('refuses a sandbox whose hypervisor has no QMP', async () => {
    const sb = await Sandbox.create(config, {
      stateDir: tmp.join('state'),
      id: 'mocked',
      hypervisor: 'mock',
    });
    await expect(sb.withQmpSocket(async () => 'unreachable')).rejects.toMatchObject({
      code: 'SANDBOX_UNSUPPORTED',
    });
  });

  it('refuses a QEMU sandbox that is not running, and hands out the socket path to nobody', async () => {
    const sb = await Sandbox.create(config, {
      stateDir: tmp.join('state'),
      id: 'created',
      hypervisor: 'qemu',
    });
    const seen: string[] = [];
    await expect(
      sb.withQmpSocket(async (path) => {
        seen.push(path);
      }),
    ).rejects.toMatchObject({ code: 'SANDBOX_INVALID_STATE', message: expect.stringContaining('created') });
    expect(seen).toEqual([]);
    // attach from "another process" sees the same refusal
    const again = await Sandbox.attach('created', { stateDir: tmp.join('state') });
    await expect(again.withQmpSocket(async () => undefined)).rejects.toMatchObject({
      code: 'SANDBOX_INVALID_STATE',
    });
  });
});
