/**
 * The sandbox verbs against real QEMU sandboxes booting the default guest, each `vmm` run in-process
 * (`runVmm`, the current sources) and re-attaching from the state directory as a separate process
 * would:
 *
 * - an orphan QEMU left by a manager killed (SIGKILL) while starting a sandbox: `vmm ps` shows it as
 *   `orphaned` with the reason, `vmm stop` kills it and removes every file;
 * - `pause`/`resume` (checked with `ps` and QMP `query-status`) and `hotplug add|remove mem`,
 *   `hotplug add|remove disk` (checked with what the guest prints on its console), on one sandbox;
 * - `run --kernel --initrd` and `run --config` booting the default guest's kernel and initrd.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ensureGuest, type GuestEvent, type GuestImage, parseGuestLine } from '@vmm/guest';
import { Sandbox, type SandboxInfo } from '@vmm/sandbox';
import { guestAccel, isAlive, makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultGuestConfig, type RunSummary } from '../src/commands/run.js';
import { runVmm } from './run-vmm.js';

const DRIVER = fileURLToPath(new URL('./orphan-driver.mjs', import.meta.url));
const BOOT_MS = 240_000;

let tmp: TempDir;
let stateDir: string;
let accel: 'kvm' | 'tcg';
let env: NodeJS.ProcessEnv;
let guest: GuestImage;

const vmm = (...args: string[]) => runVmm(args, env);

async function ps(): Promise<SandboxInfo[]> {
  const r = await vmm('ps', '--json');
  expect(r).toMatchObject({ code: 0, err: '' });
  return JSON.parse(r.out) as SandboxInfo[];
}

/** Live processes whose command line mentions `needle` (a QEMU started for a run directory). */
function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || !isAlive(Number(e))) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle)) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Length of what `vmm console <id>` prints now: a mark to look for later guest events from. */
async function consoleMark(id: string): Promise<number> {
  return (await vmm('console', id)).out.length;
}

/**
 * Poll `vmm console <id>` until a guest event after character `from` satisfies `pick`; fails the
 * test with the console text after `from` when none does within `timeoutMs`.
 */
async function waitForGuest<T>(
  id: string,
  from: number,
  pick: (e: GuestEvent) => T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    const r = await vmm('console', id);
    expect(r.code).toBe(0);
    text = r.out.slice(from);
    for (const line of text.split('\n')) {
      const e = parseGuestLine(line);
      const v = e === undefined ? undefined : pick(e);
      if (v !== undefined) return v;
    }
    if (Date.now() >= deadline) break;
    await sleep(200);
  }
  throw new Error(
    `no matching guest event on ${id}'s console within ${timeoutMs} ms; after the mark:\n${text}`,
  );
}

const memMb = (e: GuestEvent) => (e.kind === 'memMb' ? e.memMb : undefined);

beforeAll(async () => {
  tmp = await makeTempDir('vmm-cli-verbs-');
  stateDir = tmp.join('state');
  const a = guestAccel();
  console.log(`guest accel: ${a.accel} (${a.reason})`);
  accel = a.accel;
  env = { ...process.env, VMM_STATE_DIR: stateDir, VMM_ACCEL: accel };
  guest = await ensureGuest();
}, BOOT_MS);

afterAll(async () => {
  // Whatever a failed test left running (orphans included: stop kills them).
  if (stateDir !== undefined && existsSync(stateDir)) {
    for (const s of await Sandbox.list({ stateDir })) await vmm('stop', s.id, '--grace', '1');
  }
  await tmp?.remove();
});

describe('vmm ps / stop with an orphan QEMU', () => {
  it(
    'shows the QEMU of a manager killed while starting it as orphaned; stop kills it and removes every file',
    async () => {
      const sb = await Sandbox.create(
        { ...defaultGuestConfig(guest), accel },
        { stateDir, id: 'orph', detached: true },
      );
      const driver = spawn(process.execPath, [DRIVER, stateDir, 'orph'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let driverErr = '';
      driver.stderr?.on('data', (d: Buffer) => {
        driverErr += d.toString();
      });
      const driverExited = once(driver, 'exit');
      let qemuPid = 0;
      try {
        for await (const line of createInterface({ input: driver.stdout as NodeJS.ReadableStream })) {
          const m = /^ORPHAN (\d+)$/.exec(line);
          if (m !== null) {
            qemuPid = Number(m[1]);
            break;
          }
        }
      } finally {
        driver.kill('SIGKILL');
        await driverExited;
      }
      expect(qemuPid, `the driver printed no QEMU pid: ${driverErr}`).toBeGreaterThan(0);
      expect(isAlive(qemuPid)).toBe(true);
      expect(processesMentioning(`${sb.paths.runDir}/`)).toEqual([qemuPid]);

      const table = await vmm('ps');
      expect(table.code).toBe(0);
      const lines = table.out.split('\n');
      expect(lines[0]).toMatch(/^ID\s+STATUS\s+PID\s+VCPUS\s+MEM\s+DEVICES\s+CREATED$/);
      expect(lines[1]?.split(/\s+/).slice(0, 6)).toEqual([
        'orph',
        'orphaned',
        String(qemuPid),
        '1',
        '512M',
        '-',
      ]);
      expect(lines[2]).toBe(
        `  orphaned: QEMU pid ${qemuPid} runs this sandbox but its state (created) does not record it: the managing process died while starting it (vmm stop orph kills it)`,
      );
      expect(await ps()).toMatchObject([
        {
          id: 'orph',
          status: 'created',
          pid: null,
          orphan: { pid: qemuPid, reason: expect.stringMatching(/does not record it/) },
        },
      ]);

      expect(await vmm('stop', 'orph')).toEqual({
        code: 0,
        out: `stopped orph (already-stopped; orphan QEMU pid ${qemuPid} killed)\n`,
        err: '',
      });
      expect(isAlive(qemuPid)).toBe(false);
      expect(processesMentioning(`${sb.paths.runDir}/`)).toEqual([]);
      expect(processesMentioning(sb.paths.qmp)).toEqual([]);
      expect(existsSync(sb.paths.runDir)).toBe(false);
      expect(existsSync(sb.paths.socketDir)).toBe(false);
      expect(readdirSync(stateDir).filter((d) => d !== 's')).toEqual([]);
      expect((await vmm('ps')).out).toBe('no sandboxes\n');
      expect(await vmm('stop', 'orph')).toMatchObject({
        code: 1,
        err: expect.stringMatching(/SANDBOX_NOT_FOUND/),
      });
    },
    BOOT_MS,
  );
});

describe('vmm pause / resume / hotplug on one real sandbox', () => {
  it(
    'pauses and resumes it, hotplugs memory and a disk and unplugs them, as the guest reports',
    async () => {
      const run = await vmm('run', '--detach', '--json', '--id', 'live');
      expect(run.code, run.err).toBe(0);
      const summary = JSON.parse(run.out) as RunSummary;
      const pid = summary.pid as number;
      expect(run.err).toMatch(/guest ready: GUEST-READY cpus=1 mem-mb=512 /);
      expect(isAlive(pid)).toBe(true);

      // pause / resume: the recorded status, the table, and QEMU's own run state
      expect(await vmm('pause', 'live')).toEqual({ code: 0, out: 'paused live\n', err: '' });
      expect(await ps()).toMatchObject([{ id: 'live', status: 'paused', pid }]);
      expect((await vmm('ps')).out).toMatch(
        new RegExp(`^live\\s+paused\\s+${pid}\\s+1\\s+512M\\s+-\\s`, 'm'),
      );
      expect(await vmm('qmp', 'live', 'query-status', '--compact')).toEqual({
        code: 0,
        out: '{"status":"paused","singlestep":false,"running":false}\n',
        err: '',
      });
      expect(await vmm('resume', 'live')).toEqual({ code: 0, out: 'resumed live\n', err: '' });
      expect(await ps()).toMatchObject([{ id: 'live', status: 'running', pid }]);
      expect((await vmm('ps')).out).toMatch(new RegExp(`^live\\s+running\\s+${pid}\\s`, 'm'));
      expect(await vmm('qmp', 'live', 'query-status', '--compact')).toEqual({
        code: 0,
        out: '{"status":"running","singlestep":false,"running":true}\n',
        err: '',
      });

      // memory: a 128 MiB pc-dimm the guest onlines (MEM-MB 640)
      let mark = await consoleMark('live');
      expect(await vmm('hotplug', 'add', 'mem', 'live', '128')).toEqual({
        code: 0,
        out: 'live: added dimm0 (128 MiB)\n',
        err: '',
      });
      expect(await waitForGuest('live', mark, memMb)).toBe(640);
      expect(await ps()).toMatchObject([
        { id: 'live', memoryMiB: 640, devices: [{ id: 'dimm0', kind: 'memory', sizeMiB: 128 }] },
      ]);

      // a disk on a PCIe root port, then unplugged (the guest sees it come and go)
      const img = tmp.join('disk.img');
      await writeFile(img, Buffer.alloc(4 << 20));
      mark = await consoleMark('live');
      const add = await vmm('hotplug', 'add', 'disk', 'live', img, '--driver', 'virtio-blk');
      expect(add).toMatchObject({
        code: 0,
        out: expect.stringMatching(/^live: added disk0 on rp0/),
        err: '',
      });
      const dev = await waitForGuest('live', mark, (e) => (e.kind === 'hotplugBlk' ? e.device : undefined));
      expect(dev).toMatch(/^vd[a-z]$/);
      mark = await consoleMark('live');
      expect(await vmm('hotplug', 'remove', 'disk', 'live', 'disk0')).toEqual({
        code: 0,
        out: 'live: removed disk0\n',
        err: '',
      });
      expect(await waitForGuest('live', mark, (e) => (e.kind === 'unplugBlk' ? e.device : undefined))).toBe(
        dev,
      );
      expect((await ps())[0]?.devices.map((d) => d.id)).toEqual(['dimm0']);

      // the memory goes away again (MEM-MB 512)
      mark = await consoleMark('live');
      expect(await vmm('hotplug', 'remove', 'mem', 'live', 'dimm0')).toEqual({
        code: 0,
        out: 'live: removed dimm0\n',
        err: '',
      });
      expect(await waitForGuest('live', mark, memMb)).toBe(512);
      expect(await ps()).toMatchObject([{ id: 'live', status: 'running', pid, memoryMiB: 512, devices: [] }]);
      expect((await vmm('ps')).out).toMatch(
        new RegExp(`^live\\s+running\\s+${pid}\\s+1\\s+512M\\s+-\\s`, 'm'),
      );

      expect(await vmm('stop', 'live')).toEqual({ code: 0, out: 'stopped live (quit)\n', err: '' });
      expect(isAlive(pid)).toBe(false);
      expect((await vmm('ps')).out).toBe('no sandboxes\n');
    },
    BOOT_MS,
  );
});

describe('vmm run with an explicit kernel or config', () => {
  /** Wait for the guest's GUEST-READY, check ps, stop, and check nothing is left. */
  async function readyThenStop(summary: RunSummary): Promise<Extract<GuestEvent, { kind: 'ready' }>> {
    const ready = await waitForGuest(summary.id, 0, (e) => (e.kind === 'ready' ? e : undefined), BOOT_MS / 2);
    expect(await ps()).toMatchObject([{ id: summary.id, status: 'running', pid: summary.pid }]);
    expect(await vmm('stop', summary.id)).toEqual({
      code: 0,
      out: `stopped ${summary.id} (quit)\n`,
      err: '',
    });
    expect(isAlive(summary.pid as number)).toBe(false);
    expect(processesMentioning(`${stateDir}/${summary.id}/`)).toEqual([]);
    expect((await vmm('ps')).out).toBe('no sandboxes\n');
    return ready;
  }

  it(
    'run --kernel --initrd boots the default guest kernel and initrd',
    async () => {
      const run = await vmm(
        'run',
        '--detach',
        '--json',
        '--id',
        'kern',
        '--kernel',
        guest.kernel,
        '--initrd',
        guest.initrd,
        '--append',
        guest.defaultAppend.join(' '),
        '--memory',
        '256',
      );
      expect(run.code, run.err).toBe(0);
      const summary = JSON.parse(run.out) as RunSummary;
      expect(summary).toMatchObject({ id: 'kern', accel, stateDir, guestReadySeconds: null });
      expect(run.err).toMatch(/QEMU started \(pid \d+\); QMP ready/);
      expect(await readyThenStop(summary)).toMatchObject({ cpus: 1, memMb: 256, blk: [], net: [] });
    },
    BOOT_MS,
  );

  it(
    'run --config boots a HypervisorConfig from a JSON file',
    async () => {
      const file = tmp.join('sandbox.json');
      await writeFile(
        file,
        JSON.stringify({
          kernelPath: guest.kernel,
          initrdPath: guest.initrd,
          kernelParams: guest.defaultAppend.join(' '),
          hypervisorMachineType: 'q35',
          numVcpus: 2,
          defaultMaxVcpus: 4,
          memorySize: 384,
        }),
      );
      const run = await vmm('run', '--detach', '--json', '--id', 'conf', '--config', file);
      expect(run.code, run.err).toBe(0);
      const summary = JSON.parse(run.out) as RunSummary;
      expect(summary).toMatchObject({ id: 'conf', accel, stateDir });
      expect(await ps()).toMatchObject([{ id: 'conf', vcpus: 2, memoryMiB: 384 }]);
      expect(await readyThenStop(summary)).toMatchObject({ cpus: 2, memMb: 384, blk: [], net: [] });
    },
    BOOT_MS,
  );
});
