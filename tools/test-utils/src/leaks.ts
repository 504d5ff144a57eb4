import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The targets of this process's open file descriptors (from /proc/self/fd), as `fd:target`, sorted. */
export function openFds(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.push(`${fd}:${readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch {
      // the descriptor readdir itself used is already closed
    }
  }
  return out.sort();
}

/** Number of sockets this process holds open. */
export function openSocketCount(): number {
  return openFds().filter((f) => f.includes('socket:')).length;
}

/**
 * Node's view of live resources (timers, sockets, child processes), without the ones the test
 * runner's worker keeps. Compare a snapshot taken before the code under test with one after.
 */
export function activeResources(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'MessagePort');
}

/**
 * The resource kinds of which `after` holds more than `before` (two {@link activeResources}
 * snapshots), as `kind: n -> m`; empty when nothing was added. Only growth counts: a resource of the
 * test runner's own (a worker timer, say) that ends meanwhile is not a leak of the code under test.
 */
export function resourcesAdded(before: readonly string[], after: readonly string[]): string[] {
  const count = (xs: readonly string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const b = count(before);
  return [...count(after)]
    .filter(([k, n]) => n > (b.get(k) ?? 0))
    .map(([k, n]) => `${k}: ${b.get(k) ?? 0} -> ${n}`)
    .sort();
}

/** Pids of live (non-zombie) child processes of `parent` (default: this process), from /proc. */
export function childPids(parent: number = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // fields after "(comm)": state ppid ...
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === parent && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/** True while a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
