/**
 * Custom assets on a real QEMU booting the default guest: the kernel and initrd of `customAssets`
 * (copies in a temp dir, verified by SHA-512) override the configured `kernelPath`/`initrdPath`
 * (empty decoys) and the guest boots from them; a wrong digest refuses `Sandbox.create` before
 * anything runs or is written; a custom hypervisor asset is the QEMU binary that runs. The console
 * log of the booted guest holds its very first output (the firmware banner), written before anyone
 * attached to the console.
 *
 * Two VMs boot in all: one with the custom kernel and initrd, one with the custom hypervisor.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HypervisorConfig,
  type QemuHypervisor,
  Sandbox,
  SandboxError,
  sandboxPaths,
} from '../src/index.js';
import { accel, defaultGuest, guestConfig, marker } from './helpers.js';
import { filesUnder, livePidsMentioning, rejection } from './i8-util.js';

/** The QEMU binary the host has (and the sandbox's default on amd64). */
const HOST_QEMU = '/usr/bin/qemu-system-x86_64';

/** Hex SHA-512 of a file, computed here independently of the library. */
async function sha512(path: string): Promise<string> {
  return createHash('sha512')
    .update(await readFile(path))
    .digest('hex');
}

/** The NUL-separated command line of a live process. */
function cmdlineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
}

/** The value following `flag` in an argv (`-kernel <path>`), or `undefined`. */
function argAfter(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i < 0 ? undefined : argv[i + 1];
}

const ANSI = /\u001b(?:\[[0-9;?]*[A-Za-z]|[A-Za-z])/g;

let tmp: TempDir;
let hostAccel: 'kvm' | 'tcg';
/** Copies of the default guest's kernel and initrd (the custom assets) and their digests. */
let kernel: { path: string; sha512: string };
let initrd: { path: string; sha512: string };
/** Empty files the configured paths point at: booting from them could never reach GUEST-READY. */
let decoyKernel: string;
let decoyInitrd: string;
let decoyQemu: string;
let base: HypervisorConfig;
const wait = { timeoutMs: 90_000 } as const;

beforeAll(async () => {
  tmp = await makeTempDir('vmm-g7as-');
  hostAccel = accel();
  const g = await defaultGuest();
  kernel = { path: tmp.join('assets', 'custom-vmlinux'), sha512: '' };
  initrd = { path: tmp.join('assets', 'custom-initrd.cpio'), sha512: '' };
  decoyKernel = tmp.join('decoy', 'vmlinux');
  decoyInitrd = tmp.join('decoy', 'initrd.cpio');
  decoyQemu = tmp.join('decoy', 'qemu-system-x86_64');
  await mkdir(tmp.join('assets'));
  await mkdir(tmp.join('decoy'));
  await copyFile(g.kernel, kernel.path);
  await copyFile(g.initrd, initrd.path);
  for (const d of [decoyKernel, decoyInitrd, decoyQemu]) await writeFile(d, '');
  kernel.sha512 = await sha512(kernel.path);
  initrd.sha512 = await sha512(initrd.path);
  // The copies are what the test says they are: the default guest's files.
  expect(kernel.sha512).toBe(await sha512(g.kernel));
  expect(initrd.sha512).toBe(await sha512(g.initrd));
  base = await guestConfig({ kernelPath: decoyKernel, initrdPath: decoyInitrd });
}, 120_000);

afterAll(async () => {
  await tmp?.remove();
});

describe('custom kernel and initrd assets (digests verified) override the configured decoys', () => {
  let sb: Sandbox;
  let bootMs = 0;

  beforeAll(async () => {
    sb = await Sandbox.create(
      {
        ...base,
        customAssets: {
          // Digests are hex in either case.
          kernel: { path: kernel.path, sha512: kernel.sha512.toUpperCase() },
          initrd: { path: initrd.path, sha512: initrd.sha512 },
        },
      },
      { stateDir: tmp.join('boot'), host: { accel: hostAccel } },
    );
    const t0 = performance.now();
    await sb.start();
    await sb.console().waitFor(marker('ready'), { ...wait, exited: sb.exited });
    bootMs = performance.now() - t0;
    console.log(`custom kernel+initrd guest ready in ${Math.round(bootMs)} ms`);
  }, 120_000);

  afterAll(async () => {
    await sb?.stop({ graceMs: 1_000 }).catch(() => undefined);
  });

  it('the guest reached GUEST-READY, and QEMU runs with the custom paths, never the decoys', async () => {
    const hv = sb.hypervisor as QemuHypervisor;
    expect(sb.status).toBe('running');
    expect(hv.config.kernelPath).toBe(kernel.path);
    expect(hv.config.initrdPath).toBe(initrd.path);
    // The recorded argv, the persisted state and the live process all say the same.
    const state = JSON.parse(readFileSync(sb.paths.state, 'utf8')) as {
      hypervisor: { argv: string[]; qemuPath: string };
    };
    const pid = sb.info().pid;
    expect(pid).toBeTypeOf('number');
    const live = cmdlineOf(pid as number).slice(1);
    for (const argv of [hv.argv, state.hypervisor.argv, live]) {
      expect(argAfter(argv, '-kernel')).toBe(kernel.path);
      expect(argAfter(argv, '-initrd')).toBe(initrd.path);
      expect(argv.filter((a) => a.includes(tmp.join('decoy')))).toEqual([]);
    }
    expect(live).toEqual([...hv.argv]);
    // No hypervisor asset: the host's QEMU.
    expect(hv.qemuPath).toBe(HOST_QEMU);
  });

  it("the console log holds the boot's very first output (the firmware banner), written before anyone attached", async () => {
    // Attach a client only now, after GUEST-READY: what came before must already be in the log.
    const sock = await sb.console().connect();
    sock.resume();
    try {
      const log = await sb.console().read(0);
      expect(log).toBe(readFileSync(sb.paths.consoleLog, 'utf8'));
      const lines = log.split('\n').map((l) => l.replace(/\r$/, ''));
      // Byte 0 of the log is SeaBIOS's first write (its terminal reset), then its banner.
      expect(log.startsWith('\u001bc')).toBe(true);
      expect(lines[0]?.replace(ANSI, '')).toMatch(/^SeaBIOS \(version [^)]+\)$/);
      // The next line is this VM's own: SeaBIOS prints the UUID QEMU was given.
      const uuid = argAfter((sb.hypervisor as QemuHypervisor).argv, '-uuid');
      expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines[1]).toBe(`Machine UUID ${uuid}`);
      // The readers see it from the first byte: the banner is found before the ready marker.
      const banner = await sb.console().waitFor((l) => (/SeaBIOS \(version/.test(l) ? true : undefined), {
        from: 0,
        timeoutMs: 1_000,
      });
      const ready = await sb.console().waitFor(marker('ready'), { from: 0, timeoutMs: 1_000 });
      expect(banner.next).toBe(Buffer.byteLength(`${lines[0]}\r\n`));
      expect(banner.next).toBeLessThan(ready.next);
    } finally {
      sock.destroy();
    }
  });
});

describe('a wrong custom-asset digest refuses Sandbox.create before anything runs', () => {
  it.each<[string, 'initrd' | 'hypervisor']>([
    ['the initrd', 'initrd'],
    ['the hypervisor binary', 'hypervisor'],
  ])('%s with the digest of other content: SANDBOX_ASSET_DIGEST_MISMATCH naming it', async (_what, kind) => {
    const stateDir = tmp.join(`refused-${kind}`);
    const id = `refused-${kind}`;
    const wrong = await sha512(kind === 'initrd' ? kernel.path : initrd.path);
    const actual = kind === 'initrd' ? initrd.sha512 : await sha512(HOST_QEMU);
    const config: HypervisorConfig = {
      ...base,
      customAssets: {
        kernel: { path: kernel.path, sha512: kernel.sha512 },
        initrd: { path: initrd.path, sha512: kind === 'initrd' ? wrong : initrd.sha512 },
        ...(kind === 'hypervisor' ? { hypervisor: { path: HOST_QEMU, sha512: wrong } } : {}),
      },
    };
    const { err } = await rejection(Sandbox.create(config, { id, stateDir, host: { accel: hostAccel } }));
    expect(SandboxError.is(err)).toBe(true);
    expect(err).toMatchObject({ code: 'SANDBOX_ASSET_DIGEST_MISMATCH', path: `customAssets.${kind}.sha512` });
    const message = (err as Error).message;
    expect(message).toContain(`customAssets.${kind}`);
    expect(message).toContain(kind === 'initrd' ? initrd.path : HOST_QEMU);
    expect(message).toContain(wrong);
    expect(message).toContain(actual);
    // Nothing was started or written: no QEMU, no run directory, no sandbox to list.
    expect(livePidsMentioning(stateDir)).toEqual([]);
    expect(existsSync(sandboxPaths(stateDir, id).runDir)).toBe(false);
    expect(await filesUnder(stateDir)).toEqual([]);
    expect(await Sandbox.list({ stateDir })).toEqual([]);
  });
});

describe('a custom hypervisor asset (digest verified) is the QEMU that runs', () => {
  let sb: Sandbox | undefined;

  afterAll(async () => {
    await sb?.stop({ graceMs: 1_000 }).catch(() => undefined);
  });

  it('the configured hypervisorPath (an empty decoy) is overridden: QEMU is the custom binary', async () => {
    const qemuSha = await sha512(HOST_QEMU);
    sb = await Sandbox.create(
      {
        ...base,
        hypervisorPath: decoyQemu,
        customAssets: {
          kernel: { path: kernel.path, sha512: kernel.sha512 },
          initrd: { path: initrd.path, sha512: initrd.sha512 },
          hypervisor: { path: HOST_QEMU, sha512: qemuSha },
        },
      },
      { stateDir: tmp.join('hv'), host: { accel: hostAccel } },
    );
    const hv = sb.hypervisor as QemuHypervisor;
    expect(hv.qemuPath).toBe(HOST_QEMU);
    const t0 = performance.now();
    await sb.start();
    await sb.console().waitFor(marker('ready'), { ...wait, exited: sb.exited });
    console.log(`custom hypervisor guest ready in ${Math.round(performance.now() - t0)} ms`);
    const pid = sb.info().pid as number;
    expect(pid).toBeTypeOf('number');
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe(HOST_QEMU);
    expect(cmdlineOf(pid)[0]).toBe(HOST_QEMU);
    const state = JSON.parse(readFileSync(sb.paths.state, 'utf8')) as { hypervisor: { qemuPath: string } };
    expect(state.hypervisor.qemuPath).toBe(HOST_QEMU);
    await sb.stop({ graceMs: 1_000 });
    expect(livePidsMentioning(sb.paths.runDir)).toEqual([]);
    expect(existsSync(sb.paths.runDir)).toBe(false);
  }, 120_000);
});
