/**
 * @vmm/argv: configs/s for a Kata-sized VM (30 devices), against baselines run in the same script,
 * alternating rounds (the machines are noisy; only ratios from one run mean anything):
 *   - `encodeQemuArgv(config)`: zod validation + encoding + escaping (what users call);
 *   - `encodeQemuArgv(config, { trusted: true })`: encoding only (config validated once up front);
 *   - a naive govmm-style encoder: template strings, no validation, no escaping, same argv;
 *   - `JSON.stringify(config)`: a floor for "touch every field once".
 *
 *   pnpm --filter @vmm/bench exec node --import tsx argv.bench.ts      # ARGV_BENCH_ROUNDS=7 ARGV_BENCH_MS=300
 */
import { type Device, encodeQemuArgv, type QemuConfig, validateQemuConfig } from '@vmm/argv';

const ROUNDS = Number(process.env.ARGV_BENCH_ROUNDS ?? 7);
const MS = Number(process.env.ARGV_BENCH_MS ?? 300);

/** Roughly what Kata's runtime hands govmm for a q35 sandbox with hotplug room. */
function kataConfig(): QemuConfig {
  const devices: Device[] = [
    {
      kind: 'memory-backend-file',
      id: 'mem0',
      deviceId: 'nv0',
      memPath: '/usr/share/kata-containers/kata-containers.img',
      size: 268435456,
    },
    {
      kind: 'bridge',
      bridgeType: 'pci',
      bus: 'pcie.0',
      id: 'pci-bridge-0',
      chassis: 1,
      shpc: true,
      addr: '2',
    },
    {
      kind: 'bridge',
      bridgeType: 'pci',
      bus: 'pcie.0',
      id: 'pci-bridge-1',
      chassis: 2,
      shpc: true,
      addr: '3',
    },
    { kind: 'serial', id: 'serial0' },
    {
      kind: 'char',
      driver: 'virtconsole',
      backend: 'socket',
      id: 'charconsole0',
      deviceId: 'console0',
      path: '/run/vc/vm/3f2a/console.sock',
    },
    { kind: 'rng', id: 'rng0', filename: '/dev/urandom' },
    { kind: 'vsock', id: 'vsock-3f2a', contextId: 1_234_567, vhostFd: 40 },
    {
      kind: 'vhost-user-fs',
      socketPath: '/run/vc/vm/3f2a/vhost-fs.sock',
      charDevId: 'char-3f2a',
      tag: 'kataShared',
      queueSize: 1024,
    },
    { kind: 'scsi-controller', id: 'scsi0', ioThread: 'iothread0', disableModern: false },
    {
      kind: 'net',
      type: 'tap',
      id: 'network-0',
      ifName: 'tap0_kata',
      bus: 'pci-bridge-0',
      addr: '2',
      macAddress: '02:42:ac:11:00:02',
      vhost: true,
      fds: [50, 51, 52, 53],
      vhostFds: [60, 61, 62, 63],
    },
    { kind: 'balloon', id: 'balloon0', deflateOnOOM: true },
    { kind: 'pvpanic' },
  ];
  for (let i = 0; i < 8; i++)
    devices.push({
      kind: 'pcie-root-port',
      id: `rp${i}`,
      chassis: i + 1,
      slot: i,
      busReserve: 1,
      memReserve: '32M',
    });
  for (let i = 0; i < 6; i++) {
    devices.push({
      kind: 'block',
      id: `drive-${i}`,
      file: `/dev/mapper/kata-vol-${i}`,
      format: 'raw',
      aio: 'threads',
      shareRW: true,
    });
  }
  for (let i = 0; i < 2; i++)
    devices.push({ kind: 'vfio', bdf: `0000:0${i + 3}:00.0`, id: `vfio-${i}`, bus: `rp${i}` });
  return {
    name: 'sandbox-3f2a9c1d',
    uuid: '3f2a9c1d-8b7e-4c6d-a5f4-e3d2c1b0a987',
    machine: { type: 'q35', acceleration: 'kvm', options: 'kernel_irqchip=on,nvdimm=on' },
    cpuModel: 'host,pmu=off',
    qmpSockets: [{ type: 'unix', name: '/run/vc/vm/3f2a/qmp.sock', server: true, noWait: true }],
    memory: { size: '2048M', slots: 10, maxMem: '12977M' },
    devices,
    rtc: { base: 'utc', driftFix: 'slew', clock: 'host' },
    globalParam: 'kvm-pit.lost_tick_policy=discard',
    vga: 'none',
    knobs: {
      noUserConfig: true,
      noDefaults: true,
      noGraphic: true,
      noReboot: true,
      daemonize: true,
      memPrealloc: false,
    },
    kernel: {
      path: '/usr/share/kata-containers/vmlinuz.container',
      params:
        'tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 i8042.nopnp=1 i8042.noaux=1 noreplace-smp reboot=k console=hvc0 console=hvc1 cryptomgr.notests net.ifnames=0 pci=lastbus=0 root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4 quiet systemd.show_status=false panic=1 nr_cpus=2 systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service',
    },
    ioThreads: [{ id: 'iothread0' }],
    pidFile: '/run/vc/vm/3f2a/pid',
    seccompSandbox: 'on,obsolete=deny,spawn=deny,resourcecontrol=deny',
    smp: { cpus: 1, cores: 1, threads: 1, sockets: 2, maxCpus: 2 },
  };
}

/** govmm-style: string templates per device, no validation, no escaping. Same argv for this config. */
function naiveEncode(c: QemuConfig): string[] {
  const a: string[] = [];
  if (c.name) a.push('-name', c.name);
  if (c.uuid) a.push('-uuid', c.uuid);
  if (c.machine)
    a.push('-machine', `${c.machine.type},accel=${c.machine.acceleration},${c.machine.options as string}`);
  if (c.cpuModel) a.push('-cpu', c.cpuModel);
  for (const q of c.qmpSockets ?? []) a.push('-qmp', `unix:${q.name},server=on,wait=off`);
  const m = c.memory!;
  a.push('-m', `${m.size},slots=${m.slots},maxmem=${m.maxMem}`);
  let fd = 3;
  for (const d of c.devices ?? []) {
    switch (d.kind) {
      case 'memory-backend-file':
        a.push(
          '-device',
          `nvdimm,id=${d.deviceId},memdev=${d.id}`,
          '-object',
          `memory-backend-file,id=${d.id},mem-path=${d.memPath},size=${d.size}`,
        );
        break;
      case 'bridge':
        a.push(
          '-device',
          `pci-bridge,bus=${d.bus},id=${d.id},chassis_nr=${d.chassis},shpc=${d.shpc ? 'on' : 'off'},addr=${Number(d.addr).toString(16)}`,
        );
        break;
      case 'serial':
        a.push('-device', `virtio-serial-pci,id=${d.id}`);
        break;
      case 'char':
        a.push(
          '-device',
          `${d.driver},chardev=${d.id},id=${d.deviceId}`,
          '-chardev',
          `${d.backend},id=${d.id},path=${d.path},server=on,wait=off`,
        );
        break;
      case 'rng':
        a.push(
          '-object',
          `rng-random,id=${d.id},filename=${d.filename}`,
          '-device',
          `virtio-rng-pci,rng=${d.id}`,
        );
        break;
      case 'vsock':
        a.push('-device', `vhost-vsock-pci,vhostfd=${fd++},id=${d.id},guest-cid=${d.contextId}`);
        break;
      case 'vhost-user-fs':
        a.push(
          '-chardev',
          `socket,id=${d.charDevId},path=${d.socketPath}`,
          '-device',
          `vhost-user-fs-pci,chardev=${d.charDevId},tag=${d.tag},queue-size=${d.queueSize}`,
        );
        break;
      case 'scsi-controller':
        a.push('-device', `virtio-scsi-pci,id=${d.id},iothread=${d.ioThread}`);
        break;
      case 'net': {
        const vhost = (d.vhostFds ?? []).map(() => fd++).join(':');
        const fds = (d.fds ?? []).map(() => fd++).join(':');
        a.push('-netdev', `tap,id=${d.id},vhost=on,vhostfds=${vhost},fds=${fds}`);
        a.push(
          '-device',
          `driver=virtio-net-pci,netdev=${d.id},mac=${d.macAddress},bus=${d.bus},addr=${Number(d.addr).toString(16)},mq=on,vectors=${2 * (d.fds?.length ?? 0) + 2}`,
        );
        break;
      }
      case 'balloon':
        a.push('-device', `virtio-balloon-pci,id=${d.id},deflate-on-oom=${d.deflateOnOOM ? 'on' : 'off'}`);
        break;
      case 'pvpanic':
        a.push('-device', 'pvpanic');
        break;
      case 'pcie-root-port':
        a.push(
          '-device',
          `pcie-root-port,id=${d.id},bus=pcie.0,chassis=${d.chassis},slot=${d.slot},multifunction=off,bus-reserve=${d.busReserve},mem-reserve=${d.memReserve}`,
        );
        break;
      case 'block':
        a.push(
          '-device',
          `virtio-blk-pci,drive=${d.id},scsi=off,config-wce=off,share-rw=on,serial=${d.id}`,
          '-drive',
          `id=${d.id},file=${d.file},aio=${d.aio},format=${d.format},if=none`,
        );
        break;
      case 'vfio':
        a.push('-device', `vfio-pci,host=${d.bdf},id=${d.id},bus=${d.bus}`);
        break;
      default:
        throw new Error(`naive encoder: ${d.kind} not in the benchmark config`);
    }
  }
  const r = c.rtc!;
  a.push(
    '-rtc',
    `base=${r.base},driftfix=${r.driftFix},clock=${r.clock}`,
    '-global',
    c.globalParam!,
    '-vga',
    c.vga!,
  );
  a.push('-no-user-config', '-nodefaults', '-nographic', '--no-reboot', '-daemonize');
  a.push('-object', `memory-backend-ram,id=dimm1,size=${m.size}`, '-numa', 'node,memdev=dimm1');
  a.push('-kernel', c.kernel!.path, '-append', c.kernel!.params!);
  for (const t of c.ioThreads ?? []) a.push('-object', `iothread,id=${t.id}`);
  a.push('-pidfile', c.pidFile!, '-sandbox', c.seccompSandbox!);
  const s = c.smp!;
  a.push('-smp', `${s.cpus},cores=${s.cores},threads=${s.threads},sockets=${s.sockets},maxcpus=${s.maxCpus}`);
  return a;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Calls of `fn` per second over ~MS ms. */
function rate(fn: () => unknown): number {
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MS) {
    for (let i = 0; i < 50; i++) sink ^= (fn() as { length?: number }).length ?? 1;
    n += 50;
    t = performance.now();
  }
  if (sink === -1) console.log(sink);
  return (n * 1000) / (t - t0);
}

const config = kataConfig();
const ours = encodeQemuArgv(config);
const naive = naiveEncode(config);
if (JSON.stringify(ours.argv) !== JSON.stringify(naive)) {
  throw new Error(`baseline drifted from @vmm/argv:\n${JSON.stringify(ours.argv)}\n${JSON.stringify(naive)}`);
}
const trusted = validateQemuConfig(config);
const sides = {
  'encodeQemuArgv (validate + encode)': () => encodeQemuArgv(config).argv,
  'encodeQemuArgv trusted (encode only)': () => encodeQemuArgv(trusted, { trusted: true }).argv,
  'naive string concat (govmm-style)': () => naiveEncode(config),
  'JSON.stringify(config)': () => JSON.stringify(config),
} as const;
const samples = new Map<string, number[]>(Object.keys(sides).map((k) => [k, []]));
for (let i = 0; i < 2; i++) for (const fn of Object.values(sides)) rate(fn); // warm up the JIT
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn] of Object.entries(sides)) samples.get(name)!.push(rate(fn));
}

console.log(
  `@vmm/argv: Kata-sized config, ${config.devices?.length} devices, ${ours.argv.length} argv words, ${ours.fds.length} fds`,
);
console.log(`node ${process.version}, ${ROUNDS} alternating rounds of ~${MS} ms each, medians:`);
const main = median(samples.get('encodeQemuArgv (validate + encode)')!);
for (const [name, xs] of samples) {
  const m = median(xs);
  console.log(
    `  ${name.padEnd(38)} ${Math.round(m).toLocaleString('en-US').padStart(10)} configs/s  (${(m / main).toFixed(2)}x encodeQemuArgv)`,
  );
}
const naiveRate = median(samples.get('naive string concat (govmm-style)')!);
console.log(`ratio encodeQemuArgv / naive concat: ${(main / naiveRate).toFixed(3)}`);
console.log(
  `ratio encodeQemuArgv / JSON.stringify: ${(main / median(samples.get('JSON.stringify(config)')!)).toFixed(3)}`,
);
