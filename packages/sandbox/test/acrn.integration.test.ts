/**
 * `AcrnHypervisor` through `Sandbox`, against @vmm/acrn's recording fakes of acrn-dm and acrnctl (real
 * processes; ACRN itself cannot run on these machines): UUID lease, argv, console, blkrescan
 * hotplug and unplug, re-attach from another Sandbox, SIGINT stop, and the refusals.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { childPids, makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fakes, writeFakes } from '../../acrn/test/fakes.js';
import { type AcrnHypervisor, Sandbox } from '../src/index.js';

describe('ACRN sandbox (recording fakes)', () => {
  let tmp: TempDir;
  let fakes: Fakes;
  let config: Record<string, unknown>;

  beforeAll(async () => {
    tmp = await makeTempDir('vmm-acrn-');
    fakes = await writeFakes(tmp.path);
    await writeFile(tmp.join('vmlinux'), 'kernel');
    await writeFile(tmp.join('rootfs.img'), 'image');
    await writeFile(tmp.join('data.img'), 'data');
    config = {
      kernelPath: tmp.join('vmlinux'),
      imagePath: tmp.join('rootfs.img'),
      memorySize: 512,
      defaultMaxVcpus: 4,
    };
  });
  afterAll(async () => {
    await tmp?.remove();
  });

  it('runs acrn-dm with a leased UUID, hotplugs through acrnctl, and stops with SIGINT', async () => {
    const stateDir = tmp.join('state');
    const sb = await Sandbox.create(config, {
      stateDir,
      id: 'a1',
      hypervisor: 'acrn',
      acrn: { acrnDmPath: fakes.acrnDm, acrnctlPath: fakes.acrnctl },
    });
    await sb.start();
    const hv = sb.hypervisor as AcrnHypervisor;
    const pid = sb.info().pid as number;
    expect(childPids()).toContain(pid);
    const uuid = hv.uuid;
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    const recorded = JSON.parse(await readFile(tmp.join(`acrn-dm.${pid}.json`), 'utf8')) as {
      argv: string[];
    };
    expect(recorded.argv).toEqual(hv.argv);
    expect(recorded.argv.slice(0, 5)).toEqual(['-U', uuid, '-A', '-m', '512M']);
    expect(recorded.argv.at(-1)).toBe('sandbox-a1');
    // COM1 (acrn-dm's stdout) lands in the console log.
    await sb
      .console()
      .waitFor((l) => (l.includes('guest serial output') ? l : undefined), { timeoutMs: 5_000 });

    const r = await sb.hotplugAdd({ kind: 'block', id: 'data', path: tmp.join('data.img') });
    expect(r).toMatchObject({ id: 'data', kind: 'block', addr: '5' });
    // Another process re-attaches and unplugs it.
    const other = await Sandbox.attach('a1', { stateDir });
    expect(other.info()).toMatchObject({ status: 'running', pid, devices: [{ id: 'data', kind: 'block' }] });
    await other.hotplugRemove('data');
    const ctl = (await readFile(tmp.join('acrnctl.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    expect(ctl).toEqual([
      ['blkrescan', 'sandbox-a1', `5,${tmp.join('data.img')}`],
      ['blkrescan', 'sandbox-a1', '5,nodisk'],
    ]);
    await expect(sb.pause()).rejects.toMatchObject({ code: 'SANDBOX_UNSUPPORTED' });
    await expect(sb.hotplugAdd({ kind: 'memory', sizeMiB: 128 })).rejects.toMatchObject({
      code: 'SANDBOX_UNSUPPORTED',
    });
    await expect(sb.resizeVcpus(2)).rejects.toMatchObject({ code: 'SANDBOX_UNSUPPORTED' });

    expect(await sb.stop()).toMatchObject({ method: 'sigint' });
    expect(await readFile(tmp.join('signals.log'), 'utf8')).toContain(`${pid} SIGINT`);
    expect(existsSync(sb.paths.runDir)).toBe(false);
    // The UUID is free again: the next sandbox gets the same one.
    const again = await Sandbox.create(config, {
      stateDir,
      id: 'a2',
      hypervisor: 'acrn',
      acrn: { acrnDmPath: fakes.acrnDm, acrnctlPath: fakes.acrnctl },
    });
    await again.start();
    expect((again.hypervisor as AcrnHypervisor).uuid).toBe(uuid);
    await again.stop();
  });

  it('a failing acrn-dm is a typed start failure with its stderr, and frees the UUID', async () => {
    const stateDir = tmp.join('state-fail');
    const sb = await Sandbox.create(config, {
      stateDir,
      hypervisor: 'acrn',
      acrn: { acrnDmPath: fakes.acrnDm, acrnctlPath: fakes.acrnctl, env: { FAKE_ACRN_DM: 'fail' } },
    });
    await expect(sb.start()).rejects.toMatchObject({ code: 'SANDBOX_START_FAILED' });
    expect(await Sandbox.list({ stateDir })).toEqual([]);
  });

  it('refuses configs ACRN cannot run', async () => {
    await expect(
      Sandbox.create(
        { ...config, imagePath: undefined, initrdPath: tmp.join('vmlinux') },
        { stateDir: tmp.join('s3'), hypervisor: 'acrn' },
      ),
    ).rejects.toMatchObject({ code: 'SANDBOX_INVALID_CONFIG', path: 'imagePath' });
    await expect(
      Sandbox.create({ ...config, defaultMaxVcpus: 16 }, { stateDir: tmp.join('s3'), hypervisor: 'acrn' }),
    ).rejects.toMatchObject({ code: 'SANDBOX_INVALID_CONFIG', path: 'defaultMaxVcpus' });
  });
});
