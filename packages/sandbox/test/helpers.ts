/**
 * Shared helpers of the sandbox integration tests: the default guest, a sandbox config for it, the
 * guest's console markers, and a tap fd made in a throwaway network namespace.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { recvWithFds } from '@vmm/fdpass';
import { ensureGuest, type GuestEvent, type GuestImage, parseGuestLine } from '@vmm/guest';
import { activeResources, guestAccel, openSocketCount, resourcesAdded } from '@vmm/test-utils';
import type { HypervisorConfig } from '../src/index.js';

let guest: Promise<GuestImage> | undefined;

/** The default guest (built on first use, cached). */
export function defaultGuest(): Promise<GuestImage> {
  guest ??= ensureGuest();
  return guest;
}

/** The accelerator to boot with, printed once so the output says which ran. */
export function accel(): 'kvm' | 'tcg' {
  const a = guestAccel();
  console.log(`guest accel: ${a.accel} (${a.reason})`);
  return a.accel;
}

/** A small sandbox config booting the default guest. */
export async function guestConfig(
  extra: Partial<HypervisorConfig> & { append?: string[] } = {},
): Promise<HypervisorConfig> {
  const g = await defaultGuest();
  const { append = [], ...rest } = extra;
  return {
    kernelPath: g.kernel,
    initrdPath: g.initrd,
    kernelParams: [...g.defaultAppend, ...append].join(' '),
    memorySize: 256,
    defaultMaxVcpus: 4,
    ...rest,
  };
}

/** A console matcher for one guest event kind (markers after unterminated firmware output included). */
export function marker<K extends GuestEvent['kind']>(
  kind: K,
): (line: string) => Extract<GuestEvent, { kind: K }> | undefined {
  return (line) => {
    const e = parseGuestLine(line);
    return e?.kind === kind ? (e as Extract<GuestEvent, { kind: K }>) : undefined;
  };
}

/** Processes whose command line mentions `needle` (leak check for QEMUs started in a run dir). */
export function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      // exited
    }
  }
  return out;
}

/** A tap device in a network namespace of its own, and an open fd on it. */
export interface TapFd extends AsyncDisposable {
  readonly fd: number;
  readonly netns: string;
}

/**
 * Make a network namespace with a tap device in it (`ip netns add`, `ip tuntap add`), open the tap
 * there (a python3 helper does TUNSETIFF in the namespace) and receive its fd over SCM_RIGHTS.
 * Needs root (CAP_NET_ADMIN). Returns `undefined` with the reason when that is not possible here.
 */
export async function makeTapFd(dir: string): Promise<TapFd | string> {
  if (process.getuid?.() !== 0) return 'not root (CAP_NET_ADMIN needed for ip netns / ip tuntap)';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  const netns = `vmmtest${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', netns], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'exec', netns, 'ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'], {
      stdio: 'pipe',
    });
  } catch (err) {
    try {
      execFileSync('ip', ['netns', 'del', netns], { stdio: 'pipe' });
    } catch {
      // not created
    }
    return `ip netns/tuntap failed: ${(err as Error).message}`;
  }
  const path = `${dir}/tapfd.sock`;
  const server = createServer({ pauseOnConnect: true });
  server.listen(path);
  await once(server, 'listening');
  const py = `
import array, fcntl, os, socket, struct
fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'tap0', 0x0002 | 0x1000))
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(${JSON.stringify(path)})
socket.send_fds(s, [b'x'], [fd])
s.recv(1)
`;
  const helper = spawn('ip', ['netns', 'exec', netns, 'python3', '-c', py], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  helper.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [conn] = (await Promise.race([
    once(server, 'connection'),
    once(helper, 'exit').then(() => {
      throw new Error(`tap helper failed: ${stderr}`);
    }),
  ])) as [Socket];
  conn.pause();
  let fd: number | undefined;
  for (let i = 0; i < 200 && fd === undefined; i++) {
    const r = recvWithFds(conn);
    if (r !== null && r.fds.length > 0) fd = r.fds[0];
    else await sleep(10);
  }
  conn.destroy();
  server.close();
  await once(helper, 'exit');
  if (fd === undefined) return 'no fd received from the tap helper';
  const theFd = fd;
  return {
    fd: theFd,
    netns,
    async [Symbol.asyncDispose]() {
      const { closeFd } = await import('@vmm/fdpass');
      closeFd(theFd);
      execFileSync('ip', ['netns', 'del', netns], { stdio: 'pipe' });
    },
  };
}

/**
 * Live handles of this process (`Timeout`, `ProcessWrap`, `PipeWrap`, ...), plus one `socket` per
 * open socket fd. Compare a snapshot before the code under test with one after: nothing may have been
 * added ({@link handlesAdded}).
 */
export function handleCounts(): string[] {
  return [...activeResources(), ...Array<string>(openSocketCount()).fill('socket')];
}

/** Kinds that grew between two {@link handleCounts} snapshots (empty: nothing leaked). */
export const handlesAdded: (before: readonly string[], after: readonly string[]) => string[] = resourcesAdded;

/**
 * How many fds QEMU (`pid`) holds on /dev/net/tun: one per tap queue of a live netdev. The tap was
 * opened in another mount namespace (`ip netns exec`), so the link reads `/net/tun` from here.
 */
export function tunFdsOf(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (/(^|\/)net\/tun$/.test(readlinkSync(`/proc/${pid}/fd/${fd}`))) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}
