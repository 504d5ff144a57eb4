import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QemuConfig } from './config.js';
import { encodeQemuArgv } from './encode.js';
import { ArgvError } from './errors.js';
import { OPTION_IMPLIED_KEYS, parseOptionPairs, parseOptionString } from './option-string.js';

const argv = (c: QemuConfig): string[] => encodeQemuArgv(c).argv;

describe('config fields', () => {
  it('empty config -> empty argv', () => {
    expect(encodeQemuArgv({})).toEqual({ argv: [], fds: [] });
  });
  it('name (escaped; guest= when it holds "=") and uuid', () => {
    expect(argv({ name: 'cc-qemu' })).toEqual(['-name', 'cc-qemu']);
    expect(argv({ name: 'a,b' })).toEqual(['-name', 'a,,b']);
    expect(argv({ name: 'foo=1,bar=2' })).toEqual(['-name', 'guest=foo=1,,bar=2']);
    expect(argv({ uuid: '12345678-0000-0000-0000-000000000000' })).toEqual([
      '-uuid',
      '12345678-0000-0000-0000-000000000000',
    ]);
  });
  it('machine: type, accel, options string (re-encoded) or record', () => {
    expect(argv({ machine: { type: 'q35' } })).toEqual(['-machine', 'q35']);
    expect(
      argv({
        machine: {
          type: 'pc-lite',
          acceleration: 'kvm',
          options: 'kernel_irqchip,nvdimm',
        },
      }),
    ).toEqual(['-machine', 'pc-lite,accel=kvm,kernel_irqchip,nvdimm']);
    expect(
      argv({
        machine: { type: 'virt', options: { 'gic-version': 'host', usb: false, 'memory-backend': 'm,1' } },
      }),
    ).toEqual(['-machine', 'virt,gic-version=host,usb=off,memory-backend=m,,1']);
  });
  it('cpu model with features', () => {
    expect(argv({ cpuModel: 'host,pmu=off,+vmx' })).toEqual(['-cpu', 'host,pmu=off,+vmx']);
  });
  it('qmp sockets: server/nowait, protocols, fds, paths with , and =', () => {
    const r = encodeQemuArgv({
      qmpSockets: [
        { type: 'unix', name: 'cc-qmp', server: true, noWait: true },
        { type: 'unix', name: '/tmp/a,b', server: true },
        { type: 'unix', name: '/tmp/x=y/qmp.sock', protocol: 'qmp-pretty' },
        { type: 'unix', fd: 9, server: true, noWait: true, protocol: 'hmp' },
      ],
    });
    expect(r.argv).toEqual([
      '-qmp',
      'unix:cc-qmp,server=on,wait=off',
      '-qmp',
      'unix:/tmp/a,,b,server=on',
      '-qmp-pretty',
      'unix:path=/tmp/x=y/qmp.sock',
      '-monitor',
      'unix:fd=3,server=on,wait=off',
    ]);
    expect(r.fds).toEqual([{ childFd: 3, hostFd: 9, path: 'qmpSockets[3].fd' }]);
  });
  it('memory -m with slots and maxmem, plus the dimm1 backend (govmm knobs)', () => {
    expect(argv({ memory: { size: '2G', slots: 2, maxMem: '3G' } })).toEqual([
      '-m',
      '2G,slots=2,maxmem=3G',
      '-object',
      'memory-backend-ram,id=dimm1,size=2G',
      '-numa',
      'node,memdev=dimm1',
    ]);
  });
  it('memory knobs: hugepages, file backed, shared, prealloc; microvm and s390x use -machine memory-backend', () => {
    expect(
      argv({ memory: { size: '1G' }, knobs: { hugePages: true, memShared: true, memPrealloc: true } }).slice(
        2,
      ),
    ).toEqual([
      '-object',
      'memory-backend-file,id=dimm1,size=1G,mem-path=/dev/hugepages,share=on,prealloc=on',
      '-numa',
      'node,memdev=dimm1',
    ]);
    expect(
      argv({ memory: { size: '1G', path: '/dev/shm,x' }, knobs: { fileBackedMem: true } }).slice(2),
    ).toEqual([
      '-object',
      'memory-backend-file,id=dimm1,size=1G,mem-path=/dev/shm,,x',
      '-numa',
      'node,memdev=dimm1',
    ]);
    expect(argv({ machine: { type: 'microvm' }, memory: { size: '1G' } }).slice(4)).toEqual([
      '-object',
      'memory-backend-ram,id=dimm1,size=1G',
      '-machine',
      'memory-backend=dimm1',
    ]);
    expect(argv({ arch: 's390x', memory: { size: '1G' } }).slice(4)).toEqual([
      '-machine',
      'memory-backend=dimm1',
    ]);
  });
  it('NUMA nodes and distances replace the single backend', () => {
    expect(
      argv({
        memory: { size: '2G' },
        knobs: { memShared: true },
        numaNodes: [
          { size: '1G', cpus: '0-1', hostNodes: '0' },
          { size: '1G', cpus: ['2', '3'], memPath: '/dev/hugepages' },
        ],
        numaDistances: [
          { src: 0, dst: 1, val: 20 },
          { src: 1, dst: 0, val: 20 },
        ],
      }).slice(2),
    ).toEqual([
      '-object',
      'memory-backend-ram,id=numa-mem0,size=1G,host-nodes=0,policy=bind,share=on',
      '-numa',
      'node,nodeid=0,memdev=numa-mem0,cpus=0-1',
      '-object',
      'memory-backend-file,id=numa-mem1,size=1G,mem-path=/dev/hugepages,share=on',
      '-numa',
      'node,nodeid=1,memdev=numa-mem1,cpus=2,cpus=3',
      '-numa',
      'dist,src=0,dst=1,val=20',
      '-numa',
      'dist,src=1,dst=0,val=20',
    ]);
  });
  it('rtc, global, pflash, vga', () => {
    expect(
      argv({
        rtc: { base: 'utc', driftFix: 'slew', clock: 'host' },
        globalParam: 'kvm-pit.lost_tick_policy=discard',
        pflash: ['/fw/code.fd', 'vars:1.fd'],
        vga: 'none',
      }),
    ).toEqual([
      '-rtc',
      'base=utc,driftfix=slew,clock=host',
      '-global',
      'kvm-pit.lost_tick_policy=discard',
      '-pflash',
      '/fw/code.fd',
      '-pflash',
      './vars:1.fd',
      '-vga',
      'none',
    ]);
    expect(argv({ rtc: { clock: 'vm' } })).toEqual(['-rtc', 'clock=vm']);
    expect(argv({ rtc: {} })).toEqual([]);
  });
  it('knobs in govmm order', () => {
    expect(
      argv({
        knobs: {
          noUserConfig: true,
          noDefaults: true,
          noGraphic: true,
          noReboot: true,
          noShutdown: true,
          daemonize: true,
          mlock: true,
          stopped: true,
          iommuPlatform: true,
        },
      }),
    ).toEqual([
      '-no-user-config',
      '-nodefaults',
      '-nographic',
      '--no-reboot',
      '--no-shutdown',
      '-daemonize',
      '-overcommit',
      'mem-lock=on',
      '-S',
    ]);
  });
  it('kernel: params are one argv element, never escaped', () => {
    expect(
      argv({
        kernel: {
          path: '/boot/vmlinuz,1',
          initrdPath: '/boot/initrd',
          params: 'root=/dev/vda1 console=ttyS0,115200',
        },
      }),
    ).toEqual([
      '-kernel',
      '/boot/vmlinuz,1',
      '-initrd',
      '/boot/initrd',
      '-append',
      'root=/dev/vda1 console=ttyS0,115200',
    ]);
  });
  it('bios, iothreads, incoming (fd, exec, defer), pidfile, logfile', () => {
    const r = encodeQemuArgv({
      bios: '/usr/share/qboot/bios.bin',
      ioThreads: [{ id: 'iothread1' }, { id: 'iothread2' }],
      incoming: { migrationType: 'fd', fd: 11 },
      pidFile: '/run/vm.pid',
      logFile: '/var/log/qemu,1.log',
    });
    expect(r.argv).toEqual([
      '-bios',
      '/usr/share/qboot/bios.bin',
      '-object',
      'iothread,id=iothread1',
      '-object',
      'iothread,id=iothread2',
      '-S',
      '-incoming',
      'fd:3',
      '-pidfile',
      '/run/vm.pid',
      '-D',
      '/var/log/qemu,1.log',
    ]);
    expect(r.fds).toEqual([{ childFd: 3, hostFd: 11, path: 'incoming.fd' }]);
    expect(argv({ incoming: { migrationType: 'exec', exec: 'cat /tmp/mig,1' } })).toEqual([
      '-S',
      '-incoming',
      'exec:cat /tmp/mig,1',
    ]);
    expect(argv({ incoming: { migrationType: 'defer' } })).toEqual(['-S', '-incoming', 'defer']);
  });
  it('fw_cfg: one option per entry (govmm emits N^2 concatenated args for N >= 2)', () => {
    expect(
      argv({
        fwCfg: [
          { name: 'opt/com.mycompany/blob', file: './my_blob.bin' },
          { name: 'opt/com.mycompany/str', str: 'a,b' },
        ],
      }),
    ).toEqual([
      '-fw_cfg',
      'name=opt/com.mycompany/blob,file=./my_blob.bin',
      '-fw_cfg',
      'name=opt/com.mycompany/str,string=a,,b',
    ]);
  });
  it('sandbox, smp last, then extraParams verbatim', () => {
    expect(
      argv({
        smp: { cpus: 2, cores: 1, threads: 1, sockets: 2, maxCpus: 6 },
        seccompSandbox: 'on,obsolete=deny',
        extraParams: ['-trace', 'enable=qmp*,file=/tmp/t'],
      }),
    ).toEqual([
      '-sandbox',
      'on,obsolete=deny',
      '-smp',
      '2,cores=1,threads=1,sockets=2,maxcpus=6',
      '-trace',
      'enable=qmp*,file=/tmp/t',
    ]);
    expect(argv({ smp: { cpus: 1 } })).toEqual(['-smp', '1']);
  });
  it('sev-snp firmware becomes -bios; a different bios conflicts', () => {
    const snp = { kind: 'sev-snp-guest', id: 's', file: '/fw.fd', cBitPos: 51, reducedPhysBits: 1 } as const;
    expect(argv({ devices: [snp] }).slice(-2)).toEqual(['-bios', '/fw.fd']);
    expect(argv({ devices: [snp], bios: '/fw.fd' }).slice(-2)).toEqual(['-bios', '/fw.fd']);
    expect(() => encodeQemuArgv({ devices: [snp], bios: '/other.fd' })).toThrow(
      expect.objectContaining({ code: 'ARGV_CONFLICT', path: 'bios' }),
    );
  });
});

describe('whole config in govmm order', () => {
  it('orders every section, smp last', () => {
    const r = encodeQemuArgv({
      name: 'vm',
      uuid: '12345678-0000-0000-0000-000000000000',
      machine: { type: 'q35', acceleration: 'kvm' },
      cpuModel: 'host',
      qmpSockets: [{ type: 'unix', name: '/q', server: true, noWait: true }],
      memory: { size: '1G' },
      devices: [
        { kind: 'rng', id: 'rng0' },
        { kind: 'net', type: 'tap', id: 'n0', ifName: 't', fds: [20], vhost: true, vhostFds: [21] },
        { kind: 'vsock', id: 'v', contextId: 3, vhostFd: 22 },
      ],
      rtc: { base: 'utc' },
      globalParam: 'a.b=c',
      pflash: ['/p'],
      vga: 'none',
      knobs: { noDefaults: true, stopped: true },
      kernel: { path: '/k', params: 'quiet' },
      bios: '/b',
      ioThreads: [{ id: 'io' }],
      incoming: { migrationType: 'fd', fd: 23 },
      pidFile: '/pid',
      logFile: '/log',
      fwCfg: [{ name: 'opt/x', str: 'y' }],
      seccompSandbox: 'on',
      smp: { cpus: 1 },
    });
    const options = r.argv.filter((w) => w.startsWith('-'));
    expect(options).toEqual([
      '-name',
      '-uuid',
      '-machine',
      '-cpu',
      '-qmp',
      '-m',
      '-object',
      '-device',
      '-netdev',
      '-device',
      '-device',
      '-rtc',
      '-global',
      '-pflash',
      '-vga',
      '-nodefaults',
      '-object',
      '-numa',
      '-S',
      '-kernel',
      '-append',
      '-bios',
      '-object',
      '-S',
      '-incoming',
      '-pidfile',
      '-D',
      '-fw_cfg',
      '-sandbox',
      '-smp',
    ]);
    // fds numbered from 3 in call order: vhost fds before tap fds, then vsock, then incoming
    expect(r.fds.map((f) => [f.childFd, f.hostFd])).toEqual([
      [3, 21],
      [4, 20],
      [5, 22],
      [6, 23],
    ]);
  });
});

/** Read every option-string value of an argv back into [key, value] pairs, per option. */
function readBack(words: string[]): Array<[string, Array<[string, string]>]> {
  const out: Array<[string, Array<[string, string]>]> = [];
  for (let i = 0; i < words.length; i += 2) {
    const opt = words[i]!;
    out.push([opt, parseOptionPairs(words[i + 1]!, OPTION_IMPLIED_KEYS[opt])]);
  }
  return out;
}

describe('round trip: arbitrary strings in fields come back exactly from the argv', () => {
  const text = fc
    .string({ unit: 'binary', maxLength: 30 })
    .filter((s) => s.length > 0 && !/[\u0000-\u001f\u007f]/.test(s));
  it('block file, 9p path + tag, chardev path, fw_cfg string, rng filename, name', () => {
    fc.assert(
      fc.property(text, text, text, text, text, text, (file, path, tag, sock, str, name) => {
        const a = argv({
          name,
          devices: [
            { kind: 'block', id: 'd0', file: `/${file}` },
            { kind: 'fs', fsDriver: 'local', id: 'f0', path, mountTag: tag, securityModel: 'none' },
            {
              kind: 'char',
              driver: 'virtconsole',
              backend: 'socket',
              id: 'c0',
              deviceId: 'con0',
              path: sock,
            },
            { kind: 'rng', id: 'r0', filename: path },
          ],
          fwCfg: [{ name: 'opt/x', str }],
        });
        const back = readBack(a);
        expect(back[0]).toEqual(['-name', [['guest', name]]]);
        expect(back[2]).toEqual([
          '-drive',
          [
            ['id', 'd0'],
            ['file', `/${file}`],
            ['aio', 'threads'],
            ['format', 'raw'],
            ['if', 'none'],
          ],
        ]);
        expect(back[3]).toEqual([
          '-device',
          [
            ['driver', 'virtio-9p-pci'],
            ['fsdev', 'f0'],
            ['mount_tag', tag],
          ],
        ]);
        expect(back[4]).toEqual([
          '-fsdev',
          [
            ['fsdriver', 'local'],
            ['id', 'f0'],
            ['path', path],
            ['security_model', 'none'],
          ],
        ]);
        expect(back[6]).toEqual([
          '-chardev',
          [
            ['backend', 'socket'],
            ['id', 'c0'],
            ['path', sock],
            ['server', 'on'],
            ['wait', 'off'],
          ],
        ]);
        expect(back[7]).toEqual([
          '-object',
          [
            ['qom-type', 'rng-random'],
            ['id', 'r0'],
            ['filename', path],
          ],
        ]);
        expect(back[9]).toEqual([
          '-fw_cfg',
          [
            ['name', 'opt/x'],
            ['string', str],
          ],
        ]);
      }),
      { numRuns: 500 },
    );
  });
  it('control characters are rejected, never passed through', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 31 }), text, (a, c, b) => {
        const bad = `${a}${String.fromCharCode(c)}${b}`;
        try {
          encodeQemuArgv({ devices: [{ kind: 'block', id: 'd0', file: bad }] });
          expect.unreachable();
        } catch (e) {
          expect(ArgvError.is(e) && e.code === 'ARGV_UNESCAPABLE_VALUE' && e.path === 'devices[0].file').toBe(
            true,
          );
        }
      }),
      { numRuns: 200 },
    );
  });
  it('a parsed machine options string keeps exactly its pairs', () => {
    const r = argv({ machine: { type: 'q35', options: 'usb=off,dump-guest-core=off,memory-backend=a,,b' } });
    expect(parseOptionString(r[1]!, { impliedKey: 'type' })).toEqual([
      { key: undefined, value: 'q35' },
      { key: 'usb', value: 'off' },
      { key: 'dump-guest-core', value: 'off' },
      { key: 'memory-backend', value: 'a,b' },
    ]);
  });
});
