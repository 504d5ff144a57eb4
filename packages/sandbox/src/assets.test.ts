import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveAssets, sha512File, verifyAsset } from './assets.js';
import { parseHypervisorConfig } from './config.js';

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir('vmm-assets-');
});
afterEach(async () => {
  await tmp.remove();
});

const sha = (text: string): string => createHash('sha512').update(text).digest('hex');

describe('asset checks', () => {
  it('hashes files with SHA-512', async () => {
    await writeFile(tmp.join('k'), 'kernel bytes');
    expect(await sha512File(tmp.join('k'))).toBe(sha('kernel bytes'));
  });

  it('verifies custom assets against their digest before use (case-insensitive)', async () => {
    await writeFile(tmp.join('k'), 'kernel');
    await verifyAsset('kernel', tmp.join('k'), sha('kernel').toUpperCase());
    await expect(verifyAsset('kernel', tmp.join('k'), sha('other'))).rejects.toMatchObject({
      code: 'SANDBOX_ASSET_DIGEST_MISMATCH',
      path: 'customAssets.kernel.sha512',
      message: expect.stringContaining(sha('kernel')),
    });
  });

  it('refuses missing files and directories, naming the config field', async () => {
    await expect(verifyAsset('initrd', tmp.join('nope'), undefined)).rejects.toMatchObject({
      code: 'SANDBOX_ASSET_MISSING',
      path: 'initrdPath',
    });
    await expect(verifyAsset('image', tmp.path, undefined)).rejects.toMatchObject({
      code: 'SANDBOX_ASSET_MISSING',
      message: expect.stringContaining('not a regular file'),
    });
  });

  it('resolves a config: custom assets override, the hypervisor falls back to the default', async () => {
    for (const f of ['k', 'i', 'custom-k', 'qemu']) await writeFile(tmp.join(f), f);
    const config = parseHypervisorConfig({
      kernelPath: tmp.join('k'),
      initrdPath: tmp.join('i'),
      customAssets: { kernel: { path: tmp.join('custom-k'), sha512: sha('custom-k') } },
    });
    expect(await resolveAssets(config, { defaultHypervisorPath: tmp.join('qemu') })).toEqual({
      kernel: tmp.join('custom-k'),
      image: undefined,
      initrd: tmp.join('i'),
      firmware: undefined,
      hypervisor: tmp.join('qemu'),
    });
    await expect(resolveAssets(config, { defaultHypervisorPath: tmp.join('no-qemu') })).rejects.toMatchObject(
      {
        code: 'SANDBOX_ASSET_MISSING',
        path: 'hypervisorPath',
      },
    );
    const bad = parseHypervisorConfig({
      kernelPath: tmp.join('k'),
      initrdPath: tmp.join('i'),
      customAssets: { hypervisor: { path: tmp.join('qemu'), sha512: sha('tampered') } },
    });
    await expect(resolveAssets(bad, { defaultHypervisorPath: '/x' })).rejects.toMatchObject({
      code: 'SANDBOX_ASSET_DIGEST_MISMATCH',
      path: 'customAssets.hypervisor.sha512',
    });
    // A missing custom asset is named by its customAssets entry, digest or not.
    for (const sha512 of [undefined, sha('x')]) {
      const missing = parseHypervisorConfig({
        kernelPath: tmp.join('k'),
        initrdPath: tmp.join('i'),
        customAssets: { initrd: { path: tmp.join('no-initrd'), ...(sha512 ? { sha512 } : {}) } },
      });
      await expect(resolveAssets(missing, { defaultHypervisorPath: tmp.join('qemu') })).rejects.toMatchObject(
        {
          code: 'SANDBOX_ASSET_MISSING',
          path: 'customAssets.initrd',
        },
      );
    }
  });
});
