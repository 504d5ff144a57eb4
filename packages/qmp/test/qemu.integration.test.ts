/**
 * Every typed wrapper and helper against a live QEMU 7.2 (KVM when /dev/kvm works, else TCG; no
 * guest needed: devices whose unplug completes without guest help are used for device_del).
 */
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import {
  activeResources,
  killAllQemus,
  makeTempDir,
  openFds,
  type QemuProcess,
  qmpAccel,
  spawnQemu,
  type TempDir,
} from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addFd,
  addNetdevByFds,
  blkDevice,
  connectQmp,
  cpuDevice,
  deleteDevice,
  hotplugBlockDevice,
  hotplugCpu,
  hotplugMemory,
  hotplugNvdimm,
  listenForQmp,
  netDevice,
  passFd,
  QmpClient,
  QmpCommandError,
  type QmpError,
  rawBlockdev,
  scsiDevice,
  systemPowerdown,
  unixSocketChardev,
  virtSerialPort,
  waitForMigration,
} from '../src/index.js';

const accel = qmpAccel();
let dir: TempDir;
let vm: QemuProcess;
let qmp: QmpClient;

/**
 * What a QMP client may hold: sockets (from /proc/self/fd) and timers. Child-process pipes of the
 * QEMUs come and go independently, so PipeWrap counts are not compared here.
 */
async function settledLeakProbe(): Promise<{ sockets: number; timers: number }> {
  // No timer here: Node keeps counting a fired timer as active for a while.
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  return leakProbe();
}

function leakProbe(): { sockets: number; timers: number } {
  return {
    sockets: openFds().filter((f) => f.includes('socket:')).length,
    timers: activeResources().filter((r) => r === 'Timeout').length,
  };
}

async function expectCommandError(
  p: Promise<unknown>,
  errorClass: string,
  desc?: RegExp,
): Promise<QmpCommandError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QmpCommandError);
  const e = err as QmpCommandError;
  expect(e.code).toBe('QMP_COMMAND_FAILED');
  expect(e.errorClass).toBe(errorClass);
  if (desc) expect(e.desc).toMatch(desc);
  return e;
}

beforeAll(async () => {
  dir = await makeTempDir('vmm-qmpit-');
  vm = await spawnQemu({
    machine: 'q35,nvdimm=on',
    args: [
      '-name',
      'qmp-it',
      '-m',
      '128M,slots=4,maxmem=1G',
      '-smp',
      '1,maxcpus=2',
      '-device',
      'virtio-scsi-pci,id=scsi0',
      '-device',
      'virtio-serial-pci,id=vser0',
      '-device',
      'virtio-balloon-pci,id=balloon0',
      '-device',
      'pcie-root-port,id=rp1,bus=pcie.0,chassis=1',
      '-device',
      'pcie-root-port,id=rp2,bus=pcie.0,chassis=2',
    ],
  });
  qmp = await connectQmp(vm.qmpPath);
});

afterAll(async () => {
  await qmp?.close();
  await killAllQemus();
  await dir?.remove();
});

describe(`QEMU 7.2 (${accel.accel}: ${accel.reason})`, () => {
  it('greets, negotiates oob, and answers the query commands', async () => {
    expect(qmp.greeting?.version.qemu).toMatchObject({ major: 7, minor: 2 });
    expect(qmp.greeting?.capabilities).toContain('oob');
    expect(qmp.oobEnabled).toBe(true);
    expect(await qmp.execute('query-status')).toMatchObject({ status: 'prelaunch', running: false });
    expect((await qmp.execute('query-version')).qemu.major).toBe(7);
    expect(await qmp.execute('query-name')).toEqual({ name: 'qmp-it' });
    const commands = (await qmp.execute('query-commands')).map((c) => c.name);
    expect(commands).toContain('device_add');
    expect(commands).toContain('human-monitor-command');
  });

  it('qmp_capabilities a second time is CommandNotFound (negotiation already complete)', async () => {
    await expectCommandError(qmp.execute('qmp_capabilities', {}), 'CommandNotFound', /already complete/);
  });

  it('schema helpers on query-qmp-schema (cached)', async () => {
    const schema = await qmp.schema();
    expect(await qmp.schema()).toBe(schema);
    expect(schema.size).toBeGreaterThan(900);
    expect(schema.hasCommand('blockdev-add')).toBe(true);
    expect(schema.hasCommand('query-cpus')).toBe(false);
    expect(schema.hasEvent('DEVICE_DELETED')).toBe(true);
    expect(schema.allowsOob('migrate-recover')).toBe(true);
    expect(schema.allowsOob('query-status')).toBe(false);
    expect(schema.has('blockdev-add/arg-type/+file/filename')).toBe(true);
    expect(schema.has('blockdev-add/arg-type/discard/^unmap')).toBe(true);
    expect(schema.has('query-status/ret-type/status/^prelaunch')).toBe(true);
    expect(schema.has('query-status/ret-type/status/^nonsense')).toBe(false);
    expect(schema.has('device_add/$json-cli')).toBe(true);
    expect(schema.has('device_add/arg-type/$json-cli')).toBe(false);
    expect(schema.has('netdev_add/arg-type/+stream/addr')).toBe(true);
  });

  it('exec-oob: allowed commands go out of band, others are refused locally', async () => {
    // migrate-recover allows oob; without a paused postcopy QEMU refuses it, proving it was executed.
    await expectCommandError(
      qmp.executeUntyped('migrate-recover', { uri: 'unix:/nonexistent' }, { oob: true }),
      'GenericError',
    );
    await expect(qmp.execute('query-status', undefined, { oob: true })).rejects.toMatchObject({
      code: 'QMP_OOB_UNAVAILABLE',
    });
  });

  it('hmp() runs human-monitor-command', async () => {
    expect(await qmp.hmp('info status')).toMatch(/VM status: paused \(prelaunch\)/);
    expect(await qmp.execute('human-monitor-command', { 'command-line': 'info version' })).toMatch(/7\.2/);
  });

  it('cont/stop/system_reset emit their events (executeAndWaitFor)', async () => {
    const r = await qmp.executeAndWaitFor('cont', undefined, { event: 'RESUME' });
    expect(r.event.event).toBe('RESUME');
    expect((await qmp.execute('query-status')).status).toBe('running');
    await qmp.executeAndWaitFor('stop', undefined, { event: 'STOP' });
    expect(await qmp.execute('query-status')).toMatchObject({ status: 'paused', running: false });
    const reset = await qmp.executeAndWaitFor('system_reset', undefined, { event: 'RESET' });
    expect(reset.event.data).toMatchObject({ guest: false });
  });

  it('system_powerdown waits for POWERDOWN', async () => {
    await systemPowerdown(qmp, { timeout: 10_000 });
  });

  it('blockdev-add + device_add (SCSI), device_del waiting for DEVICE_DELETED, blockdev-del', async () => {
    const img = dir.join('disk0.img');
    writeFileSync(img, '');
    truncateSync(img, 1 << 20);
    await hotplugBlockDevice(
      qmp,
      rawBlockdev({ nodeName: 'drive0', filename: img, direct: false, noFlush: true }),
      scsiDevice({ id: 'scsidisk0', driver: 'scsi-hd', drive: 'drive0', bus: 'scsi0.0', scsiId: 0, lun: 0 }),
    );
    const nodes = await qmp.execute('query-named-block-nodes');
    expect(nodes.find((n) => n['node-name'] === 'drive0')).toMatchObject({ drv: 'raw', ro: false });
    expect((await qmp.execute('query-block')).some((b) => b.qdev?.includes('scsidisk0'))).toBe(true);
    const ev = await deleteDevice(qmp, 'scsidisk0', { timeout: 10_000 });
    expect(ev.data.device).toBe('scsidisk0');
    await qmp.execute('blockdev-del', { 'node-name': 'drive0' });
    expect((await qmp.execute('query-named-block-nodes')).some((n) => n['node-name'] === 'drive0')).toBe(
      false,
    );
  });

  it('hotplugBlockDevice rolls back the node when device_add fails', async () => {
    const img = dir.join('disk1.img');
    writeFileSync(img, '');
    truncateSync(img, 1 << 20);
    const err = await hotplugBlockDevice(
      qmp,
      rawBlockdev({ nodeName: 'drive1', filename: img, readOnly: true }),
      scsiDevice({ id: 'bad', driver: 'scsi-hd', drive: 'drive1', bus: 'no-such-bus.0' }),
    ).catch((e: unknown) => e as QmpError);
    expect(err).toMatchObject({ code: 'QMP_HOTPLUG_FAILED' });
    expect((err as QmpError).cause).toBeInstanceOf(QmpCommandError);
    expect((await qmp.execute('query-named-block-nodes')).some((n) => n['node-name'] === 'drive1')).toBe(
      false,
    );
  });

  it('virtio-blk-pci on a root port (device_add with the govmm PCI shape)', async () => {
    const img = dir.join('disk2.img');
    writeFileSync(img, '');
    truncateSync(img, 1 << 20);
    await qmp.execute(
      'blockdev-add',
      rawBlockdev({ nodeName: 'drive2', filename: img, discardUnmap: true, aio: 'threads' }),
    );
    await qmp.execute(
      'device_add',
      blkDevice({
        id: 'vblk2',
        drive: 'drive2',
        bus: 'rp1',
        addr: '0x0',
        romfile: '',
        shared: true,
        queues: 2,
      }),
    );
    expect(await qmp.execute('qom-get', { path: '/machine/peripheral/vblk2', property: 'num-queues' })).toBe(
      2,
    );
  });

  it('device_del of an unknown id is DeviceNotFound', async () => {
    await expectCommandError(qmp.execute('device_del', { id: 'nope' }), 'DeviceNotFound');
  });

  it('chardev-add (unix socket server), virtserialport add/delete, chardev-remove', async () => {
    const path = dir.join('ch0.sock');
    const r = await qmp.execute(
      'chardev-add',
      unixSocketChardev({ id: 'ch0', path, server: true, wait: false }),
    );
    expect(r).toEqual({});
    expect(statSync(path).isSocket()).toBe(true);
    expect((await qmp.execute('query-chardev')).some((c) => c.label === 'ch0')).toBe(true);
    await qmp.execute(
      'device_add',
      virtSerialPort({ id: 'port0', name: 'org.vmm.0', chardev: 'ch0', bus: 'vser0.0' }),
    );
    const ev = await deleteDevice(qmp, 'port0', { timeout: 10_000 });
    expect(ev.data.device).toBe('port0');
    await qmp.execute('chardev-remove', { id: 'ch0' });
    expect((await qmp.execute('query-chardev')).some((c) => c.label === 'ch0')).toBe(false);
  });

  it('netdev_add/netdev_del (stream over a unix socket) and a virtio-net-pci device', async () => {
    const path = dir.join('net0.sock');
    await qmp.execute('netdev_add', {
      type: 'stream',
      id: 'net0',
      server: true,
      addr: { type: 'unix', path },
    });
    await qmp.execute(
      'device_add',
      netDevice({ id: 'nic0', netdev: 'net0', bus: 'rp2', mac: '52:54:00:12:34:56', queues: 1 }),
    );
    expect(await qmp.execute('qom-get', { path: '/machine/peripheral/nic0', property: 'mac' })).toBe(
      '52:54:00:12:34:56',
    );
    await qmp.execute('netdev_add', { type: 'user', id: 'net1' }).catch(() => undefined);
    await qmp.execute('netdev_del', { id: 'net1' }).catch(() => undefined);
    await expectCommandError(qmp.execute('netdev_del', { id: 'no-such-netdev' }), 'DeviceNotFound');
  });

  it('netdev by fds: getfd of a real connected socket, used by netdev_add socket', async () => {
    const path = dir.join('peer.sock');
    const accepted: Socket[] = [];
    const server: Server = createServer((s) => accepted.push(s));
    await new Promise<void>((r) => server.listen(path, r));
    const sock = createConnection(path);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    try {
      const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
      await addNetdevByFds(qmp, { type: 'socket', id: 'fdnet', fds: [fd] });
      await qmp.execute('netdev_del', { id: 'fdnet' });
      // A failing netdev_add rolls back the passed fd name.
      const err = await addNetdevByFds(qmp, { type: 'tap', id: 'badtap', fds: [fd] }).catch(
        (e: unknown) => e as QmpError,
      );
      expect(err).toMatchObject({ code: 'QMP_HOTPLUG_FAILED' });
      await expectCommandError(qmp.execute('closefd', { fdname: 'badtap-fd0' }), 'GenericError');
    } finally {
      sock.destroy();
      for (const s of accepted) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('getfd without an fd is GenericError; getfd + closefd with a real fd', async () => {
    await expectCommandError(
      qmp.execute('getfd', { fdname: 'x' }),
      'GenericError',
      /No file descriptor supplied/,
    );
    const fd = openSync('/dev/null', 'r');
    await passFd(qmp, fd, 'devnull');
    closeSync(fd);
    await qmp.execute('closefd', { fdname: 'devnull' });
    await expectCommandError(qmp.execute('closefd', { fdname: 'devnull' }), 'GenericError');
  });

  it('add-fd a real file, use it as /dev/fdset/N in blockdev-add, query-fdsets, remove-fd', async () => {
    const img = dir.join('fdset.img');
    writeFileSync(img, '');
    truncateSync(img, 1 << 20);
    const fd = openSync(img, 'r+');
    const { fdsetId, fd: qemuFd } = await addFd(qmp, fd, { opaque: 'fdset-image' });
    closeSync(fd);
    const sets = await qmp.execute('query-fdsets');
    expect(sets.find((s) => s['fdset-id'] === fdsetId)?.fds).toEqual([{ fd: qemuFd, opaque: 'fdset-image' }]);
    await qmp.execute(
      'blockdev-add',
      rawBlockdev({ nodeName: 'fdsetnode', filename: `/dev/fdset/${fdsetId}` }),
    );
    expect(
      (await qmp.execute('query-named-block-nodes')).find((n) => n['node-name'] === 'fdsetnode')?.file,
    ).toContain(`/dev/fdset/${fdsetId}`);
    await qmp.execute('blockdev-del', { 'node-name': 'fdsetnode' });
    await qmp.execute('remove-fd', { 'fdset-id': fdsetId, fd: qemuFd });
  });

  it('concurrent fd-carrying commands each deliver their own fd (one batch in QEMU at a time)', async () => {
    const files = ['a', 'b', 'c', 'd'].map((n) => {
      const f = dir.join(`par-${n}.img`);
      writeFileSync(f, n);
      return f;
    });
    const fds = files.map((f) => openSync(f, 'r'));
    try {
      const added = await Promise.all(fds.map((fd, i) => addFd(qmp, fd, { opaque: `par-${i}` })));
      const sets = await qmp.execute('query-fdsets');
      for (const [i, a] of added.entries()) {
        expect(sets.find((s) => s['fdset-id'] === a.fdsetId)?.fds).toEqual([
          { fd: a.fd, opaque: `par-${i}` },
        ]);
      }
      for (const a of added) await qmp.execute('remove-fd', { 'fdset-id': a.fdsetId });
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  it('object-add/object-del, pc-dimm hotplug, and rollback when device_add fails', async () => {
    await hotplugMemory(qmp, { id: 'mem0', size: 128 << 20 });
    const devs = await qmp.execute('query-memory-devices');
    expect(devs.some((d) => d.type === 'dimm' && d.data?.id === 'dimmmem0')).toBe(true);
    expect((await qmp.execute('query-memory-size-summary'))['plugged-memory']).toBe(128 << 20);
    const err = await hotplugMemory(qmp, { id: 'mem1', size: 64 << 20, driver: 'no-such-dimm' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'QMP_HOTPLUG_FAILED' });
    const objects = (await qmp.execute('qom-list', { path: '/objects' })).map((p) => p.name);
    expect(objects).toContain('mem0');
    expect(objects).not.toContain('mem1');
    await qmp.execute('object-add', { 'qom-type': 'memory-backend-ram', id: 'spare', size: 1 << 20 });
    await qmp.execute('object-del', { id: 'spare' });
  });

  it('nvdimm hotplug (memory-backend-file + nvdimm)', async () => {
    const file = dir.join('nvdimm.img');
    writeFileSync(file, '');
    truncateSync(file, 128 << 20);
    await hotplugNvdimm(qmp, { id: '0', memPath: file, size: 128 << 20, pmem: false });
    const devs = await qmp.execute('query-memory-devices');
    expect(devs.some((d) => d.type === 'nvdimm' && d.data?.id === 'nvdimm0')).toBe(true);
  });

  it('query-hotpluggable-cpus, CPU hotplug into the free slot, query-cpus-fast', async () => {
    const slots = await qmp.execute('query-hotpluggable-cpus');
    expect(slots).toHaveLength(2);
    const free = slots.find((s) => s['qom-path'] === undefined)!;
    expect(free.props).toHaveProperty('socket-id');
    const args = await hotplugCpu(qmp, 'cpu1');
    expect(args).toEqual(
      cpuDevice({
        driver: free.type,
        id: 'cpu1',
        nodeId: free.props['node-id'],
        socketId: free.props['socket-id'],
        coreId: free.props['core-id'],
        threadId: free.props['thread-id'],
        dieId: free.props['die-id'],
      }),
    );
    const cpus = await qmp.execute('query-cpus-fast');
    expect(cpus).toHaveLength(2);
    expect(cpus[1]).toMatchObject({ 'cpu-index': 1, target: 'x86_64' });
    await expect(hotplugCpu(qmp, 'cpu2')).rejects.toMatchObject({ code: 'QMP_HOTPLUG_FAILED' });
  });

  it('balloon and query-balloon', async () => {
    await qmp.execute('balloon', { value: 96 << 20 });
    expect((await qmp.execute('query-balloon')).actual).toBeGreaterThan(0);
  });

  it('qom-get/qom-set/qom-list', async () => {
    const path = '/machine/peripheral/balloon0';
    await qmp.execute('qom-set', { path, property: 'guest-stats-polling-interval', value: 2 });
    expect(await qmp.execute('qom-get', { path, property: 'guest-stats-polling-interval' })).toBe(2);
    expect((await qmp.execute('qom-list', { path: '/machine' })).some((p) => p.name === 'peripheral')).toBe(
      true,
    );
    await expectCommandError(qmp.execute('qom-get', { path: '/nope', property: 'x' }), 'DeviceNotFound');
  });

  it('dump-guest-memory to a file (detached) and query-dump', async () => {
    const out = dir.join('dump.elf');
    await qmp.executeAndWaitFor(
      'dump-guest-memory',
      { paging: false, protocol: `file:${out}`, detach: true, format: 'elf' },
      { event: 'DUMP_COMPLETED', timeout: 60_000 },
    );
    expect((await qmp.execute('query-dump')).status).toBe('completed');
    expect(readFileSync(out).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  });

  it('query-pci lists the devices', async () => {
    const buses = await qmp.execute('query-pci');
    expect(buses[0]!.devices.length).toBeGreaterThan(3);
  });
});

describe('migration to a file and back (migrate, migrate-set-capabilities, query-migrate, migrate-incoming)', () => {
  it('migrates a paused VM into a file and loads it in a QEMU started with -incoming defer', async () => {
    const src = await spawnQemu({ args: ['-m', '64M'] });
    const dst = await spawnQemu({ args: ['-m', '64M', '-incoming', 'defer'] });
    const a = await connectQmp(src.qmpPath);
    const b = await connectQmp(dst.qmpPath);
    try {
      const file = dir.join('migration.bin');
      await a.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
      const caps = await a.execute('query-migrate-capabilities');
      expect(caps.find((c) => c.capability === 'events')?.state).toBe(true);
      expect((await a.execute('query-migrate')).status).toBeUndefined();
      await a.execute('migrate', { uri: `exec:cat > ${file}` });
      const info = await waitForMigration(a, { timeout: 60_000 });
      expect(info.status).toBe('completed');
      expect(statSync(file).size).toBeGreaterThan(1000);
      expect((await b.execute('query-status')).status).toBe('inmigrate');
      await b.execute('migrate-incoming', { uri: `exec:cat ${file}` });
      await waitForMigration(b, { timeout: 60_000 });
      expect((await b.execute('query-status')).status).not.toBe('inmigrate');
    } finally {
      await a.close();
      await b.close();
      await src.kill();
      await dst.kill();
    }
  });
});

describe('real-QEMU faults', () => {
  it('pretty=on monitor: multi-line JSON, including the 200 KB schema', async () => {
    const monPath = `${dir.path}/pretty.sock`;
    const q = await spawnQemu({
      args: [
        '-chardev',
        `socket,id=mon1,path=${monPath},server=on,wait=off`,
        '-mon',
        'chardev=mon1,mode=control,pretty=on',
      ],
    });
    try {
      const c = await connectQmp(monPath);
      const raw: string[] = [];
      const schema = await c.schema();
      expect(schema.hasCommand('query-status')).toBe(true);
      expect((await c.execute('query-status')).status).toBe('prelaunch');
      await c.close();
      // Prove the monitor really is pretty: a raw read shows newlines inside the greeting object.
      await new Promise<void>((resolve, reject) => {
        const s = createConnection(monPath);
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          raw.push(d);
          if (raw.join('').includes('\n}')) {
            s.destroy();
            resolve();
          }
        });
        s.on('error', reject);
      });
      expect(raw.join('')).toMatch(/^\{\r?\n\s+"QMP"/);
    } finally {
      await q.kill();
    }
  });

  it('a second client on a busy monitor gets no greeting: QMP_GREETING timeout, nothing left running', async () => {
    const before = await settledLeakProbe();
    const err = await connectQmp(vm.qmpPath, { greetingTimeout: 300 }).catch((e: unknown) => e as QmpError);
    expect(err).toMatchObject({ code: 'QMP_GREETING' });
    const after = leakProbe();
    expect(after.sockets).toBe(before.sockets);
    // A timer of an earlier test may expire meanwhile; none may be added.
    expect(after.timers).toBeLessThanOrEqual(before.timers);
  });

  it('kill -9 of QEMU mid-command rejects everything pending with QMP_DISCONNECTED', async () => {
    const q = await spawnQemu();
    const c = await connectQmp(q.qmpPath);
    const results = Array.from({ length: 3000 }, () => c.execute('query-status'));
    const settled = Promise.allSettled(results);
    await results[10];
    process.kill(q.pid, 'SIGKILL');
    const out = await settled;
    const rejected = out.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect(r.reason.code).toBe('QMP_DISCONNECTED');
    // Fulfilled ones form a prefix: FIFO order holds up to the kill.
    const firstRejected = out.findIndex((r) => r.status === 'rejected');
    expect(out.slice(firstRejected).every((r) => r.status === 'rejected')).toBe(true);
    const closed = await c.closed;
    expect(['eof', 'error']).toContain(closed.reason);
    await expect(c.execute('query-status')).rejects.toMatchObject({ code: 'QMP_NOT_CONNECTED' });
    await q.kill();
  });

  it('quit: SHUTDOWN then EOF/ECONNRESET is a normal close; no sockets or timers leak', async () => {
    const q = await spawnQemu();
    const before = await settledLeakProbe();
    const c = await connectQmp(q.qmpPath);
    const shutdown = c.waitFor('SHUTDOWN', { timeout: 10_000 });
    expect(await c.execute('quit')).toEqual({});
    expect((await shutdown).data).toMatchObject({ guest: false, reason: 'host-qmp-quit' });
    expect(await c.closed).toEqual({ reason: 'shutdown', error: undefined });
    expect(leakProbe()).toEqual(before);
    expect((await q.exited).code).toBe(0);
    await q.kill();
    expect(existsSync(q.dir)).toBe(false);
  });

  it('transports: TCP, an already-connected socket, and an inherited socket fd', async () => {
    const port = 20000 + (process.pid % 20000);
    const q = await spawnQemu({ args: ['-qmp', `tcp:127.0.0.1:${port},server=on,wait=off`] });
    try {
      const tcp = await connectQmp({ host: '127.0.0.1', port });
      expect(tcp.transport).toBe('tcp');
      expect((await tcp.execute('query-status')).status).toBe('prelaunch');
      await expect(tcp.execute('getfd', { fdname: 'x' }, { fds: [0] })).rejects.toMatchObject({
        code: 'QMP_FD_PASSING_UNAVAILABLE',
      });
      await tcp.close();
      const sock = createConnection(q.qmpPath);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      const viaSocket = await connectQmp({ socket: sock });
      expect(viaSocket.transport).toBe('unix');
      expect((await viaSocket.execute('query-status')).status).toBe('prelaunch');
      await viaSocket.close();
      expect(sock.destroyed).toBe(true);
      const { dupFd, socketFd } = await import('@vmm/fdpass');
      const carrier = createConnection(q.qmpPath);
      await new Promise<void>((r) => carrier.once('connect', () => r()));
      const fd = dupFd(socketFd(carrier));
      carrier.destroy();
      const viaFd = await connectQmp({ fd });
      expect((await viaFd.execute('query-status')).status).toBe('prelaunch');
      await viaFd.close();
    } finally {
      await q.kill();
    }
  });

  it('listenForQmp: QEMU connects out to us (-qmp unix:<path> without server)', async () => {
    const path = dir.join('listen.sock');
    const listener = await listenForQmp(path);
    const q = await spawnQemu({ args: ['-qmp', `unix:${path}`] });
    try {
      const socket = await listener.accept({ timeout: 10_000 });
      expect(existsSync(path)).toBe(false);
      const c = await connectQmp({ socket });
      expect((await c.execute('query-status')).status).toBe('prelaunch');
      await c.close();
    } finally {
      await listener.close();
      await q.kill();
    }
  });

  it('commands issued before ready are queued and sent after negotiation', async () => {
    const q = await spawnQemu();
    const c = new QmpClient(q.qmpPath, { connectTimeout: 5000, pid: q.pid });
    // queued before ready
    const status = c.execute('query-status');
    expect((await status).status).toBe('prelaunch');
    await c.close();
    await q.kill();
  });
});
