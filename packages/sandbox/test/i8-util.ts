/**
 * Small helpers of the resilience tests (issue 8): leak probes over a state directory, a cause-chain
 * walker, and a light sandbox config (128 MiB of the default guest).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import type { HypervisorConfig } from '../src/index.js';
import { guestConfig } from './helpers.js';

/** A small config: the default guest with 128 MiB (it does not boot in 64 MiB), one vCPU, two at most. */
export function lightConfig(extra: Partial<HypervisorConfig> = {}): Promise<HypervisorConfig> {
  return guestConfig({ memorySize: 128, defaultMaxVcpus: 2, ...extra });
}

/** Live (non-zombie) processes, other than this one, whose command line mentions `needle`. */
export function livePidsMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(needle)) pids.push(Number(e));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** Every non-directory entry (files, sockets, symlinks) under `dir`, recursively; [] when it is gone. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => `${e.parentPath}/${e.name}`);
}

/** The `code`s along an error's `cause` chain, outermost first. */
export function causeCodes(err: unknown): string[] {
  const out: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e !== undefined && e !== null; ) {
    if (typeof e.code === 'string') out.push(e.code);
    e = e.cause as typeof e | undefined;
  }
  return out;
}

/** Await a promise that must reject; returns the error and how long it took. */
export async function rejection(p: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    await p;
  } catch (err) {
    return { err, ms: performance.now() - t0 };
  }
  throw new Error('expected a rejection, got a result');
}

/**
 * SIGSTOP `pid` and wait until the kernel reports every thread stopped (`T` in
 * /proc/<pid>/task/<tid>/stat). `kill()` returns before the group stop has reached each thread;
 * without the wait QEMU's monitor thread may still send one more frame (a greeting, say), and the
 * test would race the signal.
 */
export async function stopProcess(pid: number, timeoutMs = 5_000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + timeoutMs;
  const state = (tid: string): string => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The state follows the parenthesised command name, which may itself contain ')'.
    const end = stat.lastIndexOf(')');
    return stat.slice(end + 2, end + 3);
  };
  for (;;) {
    const running = readdirSync(`/proc/${pid}/task`).filter((tid) => !/^[Tt]$/.test(state(tid)));
    if (running.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`pid ${pid}: threads ${running.join(', ')} not stopped after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}
