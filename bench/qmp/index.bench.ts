/**
 * @vmm/qmp against the raw Python stdlib baseline (../shared/bench/qmp_raw.py), same QEMU, same
 * socket, alternating runs (the machines are noisy; only ratios from one script mean anything).
 *
 * Per round, each side does the same work on a fresh connection with `oob` negotiated: a warm-up
 * of W sequential `query-status`, N sequential, N pipelined, then 20 connect+greeting+negotiate
 * cycles. Reported: sequential and pipelined commands/s, connect+negotiate ms (medians over
 * rounds), and CPU per command = process CPU (user+sys) / (W + 2N + 20), for Python from
 * `resource.getrusage` taken after interpreter start-up (so its start-up is not counted).
 *
 *   cd bench && node --import tsx qmp/index.bench.ts          # QMP_BENCH_ROUNDS=7 QMP_BENCH_N=5000
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { connectQmp } from '@vmm/qmp';
import { makeTempDir, qmpAccel, spawnQemu } from '@vmm/test-utils';

const ROUNDS = Number(process.env.QMP_BENCH_ROUNDS ?? 7);
const N = Number(process.env.QMP_BENCH_N ?? 5000);
const WARMUP = 500;
const CONNECTS = 20;
const RAW =
  process.env.QMP_RAW_PY ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'bench', 'qmp_raw.py');

interface Sample {
  seq: number;
  pipe: number;
  connectMs: number;
  cpuUsPerCmd: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The Python side: qmp_raw.py under a wrapper that reports its CPU after interpreter start-up. */
function runPython(socket: string, wrapper: string): Sample {
  const r = spawnSync(
    'python3',
    [
      wrapper,
      RAW,
      '--socket',
      socket,
      '-n',
      String(N),
      '--runs',
      '1',
      '--warmup',
      String(WARMUP),
      '--oob',
      '--json',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`qmp_raw.py failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim()) as Record<string, number>;
  const cpu = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { cpu_s: number };
  return {
    seq: out.sequential_cmds_per_s_median!,
    pipe: out.pipelined_cmds_per_s_median!,
    connectMs: out.connect_greeting_negotiate_ms_median!,
    cpuUsPerCmd: (cpu.cpu_s * 1e6) / (WARMUP + 2 * N + CONNECTS),
  };
}

/** The @vmm/qmp side: typed `execute('query-status')` (reply validated by zod), default options. */
async function runNode(socket: string): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const qmp = await connectQmp(socket);
  if (!qmp.oobEnabled) throw new Error('oob was not negotiated');
  for (let i = 0; i < WARMUP; i++) await qmp.execute('query-status');
  let t = performance.now();
  for (let i = 0; i < N; i++) await qmp.execute('query-status');
  const seq = N / ((performance.now() - t) / 1000);
  t = performance.now();
  const all: Promise<unknown>[] = new Array(N);
  for (let i = 0; i < N; i++) all[i] = qmp.execute('query-status');
  await Promise.all(all);
  const pipe = N / ((performance.now() - t) / 1000);
  await qmp.close();
  const times: number[] = [];
  for (let i = 0; i < CONNECTS; i++) {
    const t0 = performance.now();
    const c = await connectQmp(socket);
    times.push(performance.now() - t0);
    await c.close();
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    seq,
    pipe,
    connectMs: median(times),
    cpuUsPerCmd: (cpu.user + cpu.system) / (WARMUP + 2 * N + CONNECTS),
  };
}

async function main(): Promise<void> {
  if (!existsSync(RAW)) throw new Error(`baseline not found: ${RAW} (set QMP_RAW_PY)`);
  const accel = qmpAccel();
  await using tmp = await makeTempDir('vmm-qbench-');
  const wrapper = tmp.join('cpu_wrapper.py');
  writeFileSync(
    wrapper,
    [
      'import atexit, json, resource, runpy, sys',
      'r0 = resource.getrusage(resource.RUSAGE_SELF)',
      'def done():',
      '    r1 = resource.getrusage(resource.RUSAGE_SELF)',
      '    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)',
      '    sys.stderr.write(json.dumps({"cpu_s": cpu}) + "\\n")',
      'atexit.register(done)',
      'script = sys.argv[1]',
      'sys.argv = sys.argv[1:]',
      'runpy.run_path(script, run_name="__main__")',
      '',
    ].join('\n'),
  );
  await using qemu = await spawnQemu({ args: ['-m', '128'] });
  console.log(
    `QMP benchmark: QEMU ${qemu.argv.join(' ').includes('accel=kvm') ? 'KVM' : 'TCG'} (${accel.reason}), ` +
      `node ${process.version}, ${ROUNDS} alternating rounds, N=${N}, warm-up ${WARMUP}, ${CONNECTS} connects/round, ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const py: Sample[] = [];
  const js: Sample[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      py.push(runPython(qemu.qmpPath, wrapper));
      js.push(await runNode(qemu.qmpPath));
    } else {
      js.push(await runNode(qemu.qmpPath));
      py.push(runPython(qemu.qmpPath, wrapper));
    }
    const a = js.at(-1)!;
    const b = py.at(-1)!;
    console.log(
      `round ${r + 1}: seq ${a.seq.toFixed(0)} vs ${b.seq.toFixed(0)}/s, pipelined ${a.pipe.toFixed(0)} vs ${b.pipe.toFixed(0)}/s, ` +
        `cpu ${a.cpuUsPerCmd.toFixed(1)} vs ${b.cpuUsPerCmd.toFixed(1)} us/cmd, connect ${a.connectMs.toFixed(3)} vs ${b.connectMs.toFixed(3)} ms`,
    );
  }
  // Two summaries: the ratio of the medians, and the median of the per-round ratios (each pair ran
  // back to back, so it cancels most of the load drift between rounds on a shared machine).
  const metrics = [
    ['sequential query-status (cmd/s)', (s: Sample) => s.seq, 'higher', 0],
    ['pipelined query-status, oob (cmd/s)', (s: Sample) => s.pipe, 'higher', 0],
    ['client CPU per command (us)', (s: Sample) => s.cpuUsPerCmd, 'lower', 1],
    ['connect+greeting+negotiate (ms)', (s: Sample) => s.connectMs, 'lower', 3],
  ] as const;
  console.log(
    '\n| metric | @vmm/qmp (median) | raw Python (median) | ratio of medians | median of per-round ratios | target |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const [name, get, better, digits] of metrics) {
    const a = median(js.map(get));
    const b = median(py.map(get));
    const paired = median(js.map((s, i) => get(s) / get(py[i]!)));
    const ok = (r: number): boolean => (better === 'higher' ? r >= 1 : r <= 1);
    const target = name.startsWith('connect')
      ? `<= 1 ms: ${a <= 1 ? 'met' : 'MISSED'}`
      : `${better === 'higher' ? '>=' : '<='} 1.0x: ${ok(a / b) && ok(paired) ? 'met' : ok(a / b) || ok(paired) ? 'mixed' : 'MISSED'}`;
    console.log(
      `| ${name} | ${a.toFixed(digits)} | ${b.toFixed(digits)} | ${(a / b).toFixed(2)}x | ${paired.toFixed(2)}x | ${target} |`,
    );
  }
  console.log(
    `\nload average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

await main();
