import { readlink, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { z } from 'zod';
import { encodeAcrnArgv } from './argv.js';
import { AcrnError, abortError, parseWith } from './errors.js';
import { assertSignallablePid, OutputTail, pause, processExists, signalPid } from './process.js';
import {
  ACRN_GVTG_SLOT,
  ACRN_MAX_SLOT,
  type AcrnConfig,
  plainString,
  slotValue,
  vmNameSchema,
} from './schema.js';
import type { AcrnSlotTable } from './slots.js';

/** Where Kata looks for acrn-dm. */
export const ACRN_DM_PATH = '/usr/bin/acrn-dm';
/** Where Kata looks for acrnctl. */
export const ACRNCTL_PATH = '/usr/bin/acrnctl';
/** Kata's stop timeout: SIGINT, then SIGKILL after this long. */
export const ACRN_STOP_TIMEOUT_MS = 15_000;

const POLL_MS = 25;
/** How long to wait for a SIGKILLed process to disappear before giving up. */
const KILL_WAIT_MS = 5_000;

const launchOptionsSchema = z
  .strictObject({
    path: plainString.default(ACRN_DM_PATH),
    signal: z.instanceof(AbortSignal).optional(),
    readyTimeoutMs: z.int().min(1).default(10_000),
    settleMs: z.int().min(0).default(200),
    readyPath: plainString.optional(),
    env: z.record(z.string(), z.string()).optional(),
    outputLimit: z
      .int()
      .min(1024)
      .default(64 * 1024),
  })
  .refine((o) => o.settleMs <= o.readyTimeoutMs, {
    path: ['settleMs'],
    message: 'must not exceed readyTimeoutMs',
  });

/** Options of {@link launchAcrnDm}. */
export interface LaunchAcrnDmOptions {
  /** The acrn-dm binary. @default '/usr/bin/acrn-dm' */
  path?: string;
  /** Aborts the launch (acrn-dm is stopped, `ACRN_ABORTED`); not bound to the VM's life after that. */
  signal?: AbortSignal;
  /** How long the readiness check may take. @default 10000 */
  readyTimeoutMs?: number;
  /** acrn-dm must stay up this long to count as started (it exits early on bad arguments). @default 200 */
  settleMs?: number;
  /**
   * Also wait until this path exists, e.g. the console socket acrn-dm creates. A file already
   * there before the launch only counts once it has been replaced.
   */
  readyPath?: string;
  /** Extra environment variables for acrn-dm (added to this process's). */
  env?: Record<string, string>;
  /** Bytes of stdout and of stderr kept (the tail). @default 65536 */
  outputLimit?: number;
}

/** How acrn-dm ended. */
export interface AcrnDmExit {
  /** Exit code, if it exited by itself. */
  exitCode: number | undefined;
  /** Signal that ended it, if any. */
  signal: string | undefined;
}

/** What {@link AcrnDmProcess.stop} did. */
export interface AcrnStopResult extends AcrnDmExit {
  /** `none`: it had already exited; `SIGINT`: it stopped on SIGINT; `SIGKILL`: it had to be killed. */
  stoppedBy: 'none' | 'SIGINT' | 'SIGKILL';
}

/** Options of {@link AcrnDmProcess.stop} and {@link stopAcrnDm}. */
export interface StopAcrnDmOptions {
  /** Wait this long after SIGINT before SIGKILL. @default 15000 */
  timeoutMs?: number;
  /** Aborting skips the grace period: SIGKILL now, then rejects with `ACRN_ABORTED`. */
  signal?: AbortSignal;
}

const stopOptionsSchema = z.strictObject({
  timeoutMs: z.int().min(0).default(ACRN_STOP_TIMEOUT_MS),
  signal: z.instanceof(AbortSignal).optional(),
});

/** A running acrn-dm started by {@link launchAcrnDm}. */
export interface AcrnDmProcess extends AsyncDisposable {
  /** acrn-dm's pid (always > 1). */
  readonly pid: number;
  /** The arguments it was started with (without the binary). */
  readonly argv: readonly string[];
  /** This VM's drive index -> slot table, for {@link hotplugBlock}. */
  readonly slots: AcrnSlotTable;
  /** The VM name (acrn-dm's positional argument, what acrnctl addresses). */
  readonly name: string;
  /** Live stdout (COM1 of the LPC goes here). Already drained into {@link AcrnDmProcess.stdoutTail}. */
  readonly stdout: Readable;
  /** Live stderr. Already drained into {@link AcrnDmProcess.stderrTail}. */
  readonly stderr: Readable;
  /** Resolves when acrn-dm has exited (never rejects). */
  readonly exited: Promise<AcrnDmExit>;
  /** True until acrn-dm has exited (Kata's `check`). */
  isRunning(): boolean;
  /** Last bytes of stdout. */
  stdoutTail(): string;
  /** Last bytes of stderr. */
  stderrTail(): string;
  /**
   * SIGINT, wait up to `timeoutMs`, then SIGKILL. Idempotent: concurrent and later calls share
   * the first call's result (after a failed call, the next one tries again). Never signals
   * anything but acrn-dm's own pid.
   * @throws {AcrnError} `ACRN_STOP_FAILED` if it survives SIGKILL, `ACRN_ABORTED`.
   */
  stop(options?: StopAcrnDmOptions): Promise<AcrnStopResult>;
}

class AcrnDm implements AcrnDmProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly slots: AcrnSlotTable;
  readonly name: string;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<AcrnDmExit>;
  readonly #subprocess: ResultPromise;
  readonly #out: OutputTail;
  readonly #err: OutputTail;
  #done = false;
  #stopping: Promise<AcrnStopResult> | undefined;

  constructor(
    pid: number,
    subprocess: ResultPromise,
    init: { argv: string[]; slots: AcrnSlotTable; name: string; out: OutputTail; err: OutputTail },
  ) {
    this.pid = pid;
    this.#subprocess = subprocess;
    this.argv = Object.freeze([...init.argv]);
    this.slots = init.slots;
    this.name = init.name;
    this.stdout = subprocess.stdout!;
    this.stderr = subprocess.stderr!;
    this.#out = init.out;
    this.#err = init.err;
    this.exited = subprocess.then(
      (r) => {
        this.#done = true;
        return { exitCode: r.exitCode, signal: r.signal };
      },
      () => {
        this.#done = true;
        return { exitCode: undefined, signal: undefined };
      },
    );
  }

  isRunning(): boolean {
    return !this.#done;
  }

  stdoutTail(): string {
    return this.#out.toString();
  }

  stderrTail(): string {
    return this.#err.toString();
  }

  stop(options: StopAcrnDmOptions = {}): Promise<AcrnStopResult> {
    const o = parseWith(stopOptionsSchema, options, 'stop');
    // Share a stop in progress or done; after a failed one (e.g. aborted) the next call starts afresh.
    this.#stopping ??= this.#stop(o.timeoutMs, o.signal).catch((error: unknown) => {
      this.#stopping = undefined;
      throw error;
    });
    return this.#stopping;
  }

  async #stop(timeoutMs: number, signal: AbortSignal | undefined): Promise<AcrnStopResult> {
    if (this.#done) return { ...(await this.exited), stoppedBy: 'none' };
    if (!this.#signal('SIGINT')) return { ...(await this.exited), stoppedBy: 'none' };
    const graceful = await this.#waitExit(timeoutMs, signal);
    if (graceful === 'exited') return { ...(await this.exited), stoppedBy: 'SIGINT' };
    if (!this.#done) this.#signal('SIGKILL');
    const killed = await this.#waitExit(KILL_WAIT_MS, undefined);
    if (killed !== 'exited') {
      throw new AcrnError('ACRN_STOP_FAILED', `acrn-dm (pid ${this.pid}) is still running after SIGKILL`, {
        stderr: this.stderrTail(),
      });
    }
    if (graceful === 'aborted' && signal !== undefined)
      throw abortError(signal, `stopping acrn-dm (pid ${this.pid})`);
    return { ...(await this.exited), stoppedBy: 'SIGKILL' };
  }

  /**
   * Signal exactly acrn-dm. Through the child's handle, which Node closes the moment it reaps the
   * process, so a pid recycled after exit can never be hit. False once it has exited.
   */
  #signal(signal: NodeJS.Signals): boolean {
    assertSignallablePid(this.pid);
    if (this.#done || this.#subprocess.exitCode !== null || this.#subprocess.signalCode !== null)
      return false;
    try {
      return this.#subprocess.kill(signal);
    } catch (error) {
      throw new AcrnError('ACRN_STOP_FAILED', `cannot send ${signal} to acrn-dm (pid ${this.pid})`, {
        cause: error,
      });
    }
  }

  /** Wait for exit, up to `ms` or until `signal` aborts. */
  async #waitExit(ms: number, signal: AbortSignal | undefined): Promise<'exited' | 'timeout' | 'aborted'> {
    if (this.#done) return 'exited';
    if (signal?.aborted) return 'aborted';
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([
        this.exited.then(() => 'exited' as const),
        pause(ms, ac.signal, 'wait').then(
          () => 'timeout' as const,
          () => (signal?.aborted ? ('aborted' as const) : ('exited' as const)),
        ),
      ]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      ac.abort(); // clears the timer once the process has exited
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Start acrn-dm for `config` (execa, no shell) and wait until it is up: it has spawned, stayed up
 * for `settleMs`, and `readyPath` (if given) exists. Its stdout/stderr are drained into bounded
 * tails. acrn-dm is killed if this process exits (execa `cleanup`).
 * @throws {AcrnError} `ACRN_INVALID_CONFIG`; `ACRN_LAUNCH_FAILED` (could not start, or exited
 * early; `stderr`, `exitCode` set); `ACRN_READY_TIMEOUT` (acrn-dm was stopped); `ACRN_ABORTED`.
 */
export async function launchAcrnDm(
  config: AcrnConfig,
  options: LaunchAcrnDmOptions = {},
): Promise<AcrnDmProcess> {
  const o = parseWith(launchOptionsSchema, options, 'launch');
  const { argv, slots } = encodeAcrnArgv(config);
  const name = argv.at(-1)!;
  const command = [o.path, ...argv];
  if (o.signal?.aborted) throw abortError(o.signal, 'launching acrn-dm');

  // A file left at readyPath by an earlier run does not count: it must appear (or be replaced,
  // as acrn-dm unlinks and rebinds its socket) after this launch.
  const stale = o.readyPath === undefined ? undefined : await identity(o.readyPath);
  const readyPathCreated = async (): Promise<boolean> => {
    const now = await identity(o.readyPath!);
    return now !== undefined && now !== stale;
  };
  const out = new OutputTail(o.outputLimit);
  const err = new OutputTail(o.outputLimit);
  const subprocess = execa(o.path, argv, {
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    cleanup: true,
    forceKillAfterDelay: false,
    ...(o.env === undefined ? {} : { env: o.env }),
  });
  subprocess.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  subprocess.stderr.on('data', (chunk: Buffer) => err.push(chunk));

  const spawned = await new Promise<Error | undefined>((resolve) => {
    const onSpawn = (): void => {
      subprocess.off('error', onError);
      resolve(undefined);
    };
    const onError = (error: Error): void => {
      subprocess.off('spawn', onSpawn);
      resolve(error);
    };
    subprocess.once('spawn', onSpawn);
    subprocess.once('error', onError);
  });
  if (spawned !== undefined || subprocess.pid === undefined) {
    const result = await subprocess;
    throw new AcrnError(
      'ACRN_LAUNCH_FAILED',
      `cannot start ${o.path}: ${(spawned as NodeJS.ErrnoException | undefined)?.code ?? result.shortMessage}`,
      { cause: spawned ?? result, command, stderr: err.toString() },
    );
  }
  assertSignallablePid(subprocess.pid);
  const vm = new AcrnDm(subprocess.pid, subprocess, { argv, slots, name, out, err });

  const started = performance.now();
  try {
    for (;;) {
      if (!vm.isRunning()) {
        const exit = await vm.exited;
        const how = exit.signal === undefined ? `exit code ${exit.exitCode}` : `signal ${exit.signal}`;
        const stderr = vm.stderrTail();
        throw new AcrnError(
          'ACRN_LAUNCH_FAILED',
          `acrn-dm exited during startup (${how})${stderr.trim() === '' ? '' : `: ${stderr.trim()}`}`,
          {
            command,
            stderr,
            stdout: vm.stdoutTail(),
            ...(exit.exitCode === undefined ? {} : { exitCode: exit.exitCode }),
            ...(exit.signal === undefined ? {} : { signal: exit.signal }),
          },
        );
      }
      const elapsed = performance.now() - started;
      if (elapsed >= o.settleMs && (o.readyPath === undefined || (await readyPathCreated()))) return vm;
      if (elapsed >= o.readyTimeoutMs) {
        throw new AcrnError(
          'ACRN_READY_TIMEOUT',
          `acrn-dm (pid ${vm.pid}) was not ready after ${o.readyTimeoutMs} ms${o.readyPath === undefined ? '' : ` (${o.readyPath} does not exist)`}`,
          { command, stderr: vm.stderrTail(), stdout: vm.stdoutTail() },
        );
      }
      await pause(Math.min(POLL_MS, Math.max(1, o.readyTimeoutMs - elapsed)), o.signal, 'launching acrn-dm');
    }
  } catch (error) {
    if (vm.isRunning()) await vm.stop({ timeoutMs: 1_000 }).catch(() => undefined);
    throw error;
  }
}

/** Identity of a file (device, inode, change time), or undefined when it does not exist. */
async function identity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** Options of {@link stopAcrnDm}. */
export interface StopAcrnDmByPidOptions extends StopAcrnDmOptions {
  /**
   * Only signal the pid if `/proc/<pid>/exe` is this file (e.g. `/usr/bin/acrn-dm`): guards against
   * a pid from old state that now belongs to another program. Unchecked when omitted.
   */
  exe?: string;
}

const stopPidOptionsSchema = z.strictObject({
  timeoutMs: z.int().min(0).default(ACRN_STOP_TIMEOUT_MS),
  signal: z.instanceof(AbortSignal).optional(),
  exe: plainString.optional(),
});

/**
 * Stop an acrn-dm this process did not start (e.g. re-attached from saved state): SIGINT, poll
 * until it is gone for up to `timeoutMs`, then SIGKILL. pid 0, negative pids (process groups),
 * pid 1 and this process's pid are refused before any signal is sent; with `exe`, so is a pid
 * that runs another program.
 * @throws {AcrnError} `ACRN_INVALID_PID`, `ACRN_INVALID_CONFIG`, `ACRN_STOP_FAILED`,
 * `ACRN_ABORTED` (after SIGKILL).
 */
export async function stopAcrnDm(pid: number, options: StopAcrnDmByPidOptions = {}): Promise<AcrnStopResult> {
  assertSignallablePid(pid);
  const o = parseWith(stopPidOptionsSchema, options, 'stop');
  const gone: AcrnStopResult = { exitCode: undefined, signal: undefined, stoppedBy: 'none' };
  if (!processExists(pid)) return gone;
  if (o.exe !== undefined) {
    let exe: string | undefined;
    try {
      exe = (await readlink(`/proc/${pid}/exe`)).replace(/ \(deleted\)$/, '');
    } catch (error) {
      if (!processExists(pid)) return gone;
      throw new AcrnError('ACRN_INVALID_PID', `cannot tell which program pid ${pid} runs`, { cause: error });
    }
    if (exe !== o.exe) {
      throw new AcrnError('ACRN_INVALID_PID', `refusing to signal pid ${pid}: it runs ${exe}, not ${o.exe}`);
    }
  }
  if (!signalPid(pid, 'SIGINT')) return gone;
  const deadline = performance.now() + o.timeoutMs;
  let aborted = false;
  while (performance.now() < deadline) {
    if (!processExists(pid)) return { ...gone, stoppedBy: 'SIGINT' };
    try {
      await pause(Math.min(POLL_MS, Math.max(1, deadline - performance.now())), o.signal, 'stop');
    } catch {
      aborted = true;
      break;
    }
  }
  if (!processExists(pid)) return { ...gone, stoppedBy: 'SIGINT' };
  signalPid(pid, 'SIGKILL');
  const killDeadline = performance.now() + KILL_WAIT_MS;
  while (processExists(pid)) {
    if (performance.now() >= killDeadline) {
      throw new AcrnError('ACRN_STOP_FAILED', `pid ${pid} is still running after SIGKILL`);
    }
    await pause(POLL_MS, undefined, 'stop');
  }
  if (aborted && o.signal !== undefined) throw abortError(o.signal, `stopping pid ${pid}`);
  return { ...gone, signal: 'SIGKILL', stoppedBy: 'SIGKILL' };
}

const blkrescanSchema = z.strictObject({
  vmName: vmNameSchema,
  slot: z
    .int()
    .min(0)
    .max(ACRN_MAX_SLOT)
    .refine((s) => s !== ACRN_GVTG_SLOT, `slot ${ACRN_GVTG_SLOT} is reserved for GVT-g`),
  filePath: slotValue,
});

const ctlOptionsSchema = z.strictObject({
  path: plainString.default(ACRNCTL_PATH),
  signal: z.instanceof(AbortSignal).optional(),
  timeoutMs: z.int().min(1).default(10_000),
});

/** Options of {@link acrnctlBlkrescan} and {@link hotplugBlock}. */
export interface AcrnctlOptions {
  /** The acrnctl binary. @default '/usr/bin/acrnctl' */
  path?: string;
  /** Cancels the call (acrnctl is terminated, `ACRN_ABORTED`). */
  signal?: AbortSignal;
  /** acrnctl is terminated after this long (`ACRN_TIMEOUT`). @default 10000 */
  timeoutMs?: number;
}

/** What acrnctl printed on success. */
export interface AcrnctlResult {
  stdout: string;
  stderr: string;
}

/** Arguments of {@link acrnctlBlkrescan}. */
export interface AcrnBlkrescanRequest {
  /** The VM name acrn-dm was started with. */
  vmName: string;
  /** The slot of the virtio-blk device whose backing file to replace. */
  slot: number;
  /** The new backing file (`nodisk` to empty the slot). No commas: acrnctl splits on them. */
  filePath: string;
}

/**
 * `acrnctl blkrescan <vmName> <slot>,<filePath>`: swap the backing file of a virtio-blk device
 * that is already on acrn-dm's command line (ACRN's form of block hotplug).
 * @throws {AcrnError} `ACRN_INVALID_CONFIG`; `ACRN_BLKRESCAN_FAILED` with acrnctl's
 * `stdout`/`stderr`/`exitCode`; `ACRN_TIMEOUT`; `ACRN_ABORTED`.
 */
export async function acrnctlBlkrescan(
  request: AcrnBlkrescanRequest,
  options: AcrnctlOptions = {},
): Promise<AcrnctlResult> {
  const r = parseWith(blkrescanSchema, request, 'blkrescan');
  const o = parseWith(ctlOptionsSchema, options, 'acrnctl');
  if (o.signal?.aborted) throw abortError(o.signal, 'acrnctl blkrescan');
  const args = ['blkrescan', r.vmName, `${r.slot},${r.filePath}`];
  const command = [o.path, ...args];
  const result = await execa(o.path, args, {
    stdin: 'ignore',
    reject: false,
    timeout: o.timeoutMs,
    maxBuffer: 1024 * 1024,
    ...(o.signal === undefined ? {} : { cancelSignal: o.signal }),
  });
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const details = {
    cause: result,
    command,
    stdout,
    stderr,
    ...(result.exitCode === undefined ? {} : { exitCode: result.exitCode }),
    ...(result.signal === undefined ? {} : { signal: result.signal }),
  };
  if (result.isCanceled && o.signal !== undefined) {
    throw new AcrnError('ACRN_ABORTED', 'acrnctl blkrescan: aborted', { ...details, cause: o.signal.reason });
  }
  if (result.timedOut) {
    throw new AcrnError('ACRN_TIMEOUT', `acrnctl blkrescan timed out after ${o.timeoutMs} ms`, details);
  }
  if (result.failed) {
    const said = [stderr.trim(), stdout.trim()].filter((s) => s !== '').join(' / ');
    const how =
      result.exitCode !== undefined
        ? `exit code ${result.exitCode}`
        : result.signal !== undefined
          ? `signal ${result.signal}`
          : ((result.cause as NodeJS.ErrnoException | undefined)?.code ?? result.shortMessage);
    throw new AcrnError(
      'ACRN_BLKRESCAN_FAILED',
      `acrnctl blkrescan ${r.vmName} ${r.slot},${r.filePath} failed (${how})${said === '' ? '' : `: ${said}`}`,
      details,
    );
  }
  return { stdout, stderr };
}

/** Arguments of {@link hotplugBlock}. */
export interface AcrnHotplugBlockRequest {
  /** The VM name. */
  vmName: string;
  /** The VM's slot table (from {@link encodeAcrnArgv} or {@link AcrnDmProcess.slots}). */
  slots: AcrnSlotTable;
  /** Drive index to fill (a pool index, 1..N for Kata's layout). */
  index: number;
  /** The backing file to put there. */
  filePath: string;
}

/**
 * Hotplug a drive: look up the slot of drive `index` in this VM's slot table and
 * `acrnctl blkrescan` the file into it.
 * @throws {AcrnError} `ACRN_NO_SLOT` when the index is not on the command line, and everything
 * {@link acrnctlBlkrescan} throws.
 */
export async function hotplugBlock(
  request: AcrnHotplugBlockRequest,
  options: AcrnctlOptions = {},
): Promise<AcrnctlResult> {
  const slot = request.slots.require(request.index);
  return acrnctlBlkrescan({ vmName: request.vmName, slot, filePath: request.filePath }, options);
}
