/**
 * Recovery after a managing process died in the middle of an operation (kill -9, OOM, power loss of
 * the manager only). The rules, documented in docs/state-machine.md:
 *
 * - A crash is detected when an operation takes over a stale lock (its holder's process is gone).
 * - A hotplug counts only once its record is persisted. Devices and block nodes QEMU has but the
 *   state does not record (the crash fell between `device_add`/`blockdev-add` and the state write)
 *   are rolled back; records whose device QEMU no longer has (the crash fell between `device_del`
 *   and the state write) are dropped and their bridge slot or root port freed.
 * - A start counts only once the QEMU pid is persisted. A QEMU that the pid file names, that runs
 *   this sandbox's command line, but that the state does not record, is an orphan: `list()` reports
 *   it with a reason, and recovery kills it (the start is rolled back to `created`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectQmp, deleteDevice } from '@vmm/qmp';
import { SandboxError } from './errors.js';
import { isProcessAlive, processStartTime } from './lock.js';
import type { SandboxPaths } from './paths.js';
import type { SandboxState, StateStore } from './state.js';

/** A QEMU running for a sandbox whose state does not record it. */
export interface OrphanQemu {
  readonly pid: number;
  readonly reason: string;
}

/**
 * A live QEMU running this sandbox (its QMP socket path on the command line) that `state` does not
 * record: the one `paths.pid` (QEMU's own `-pidfile`) names, else (QEMU has not written it yet) the
 * first such process in /proc.
 */
export function findOrphanQemu(
  state: Pick<SandboxState, 'pid' | 'pidStartTime' | 'status'>,
  paths: Pick<SandboxPaths, 'pid' | 'qmp'>,
): OrphanQemu | undefined {
  const runsThis = (pid: number): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .some((a) => a.includes(paths.qmp));
    } catch {
      return false;
    }
  };
  let pid = Number.NaN;
  try {
    pid = Number.parseInt(readFileSync(paths.pid, 'utf8').trim(), 10);
  } catch {
    // QEMU has not written its pid file yet (or never started): look through /proc instead.
  }
  if (!(Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) && runsThis(pid))) {
    pid = Number.NaN;
    for (const e of readdirSync('/proc')) {
      if (/^\d+$/.test(e) && Number(e) !== process.pid && isProcessAlive(Number(e)) && runsThis(Number(e))) {
        pid = Number(e);
        break;
      }
    }
  }
  if (Number.isNaN(pid)) return undefined;
  if (state.pid === pid && isProcessAlive(pid, state.pidStartTime)) return undefined;
  return {
    pid,
    reason: `QEMU pid ${pid} runs this sandbox but its state (${state.status}) does not record it: the managing process died while starting it`,
  };
}

/** SIGKILL an orphan QEMU and wait (bounded) until it is gone. Returns false if it survived. */
export async function killOrphanQemu(orphan: OrphanQemu, timeoutMs = 5_000): Promise<boolean> {
  const start = processStartTime(orphan.pid);
  if (start === undefined) return true;
  try {
    process.kill(orphan.pid, 'SIGKILL');
  } catch {
    return true;
  }
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(orphan.pid, start)) {
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
  return true;
}

/** What {@link reconcileDevices} changed. */
export interface ReconcileResult {
  /** The state with dropped records removed (same object when nothing changed). */
  readonly state: SandboxState;
  /** Devices (or bare block nodes) QEMU had without a record, now removed from QEMU. */
  readonly rolledBack: readonly string[];
  /** Records whose device QEMU no longer had, now dropped (slots freed). */
  readonly dropped: readonly string[];
}

interface DeviceRecordLike {
  id: string;
  kind: string;
  placement?: string;
}
interface BridgeStateLike {
  devices: Record<string, string>;
}
interface RootPortLike {
  device: string | null;
}

/** `id=` values of the `-device` options on a command line (the devices QEMU booted with). */
function bootDeviceIds(argv: readonly string[]): Set<string> {
  const ids = new Set<string>();
  argv.forEach((a, i) => {
    if (a !== '-device' && a !== '-object' && a !== '-netdev') return;
    const m = /(?:^|,)id=([^,]+)/.exec(argv[i + 1] ?? '');
    if (m?.[1] !== undefined) ids.add(m[1]);
  });
  return ids;
}

/**
 * Make the hotplug records of a running QEMU sandbox match QEMU (see the module comment). Talks QMP
 * on `state.paths.qmp`; call it under the sandbox lock.
 *
 * @throws What `@vmm/qmp` throws when QEMU does not answer (the caller wraps it).
 */
export async function reconcileDevices(
  state: SandboxState,
  options: { timeoutMs?: number } = {},
): Promise<ReconcileResult> {
  const timeout = options.timeoutMs ?? 10_000;
  const hv = state.hypervisor as {
    argv?: string[];
    devices?: DeviceRecordLike[];
    vcpus?: string[];
    bridges?: BridgeStateLike[];
    rootPorts?: RootPortLike[];
  };
  const records = hv.devices ?? [];
  const known = new Set([...bootDeviceIds(hv.argv ?? []), ...records.map((d) => d.id), ...(hv.vcpus ?? [])]);
  const q = await connectQmp(state.paths.qmp, { connectTimeout: timeout, commandTimeout: timeout });
  const rolledBack: string[] = [];
  const dropped: string[] = [];
  try {
    const children = (await q.execute('qom-list', { path: '/machine/peripheral' })) as {
      name: string;
      type: string;
    }[];
    const inQemu = new Set(children.filter((c) => c.type.startsWith('child<')).map((c) => c.name));
    for (const id of inQemu) {
      if (known.has(id)) continue;
      await deleteDevice(q, id, { timeout });
      await q.execute('blockdev-del', { 'node-name': `drive-${id}` }).catch(() => undefined);
      rolledBack.push(id);
    }
    // Block nodes added without their device (the crash fell between blockdev-add and device_add).
    for (const n of await q.execute('query-named-block-nodes')) {
      const name = n['node-name'];
      const owner = name.startsWith('drive-') ? name.slice('drive-'.length) : undefined;
      if (owner === undefined || known.has(owner) || inQemu.has(owner)) continue;
      await q.execute('blockdev-del', { 'node-name': name }).catch(() => undefined);
      rolledBack.push(name);
    }
    for (const r of records) if (!inQemu.has(r.id)) dropped.push(r.id);
  } finally {
    await q.close();
  }
  if (dropped.length === 0) return { state, rolledBack, dropped };
  const gone = new Set(dropped);
  const next: SandboxState = {
    ...state,
    hypervisor: {
      ...state.hypervisor,
      devices: records.filter((r) => !gone.has(r.id)),
      ...(hv.bridges === undefined
        ? {}
        : {
            bridges: hv.bridges.map((b) => ({
              ...b,
              devices: Object.fromEntries(Object.entries(b.devices).filter(([, id]) => !gone.has(id))),
            })),
          }),
      ...(hv.rootPorts === undefined
        ? {}
        : {
            rootPorts: hv.rootPorts.map((p) =>
              p.device !== null && gone.has(p.device) ? { ...p, device: null } : p,
            ),
          }),
    },
  };
  return { state: next, rolledBack, dropped };
}

/**
 * What an operation does after taking over a stale lock, before its own work: kill an orphan QEMU
 * (a start that never got recorded), and reconcile the hotplug records of a running QEMU sandbox.
 * Returns the state to continue from (written back when it changed).
 *
 * @throws {SandboxError} `SANDBOX_STOP_FAILED` when an orphan survives SIGKILL, `SANDBOX_QMP_FAILED`
 *   when QEMU does not answer the reconciliation, `SANDBOX_STATE_IO` when the state cannot be written.
 */
export async function recoverAfterCrash(
  store: StateStore,
  state: SandboxState,
  paths: Pick<SandboxPaths, 'pid' | 'qmp'>,
): Promise<SandboxState> {
  if (state.hypervisorType !== 'qemu') return state;
  const orphan = findOrphanQemu(state, paths);
  if (orphan !== undefined && !(await killOrphanQemu(orphan))) {
    throw new SandboxError('SANDBOX_STOP_FAILED', `${orphan.reason}; it survived SIGKILL`, {
      sandboxId: state.id,
    });
  }
  const live = state.pid !== null && isProcessAlive(state.pid, state.pidStartTime);
  if (!live || (state.status !== 'running' && state.status !== 'paused')) return state;
  let r: ReconcileResult;
  try {
    r = await reconcileDevices(state);
  } catch (err) {
    throw new SandboxError(
      'SANDBOX_QMP_FAILED',
      `recovering ${state.id} after a crashed operation: ${(err as Error).message}`,
      { cause: err, sandboxId: state.id },
    );
  }
  if (r.state !== state) await store.write(r.state);
  return r.state;
}
