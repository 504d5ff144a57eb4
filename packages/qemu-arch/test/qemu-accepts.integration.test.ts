/**
 * For each architecture whose QEMU is installed, the argv composed from the arch (machine, topology,
 * memory, bridges, console, SCSI controller) is accepted by that QEMU under TCG: it starts paused and
 * answers QMP `query-status`. Devices beyond the base set are checked arch by arch below.
 */
import { existsSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeQemuArgv, type QemuConfig } from '@vmm/argv';
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
import {
  composeSandboxConfig,
  createQemuArch,
  PPC64LE_NVDIMM_IMAGE_UUID,
  QemuArchError,
  type QemuArchOptions,
} from '../src/index.js';

/** Under CI (`CI=true`) setup installs every arch's QEMU: a missing one fails there, never skips. */
const IN_CI = process.env.CI === 'true';

const KiB = 1024;
const MiB = 1024 * KiB;

interface Case {
  name: string;
  options: QemuArchOptions;
  rootPorts?: number;
  ioThread?: boolean;
}

const CASES: Case[] = [
  { name: 'amd64 pc', options: { arch: 'amd64', machineType: 'pc' } },
  { name: 'amd64 q35 + vIOMMU', options: { arch: 'amd64', machineType: 'q35', iommu: true }, rootPorts: 2 },
  // microvm's virtio-mmio needs ioeventfd (KVM) for an IO thread, so none under TCG.
  { name: 'amd64 microvm', options: { arch: 'amd64', machineType: 'microvm' }, ioThread: false },
  {
    name: 'amd64 pc-q35-7.2 (versioned)',
    options: { arch: 'amd64', machineType: 'pc-q35-7.2' },
    rootPorts: 1,
  },
  { name: 'arm64 virt', options: { arch: 'arm64' } },
  { name: 'arm64 virt-7.2 (versioned)', options: { arch: 'arm64', machineType: 'virt-7.2' } },
  { name: 'ppc64le pseries', options: { arch: 'ppc64le' } },
  { name: 's390x s390-ccw-virtio', options: { arch: 's390x' } },
];

let tmp: TempDir;
let socketsBefore = 0;
beforeAll(async () => {
  socketsBefore = openSocketCount();
  tmp = await makeTempDir('qemu-arch-');
});
afterAll(async () => {
  await killAllQemus();
  expect(liveQemus().size).toBe(0);
  expect(childPids()).toEqual([]);
  // every QMP connection these tests opened is closed again
  expect(openSocketCount()).toBeLessThanOrEqual(socketsBefore);
  await tmp.remove();
});

/** Encode for spawnQemu: it passes `-accel tcg` itself, which QEMU refuses next to `-machine accel=`. */
function argvFor(config: QemuConfig): string[] {
  const { acceleration: _accel, ...machine } = config.machine ?? { type: 'none' };
  return encodeQemuArgv({ ...config, machine }).argv;
}

async function startsPaused(binary: string, argv: string[], also?: string): Promise<unknown> {
  await using q = await spawnQemu({ binary, machine: null, accel: 'tcg', args: argv, timeoutMs: 60_000 });
  const qmp = await connectTestQmp(q.qmpPath);
  try {
    const status = await qmp.execute('query-status');
    return also === undefined ? status : { status, also: await qmp.execute(also) };
  } finally {
    await qmp.close();
  }
}

describe.each(CASES)('$name: the base sandbox argv is accepted under TCG', (c) => {
  const arch = createQemuArch({ ...c.options, accel: 'tcg', cpuModel: 'max' });
  const installed = existsSync(arch.qemuPath);
  if (!installed && !IN_CI) console.warn(`skipping ${c.name}: ${arch.qemuPath} is not installed`);

  it.runIf(installed || IN_CI)('starts paused and answers query-status', async () => {
    const s = composeSandboxConfig(arch, {
      vcpus: 1,
      memMiB: 256,
      hostMemMiB: 2048,
      consolePath: join(tmp.path, `${arch.arch}-${arch.machineType}.console`),
      bridges: arch.bridgeType === null ? 0 : 2,
      pcieRootPorts: c.rootPorts ?? 0,
      scsi: c.ioThread === false ? true : { ioThread: true },
    });
    const argv = argvFor(s.config);
    expect(argv).toContain('-smp');
    const status = await startsPaused(arch.qemuPath, argv);
    expect(status).toMatchObject({ status: 'prelaunch', running: false });
  });
});

/** UEFI for arm64 virt: its ACPI GED is what NVDIMM and memory hotplug need (none with -kernel only). */
const AARCH64_EFI = '/usr/share/qemu-efi-aarch64/QEMU_EFI.fd';

describe.each(CASES)('$name: the arch devices are accepted under TCG', (c) => {
  const arch = createQemuArch({ ...c.options, accel: 'tcg', cpuModel: 'max', image: true, nested: true });
  const installed = existsSync(arch.qemuPath);

  it.runIf(installed || IN_CI)(
    'image, 9p volume, agent socket, RNG (nested: disable-modern on PCI)',
    async () => {
      const dir = tmp.join(`${arch.arch}-${arch.machineType}-dev`);
      const { mkdir } = await import('node:fs/promises');
      await mkdir(dir, { recursive: true });
      const image = join(dir, 'rootfs.img');
      await writeFile(image, '');
      // pseries wants n x 256 MiB + the 128 KiB label area; a sparse file costs no disk either way
      const sizeBytes = arch.arch === 'ppc64le' ? 256 * MiB + 128 * KiB : 16 * MiB;
      await truncate(image, sizeBytes);
      const s = composeSandboxConfig(arch, {
        vcpus: 1,
        memMiB: 256,
        hostMemMiB: 2048,
        consolePath: join(dir, 'console.sock'),
        pcieRootPorts: c.rootPorts ?? 0,
        image: { path: image, sizeBytes },
        rng: { filename: '/dev/urandom' },
      });
      const devices = [
        ...(s.config.devices ?? []),
        s.devices.volume9p({ mountTag: 'shared', hostPath: dir }),
        s.devices.socket({
          deviceId: 'channel0',
          id: 'charch0',
          hostPath: join(dir, 'agent.sock'),
          name: 'agent.channel.0',
        }),
      ];
      const needsEfi = arch.arch === 'arm64' && arch.imageAttachment === 'nvdimm';
      const argv = argvFor({ ...s.config, devices, ...(needsEfi ? { bios: AARCH64_EFI } : {}) });
      if (arch.arch === 'ppc64le') {
        // QEMU >= 5.1 pseries needs label-size, and QEMU 7.2 a uuid: both are on the device now
        expect(argv).toContain(
          `nvdimm,id=nv0,memdev=mem0,label-size=131072,uuid=${PPC64LE_NVDIMM_IMAGE_UUID}`,
        );
        const r = await startsPaused(arch.qemuPath, argv, 'query-memory-devices');
        expect(r).toMatchObject({
          status: { status: 'prelaunch', running: false },
          // the guest sees the file minus its label area
          also: [{ type: 'nvdimm', data: { id: 'nv0', size: 256 * MiB, memdev: '/objects/mem0' } }],
        });
        return;
      }
      expect(await startsPaused(arch.qemuPath, argv)).toMatchObject({ status: 'prelaunch' });
    },
  );
});

describe('ppc64le pseries NVDIMM image size', () => {
  const arch = createQemuArch({ arch: 'ppc64le', accel: 'tcg', cpuModel: 'max', image: true });
  const installed = existsSync(arch.qemuPath);
  const compose = (path: string, sizeBytes: number, a = arch) =>
    composeSandboxConfig(a, {
      vcpus: 1,
      memMiB: 256,
      hostMemMiB: 2048,
      consolePath: join(tmp.path, 'ppc-size.console'),
      image: { path, sizeBytes },
    });

  it.runIf(installed || IN_CI)('a misaligned size is refused by our check, and QEMU agrees', async () => {
    const path = tmp.join('ppc-misaligned.img');
    const sizeBytes = 256 * MiB; // no room for the label: 256 MiB - 128 KiB is not a multiple of 256 MiB
    await writeFile(path, '');
    await truncate(path, sizeBytes);
    let err: unknown;
    try {
      compose(path, sizeBytes);
    } catch (e) {
      err = e;
    }
    expect(QemuArchError.is(err)).toBe(true);
    expect(err).toMatchObject({ code: 'QEMU_ARCH_INVALID_OPTIONS', path: 'options.image.sizeBytes' });
    expect((err as Error).message).toContain('a size that works: 268566528 (1 x 256 MiB + 128 KiB label)');
    // the check mirrors QEMU: the same image with the label area QEMU demands is refused by QEMU itself
    const ok = compose(tmp.join('unused.img'), 256 * MiB + 128 * KiB);
    const argv = argvFor(ok.config).map((a) =>
      a.startsWith('memory-backend-file,')
        ? `memory-backend-file,id=mem0,mem-path=${path},size=${sizeBytes}`
        : a,
    );
    await expect(startsPaused(arch.qemuPath, argv)).rejects.toThrow(/multiple of 256MB/);
  });

  it.runIf(installed || IN_CI)(
    'disableImageNvdimm: the image is a virtio-blk disk, which pseries accepts',
    async () => {
      const path = tmp.join('ppc-blk.img');
      const sizeBytes = 16 * MiB;
      await writeFile(path, '');
      await truncate(path, sizeBytes);
      const blk = createQemuArch({
        arch: 'ppc64le',
        accel: 'tcg',
        cpuModel: 'max',
        image: true,
        disableImageNvdimm: true,
      });
      const b = compose(path, sizeBytes, blk);
      expect(b.config.devices?.some((d) => d.kind === 'block')).toBe(true);
      expect(b.config.devices?.some((d) => d.kind === 'memory-backend-file')).toBe(false);
      expect(await startsPaused(blk.qemuPath, argvFor(b.config))).toMatchObject({ status: 'prelaunch' });
    },
  );
});
