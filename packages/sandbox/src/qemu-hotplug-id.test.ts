import { mkdir, writeFile } from 'node:fs/promises';
import { isWellFormedId } from '@vmm/argv';
import { type FakeQmpServer, makeTempDir, startFakeQmp, type TempDir } from '@vmm/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HotplugDevice } from './hypervisor.js';
import { processStartTime } from './lock.js';
import { sandboxPaths } from './paths.js';
import { checkDeviceId, DEVICE_ID_MAX_LENGTH, DEVICE_ID_PATTERN, QemuHypervisor } from './qemu.js';

/** Ids QEMU must never see: malformed for QEMU, option-list injection (`,` `=`), or too long for `drive-<id>`. */
const BAD_IDS: [string, unknown][] = [
  ['an id with a comma', 'disk0,bus=pci.0'],
  ['an id with an equals sign', 'disk=0'],
  ['an id with a space', 'disk 0'],
  ['an empty id', ''],
  [`a ${DEVICE_ID_MAX_LENGTH + 1}-character id`, `d${'x'.repeat(DEVICE_ID_MAX_LENGTH)}`],
  ['an id starting with a digit', '0disk'],
  ['an id starting with a dash', '-disk'],
  ['an id with a newline', 'disk0\n'],
  ['an id with a slash', 'a/b'],
  ['a missing id (JavaScript caller)', undefined],
];

const devicesWith = (id: unknown, path: string): HotplugDevice[] =>
  [
    { kind: 'block', id, path },
    { kind: 'memory', id, sizeMiB: 128 },
    { kind: 'net', id, fds: [3] },
    { kind: 'vfio', id, hostAddr: '0000:01:00.0' },
    { kind: 'vsock', id, guestCid: 3 },
  ].filter((d) => !(d.kind === 'memory' && id === undefined)) as unknown as HotplugDevice[];

describe('checkDeviceId', () => {
  it("is @vmm/argv's QEMU id rule plus the length cap", () => {
    const ids = [
      'a',
      'disk0',
      'net_1.x-y',
      `d${'x'.repeat(DEVICE_ID_MAX_LENGTH - 1)}`,
      `d${'x'.repeat(DEVICE_ID_MAX_LENGTH)}`,
      '0disk',
      '_x',
      '.x',
      'a,b',
      'a=b',
      'a b',
      '',
      'é',
      'disk\n',
    ];
    for (const id of ids) {
      const expected = isWellFormedId(id) && id.length <= DEVICE_ID_MAX_LENGTH;
      expect({ id, pattern: DEVICE_ID_PATTERN.test(id) }).toEqual({ id, pattern: expected });
      if (expected) expect(checkDeviceId(id)).toBe(id);
      else expect(() => checkDeviceId(id)).toThrow(expect.objectContaining({ path: 'device.id' }));
    }
    expect(checkDeviceId(`d${'x'.repeat(DEVICE_ID_MAX_LENGTH - 1)}`)).toHaveLength(DEVICE_ID_MAX_LENGTH);
  });

  it.each(BAD_IDS)('refuses %s as SANDBOX_INVALID_CONFIG naming device.id', (_what, id) => {
    expect(() => checkDeviceId(id)).toThrow(
      expect.objectContaining({
        code: 'SANDBOX_INVALID_CONFIG',
        path: 'device.id',
        message: expect.stringMatching(/^device\.id: /),
      }),
    );
  });
});

describe('QemuHypervisor.hotplugAdd device ids', () => {
  let tmp: TempDir;
  let created: QemuHypervisor;
  let disk: string;

  beforeAll(async () => {
    tmp = await makeTempDir('vmm-hpid-');
    const kernelPath = tmp.join('vmlinux');
    const initrdPath = tmp.join('initrd');
    disk = tmp.join('disk.img');
    await writeFile(kernelPath, 'kernel');
    await writeFile(initrdPath, 'initrd');
    await writeFile(disk, Buffer.alloc(4096));
    created = await QemuHypervisor.create(
      { arch: 'amd64', kernelPath, initrdPath },
      {
        id: 'hpid',
        paths: sandboxPaths(tmp.join('state'), 'hpid'),
        host: { accel: 'tcg', memMiB: 4096, nested: false },
      },
    );
  });

  afterAll(async () => {
    await tmp?.remove();
  });

  it('a hypervisor that was never started refuses a bad id as invalid config, not as a state error', async () => {
    for (const [, id] of BAD_IDS) {
      for (const device of devicesWith(id, disk)) {
        await expect(created.hotplugAdd(device)).rejects.toMatchObject({
          code: 'SANDBOX_INVALID_CONFIG',
          path: 'device.id',
        });
      }
    }
    // The same call with a good id gets as far as the state check.
    await expect(created.hotplugAdd({ kind: 'block', id: 'disk0', path: disk })).rejects.toMatchObject({
      code: 'SANDBOX_INVALID_STATE',
    });
    expect(created.devices()).toEqual([]);
  });

  describe('on a running hypervisor (a fake QMP server stands in for QEMU)', () => {
    let qmp: FakeQmpServer;
    let running: QemuHypervisor;

    beforeAll(async () => {
      const paths = sandboxPaths(tmp.join('running'), 'hpid');
      await mkdir(paths.runDir, { recursive: true, mode: 0o700 });
      qmp = await startFakeQmp({ path: paths.qmp });
      // This process stands in for QEMU's pid: alive, so the hypervisor counts as running.
      running = QemuHypervisor.fromState({
        id: 'hpid',
        paths,
        config: created.config,
        status: 'running',
        pid: process.pid,
        pidStartTime: processStartTime(process.pid) ?? null,
        hypervisor: created.toState(),
      });
    });

    afterEach(() => {
      qmp.connections.length = 0;
    });

    afterAll(async () => {
      await qmp?.close();
    });

    it.each(BAD_IDS)('%s never reaches QEMU', async (_what, id) => {
      for (const device of devicesWith(id, disk)) {
        await expect(running.hotplugAdd(device, { timeoutMs: 2_000 })).rejects.toMatchObject({
          code: 'SANDBOX_INVALID_CONFIG',
          path: 'device.id',
        });
      }
      expect(qmp.connections).toEqual([]);
      expect(running.devices()).toEqual([]);
    });

    it('vCPU ids (cpu-<n>) are reserved: refused before QEMU, so vCPU hotplug never collides', async () => {
      for (const device of devicesWith('cpu-1', disk)) {
        await expect(running.hotplugAdd(device, { timeoutMs: 2_000 })).rejects.toMatchObject({
          code: 'SANDBOX_INVALID_CONFIG',
          path: 'device.id',
          message: expect.stringContaining('reserved for hotplugged vCPUs'),
        });
      }
      expect(qmp.connections).toEqual([]);
    });

    it.each(['52:54:00:zz:00:01', '52:54:00:12:34', '52-54-00-12-34-56', '52:54:00:12:34:56,id=x', ''])(
      'a net device with MAC %j is refused before QEMU (SANDBOX_INVALID_CONFIG naming device.mac)',
      async (mac) => {
        await expect(
          running.hotplugAdd({ kind: 'net', id: 'net0', tapFds: [3], mac }, { timeoutMs: 2_000 }),
        ).rejects.toMatchObject({ code: 'SANDBOX_INVALID_CONFIG', path: 'device.mac' });
        expect(qmp.connections).toEqual([]);
      },
    );

    it('a valid id does reach QEMU (the probe above can see a connection)', async () => {
      const r = await running
        .hotplugAdd({ kind: 'block', id: 'disk0', path: disk }, { timeoutMs: 2_000 })
        .then(
          (v) => v,
          (err: unknown) => err,
        );
      expect(qmp.connections.length).toBeGreaterThan(0);
      const commands = qmp.connections.flatMap((c) => c.requests.map((q) => q.command));
      expect(commands).toContain('blockdev-add');
      // Whatever the fake answered, the id QEMU saw is the one given.
      const add = qmp.connections
        .flatMap((c) => c.requests)
        .find((q) => q.command === 'device_add' || q.command === 'blockdev-add');
      expect(JSON.stringify(add?.arguments)).toContain('disk0');
      expect(r).not.toMatchObject({ path: 'device.id' });
    });
  });
});
