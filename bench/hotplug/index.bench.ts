/**
 * Hotplug: a virtio-blk disk on a PCI bridge, from the call to the guest's `HOTPLUG-BLK` line.
 *
 * - sandbox: `Sandbox.hotplugAdd()` (lock, state reload, slot allocation, QMP connect + negotiate,
 *   `blockdev-add`, `device_add`, state write with fsync).
 * - raw: the same QMP commands written by hand on a fresh unix socket connection (greeting,
 *   `qmp_capabilities`, the identical `blockdev-add` and `device_add` arguments, same bus and slot).
 *
 * Both sides run against one booted default guest, alternating (order flips every round), after one
 * untimed warm-up of each. Between samples the disk is unplugged (untimed) and the guest's
 * `UNPLUG-BLK` awaited. Target: sandbox median <= 1.1 x raw median.
 *
 *   cd bench && node --import tsx hotplug/index.bench.ts     # HOTPLUG_BENCH_ROUNDS=8
 */
import { writeFile } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { ensureGuest, parseGuestLine } from '@vmm/guest';
import { type ConsoleReader, Sandbox } from '@vmm/sandbox';
import { guestAccel, makeTempDir } from '@vmm/test-utils';

const ROUNDS = Number(process.env.HOTPLUG_BENCH_ROUNDS ?? 8);
/** Both sides poll the console every 2 ms: the default 25 ms would add up to 25 ms of quantisation noise. */
const WAIT = { timeoutMs: 120_000, pollMs: 2 } as const;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** A guest marker of `kind` (parseGuestLine also finds it after unterminated firmware output). */
const marker =
  (kind: 'hotplugBlk' | 'unplugBlk' | 'ready') =>
  (line: string): string | undefined => {
    const e = parseGuestLine(line);
    if (e?.kind !== kind) return undefined;
    return 'device' in e ? e.device : kind;
  };

/** A minimal QMP client written against the wire: JSON lines in, replies and events out. */
class RawQmp {
  readonly #sock: Socket;
  #buf = '';
  #waiters: {
    pred: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.#buf += d;
      for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
        const msg = JSON.parse(this.#buf.slice(0, nl)) as Record<string, unknown>;
        this.#buf = this.#buf.slice(nl + 1);
        const i = this.#waiters.findIndex((w) => w.pred(msg));
        if (i >= 0) this.#waiters.splice(i, 1)[0]?.resolve(msg);
      }
    });
  }

  static async connect(path: string): Promise<RawQmp> {
    const sock = createConnection(path);
    const q = new RawQmp(sock);
    await q.next((m) => 'QMP' in m);
    await q.cmd('qmp_capabilities');
    return q;
  }

  next(pred: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }

  async cmd(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next((m) => 'return' in m || 'error' in m);
    this.#sock.write(`${JSON.stringify(args === undefined ? { execute } : { execute, arguments: args })}\n`);
    const r = await reply;
    if ('error' in r) throw new Error(`${execute}: ${JSON.stringify(r.error)}`);
    return r.return;
  }

  close(): void {
    this.#sock.destroy();
  }
}

const guest = await ensureGuest();
const accel = guestAccel();
const tmp = await makeTempDir('vmm-bench-hotplug-');
const img = tmp.join('disk.img');
await writeFile(img, Buffer.alloc(8 << 20));
const sb = await Sandbox.create(
  {
    kernelPath: guest.kernel,
    initrdPath: guest.initrd,
    kernelParams: guest.defaultAppend.join(' '),
    memorySize: 256,
    defaultMaxVcpus: 4,
  },
  { stateDir: tmp.join('s'), host: { accel: accel.accel } },
);
const con: ConsoleReader = sb.console();
let n = 0;
let slot: { bus: string; addr: string } | undefined;

/** How long each side's control plane took (call to return), apart from the guest's reaction. */
const callMs = { sandbox: [] as number[], raw: [] as number[] };

async function viaSandbox(): Promise<number> {
  const id = `d${n++}`;
  const mark = await con.mark();
  const t0 = performance.now();
  const r = await sb.hotplugAdd({ kind: 'block', id, path: img, attach: 'virtio-blk', placement: 'bridge' });
  callMs.sandbox.push(performance.now() - t0);
  await con.waitFor(marker('hotplugBlk'), { ...WAIT, from: mark });
  const ms = performance.now() - t0;
  slot ??= { bus: r.bus as string, addr: r.addr as string };
  const m2 = await con.mark();
  await sb.hotplugRemove(id);
  await con.waitFor(marker('unplugBlk'), { ...WAIT, from: m2 });
  return ms;
}

async function viaRaw(): Promise<number> {
  if (slot === undefined) throw new Error('the sandbox side runs first to learn the slot');
  const id = `d${n++}`;
  const node = `drive-${id}`;
  const mark = await con.mark();
  const t0 = performance.now();
  const q = await RawQmp.connect(sb.paths.qmp);
  try {
    await q.cmd('blockdev-add', {
      driver: 'raw',
      'node-name': node,
      'read-only': false,
      file: { driver: 'file', filename: img },
    });
    await q.cmd('device_add', { driver: 'virtio-blk-pci', id, drive: node, bus: slot.bus, addr: slot.addr });
    callMs.raw.push(performance.now() - t0);
    await con.waitFor(marker('hotplugBlk'), { ...WAIT, from: mark });
    const ms = performance.now() - t0;
    const m2 = await con.mark();
    const deleted = q.next(
      (m) => m.event === 'DEVICE_DELETED' && (m.data as { device?: string }).device === id,
    );
    await q.cmd('device_del', { id });
    await deleted;
    await q.cmd('blockdev-del', { 'node-name': node });
    await con.waitFor(marker('unplugBlk'), { ...WAIT, from: m2 });
    return ms;
  } finally {
    q.close();
  }
}

const sandboxMs: number[] = [];
const rawMs: number[] = [];
try {
  await sb.start();
  await con.waitFor(marker('ready'), { ...WAIT, exited: sb.exited });
  console.log(
    `hotplug: virtio-blk on a PCI bridge of the default guest (${guest.release}, pc), accel=${accel.accel} (${accel.reason}), ${ROUNDS} rounds, alternating, 1 warm-up each`,
  );
  await viaSandbox();
  await viaRaw();
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['sandbox', 'raw'] as const) : (['raw', 'sandbox'] as const);
    for (const side of order) {
      const ms = side === 'sandbox' ? await viaSandbox() : await viaRaw();
      (side === 'sandbox' ? sandboxMs : rawMs).push(ms);
      const call = callMs[side].at(-1) as number;
      console.log(
        `  round ${r + 1} ${side.padEnd(7)} ${ms.toFixed(1)} ms (call returned after ${call.toFixed(1)} ms)`,
      );
    }
  }
} finally {
  await sb.stop({ graceMs: 1_000 });
  await tmp.remove();
}
const s = median(sandboxMs);
const raw = median(rawMs);
console.log(`median call -> HOTPLUG-BLK: sandbox ${s.toFixed(1)} ms, raw QMP ${raw.toFixed(1)} ms`);
// The warm-ups pushed one call time each; the rounds' are the rest.
console.log(
  `median call -> return (control plane only): sandbox ${median(callMs.sandbox.slice(1)).toFixed(1)} ms, raw QMP ${median(callMs.raw.slice(1)).toFixed(1)} ms`,
);
// Paired: each round's two hotplugs ran back to back, so their ratio cancels slow drifts in load.
const paired = median(sandboxMs.map((ms, i) => ms / (rawMs[i] as number)));
console.log(
  `ratio sandbox/raw: ${(s / raw).toFixed(3)} of medians, ${paired.toFixed(3)} median of per-round ratios (target <= 1.1)`,
);
