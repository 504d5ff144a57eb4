import type { Socket } from 'node:net';
import { connectTestQmp, makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QemuHypervisor, type QemuState, Sandbox, SandboxError } from '../src/index.js';
import { accel, guestConfig, makeTapFd, marker, tunFdsOf } from './helpers.js';

/** Bytes received on a socket so far, as text. */
function collect(sock: Socket): () => string {
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  return () => Buffer.concat(chunks).toString('utf8');
}

describe('pc sandbox with the console shell: console input, net hotplug rollback on a bridge', () => {
  let tmp: TempDir;
  let sb: Sandbox;
  const wait = { timeoutMs: 30_000 } as const;

  beforeAll(async () => {
    tmp = await makeTempDir('vmm-g7-');
    const config = await guestConfig({ hypervisorMachineType: 'pc', append: ['probe.shell=1'] });
    sb = await Sandbox.create(config, { stateDir: tmp.join('state'), host: { accel: accel() } });
    await sb.start();
    await sb.console().waitFor(marker('ready'), { ...wait, exited: sb.exited });
  });

  afterAll(async () => {
    await sb?.stop({ graceMs: 1_000 }).catch(() => undefined);
    await tmp?.remove();
  });

  /** Run `fn` on a QMP session of the test's own (under the sandbox lock). */
  function withQmp<T>(fn: (q: Awaited<ReturnType<typeof connectTestQmp>>) => Promise<T>): Promise<T> {
    return sb.withQmpSocket(async (path) => {
      const q = await connectTestQmp(path);
      try {
        return await fn(q);
      } finally {
        await q.close();
      }
    });
  }

  it('a line written through connect() is run by the guest shell: the answer is logged and streamed', async () => {
    const con = sb.console();
    const sock = await con.connect();
    const live = collect(sock);
    try {
      // The shell must evaluate the line for the product to appear: the tty's echo of the typed
      // line shows `$((a*b))`, never its value. `PS1=` keeps the prompt off the following lines.
      const a = 1_000 + (process.pid % 8_999);
      const b = 7_919;
      const answer = `g7-answer-${a * b}`;
      const line = `PS1=; echo g7-answer-$((${a}*${b}))\n`;
      const from = await con.mark();
      let found: { line: string; next: number } | undefined;
      // The shell starts right after GUEST-READY: input sent before it opened the tty may be lost,
      // so the line is sent again (same answer) until the shell has read one.
      for (let attempt = 0; attempt < 10 && found === undefined; attempt++) {
        sock.write(line);
        found = await con
          .waitFor((l) => (l.trim() === answer ? l : undefined), { timeoutMs: 3_000, from })
          .catch((err: unknown) => {
            if (SandboxError.is(err) && err.code === 'SANDBOX_TIMEOUT') return undefined;
            throw err;
          });
      }
      expect(found?.line.trim()).toBe(answer);
      const log = await con.read(from);
      // The typed line reached the guest's tty (its echo is in the log) ...
      expect(log).toContain(`echo g7-answer-$((${a}*${b}))`);
      // ... and the same output reached the connected client live.
      for (let i = 0; i < 200 && !live().includes(answer); i++) await new Promise((r) => setTimeout(r, 25));
      expect(live()).toContain(answer);
    } finally {
      sock.destroy();
    }
    // A second client after the first one left: input still reaches the shell.
    const again = await con.connect();
    try {
      const from = await con.mark();
      again.resume();
      again.write('echo g7-second-$((6*7))\n');
      const m = await con.waitFor((l) => (l.trim() === 'g7-second-42' ? l : undefined), { ...wait, from });
      expect(m.line.trim()).toBe('g7-second-42');
    } finally {
      again.destroy();
    }
  });

  it('rolls back a net hotplug QEMU refuses after netdev_add: netdev and tap fd gone, bridge slot free', async () => {
    const tap = await makeTapFd(tmp.path);
    if (typeof tap === 'string') throw new Error(`this test needs a tap device: ${tap}`);
    await using _tap = tap;
    const hv = sb.hypervisor as QemuHypervisor;
    const pid = hv.pid as number;
    expect(tunFdsOf(pid)).toBe(0);
    const bridgeDevices = (): Record<string, string>[] =>
      ((hv.toState() as unknown as QemuState).bridges as { devices: Record<string, string> }[]).map(
        (br) => br.devices,
      );
    expect(bridgeDevices()).toEqual([{}]);
    // An id QEMU already uses (the bridge's own) that vmm has no record of: `netdev_add` succeeds,
    // `device_add` fails on the duplicate id.
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await sb
        .hotplugAdd({ kind: 'net', id: 'pci-bridge-0', tapFds: [tap.fd], mac: '52:54:00:12:34:56' })
        .catch((e: unknown) => e);
      expect(SandboxError.is(err)).toBe(true);
      expect(err).toMatchObject({ code: 'SANDBOX_HOTPLUG_FAILED' });
      expect((err as Error).message).toMatch(/device_add|Duplicate ID/i);
      // The second attempt fails the same way: the first one's `netdev-pci-bridge-0` was deleted
      // (else its `netdev_add` would fail on the duplicate netdev id).
      expect((err as Error).message).not.toMatch(/netdev_add|netdev-pci-bridge-0/i);
      expect(sb.info().devices).toEqual([]);
      expect(bridgeDevices()).toEqual([{}]);
      // QEMU closed its copy of the tap fd with the netdev.
      expect(tunFdsOf(pid)).toBe(0);
    }
    const network = await withQmp(
      async (q) => (await q.execute('human-monitor-command', { 'command-line': 'info network' })) as string,
    );
    expect(network).not.toContain('netdev-pci-bridge-0');
    // The freed slot 1 is the next device's.
    const con = sb.console();
    let mark = await con.mark();
    const r = await sb.hotplugAdd({ kind: 'net', id: 'net1', tapFds: [tap.fd], mac: '52:54:00:12:34:57' });
    expect(r).toEqual({ id: 'net1', kind: 'net', bus: 'pci-bridge-0', addr: '01', guestAddress: '02/01' });
    expect(bridgeDevices()).toEqual([{ 1: 'net1' }]);
    expect(tunFdsOf(pid)).toBe(1);
    const plugged = await con.waitFor(marker('hotplugNet'), { ...wait, from: mark });
    expect(plugged.value.device).toMatch(/^eth\d$/);
    const info = await withQmp(
      async (q) => (await q.execute('human-monitor-command', { 'command-line': 'info network' })) as string,
    );
    expect(info).toContain('netdev-net1');
    expect(info).toContain('52:54:00:12:34:57');
    mark = await con.mark();
    await sb.hotplugRemove('net1');
    expect((await con.waitFor(marker('unplugNet'), { ...wait, from: mark })).value.device).toBe(
      plugged.value.device,
    );
    expect(tunFdsOf(pid)).toBe(0);
    expect(bridgeDevices()).toEqual([{}]);
    expect(sb.info().devices).toEqual([]);
  });
});
