/**
 * Crash safety (issue 8): a child Node process (i8-crash-driver.mjs) drives one sandbox through
 * create, start, hotplug add/remove and stop; the test kill -9s it at a random step (seeded RNG,
 * printed: `I8_CRASH_SEED=<seed>` reproduces a run) and then checks, each time:
 *
 * - every sandbox directory holds a state file that parses (no torn or half-created sandbox);
 * - `Sandbox.list()` tells the truth: `running`/`paused` only with the live QEMU's pid, and no QEMU
 *   runs for a sandbox it lists as `created`/`stopped` unless it names it as an orphan with a reason;
 * - a running sandbox can be attached to and driven (pause/resume over QMP);
 * - the hotplug records match what QEMU has (`qom-list /machine/peripheral`), and no bridge slot is
 *   given twice;
 * - `stop()` removes everything: no QEMU, socket or directory left.
 *
 * Bounded: at most I8_CRASH_ITERATIONS kills (default 16) and I8_CRASH_BUDGET_MS (default 150 s).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { connectQmp } from '@vmm/qmp';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStateFile, Sandbox } from '../src/index.js';
import { accel } from './helpers.js';
import { filesUnder, lightConfig, livePidsMentioning } from './i8-util.js';

const STEPS = ['create', 'start', 'ready', 'add d0', 'add d1', 'remove d0', 'add d2', 'remove d1', 'stop'];
const ITERATIONS = Number(process.env.I8_CRASH_ITERATIONS ?? 16);
const BUDGET_MS = Number(process.env.I8_CRASH_BUDGET_MS ?? 150_000);
const SEED = Number(process.env.I8_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ID = 'crashbox';

/** mulberry32: a small seeded PRNG, so a failing sequence of kill points can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

let tmp: TempDir;
let stateDir: string;
let configPath: string;
let image: string;
let hostAccel: 'kvm' | 'tcg';
const driver = new URL('./i8-crash-driver.mjs', import.meta.url).pathname;
const pkgDir = new URL('..', import.meta.url).pathname;

beforeAll(async () => {
  // The driver runs the built package: build it from the current sources.
  execFileSync('pnpm', ['exec', 'tsc', '-p', 'tsconfig.build.json'], { cwd: pkgDir, stdio: 'pipe' });
  tmp = await makeTempDir('vmm-i8c-');
  stateDir = tmp.join('state');
  configPath = tmp.join('config.json');
  image = tmp.join('disk.img');
  hostAccel = accel();
  await writeFile(configPath, JSON.stringify(await lightConfig()));
  for (const d of ['d0', 'd1', 'd2']) await writeFile(`${image}.${d}`, Buffer.alloc(4 << 20));
});

afterAll(async () => {
  await tmp?.remove();
});

/** Run the driver until it prints `STEP <k>`, wait `delayMs`, then SIGKILL it. Returns its last line. */
async function runAndKill(k: number, delayMs: number): Promise<string> {
  const child: ChildProcess = spawn(process.execPath, [driver, stateDir, ID, configPath, image, hostAccel], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = once(child, 'exit');
  let last = '';
  try {
    for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
      last = line;
      if (line === `STEP ${k} ${STEPS[k]}`) break;
    }
    if (!last.startsWith(`STEP ${k} `)) throw new Error(`driver ended before step ${k}: ${stderr}`);
    await new Promise((r) => setTimeout(r, delayMs));
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  return last;
}

/** The checks of one kill point. Returns what was found, for the log. */
async function checkAndStop(): Promise<string> {
  // Killed before its first create made the state directory: nothing may exist, and nothing does.
  const entries = existsSync(stateDir) ? readdirSync(stateDir).filter((d) => d !== 's') : [];
  // A create that crashed before its rename leaves only a temp directory (the next create of the id
  // clears it); a stop that crashed while removing leaves a directory without state (debris, which
  // the next create clears). Neither may have a QEMU.
  const debris = entries.filter((d) => d.startsWith('.') || !existsSync(`${stateDir}/${d}/state.json`));
  for (const d of debris) expect(livePidsMentioning(`${stateDir}/${d}/`)).toEqual([]);
  const dirs = entries.filter((d) => !debris.includes(d));
  // Every sandbox directory has a state file that parses.
  for (const d of dirs) await readStateFile(`${stateDir}/${d}/state.json`, d);
  const list = await Sandbox.list({ stateDir });
  expect(list.map((i) => i.id)).toEqual(dirs);
  const info = list[0];
  if (info === undefined) {
    expect(livePidsMentioning(stateDir)).toEqual([]);
    return debris.length > 0 ? `debris ${debris.join(',')} (cleared by the next create)` : 'nothing';
  }
  const qemus = livePidsMentioning(`${stateDir}/${ID}/`);
  if (info.status === 'running' || info.status === 'paused') {
    expect(qemus).toEqual([info.pid]);
    // Attach and drive it. The first locked operation finds the dead manager's lock and reconciles
    // the hotplug records with QEMU (docs/state-machine.md).
    const sb = await Sandbox.attach(ID, { stateDir });
    await sb.pause();
    await sb.resume();
    const after = sb.info();
    const q = await connectQmp(info.qmp, { connectTimeout: 5_000 });
    try {
      const children = (await q.execute('qom-list', { path: '/machine/peripheral' })) as { name: string }[];
      const inQemu = children.map((c) => c.name).filter((n) => /^d\d$/.test(n));
      expect(after.devices.map((d) => d.id).sort()).toEqual(inQemu.sort());
      const nodes = (await q.execute('query-named-block-nodes')).map((n) => n['node-name']);
      expect(nodes.filter((n) => /^drive-d\d$/.test(n)).sort()).toEqual(
        inQemu.map((d) => `drive-${d}`).sort(),
      );
    } finally {
      await q.close();
    }
    // No bridge slot twice, and the allocator holds exactly the recorded bridge devices.
    const slots = after.devices.map((d) => `${d.bus}/${d.addr}`);
    expect(new Set(slots).size).toBe(slots.length);
    const st = await readStateFile(`${stateDir}/${ID}/state.json`, ID);
    const bridges = (st.hypervisor as { bridges: { devices: Record<string, string> }[] }).bridges;
    expect(bridges.flatMap((b) => Object.values(b.devices)).sort()).toEqual(
      after.devices.map((d) => d.id).sort(),
    );
  } else if (qemus.length > 0) {
    // A QEMU the state does not record as running: ps must name it as an orphan, with a reason.
    expect(info.orphan?.pid).toBe(qemus[0]);
    expect(info.orphan?.reason).toMatch(/does not record it/);
  }
  const found = `${info.status}${info.orphan === undefined ? '' : ' + orphan QEMU'}, devices [${info.devices.map((d) => d.id).join(',')}]`;
  const sb = await Sandbox.attach(ID, { stateDir });
  await sb.stop({ graceMs: 1_000 });
  expect(livePidsMentioning(stateDir)).toEqual([]);
  expect(await filesUnder(`${stateDir}/${ID}`)).toEqual([]);
  expect(existsSync(`${stateDir}/${ID}`)).toBe(false);
  expect(existsSync(info.qmp)).toBe(false);
  return found;
}

describe('kill -9 of the managing process at random points', () => {
  it(`leaves state that parses, ps that tells the truth, and stop that cleans up (seed ${SEED})`, async () => {
    console.log(`crash harness: I8_CRASH_SEED=${SEED}, up to ${ITERATIONS} kills in ${BUDGET_MS} ms`);
    const random = rng(SEED);
    const t0 = Date.now();
    let done = 0;
    // Every step is hit at least once, in a seeded order; then the kill points are random until the
    // iteration count or the time budget runs out.
    const order = STEPS.map((_, k) => k);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const hit = new Set<number>();
    for (let i = 0; i < Math.max(ITERATIONS, STEPS.length); i++) {
      if (i >= STEPS.length && (i >= ITERATIONS || Date.now() - t0 >= BUDGET_MS)) break;
      const k = i < order.length ? (order[i] as number) : Math.floor(random() * STEPS.length);
      hit.add(k);
      // Half the kills land within 20 ms of the step's start (inside the QMP/state window), half later.
      const delay = Math.floor(random() * (random() < 0.5 ? 20 : 250));
      const last = await runAndKill(k, delay);
      const found = await checkAndStop();
      console.log(`  kill ${i + 1}: at "${STEPS[k]}" + ${delay} ms (last line "${last}") -> ${found}`);
      done++;
    }
    expect(done).toBeGreaterThanOrEqual(STEPS.length);
    expect([...hit].sort((a, b) => a - b)).toEqual(STEPS.map((_, k) => k));
  }, 300_000);
});
