/**
 * Test helpers: boot the default guest in a real QEMU (through @vmm/test-utils' spawnQemu, so it
 * never leaks), follow its serial console through a file chardev, and speak raw QMP JSON lines
 * (@vmm/qmp is written concurrently; this needs only execute + events).
 */
import { open, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { type AccelChoice, guestAccel, type QemuProcess, spawnQemu } from '@vmm/test-utils';
import { createGuestConsoleParser, type GuestEvent, type GuestImage } from '../../src/index.js';

/** Follows a growing file line by line and parses guest markers. */
export class ConsoleTail {
  readonly lines: string[] = [];
  readonly events: { event: GuestEvent; at: number }[] = [];
  #offset = 0;
  #parser = createGuestConsoleParser();
  #timer: NodeJS.Timeout | undefined;
  #path: string;
  #reading = false;

  constructor(path: string) {
    this.#path = path;
    this.#timer = setInterval(() => void this.#poll(), 20);
  }

  async #poll(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      const fh = await open(this.#path, 'r').catch(() => undefined);
      if (fh === undefined) return;
      try {
        const buf = Buffer.alloc(64 * 1024);
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, this.#offset);
          if (bytesRead === 0) break;
          this.#offset += bytesRead;
          for (const { line, event } of this.#parser.push(buf.subarray(0, bytesRead))) {
            this.lines.push(line);
            if (event !== undefined) this.events.push({ event, at: Date.now() });
          }
        }
      } finally {
        await fh.close();
      }
    } finally {
      this.#reading = false;
    }
  }

  /** Wait for an event after index `from` (default: any so far) that matches. */
  async waitFor<K extends GuestEvent['kind']>(
    kind: K,
    match: (e: Extract<GuestEvent, { kind: K }>) => boolean = () => true,
    { timeoutMs = 30_000, from = 0 }: { timeoutMs?: number; from?: number } = {},
  ): Promise<{ event: Extract<GuestEvent, { kind: K }>; at: number; index: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.events.length; i++) {
        const e = this.events[i]!;
        if (e.event.kind === kind && match(e.event as Extract<GuestEvent, { kind: K }>)) {
          return { event: e.event as Extract<GuestEvent, { kind: K }>, at: e.at, index: i };
        }
      }
      if (Date.now() > deadline) {
        throw new Error(
          `no ${kind} marker within ${timeoutMs} ms; console:\n${this.lines.slice(-40).join('\n')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** Minimal QMP: JSON lines over the unix socket. */
export class RawQmp {
  readonly events: { event: string; data: Record<string, unknown>; at: number }[] = [];
  #sock: Socket;
  #buf = '';
  #id = 0;
  #pending = new Map<number, Pending>();
  #greeting: Promise<void>;

  constructor(path: string) {
    this.#sock = createConnection(path);
    this.#sock.setEncoding('utf8');
    let greeted: () => void;
    this.#greeting = new Promise((r) => {
      greeted = r;
    });
    this.#sock.on('data', (d: string) => {
      this.#buf += d;
      for (let nl = this.#buf.indexOf('\n'); nl >= 0; nl = this.#buf.indexOf('\n')) {
        const msg = JSON.parse(this.#buf.slice(0, nl)) as Record<string, unknown>;
        this.#buf = this.#buf.slice(nl + 1);
        if ('QMP' in msg) greeted();
        else if (typeof msg.event === 'string') {
          this.events.push({
            event: msg.event,
            data: (msg.data ?? {}) as Record<string, unknown>,
            at: Date.now(),
          });
        } else if (typeof msg.id === 'number') {
          const p = this.#pending.get(msg.id);
          this.#pending.delete(msg.id);
          if ('error' in msg) p?.reject(new Error(JSON.stringify(msg.error)));
          else p?.resolve(msg.return);
        }
      }
    });
    const fail = (): void => {
      for (const p of this.#pending.values()) p.reject(new Error('QMP connection closed'));
      this.#pending.clear();
    };
    this.#sock.on('close', fail);
    this.#sock.on('error', fail);
  }

  static async connect(path: string): Promise<RawQmp> {
    const q = new RawQmp(path);
    await q.#greeting;
    await q.execute('qmp_capabilities');
    return q;
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#sock.write(
        `${JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id })}\n`,
      );
    });
  }

  async waitEvent(
    name: string,
    match: (data: Record<string, unknown>) => boolean = () => true,
    { timeoutMs = 30_000, from = 0 }: { timeoutMs?: number; from?: number } = {},
  ): Promise<{ data: Record<string, unknown>; at: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.slice(from).find((x) => x.event === name && match(x.data));
      if (e !== undefined) return e;
      if (Date.now() > deadline) {
        throw new Error(
          `no QMP event ${name} within ${timeoutMs} ms; events: ${JSON.stringify(this.events.slice(from))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.#sock.destroy();
  }
}

/** A booted guest: its QEMU, console and QMP. */
export interface GuestVm {
  qemu: QemuProcess;
  console: ConsoleTail;
  qmp: RawQmp;
  accel: AccelChoice;
  spawnedAt: number;
  /** The console tail, QMP events and QEMU's stderr, for a failing test's output. */
  diagnostics(): string;
  stop(): Promise<void>;
}

/**
 * Start QEMU (q35, PVH vmlinux, `-cpu qemu64`, memory and CPU hotplug room, two PCIe root ports)
 * running the guest, with its serial console on a file. Does not wait for GUEST-READY.
 * `machineOptions` are appended to `-machine q35` (e.g. `nvdimm=on`).
 */
export async function startGuestVm(
  image: GuestImage,
  options: { append?: string[]; extraArgs?: string[]; machineOptions?: string[] } = {},
): Promise<GuestVm> {
  const accel = guestAccel();
  const spawnedAt = Date.now();
  // spawnQemu creates the directory holding the QMP socket; the console file goes in /tmp beside it.
  const serial = join('/tmp', `vmm-guest-serial-${process.pid}-${spawnedAt}.log`);
  const qemu = await spawnQemu({
    accel: accel.accel,
    machine: null,
    paused: false,
    timeoutMs: 30_000,
    args: [
      '-machine',
      ['q35', ...(options.machineOptions ?? [])].join(','),
      '-cpu',
      'qemu64',
      '-m',
      '256,slots=2,maxmem=1G',
      '-smp',
      '1,maxcpus=4',
      '-no-reboot',
      '-chardev',
      `file,id=ser0,path=${serial}`,
      '-serial',
      'chardev:ser0',
      '-device',
      'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1',
      '-device',
      'pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2',
      '-kernel',
      image.kernel,
      '-initrd',
      image.initrd,
      '-append',
      [...image.defaultAppend, ...(options.append ?? [])].join(' '),
      ...(options.extraArgs ?? []),
    ],
  }).catch(async (error: unknown) => {
    await rm(serial, { force: true });
    throw error;
  });
  const console = new ConsoleTail(serial);
  let qmp: RawQmp;
  try {
    qmp = await RawQmp.connect(qemu.qmpPath);
  } catch (error) {
    console.stop();
    await qemu.kill();
    await rm(serial, { force: true });
    throw error;
  }
  return {
    qemu,
    console,
    qmp,
    accel,
    spawnedAt,
    diagnostics: () =>
      [
        `console (last 60 lines):\n${console.lines.slice(-60).join('\n')}`,
        `QMP events:\n${qmp.events.map((e) => JSON.stringify(e)).join('\n')}`,
        `QEMU stderr:\n${qemu.stderr()}`,
      ].join('\n'),
    stop: async () => {
      qmp.close();
      console.stop();
      await qemu.kill();
      await rm(serial, { force: true });
    },
  };
}
