/**
 * Real QEMU 7.2 accepts what the encoders write: every device kind that QEMU can instantiate without
 * host hardware starts in a paused VM (`-S`, `-nodefaults`, no display) that answers QMP and shows the
 * device; devices that need host resources fail with QEMU's complaint about that resource, never about
 * option syntax. Paths with `,` and `=` reach QEMU intact. Devices are grouped per VM to keep runs lean.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import {
  childPids,
  connectTestQmp,
  killAllQemus,
  liveQemus,
  makeTempDir,
  qmpAccel,
  spawnQemu,
  type TempDir,
  type TestQmp,
} from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Device, encodeQemuArgv, type QemuConfig } from '../src/index.js';

const accel = qmpAccel();
console.log(`qemu-accepts: accelerator ${accel.accel} (${accel.reason})`);

let tmp: TempDir;
/** Temp dir whose own name holds "," and "=". */
let dir: string;
const at = (name: string): string => `${dir}/${name}`;

beforeAll(async () => {
  tmp = await makeTempDir('vmm-argv,');
  dir = tmp.join('d=1,2');
  mkdirSync(dir);
  mkdirSync(at('share,9p'));
  mkdirSync(at('mem,dir'));
  writeFileSync(at('loader,0.bin'), 'hello');
  writeFileSync(at('fw,1.bin'), 'blob');
  for (const [f, size] of [
    ['a,b=c.img', 1 << 20],
    ['disk2.img', 1 << 20],
    ['nv,0.img', 16 << 20],
    ['fl,ash.fd', 256 << 10],
    ['bi,os.bin', 64 << 10],
  ] as const) {
    writeFileSync(at(f), '');
    await truncate(at(f), size);
  }
});

afterAll(async () => {
  await killAllQemus();
  await tmp.remove();
  expect(liveQemus().size).toBe(0);
  expect(childPids()).toEqual([]);
});

/** Encode, start QEMU with exactly that argv (plus the harness's -accel/-nodefaults/-S/-qmp) and connect. */
async function start(config: QemuConfig, binary?: string, qmpPath?: string) {
  const { argv, fds } = encodeQemuArgv(config);
  expect(fds).toEqual([]);
  const q = await spawnQemu({
    machine: null,
    args: argv,
    ...(binary === undefined ? {} : { binary, accel: 'tcg' as const }),
  });
  const qmp = await connectTestQmp(qmpPath ?? q.qmpPath);
  return { q, qmp, argv };
}

async function qomChildren(qmp: TestQmp, path: string): Promise<Map<string, string>> {
  const list = (await qmp.execute('qom-list', { path })) as Array<{ name: string; type: string }>;
  return new Map(list.map((p) => [p.name, p.type]));
}

interface PciDev {
  qdev_id: string;
  pci_bridge?: { devices?: PciDev[] };
}
async function pciIds(qmp: TestQmp): Promise<string[]> {
  const buses = (await qmp.execute('query-pci')) as Array<{ devices: PciDev[] }>;
  const ids: string[] = [];
  const walk = (devs: PciDev[]): void => {
    for (const d of devs) {
      ids.push(d.qdev_id);
      walk(d.pci_bridge?.devices ?? []);
    }
  };
  for (const b of buses) walk(b.devices);
  return ids;
}

async function blockFiles(qmp: TestQmp): Promise<Map<string, string>> {
  const blocks = (await qmp.execute('query-block')) as Array<{ device: string; inserted?: { file: string } }>;
  return new Map(blocks.filter((b) => b.inserted).map((b) => [b.device, b.inserted!.file]));
}

/** Messages QEMU prints when it cannot parse an option: none of these may appear. */
const SYNTAX =
  /Invalid parameter|Property '[^']*' not found|expects|Could not parse|Parameter '[^']*' is missing|Duplicate ID|invalid option|is not a valid device model name/;

describe('q35 / pci: one VM with every device kind QEMU instantiates without host hardware', () => {
  it('starts, answers QMP on our own comma-and-= socket path, and shows every device', async () => {
    const devices: Device[] = [
      { kind: 'iommu', cachingMode: true },
      { kind: 'memory-backend-file', id: 'nvmem0', deviceId: 'nv0', memPath: at('nv,0.img'), size: 16 << 20 },
      {
        kind: 'fs',
        fsDriver: 'local',
        id: 'fs0',
        path: at('share,9p'),
        mountTag: 'tag,0',
        securityModel: 'none',
        multidevs: 'remap',
      },
      { kind: 'serial', id: 'vser0', maxPorts: 4 },
      {
        kind: 'char',
        driver: 'virtserialport',
        backend: 'socket',
        id: 'ch0',
        deviceId: 'port0',
        path: at('ch,0.sock'),
        name: 'org.vmm,0',
        bus: 'vser0.0',
        logfile: at('ch,0=log.txt'),
        logappend: true,
      },
      { kind: 'char', driver: 'virtconsole', backend: 'pty', id: 'ch1', deviceId: 'con0', bus: 'vser0.0' },
      {
        kind: 'char',
        driver: 'virtserialport',
        backend: 'file',
        id: 'ch2',
        deviceId: 'port2',
        path: at('ser,1.log'),
        bus: 'vser0.0',
      },
      { kind: 'char', driver: 'serial', backend: 'file', id: 'ch3', path: at('legacy,0.log') },
      { kind: 'legacy-serial', chardev: 'ch3' },
      { kind: 'block', id: 'blk0', file: at('a,b=c.img'), readOnly: true, discard: true, shareRW: true },
      { kind: 'scsi-controller', id: 'scsi0', ioThread: 'io0', numQueues: 2 },
      {
        kind: 'block',
        driver: 'scsi-hd',
        id: 'sd0',
        file: at('disk2.img'),
        bus: 'scsi0.0',
        interface: 'none',
      },
      { kind: 'pcie-root-port', id: 'rp0', chassis: 1, slot: 1 },
      {
        kind: 'pcie-root-port',
        id: 'rp1',
        chassis: 2,
        slot: 2,
        addr: '0x1e',
        busReserve: 1,
        memReserve: '1M',
        ioReserve: '4K',
        pref64Reserve: '2M',
      },
      { kind: 'pcie-switch-upstream-port', id: 'up0', bus: 'rp0' },
      { kind: 'pcie-switch-downstream-port', id: 'dn0', bus: 'up0', chassis: 3, slot: 0 },
      { kind: 'bridge', bridgeType: 'pcie', bus: 'pcie.0', id: 'ppb0' },
      { kind: 'bridge', bridgeType: 'pci', bus: 'ppb0', id: 'pb0', chassis: 4, shpc: true, addr: '1' },
      { kind: 'rng', id: 'rng0', filename: '/dev/urandom', maxBytes: 1024, period: 1000 },
      { kind: 'balloon', id: 'bal0', deflateOnOOM: true, freePageReporting: true },
      { kind: 'pvpanic' },
      { kind: 'loader', id: 'ld0', file: at('loader,0.bin') },
      // last: devices without bus= would otherwise land behind the expander
      { kind: 'pxb-pcie', id: 'pxb0', busNr: 64 },
    ];
    const qmpPath = at('q,m=p.sock');
    const { q, qmp } = await start(
      {
        name: 'vm,1=x',
        uuid: 'c0ffee00-1234-4567-89ab-0123456789ab',
        machine: { type: 'q35', options: { nvdimm: 'on' } },
        qmpSockets: [{ type: 'unix', name: qmpPath, server: true, noWait: true }],
        memory: { size: '256M', slots: 2, maxMem: '1G' },
        devices,
        rtc: { base: 'utc', clock: 'host', driftFix: 'slew' },
        globalParam: 'virtio-blk-pci.queue-size=128',
        pflash: [at('fl,ash.fd')],
        vga: 'none',
        knobs: {
          noUserConfig: true,
          noDefaults: true,
          noReboot: true,
          noShutdown: true,
          memShared: true,
          stopped: true,
        },
        ioThreads: [{ id: 'io0' }],
        incoming: { migrationType: 'defer' },
        pidFile: at('pid,file'),
        logFile: at('log,file'),
        fwCfg: [
          { name: 'opt/vmm/blob', file: at('fw,1.bin') },
          { name: 'opt/vmm/str', str: 'a,b=c' },
        ],
        seccompSandbox: 'on,obsolete=deny',
        smp: { cpus: 1, cores: 1, threads: 1, sockets: 2, maxCpus: 2 },
      },
      undefined,
      qmpPath,
    );
    try {
      expect(await qmp.execute('query-status')).toMatchObject({ running: false, status: 'inmigrate' });
      expect(await qmp.execute('query-name')).toEqual({ name: 'vm,1=x' });
      expect(await qmp.execute('query-uuid')).toEqual({ UUID: 'c0ffee00-1234-4567-89ab-0123456789ab' });

      const peripheral = await qomChildren(qmp, '/machine/peripheral');
      for (const [id, type] of Object.entries({
        nv0: 'nvdimm',
        vser0: 'virtio-serial-pci',
        port0: 'virtserialport',
        con0: 'virtconsole',
        port2: 'virtserialport',
        scsi0: 'virtio-scsi-pci',
        rp0: 'pcie-root-port',
        rp1: 'pcie-root-port',
        up0: 'x3130-upstream',
        dn0: 'xio3130-downstream',
        ppb0: 'pcie-pci-bridge',
        pb0: 'pci-bridge',
        bal0: 'virtio-balloon-pci',
        ld0: 'loader',
        pxb0: 'pxb-pcie',
      })) {
        expect(peripheral.get(id), id).toBe(`child<${type}>`);
      }
      const anon = [...(await qomChildren(qmp, '/machine/peripheral-anon')).values()];
      for (const type of [
        'intel-iommu',
        'virtio-9p-pci',
        'virtio-blk-pci',
        'scsi-hd',
        'virtio-rng-pci',
        'pvpanic',
      ]) {
        expect(anon, type).toContain(`child<${type}>`);
      }
      // query-pci walks only buses the (not yet run) firmware numbered: the root buses
      const pci = await pciIds(qmp);
      for (const id of ['vser0', 'scsi0', 'rp0', 'rp1', 'ppb0', 'bal0', 'pxb0']) expect(pci).toContain(id);
      // devices behind bridges sit on the bridge the config named
      for (const [id, parent] of [
        ['up0', 'rp0'],
        ['dn0', 'up0'],
        ['pb0', 'ppb0'],
        ['port0', 'vser0'],
      ]) {
        const bus = await qmp.execute('qom-get', {
          path: `/machine/peripheral/${id}`,
          property: 'parent_bus',
        });
        expect(bus, id).toMatch(new RegExp(`^/machine/peripheral/${parent}/`));
      }

      const objects = await qomChildren(qmp, '/objects');
      for (const id of ['nvmem0', 'rng0', 'io0', 'dimm1']) expect(objects.has(id), id).toBe(true);
      expect(await qmp.execute('qom-get', { path: '/objects/nvmem0', property: 'mem-path' })).toBe(
        at('nv,0.img'),
      );
      expect(await qmp.execute('qom-get', { path: '/objects/dimm1', property: 'share' })).toBe(true);
      expect(
        await qmp.execute('qom-get', { path: '/machine/peripheral/bal0', property: 'deflate-on-oom' }),
      ).toBe(true);
      expect(await qmp.execute('qom-get', { path: '/machine/peripheral/port0', property: 'name' })).toBe(
        'org.vmm,0',
      );

      // -serial chardev:ch3 made the board's isa-serial with that chardev
      const unattached = await qomChildren(qmp, '/machine/unattached');
      const serial = [...unattached].find(([, type]) => type === 'child<isa-serial>')?.[0];
      expect(serial).toBeDefined();
      expect(
        await qmp.execute('qom-get', { path: `/machine/unattached/${serial}`, property: 'chardev' }),
      ).toBe('ch3');

      // QEMU opened exactly the files whose names hold "," and "="
      const files = await blockFiles(qmp);
      expect(files.get('blk0')).toBe(at('a,b=c.img'));
      expect(files.get('sd0')).toBe(at('disk2.img'));
      expect(files.get('pflash0')).toBe(at('fl,ash.fd'));
      const chardevs = (await qmp.execute('query-chardev')) as Array<{ label: string; filename: string }>;
      expect(chardevs.find((c) => c.label === 'ch0')?.filename).toContain(at('ch,0.sock'));
      // the chardev's logfile is opened (created) at startup, under exactly its comma-and-= name
      expect(existsSync(at('ch,0=log.txt'))).toBe(true);
      expect(readFileSync(at('pid,file'), 'utf8').trim()).toBe(String(q.pid));
    } finally {
      await qmp.close();
      await q.kill();
    }
  });
});

/**
 * Read from a monitor socket until `done(text)` holds (HMP prompts, QMP-pretty objects): neither is
 * line-delimited JSON, so the line-based test QMP client cannot talk to them.
 */
function monitorSession(path: string) {
  const socket = createConnection(path);
  socket.setEncoding('utf8');
  let buf = '';
  socket.on('data', (d: string) => {
    buf += d;
  });
  socket.on('error', () => undefined);
  const readUntil = async (done: (text: string) => boolean, ms = 10_000): Promise<string> => {
    const deadline = Date.now() + ms;
    while (!done(buf)) {
      if (socket.destroyed) throw new Error(`monitor ${path} closed; got ${JSON.stringify(buf)}`);
      if (Date.now() > deadline) throw new Error(`monitor ${path}: timed out; got ${JSON.stringify(buf)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const text = buf;
    buf = '';
    return text;
  };
  return {
    readUntil,
    write: (text: string) => socket.write(text),
    close: () => socket.destroy(),
  };
}

/** Top-level objects of QMP-pretty output: each closes with `}` at the start of a line. */
function prettyObjects(text: string): unknown[] {
  return text
    .split(/\r?\n}\r?\n/)
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => JSON.parse(`${chunk}\n}`));
}

describe('q35: the config fields the first VM leaves out', () => {
  it('cpu model, NUMA nodes and distances, -nographic, prealloc, mlock, qmp-pretty and HMP monitors, bios, extraParams', async () => {
    const prettyPath = at('pretty=1.sock');
    const hmpPath = at('hmp,1.sock');
    const config: QemuConfig = {
      name: 'vm2',
      machine: { type: 'q35' },
      cpuModel: 'qemu64,-svm',
      qmpSockets: [
        { type: 'unix', name: prettyPath, server: true, noWait: true, protocol: 'qmp-pretty' },
        { type: 'unix', name: hmpPath, server: true, noWait: true, protocol: 'hmp' },
      ],
      memory: { size: '256M' },
      numaNodes: [
        { size: '128M', cpus: '0', hostNodes: '0' },
        { size: '128M', cpus: '1', memBackendType: 'memory-backend-memfd' },
      ],
      numaDistances: [{ src: 0, dst: 1, val: 21 }],
      // no noDefaults: -nographic shows in the default serial port it puts on stdio
      knobs: { noUserConfig: true, noGraphic: true, memPrealloc: true, mlock: true, stopped: true },
      bios: at('bi,os.bin'),
      smp: { cpus: 2, sockets: 2, cores: 1, threads: 1, maxCpus: 2 },
      extraParams: ['-object', 'iothread,id=extra0'],
    };
    const { argv, fds } = encodeQemuArgv(config);
    expect(fds).toEqual([]);
    expect(argv.slice(-4)).toEqual([
      '-smp',
      '2,cores=1,threads=1,sockets=2,maxcpus=2',
      '-object',
      'iothread,id=extra0',
    ]);
    const q = await spawnQemu({ machine: null, minimal: false, paused: false, args: argv });
    const qmp = await connectTestQmp(q.qmpPath);
    try {
      expect(await qmp.execute('query-status')).toMatchObject({ running: false, status: 'prelaunch' });

      // -cpu qemu64,-svm: the model and the feature list reached QEMU
      const cpus = (await qmp.execute('query-cpus-fast')) as Array<{
        'cpu-index': number;
        'qom-path': string;
        props: { 'node-id'?: number; 'socket-id'?: number };
      }>;
      expect(cpus.map((c) => [c['cpu-index'], c.props['node-id'], c.props['socket-id']])).toEqual([
        [0, 0, 0],
        [1, 1, 1],
      ]);
      for (const c of cpus) {
        expect(await qmp.execute('qom-get', { path: c['qom-path'], property: 'type' })).toBe(
          'qemu64-x86_64-cpu',
        );
        expect(await qmp.execute('qom-get', { path: c['qom-path'], property: 'svm' })).toBe(false);
      }

      // NUMA: one preallocated backend per node, of the configured type, size and host binding
      // (distances are accepted and checked by QEMU at start-up, but 7.2 shows them only in the
      // guest's ACPI SLIT)
      const memdevs = (await qmp.execute('query-memdev')) as Array<{
        id?: string;
        size: number;
        prealloc: boolean;
        'host-nodes': number[];
        policy: string;
      }>;
      expect(
        memdevs
          .map((m) => [m.id, m.size, m.prealloc, m['host-nodes'], m.policy])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      ).toEqual([
        ['numa-mem0', 128 << 20, true, [0], 'bind'],
        ['numa-mem1', 128 << 20, true, [], 'default'],
      ]);
      const objects = await qomChildren(qmp, '/objects');
      expect(objects.get('numa-mem0')).toBe('child<memory-backend-ram>');
      expect(objects.get('numa-mem1')).toBe('child<memory-backend-memfd>');

      // -nographic: without -nodefaults the default serial port goes to stdio (else to a "vc")
      const chardevs = (await qmp.execute('query-chardev')) as Array<{ label: string; filename: string }>;
      expect(chardevs.find((c) => c.label === 'serial0')?.filename).toBe('stdio');

      // -overcommit mem-lock=on: QEMU's memory is locked (all 256M were preallocated)
      const status = readFileSync(`/proc/${q.pid}/status`, 'utf8');
      const locked = Number(/^VmLck:\s+(\d+) kB$/m.exec(status)?.[1]);
      expect(locked).toBeGreaterThanOrEqual(256 * 1024);

      // extraParams reached QEMU verbatim
      expect(objects.get('extra0')).toBe('child<iothread>');

      // the qmp-pretty monitor on a path with "=" (written unix:path=...) greets in indented JSON
      const pretty = monitorSession(prettyPath);
      try {
        const greeting = await pretty.readUntil((t) => /\n}\r?\n$/.test(t));
        expect(greeting).toMatch(/^{\r?\n {4}"QMP": {\r?\n/);
        expect(prettyObjects(greeting)).toMatchObject([
          { QMP: { version: { qemu: { major: 7, minor: 2 } } } },
        ]);
        pretty.write('{"execute":"qmp_capabilities"}\n{"execute":"query-name"}\n');
        const replies = await pretty.readUntil((t) => prettyObjects(t).length === 2);
        expect(prettyObjects(replies)).toEqual([{ return: {} }, { return: { name: 'vm2' } }]);
      } finally {
        pretty.close();
      }

      // the HMP monitor on a path with ",": `info numa` and `info roms` (the -bios file)
      const hmp = monitorSession(hmpPath);
      try {
        expect(await hmp.readUntil((t) => t.endsWith('(qemu) '))).toMatch(/^QEMU 7\.2\.\d+ monitor/);
        hmp.write('info numa\n');
        const numa = (await hmp.readUntil((t) => t.endsWith('(qemu) '))).replaceAll('\r', '');
        expect(numa).toContain('2 nodes\nnode 0 cpus: 0\nnode 0 size: 128 MB\n');
        expect(numa).toContain('node 1 cpus: 1\nnode 1 size: 128 MB\n');
        hmp.write('info roms\n');
        const roms = await hmp.readUntil((t) => t.endsWith('(qemu) '));
        expect(roms).toMatch(
          new RegExp(`size=0x010000 mem=rom name="${at('bi,os.bin').replace(/[.]/g, '\\.')}"`),
        );
      } finally {
        hmp.close();
      }
    } finally {
      await qmp.close();
      await q.kill();
    }
  });

  it('incoming exec: QEMU runs the command through the shell and reads the stream from it', async () => {
    // The command writes a marker, then a line that is not a migration stream: QEMU runs it once
    // started, reads that line and gives up. (An empty stream would leave QEMU waiting: a pipe at EOF
    // never becomes readable.) The marker proves the command reached the shell byte for byte.
    const marker = at('incoming,marker');
    const command = `echo 'ran, as given' > '${marker}'; echo not-a-stream`;
    const { argv } = encodeQemuArgv({
      machine: { type: 'q35' },
      incoming: { migrationType: 'exec', exec: command },
    });
    expect(argv.slice(-3)).toEqual(['-S', '-incoming', `exec:${command}`]);
    // QEMU may exit before or after its QMP socket answers: take its stderr either way
    const stderr = await spawnQemu({ machine: null, args: argv }).then(
      async (q) => {
        const exit = await q.exited;
        expect(exit.code).toBe(1);
        const text = q.stderr();
        await q.kill();
        return text;
      },
      (e: unknown) => (e as Error).message,
    );
    expect(readFileSync(marker, 'utf8')).toBe('ran, as given\n');
    expect(stderr).toMatch(/Not a migration stream/);
    expect(stderr).toMatch(/load of migration failed/);
    expect(stderr).not.toMatch(SYNTAX);
  });
});

describe('microvm / mmio', () => {
  it('starts with virtio-*-device transports and a file-backed, shared memory backend', async () => {
    const { q, qmp, argv } = await start({
      machine: { type: 'microvm' },
      memory: { size: '128M', path: at('mem,dir') },
      knobs: { fileBackedMem: true, memShared: true },
      devices: [
        { kind: 'block', id: 'blk0', file: at('a,b=c.img') },
        {
          kind: 'fs',
          fsDriver: 'local',
          id: 'fs0',
          path: at('share,9p'),
          mountTag: 'tag0',
          securityModel: 'none',
        },
        { kind: 'serial', id: 'vser0' },
        { kind: 'scsi-controller', id: 'scsi0' },
        { kind: 'rng', id: 'rng0' },
        { kind: 'balloon', id: 'bal0' },
      ],
    });
    try {
      expect(argv).toContain('memory-backend=dimm1');
      expect(await qmp.execute('query-status')).toMatchObject({ running: false });
      const peripheral = await qomChildren(qmp, '/machine/peripheral');
      expect(peripheral.get('vser0')).toBe('child<virtio-serial-device>');
      expect(peripheral.get('scsi0')).toBe('child<virtio-scsi-device>');
      expect(peripheral.get('bal0')).toBe('child<virtio-balloon-device>');
      const anon = [...(await qomChildren(qmp, '/machine/peripheral-anon')).values()];
      for (const t of ['virtio-blk-device', 'virtio-9p-device', 'virtio-rng-device'])
        expect(anon).toContain(`child<${t}>`);
      expect(await qmp.execute('qom-get', { path: '/objects/dimm1', property: 'mem-path' })).toBe(
        at('mem,dir'),
      );
      expect((await blockFiles(qmp)).get('blk0')).toBe(at('a,b=c.img'));
    } finally {
      await qmp.close();
      await q.kill();
    }
  });
});

describe('s390x / ccw (qemu-system-s390x, TCG)', () => {
  it('starts with -ccw devices, devno and iommu_platform', async () => {
    const { q, qmp } = await start(
      {
        arch: 's390x',
        machine: { type: 's390-ccw-virtio' },
        memory: { size: '256M' },
        knobs: { iommuPlatform: true },
        devices: [
          { kind: 'block', id: 'blk0', file: at('a,b=c.img'), devno: 'fe.0.0001' },
          {
            kind: 'fs',
            fsDriver: 'local',
            id: 'fs0',
            path: at('share,9p'),
            mountTag: 'tag0',
            securityModel: 'none',
            devno: 'fe.0.0002',
          },
          { kind: 'serial', id: 'vser0', maxPorts: 2, devno: 'fe.0.0003' },
          {
            kind: 'char',
            driver: 'virtconsole',
            backend: 'pty',
            id: 'ch1',
            deviceId: 'con0',
            bus: 'vser0.0',
          },
          { kind: 'scsi-controller', id: 'scsi0', devno: 'fe.0.0004' },
          { kind: 'rng', id: 'rng0', devno: 'fe.0.0005' },
          { kind: 'balloon', id: 'bal0', devno: 'fe.0.0006' },
        ],
      },
      'qemu-system-s390x',
    );
    try {
      expect(await qmp.execute('query-status')).toMatchObject({ running: false });
      const peripheral = await qomChildren(qmp, '/machine/peripheral');
      expect(peripheral.get('vser0')).toBe('child<virtio-serial-ccw>');
      expect(peripheral.get('scsi0')).toBe('child<virtio-scsi-ccw>');
      expect(peripheral.get('bal0')).toBe('child<virtio-balloon-ccw>');
      expect(peripheral.get('con0')).toBe('child<virtconsole>');
      expect(await qmp.execute('qom-get', { path: '/machine/peripheral/bal0', property: 'devno' })).toBe(
        'fe.0.0006',
      );
      expect(
        await qmp.execute('qom-get', { path: '/machine/peripheral/scsi0', property: 'iommu_platform' }),
      ).toBe(true);
      expect((await blockFiles(qmp)).get('blk0')).toBe(at('a,b=c.img'));
    } finally {
      await qmp.close();
      await q.kill();
    }
  });
});

describe('ppc64 / pef-guest (qemu-system-ppc64, TCG)', () => {
  it('creates the pef-guest object and its proxy device', async () => {
    const { q, qmp } = await start(
      {
        arch: 'ppc64le',
        machine: { type: 'pseries' },
        devices: [{ kind: 'pef-guest', id: 'pef0', deviceId: 'proxy0', file: at('tpm,rm0') }],
      },
      'qemu-system-ppc64',
    );
    try {
      expect((await qomChildren(qmp, '/objects')).get('pef0')).toBe('child<pef-guest>');
      expect((await qomChildren(qmp, '/machine/peripheral')).get('proxy0')).toBe('child<spapr-tpm-proxy>');
    } finally {
      await qmp.close();
      await q.kill();
    }
  });
});

describe('direct kernel boot', () => {
  it('loads -kernel (path with ","), -initrd and an -append with commas and spaces', async () => {
    // A minimal multiboot kernel (a.out-kludge header, then `hlt`): QEMU validates and loads it at
    // machine init, so a paused VM proves the files were read. No guest kernel is needed.
    const image = Buffer.alloc(64, 0xf4);
    const magic = 0x1badb002;
    const flags = 0x00010000;
    for (const [i, v] of [
      magic,
      flags,
      -(magic + flags) >>> 0,
      0x100000,
      0x100000,
      0,
      0,
      0x100020,
    ].entries()) {
      image.writeUInt32LE(v >>> 0, i * 4);
    }
    writeFileSync(at('mb,kernel.bin'), image);
    // For a multiboot kernel QEMU reads -initrd as a comma-separated module list (a Linux kernel's
    // -initrd is a plain path), so this module lives in a directory without commas.
    await using plain = await makeTempDir('vmm-argv-mb-');
    writeFileSync(plain.join('initrd.img'), 'module');
    const { q, qmp, argv } = await start({
      machine: { type: 'q35' },
      kernel: {
        path: at('mb,kernel.bin'),
        initrdPath: plain.join('initrd.img'),
        params: 'console=ttyS0,115200 root=/dev/vda1  quiet',
      },
    });
    try {
      expect(argv.slice(-2)).toEqual(['-append', 'console=ttyS0,115200 root=/dev/vda1  quiet']);
      expect(await qmp.execute('query-status')).toMatchObject({ running: false, status: 'prelaunch' });
    } finally {
      await qmp.close();
      await q.kill();
    }
  });
});

describe('devices that need host resources fail on the resource, not the syntax', () => {
  const cases: Array<[string, () => QemuConfig, RegExp, string?]> = [
    [
      'vfio-pci by BDF',
      () => ({ machine: { type: 'q35' }, devices: [{ kind: 'vfio', bdf: '0000:ff:1f.7', id: 'gpu0' }] }),
      /0000:ff:1f\.7: no such host device/,
    ],
    [
      'vfio-pci mediated (sysfsdev)',
      () => ({ machine: { type: 'q35' }, devices: [{ kind: 'vfio', sysfsDev: at('mdev,1') }] }),
      /no such host device/,
    ],
    ...(['vhost-user-net', 'vhost-user-scsi', 'vhost-user-blk', 'vhost-user-fs'] as const).map(
      (kind): [string, () => QemuConfig, RegExp] => [
        kind,
        () => ({
          machine: { type: 'q35' },
          devices: [
            kind === 'vhost-user-net'
              ? {
                  kind,
                  socketPath: at('vu,1.sock'),
                  charDevId: 'vc0',
                  typeDevId: 'vn0',
                  address: '52:54:00:12:34:56',
                }
              : kind === 'vhost-user-scsi'
                ? { kind, socketPath: at('vu,1.sock'), charDevId: 'vc0', typeDevId: 'vs0' }
                : kind === 'vhost-user-blk'
                  ? { kind, socketPath: at('vu,1.sock'), charDevId: 'vc0' }
                  : { kind, socketPath: at('vu,1.sock'), charDevId: 'vc0', tag: 'shared', queueSize: 1024 },
          ],
        }),
        // the socket path with "," and "=" reached QEMU exactly
        /Failed to connect to '\/tmp\/vmm-argv,[^/']*\/d=1,2\/vu,1\.sock': No such file or directory/,
      ],
    ),
    [
      'tap by fds (vhost fds first)',
      () => ({
        machine: { type: 'q35' },
        devices: [{ kind: 'net', type: 'tap', id: 'n0', fds: [0], vhost: true, vhostFds: [0] }],
      }),
      /FD 4/,
      'fds',
    ],
    [
      'macvtap by fd',
      () => ({ machine: { type: 'q35' }, devices: [{ kind: 'net', type: 'macvtap', id: 'n0', fds: [0] }] }),
      /FD 3/,
      'fds',
    ],
    [
      'vhost-vsock',
      () => ({ machine: { type: 'q35' }, devices: [{ kind: 'vsock', id: 'vs0', contextId: 3 }] }),
      /vhost-vsock|vhost device/,
    ],
    [
      'sev-guest',
      () => ({
        machine: { type: 'q35', options: { 'confidential-guest-support': 'sev0' } },
        devices: [{ kind: 'sev-guest', id: 'sev0', file: at('fl,ash.fd'), cBitPos: 47, reducedPhysBits: 1 }],
      }),
      /sev|SEV/,
    ],
    // QEMU 7.2 (Debian) has no SGX EPC backend, TDX or SEV-SNP: it says the type is unknown
    [
      'memory-backend-epc',
      () => ({ devices: [{ kind: 'memory-backend-epc', id: 'epc0', size: 1 << 20 }] }),
      /memory-backend-epc/,
    ],
    [
      'tdx-guest',
      () => ({ devices: [{ kind: 'tdx-guest', id: 'tdx0', deviceId: 'fw0', file: at('fl,ash.fd') }] }),
      /tdx-guest/,
    ],
    [
      'sev-snp-guest',
      () => ({
        devices: [
          { kind: 'sev-snp-guest', id: 'snp0', file: at('fl,ash.fd'), cBitPos: 51, reducedPhysBits: 1 },
        ],
      }),
      /sev-snp-guest/,
    ],
  ];

  it.each(cases)('%s', async (_name, config, expected, expectFds) => {
    const { argv, fds } = encodeQemuArgv(config());
    if (expectFds !== undefined) expect(fds.length).toBeGreaterThan(0);
    // the fds are deliberately not handed to QEMU: it must complain about exactly them
    const err = await spawnQemu({ machine: null, args: argv }).then(
      async (q) => {
        await q.kill();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err, 'QEMU should have refused to start').toBeInstanceOf(Error);
    const stderr = err!.message.split('\n').slice(1).join('\n');
    expect(stderr).toMatch(expected);
    expect(stderr).not.toMatch(SYNTAX);
  });

  it('s390-pv-guest: the KVM-only type is unknown to TCG QEMU', async () => {
    const { argv } = encodeQemuArgv({
      arch: 's390x',
      machine: { type: 's390-ccw-virtio', options: { 'confidential-guest-support': 'pv0' } },
      devices: [{ kind: 's390-pv-guest', id: 'pv0' }],
    });
    const err = await spawnQemu({
      machine: null,
      binary: 'qemu-system-s390x',
      accel: 'tcg',
      args: argv,
    }).then(
      async (q) => {
        await q.kill();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/invalid object type: s390-pv-guest/);
  });

  it('pef-guest linked as confidential-guest-support needs KVM', async () => {
    const { argv } = encodeQemuArgv({
      arch: 'ppc64le',
      machine: { type: 'pseries', options: { 'confidential-guest-support': 'pef0' } },
      devices: [{ kind: 'pef-guest', id: 'pef0', deviceId: 'proxy0', file: at('tpm,rm0') }],
    });
    const err = await spawnQemu({
      machine: null,
      binary: 'qemu-system-ppc64',
      accel: 'tcg',
      args: argv,
    }).then(
      async (q) => {
        await q.kill();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/PEF requires KVM/);
  });
});

describe('vhost-user front ends reach the backend handshake', () => {
  // A backend socket that accepts and hangs up: QEMU has then parsed the -device string, found the
  // driver and its bus, set every property and failed only in realize, on the vhost-user protocol.
  // vhost-user-net is left out: its netdev reconnects forever to a backend that hangs up.
  let server: Server;
  let socketPath: string;
  beforeAll(async () => {
    socketPath = at('vu,be=1.sock');
    server = createServer((c) => c.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const vhostUser = (kind: 'vhost-user-scsi' | 'vhost-user-blk' | 'vhost-user-fs', extra = {}): Device =>
    (kind === 'vhost-user-scsi'
      ? { kind, socketPath, charDevId: 'vc0', typeDevId: 'vs0', ...extra }
      : kind === 'vhost-user-blk'
        ? { kind, socketPath, charDevId: 'vc0', typeDevId: 'vb0', ...extra }
        : { kind, socketPath, charDevId: 'vc0', tag: 'shared', queueSize: 1024, ...extra }) as Device;

  const cases: Array<[string, () => QemuConfig, string, string?]> = [
    [
      'vhost-user-scsi-pci',
      () => ({ machine: { type: 'q35' }, devices: [vhostUser('vhost-user-scsi')] }),
      'vhost-user-scsi-pci,id=vs0,chardev=vc0',
    ],
    [
      'vhost-user-blk-pci',
      () => ({ machine: { type: 'q35' }, devices: [vhostUser('vhost-user-blk')] }),
      'vhost-user-blk-pci,id=vb0,chardev=vc0',
    ],
    [
      'vhost-user-fs-pci',
      () => ({ machine: { type: 'q35' }, devices: [vhostUser('vhost-user-fs')] }),
      'vhost-user-fs-pci,chardev=vc0,tag=shared,queue-size=1024',
    ],
    [
      'vhost-user-scsi on microvm (mmio)',
      () => ({ machine: { type: 'microvm' }, devices: [vhostUser('vhost-user-scsi')] }),
      'vhost-user-scsi,id=vs0,chardev=vc0',
    ],
    [
      'vhost-user-blk on microvm (mmio)',
      () => ({ machine: { type: 'microvm' }, devices: [vhostUser('vhost-user-blk')] }),
      'vhost-user-blk,id=vb0,chardev=vc0',
    ],
    [
      'vhost-user-fs on microvm (mmio)',
      () => ({ machine: { type: 'microvm' }, devices: [vhostUser('vhost-user-fs')] }),
      'vhost-user-fs-device,chardev=vc0,tag=shared,queue-size=1024',
    ],
    [
      'vhost-user-fs on s390x (ccw, iommu_platform, devno)',
      () => ({
        arch: 's390x',
        machine: { type: 's390-ccw-virtio' },
        knobs: { iommuPlatform: true },
        devices: [vhostUser('vhost-user-fs', { devno: 'fe.0.0009' })],
      }),
      'vhost-user-fs-ccw,chardev=vc0,tag=shared,queue-size=1024,iommu_platform=on,devno=fe.0.0009',
      'qemu-system-s390x',
    ],
  ];

  it.each(cases)('%s', async (_name, config, device, binary) => {
    const { argv } = encodeQemuArgv(config());
    expect(argv).toContain(device);
    const err = await spawnQemu({
      machine: null,
      args: argv,
      ...(binary === undefined ? {} : { binary, accel: 'tcg' as const }),
    }).then(
      async (q) => {
        await q.kill();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err, 'QEMU should have refused to start').toBeInstanceOf(Error);
    const stderr = err!.message.split('\n').slice(1).join('\n');
    // QEMU names the -device option it was realizing, exactly as encoded
    expect(stderr).toContain(`-device ${device}: `);
    expect(stderr).toMatch(/vhost_backend_init failed: Protocol error/);
    expect(stderr).not.toMatch(SYNTAX);
  });
});
