/**
 * vhost-user against a real backend: `qemu-storage-daemon` (QEMU 7.2) exports a temp image as a
 * vhost-user-blk server, and a live QEMU 7.2 hotplugs `vhost-user-blk-pci` onto it with
 * `unixSocketChardev` + `chardev-add` and `vhostUserDevice` + `device_add` (there is no multi-step
 * vhost-user helper), then unplugs it with `deleteDevice` and `chardev-remove`.
 *
 * No guest runs (`-S`): `device_add` realizes the device, and realize is where QEMU performs the
 * vhost-user handshake (GET_FEATURES, GET_PROTOCOL_FEATURES, SET_OWNER, GET_CONFIG, ...), so a plug
 * that succeeds proves the daemon answered. Guest RAM is a shared memfd backend as vhost-user wants,
 * but the memory table is only sent when a guest driver starts the device, so it is not exercised.
 *
 * Unplug without a guest: the root ports use native PCIe hotplug (ACPI PCI hotplug is turned off).
 * The guest never powered their slots on, and QEMU 7.2 unplugs a device from a powered-off slot at
 * once, with DEVICE_DELETED, instead of pressing the attention button and waiting for the guest.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { makeTempDir, type QemuProcess, qmpAccel, spawnQemu, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectQmp,
  deleteDevice,
  type QmpClient,
  QmpCommandError,
  unixSocketChardev,
  vhostUserDevice,
} from '../src/index.js';

const accel = qmpAccel();
const STORAGE_DAEMON = '/usr/bin/qemu-storage-daemon';

/** A running `qemu-storage-daemon` exporting one image over vhost-user-blk. */
interface Daemon {
  readonly child: ChildProcess;
  readonly socketPath: string;
  stderr(): string;
  /** SIGKILL (if alive) and wait for the exit. Idempotent. */
  kill(): Promise<void>;
}

let dir: TempDir;
let vm: QemuProcess;
let qmp: QmpClient;
const daemons = new Set<Daemon>();

/** A sparse raw image of `bytes` bytes. */
function makeImage(name: string, bytes: number): string {
  const path = dir.join(name);
  writeFileSync(path, '');
  truncateSync(path, bytes);
  return path;
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/** The pid in a pid file, once it has been written. */
function readPid(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text === '' ? undefined : Number(text);
  } catch {
    return undefined;
  }
}

/**
 * Start `qemu-storage-daemon` (no shell) exporting `image` as a vhost-user-blk server on
 * `<dir>/<name>.sock`, and wait until it is ready: the daemon writes its `--pidfile` after creating
 * its exports and before accepting connections (documented ordering), so the pid in the file means
 * the socket is listening.
 */
async function startDaemon(name: string, image: string, writable: boolean): Promise<Daemon> {
  const socketPath = dir.join(`${name}.sock`);
  const pidFile = dir.join(`${name}.pid`);
  const child = spawn(
    STORAGE_DAEMON,
    [
      '--blockdev',
      `driver=file,node-name=${name}-file,filename=${image.replaceAll(',', ',,')}`,
      '--blockdev',
      `driver=raw,node-name=${name}-disk,file=${name}-file`,
      '--export',
      `type=vhost-user-blk,id=${name}-exp,node-name=${name}-disk,addr.type=unix,addr.path=${socketPath.replaceAll(',', ',,')},writable=${writable ? 'on' : 'off'}`,
      '--pidfile',
      pidFile,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-65536);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      stderr += String(err);
      resolve();
    });
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  let killed: Promise<void> | undefined;
  const daemon: Daemon = {
    child,
    socketPath,
    stderr: () => stderr,
    kill: () => {
      killed ??= (async () => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
          child.kill('SIGKILL');
        }
        await exited;
        child.stderr?.destroy();
        daemons.delete(daemon);
      })();
      return killed;
    },
  };
  daemons.add(daemon);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (gone) {
      await daemon.kill();
      throw new Error(`qemu-storage-daemon exited before listening on ${socketPath}:\n${stderr}`);
    }
    if (readPid(pidFile) === child.pid && isSocket(socketPath)) return daemon;
    if (Date.now() > deadline) {
      await daemon.kill();
      throw new Error(`qemu-storage-daemon was not ready on ${socketPath} within 10 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function commandError(p: Promise<unknown>): Promise<QmpCommandError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QmpCommandError);
  expect((err as QmpCommandError).code).toBe('QMP_COMMAND_FAILED');
  return err as QmpCommandError;
}

async function chardev(label: string): Promise<{ filename: string; 'frontend-open': boolean } | undefined> {
  return (await qmp.execute('query-chardev')).find((c) => c.label === label);
}

/** `x-query-virtio-status` of a virtio PCI proxy's backend (untyped: QEMU 7.2's experimental query). */
async function virtioStatus(
  id: string,
): Promise<{ 'device-id': number; 'host-features': { 'dev-features': string[] } }> {
  return (await qmp.execute('x-query-virtio-status', {
    path: `/machine/peripheral/${id}/virtio-backend`,
  })) as { 'device-id': number; 'host-features': { 'dev-features': string[] } };
}

beforeAll(async () => {
  dir = await makeTempDir('vmm-vhu-');
  vm = await spawnQemu({
    machine: 'q35,memory-backend=mem',
    args: [
      '-name',
      'vhost-user-it',
      '-m',
      '128M',
      '-object',
      'memory-backend-memfd,id=mem,size=128M,share=on',
      // Native PCIe hotplug on the root ports, so device_del completes without a guest (see top).
      '-global',
      'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off',
      '-device',
      'pcie-root-port,id=rp1,bus=pcie.0,chassis=1',
      '-device',
      'pcie-root-port,id=rp2,bus=pcie.0,chassis=2',
      '-device',
      'pcie-root-port,id=rp3,bus=pcie.0,chassis=3',
    ],
  });
  qmp = await connectQmp(vm.qmpPath);
});

afterAll(async () => {
  await qmp?.close();
  await vm?.kill();
  await Promise.all([...daemons].map((d) => d.kill()));
  await dir?.remove();
});

describe(`vhost-user-blk with qemu-storage-daemon (${accel.accel}: ${accel.reason})`, () => {
  it('guest RAM is the shared memfd backend', async () => {
    expect(await qmp.execute('qom-get', { path: '/objects/mem', property: 'share' })).toBe(true);
    expect(await qmp.execute('qom-get', { path: '/objects/mem', property: 'size' })).toBe(128 * 1024 * 1024);
  });

  it('chardev-add fails with the connection error when the daemon is not running', async () => {
    const missing = dir.join('never-started.sock');
    const e1 = await commandError(
      qmp.execute('chardev-add', unixSocketChardev({ id: 'vu-missing', path: missing })),
    );
    expect(e1.errorClass).toBe('GenericError');
    expect(e1.desc).toMatch(/Failed to connect to '.*never-started\.sock': No such file or directory/);

    // A daemon that was running and died leaves its socket behind: now the connect is refused.
    const stopped = await startDaemon('stopped', makeImage('stopped.img', 1 << 20), true);
    await stopped.kill();
    expect(isSocket(stopped.socketPath)).toBe(true);
    const e2 = await commandError(
      qmp.execute('chardev-add', unixSocketChardev({ id: 'vu-stopped', path: stopped.socketPath })),
    );
    expect(e2.desc).toMatch(/Failed to connect to '.*stopped\.sock': Connection refused/);

    const labels = (await qmp.execute('query-chardev')).map((c) => c.label);
    expect(labels).not.toContain('vu-missing');
    expect(labels).not.toContain('vu-stopped');
  });

  it('device_add fails in realize when the peer is not a vhost-user backend', async () => {
    // Accepts, and hangs up on the first message (VHOST_USER_GET_FEATURES).
    const peers: Socket[] = [];
    const server: Server = createServer((s) => {
      peers.push(s);
      s.once('data', () => s.destroy());
    });
    const path = dir.join('bogus.sock');
    await new Promise<void>((r) => server.listen(path, r));
    try {
      expect(await qmp.execute('chardev-add', unixSocketChardev({ id: 'vu-bogus', path }))).toEqual({});
      const e = await commandError(
        qmp.execute(
          'device_add',
          vhostUserDevice({
            id: 'vublk-bogus',
            driver: 'vhost-user-blk-pci',
            chardev: 'vu-bogus',
            bus: 'rp3',
            addr: '0x0',
          }),
        ),
      );
      expect(e.errorClass).toBe('GenericError');
      expect(e.desc).toMatch(/vhost_backend_init failed/);
      expect(peers.length).toBeGreaterThan(0);
      await commandError(
        qmp.execute('qom-get', { path: '/machine/peripheral/vublk-bogus', property: 'type' }),
      );
      expect((await chardev('vu-bogus'))?.filename).toMatch(/^disconnected:/);
      await qmp.execute('chardev-remove', { id: 'vu-bogus' });
      expect(await chardev('vu-bogus')).toBeUndefined();
    } finally {
      for (const s of peers) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('hotplugs vhost-user-blk-pci on a writable export, then device_del (DEVICE_DELETED) and chardev-remove', async () => {
    const daemon = await startDaemon('rw', makeImage('rw.img', 4 << 20), true);
    try {
      expect(
        await qmp.execute('chardev-add', unixSocketChardev({ id: 'vu0', path: daemon.socketPath })),
      ).toEqual({});
      await qmp.execute(
        'device_add',
        vhostUserDevice({
          id: 'vublk0',
          driver: 'vhost-user-blk-pci',
          chardev: 'vu0',
          bus: 'rp1',
          addr: '0x0',
        }),
      );

      const dev = '/machine/peripheral/vublk0';
      expect(await qmp.execute('qom-get', { path: dev, property: 'type' })).toBe('vhost-user-blk-pci');
      expect(await qmp.execute('qom-get', { path: dev, property: 'realized' })).toBe(true);
      expect(await qmp.execute('qom-get', { path: dev, property: 'hotplugged' })).toBe(true);
      expect(await qmp.execute('qom-get', { path: dev, property: 'chardev' })).toBe('vu0');
      // Connected (no "disconnected:" prefix) and bound to the device.
      const ch = await chardev('vu0');
      expect(ch).toMatchObject({ 'frontend-open': true });
      expect(ch?.filename).toMatch(/^unix:/);

      const list = (await qmp.execute('x-query-virtio')) as { name: string; path: string }[];
      expect(list).toContainEqual({ name: 'virtio-blk', path: `${dev}/virtio-backend` });
      const status = await virtioStatus('vublk0');
      expect(status['device-id']).toBe(2);
      const features = status['host-features']['dev-features'].map((f) => f.split(':')[0]);
      // Only offered when the backend answered GET_FEATURES with it.
      expect(features).toContain('VHOST_USER_F_PROTOCOL_FEATURES');
      expect(features).toContain('VIRTIO_BLK_F_FLUSH');
      expect(features).not.toContain('VIRTIO_BLK_F_RO');

      const busy = await commandError(qmp.execute('chardev-remove', { id: 'vu0' }));
      expect(busy.desc).toMatch(/Chardev 'vu0' is busy/);

      const ev = await deleteDevice(qmp, 'vublk0', { timeout: 10_000 });
      expect(ev.data.device).toBe('vublk0');
      const gone = await commandError(qmp.execute('qom-get', { path: dev, property: 'type' }));
      expect(gone.errorClass).toBe('DeviceNotFound');
      await qmp.execute('chardev-remove', { id: 'vu0' });
      expect(await chardev('vu0')).toBeUndefined();
      expect(daemon.child.exitCode).toBeNull();
    } finally {
      await daemon.kill();
    }
  });

  it('features come from the daemon: a read-only export shows VIRTIO_BLK_F_RO; killing it disconnects the chardev', async () => {
    const daemon = await startDaemon('ro', makeImage('ro.img', 4 << 20), false);
    try {
      await qmp.execute('chardev-add', unixSocketChardev({ id: 'vu1', path: daemon.socketPath }));
      await qmp.execute(
        'device_add',
        vhostUserDevice({
          id: 'vublk1',
          driver: 'vhost-user-blk-pci',
          chardev: 'vu1',
          bus: 'rp2',
          addr: '0x0',
        }),
      );
      const features = (await virtioStatus('vublk1'))['host-features']['dev-features'].map(
        (f) => f.split(':')[0],
      );
      expect(features).toContain('VHOST_USER_F_PROTOCOL_FEATURES');
      expect(features).toContain('VIRTIO_BLK_F_RO');
      expect((await chardev('vu1'))?.filename).toMatch(/^unix:/);

      await daemon.kill();
      const deadline = Date.now() + 10_000;
      let filename = (await chardev('vu1'))?.filename;
      while (!filename?.startsWith('disconnected:') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        filename = (await chardev('vu1'))?.filename;
      }
      expect(filename).toMatch(/^disconnected:unix:.*ro\.sock/);

      const ev = await deleteDevice(qmp, 'vublk1', { timeout: 10_000 });
      expect(ev.data.device).toBe('vublk1');
      await qmp.execute('chardev-remove', { id: 'vu1' });
      expect(await chardev('vu1')).toBeUndefined();
    } finally {
      await daemon.kill();
    }
  });
});
