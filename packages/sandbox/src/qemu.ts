/**
 * `QemuHypervisor`: Kata's qemu.go lifecycle on @vmm/qemu-arch, @vmm/argv and @vmm/qmp. QEMU is a
 * child process we own (never `-daemonize`); QMP is connected per operation, so any process holding
 * the sandbox lock can drive the VM, and the console is a socket that QEMU also logs to a file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, constants as fsConstants } from 'node:fs';
import { chmod, type FileHandle, lstat, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeQemuArgv, isWellFormedId, MAC_ADDRESS_PATTERN, QEMU_ID_PATTERN } from '@vmm/argv';
import { isAvailable as fdPassingAvailable } from '@vmm/fdpass';
import { readHostInfo } from '@vmm/hostinfo';
import { type ArchDevices, BridgeAllocator, type QemuArch, scsiIdLun } from '@vmm/qemu-arch';
import {
  addNetdevByFds,
  blkDevice,
  connectQmp,
  deleteDevice,
  hotplugBlockDevice,
  hotplugCpu,
  hotplugMemory,
  netDevice,
  passFd,
  type QmpClient,
  QmpError,
  rawBlockdev,
  scsiDevice,
  vfioDevice,
  vsockDevice,
  waitForMigration,
} from '@vmm/qmp';
import { z } from 'zod';
import { resolveAssets } from './assets.js';
import { parseHypervisorConfig, type ResolvedHypervisorConfig } from './config.js';
import { ConsoleReader } from './console.js';
import { abortError, SandboxError, type SandboxErrorCode } from './errors.js';
import type {
  BlockAttachment,
  BlockHotplug,
  HotplugDevice,
  HotplugResult,
  Hypervisor,
  HypervisorCapabilities,
  HypervisorReloadState,
  MemoryHotplug,
  NetHotplug,
  OperationOptions,
  StopOptions,
  StopResult,
  VcpuResizeResult,
  VfioHotplug,
  VsockHotplug,
} from './hypervisor.js';
import { fileTail, type LaunchedQemu, spawnQemu } from './launch.js';
import { isProcessAlive, processStartTime } from './lock.js';
import type { SandboxPaths } from './paths.js';
import { composeQemu, type HostFacts, sandboxArch } from './qemu-compose.js';
import type { SandboxStatus } from './state.js';

/** The ids vCPU hotplug gives its `cpu-<n>` devices; no other device may take one. */
const VCPU_ID_PATTERN = /^cpu-\d+$/;

/** Longest hotplug device id: `drive-<id>` must fit QEMU's 31-character block node names. */
export const DEVICE_ID_MAX_LENGTH = 25;

/**
 * Device ids: @vmm/argv's QEMU id rule (`QEMU_ID_PATTERN`: a letter, then letters, digits, `-`, `.`
 * and `_`) capped at {@link DEVICE_ID_MAX_LENGTH} characters. {@link checkDeviceId} applies it.
 */
export const DEVICE_ID_PATTERN: RegExp = new RegExp(
  `(?=^.{1,${DEVICE_ID_MAX_LENGTH}}$)${QEMU_ID_PATTERN.source}`,
);

/**
 * Check a hotplug device id: @vmm/argv's `isWellFormedId` (QEMU's `id_wellformed()`) and at most
 * {@link DEVICE_ID_MAX_LENGTH} characters. Nothing with a comma, `=`, a space or a leading digit
 * reaches QEMU.
 * @throws {SandboxError} `SANDBOX_INVALID_CONFIG` (path `device.id`).
 */
export function checkDeviceId(id: unknown): string {
  if (typeof id !== 'string' || !isWellFormedId(id) || id.length > DEVICE_ID_MAX_LENGTH) {
    throw new SandboxError(
      'SANDBOX_INVALID_CONFIG',
      `device.id: ${JSON.stringify(id) ?? String(id)} is not a valid device id (QEMU id rules: a letter, then letters, digits, "-", "." and "_"; at most ${DEVICE_ID_MAX_LENGTH} characters)`,
      { path: 'device.id' },
    );
  }
  return id;
}

const deviceRecordSchema = z.strictObject({
  id: z.string(),
  kind: z.enum(['block', 'memory', 'net', 'vfio', 'vsock']),
  attach: z.enum(['virtio-blk', 'virtio-scsi', 'nvdimm']).optional(),
  bus: z.string().optional(),
  addr: z.string().optional(),
  guestAddress: z.string().optional(),
  sizeMiB: z.number().optional(),
  /** blockdev node, memory backend object or netdev id to delete after the device. */
  backend: z.string().optional(),
  /** Where it was placed: a bridge slot, a root port, a SCSI index. */
  placement: z.enum(['bridge', 'root-port', 'scsi', 'none']),
  scsiIndex: z.number().int().optional(),
});
type DeviceRecord = z.infer<typeof deviceRecordSchema>;

/** What QemuHypervisor persists (validated when re-attaching). */
export const qemuStateSchema = z.strictObject({
  accel: z.enum(['kvm', 'tcg']),
  qemuPath: z.string(),
  argv: z.array(z.string()),
  hostMemMiB: z.number().int().positive(),
  nested: z.boolean(),
  bridges: z.unknown(),
  rootPorts: z.array(
    z.strictObject({ id: z.string(), slot: z.number().int(), device: z.string().nullable() }),
  ),
  nextScsiIndex: z.number().int().nonnegative(),
  nextMemSlot: z.number().int().nonnegative(),
  nextCpu: z.number().int().nonnegative(),
  vcpus: z.array(z.string()),
  devices: z.array(deviceRecordSchema),
});
/** QemuHypervisor's persisted state. */
export type QemuState = z.infer<typeof qemuStateSchema>;

/** Options of {@link QemuHypervisor.create}. */
export interface QemuHypervisorOptions {
  /** Sandbox id. */
  id: string;
  /** Where the sandbox's files and sockets go (`sandboxPaths(stateDir, id)`). */
  paths: SandboxPaths;
  /** Host facts; read from the host (@vmm/hostinfo) when not given. */
  host?: Partial<HostFacts>;
  /** Let QEMU outlive this process (own session, no cleanup on exit). @default false */
  detached?: boolean;
  /** Start with `-incoming defer` and load this saved state in {@link QemuHypervisor.waitReady}. */
  restoreFrom?: string;
  signal?: AbortSignal;
}

/** Read the host facts a sandbox needs. */
export async function readHostFacts(): Promise<HostFacts & { vhostVsock: boolean }> {
  const info = await readHostInfo({ qemu: false });
  const kib = info.memory?.totalKiB;
  if (kib === null || kib === undefined) {
    throw new SandboxError('SANDBOX_UNSUPPORTED', 'cannot read the host memory size from /proc/meminfo');
  }
  return {
    accel: info.accel.accel,
    memMiB: Math.floor(kib / 1024),
    nested: info.nested.kataRunningOnVmm === true,
    vhostVsock: info.vhostVsock.present,
  };
}

function clampTimeout(options: OperationOptions | undefined, fallback: number): number {
  return options?.timeoutMs ?? fallback;
}

/** A VM run by QEMU. Create with {@link QemuHypervisor.create}, or re-attach with {@link QemuHypervisor.fromState}. */
export class QemuHypervisor implements Hypervisor {
  readonly type = 'qemu' as const;
  readonly id: string;
  readonly paths: SandboxPaths;
  readonly config: ResolvedHypervisorConfig;
  readonly arch: QemuArch;
  #devices: ArchDevices;
  #state: QemuState;
  #status: SandboxStatus;
  #child: LaunchedQemu | undefined;
  #pid: number | undefined;
  #pidStart: string | undefined;
  #exited: Promise<{ code: number | null; signal: string | null }> | undefined;
  #detached: boolean;
  #restoreFrom: string | undefined;
  #stderrTailCache: string[] = [];

  private constructor(init: {
    id: string;
    paths: SandboxPaths;
    config: ResolvedHypervisorConfig;
    arch: QemuArch;
    devices: ArchDevices;
    state: QemuState;
    status: SandboxStatus;
    detached: boolean;
    restoreFrom?: string;
  }) {
    this.id = init.id;
    this.paths = init.paths;
    this.config = init.config;
    this.arch = init.arch;
    this.#devices = init.devices;
    this.#state = init.state;
    this.#status = init.status;
    this.#detached = init.detached;
    this.#restoreFrom = init.restoreFrom;
  }

  /**
   * Validate the config, check the assets (existence, SHA-512 of custom ones, the QEMU binary), and
   * compose the command line. Nothing is started.
   *
   * @throws {SandboxError} `SANDBOX_INVALID_CONFIG`, `SANDBOX_ASSET_MISSING`,
   *   `SANDBOX_ASSET_DIGEST_MISMATCH`; `SANDBOX_UNSUPPORTED` when restoring (or booting from a
   *   template) without the `@vmm/fdpass` addon.
   */
  static async create(config: unknown, options: QemuHypervisorOptions): Promise<QemuHypervisor> {
    const c = parseHypervisorConfig(config);
    const facts = { ...(await readHostFactsIfNeeded(options.host)), ...options.host } as HostFacts;
    const arch0 = sandboxArch(c, facts);
    const assets = await resolveAssets(c, {
      defaultHypervisorPath: arch0.qemuPath,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let imageSizeBytes: number | undefined;
    if (assets.image !== undefined) imageSizeBytes = (await stat(assets.image)).size;
    const composed = composeQemu(c, {
      id: options.id,
      paths: options.paths,
      host: facts,
      ...(imageSizeBytes === undefined ? {} : { imageSizeBytes }),
      ...(options.restoreFrom !== undefined || c.bootFromTemplate ? { incoming: true } : {}),
    });
    let argv: string[];
    try {
      argv = [...encodeQemuArgv(composed.config).argv];
    } catch (err) {
      throw new SandboxError('SANDBOX_INVALID_CONFIG', `config: ${(err as Error).message}`, { cause: err });
    }
    const state: QemuState = {
      accel: composed.accel,
      qemuPath: assets.hypervisor,
      argv,
      hostMemMiB: facts.memMiB,
      nested: facts.nested,
      bridges: composed.devices.bridges.toState(),
      rootPorts: composed.rootPorts.map((rp) => ({ id: rp.id, slot: rp.slot, device: null })),
      nextScsiIndex: 0,
      nextMemSlot: 0,
      nextCpu: 0,
      vcpus: [],
      devices: [],
    };
    const restore = options.restoreFrom ?? (c.bootFromTemplate ? c.devicesStatePath : undefined);
    // Restoring hands the state file to QEMU as an fd: refuse before anything is launched.
    if (restore !== undefined) requireFdPassing('restore');
    return new QemuHypervisor({
      id: options.id,
      paths: options.paths,
      config: c,
      arch: composed.arch,
      devices: composed.devices,
      state,
      status: 'created',
      detached: options.detached === true,
      ...(restore === undefined ? {} : { restoreFrom: restore }),
    });
  }

  /**
   * Re-attach to a sandbox from its persisted state (another process started it).
   * @throws {SandboxError} `SANDBOX_STATE_INVALID` when the state does not validate.
   */
  static fromState(init: {
    id: string;
    paths: SandboxPaths;
    config: unknown;
    status: SandboxStatus;
    pid: number | null;
    pidStartTime: string | null;
    hypervisor: unknown;
  }): QemuHypervisor {
    const config = parseHypervisorConfig(init.config);
    const st = parseQemuState(init.hypervisor);
    const arch = sandboxArch(config, { accel: st.accel, memMiB: st.hostMemMiB, nested: st.nested });
    const hv = new QemuHypervisor({
      id: init.id,
      paths: init.paths,
      config,
      arch,
      devices: arch.devices({ bridges: restoreBridges(st.bridges) }),
      state: st,
      status: init.status,
      detached: true,
    });
    hv.#pid = init.pid ?? undefined;
    hv.#pidStart = init.pidStartTime ?? undefined;
    return hv;
  }

  /** Replace the mutable state with a newer persisted copy (another process changed it). */
  reload(init: HypervisorReloadState): void {
    const st = parseQemuState(init.hypervisor);
    this.#state = st;
    this.#devices = this.arch.devices({ bridges: restoreBridges(st.bridges) });
    this.#status = init.status;
    if (this.#child === undefined) {
      this.#pid = init.pid ?? undefined;
      this.#pidStart = init.pidStartTime ?? undefined;
    }
  }

  get status(): SandboxStatus {
    if ((this.#status === 'running' || this.#status === 'paused') && !this.#alive()) return 'stopped';
    return this.#status;
  }

  processInfo(): { readonly pid: number; readonly startTime: string | null } | null {
    return this.#pid === undefined ? null : { pid: this.#pid, startTime: this.#pidStart ?? null };
  }

  /** QEMU's pid while it runs. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /** `/proc` start time of QEMU (tells it from a reused pid). */
  get pidStartTime(): string | undefined {
    return this.#pidStart;
  }

  /** The QEMU argv (without the binary). */
  get argv(): readonly string[] {
    return this.#state.argv;
  }

  /** The QEMU binary. */
  get qemuPath(): string {
    return this.#state.qemuPath;
  }

  /** Accelerator in use. */
  get accel(): 'kvm' | 'tcg' {
    return this.#state.accel;
  }

  get exited(): Promise<{ code: number | null; signal: string | null }> {
    if (this.#exited !== undefined) return this.#exited;
    if (this.#child !== undefined) {
      this.#exited = this.#child.exited;
      return this.#exited;
    }
    const pid = this.#pid;
    if (pid === undefined) {
      this.#exited = Promise.resolve({ code: null, signal: null });
      return this.#exited;
    }
    // Not our child: poll /proc (the exit status belongs to the parent).
    this.#exited = new Promise((resolve) => {
      const timer = setInterval(() => {
        if (!isProcessAlive(pid, this.#pidStart)) {
          clearInterval(timer);
          resolve({ code: null, signal: null });
        }
      }, 50);
      timer.unref();
    });
    return this.#exited;
  }

  #alive(): boolean {
    if (this.#child !== undefined) return this.#child.running;
    return this.#pid !== undefined && isProcessAlive(this.#pid, this.#pidStart);
  }

  /** The last lines of QEMU's stderr. */
  stderrTail(n = 10): string[] {
    const t = fileTail(this.paths.stderr, n);
    if (t.length > 0) this.#stderrTailCache = t;
    return t.length > 0 ? t : this.#stderrTailCache;
  }

  toState(): Record<string, unknown> {
    return { ...this.#state, bridges: this.#devices.bridges.toState() };
  }

  capabilities(): HypervisorCapabilities {
    const caps = this.arch.capabilities;
    return Object.freeze({
      blockDeviceHotplug: caps.blockDeviceHotplug,
      memoryHotplug: caps.memoryHotplug,
      vcpuHotplug: this.arch.transport === 'pci',
      netHotplug: this.arch.bridgeType !== null || this.#state.rootPorts.length > 0,
      vfioHotplug: this.arch.transport === 'pci',
      vsock: existsSync('/dev/vhost-vsock'),
      fsSharing: caps.fsSharing,
      multiQueue: caps.multiQueue,
      pauseResume: true,
      saveRestore: true,
    });
  }

  pids(): number[] {
    return this.#alive() && this.#pid !== undefined ? [this.#pid] : [];
  }

  console(): ConsoleReader {
    return new ConsoleReader(this.paths.consoleLog, this.paths.console);
  }

  devices(): readonly HotplugResult[] {
    return this.#state.devices.map((d) => {
      const r: { -readonly [K in keyof HotplugResult]: HotplugResult[K] } = { id: d.id, kind: d.kind };
      if (d.bus !== undefined) r.bus = d.bus;
      if (d.addr !== undefined) r.addr = d.addr;
      if (d.guestAddress !== undefined) r.guestAddress = d.guestAddress;
      if (d.sizeMiB !== undefined) r.sizeMiB = d.sizeMiB;
      return Object.freeze(r);
    });
  }

  // ------------------------------------------------------------------------------------ lifecycle

  /**
   * Launch QEMU (not daemonized; with `detached`, in its own session so it outlives this process).
   * @throws {SandboxError} `SANDBOX_INVALID_STATE` unless just created, `SANDBOX_START_FAILED`.
   */
  async start(options: OperationOptions = {}): Promise<void> {
    if (this.#status !== 'created') {
      throw new SandboxError('SANDBOX_INVALID_STATE', `sandbox ${this.id} is ${this.#status}, not created`, {
        sandboxId: this.id,
      });
    }
    if (options.signal?.aborted) throw abortError(options.signal, 'start');
    await mkdir(this.paths.runDir, { recursive: true, mode: 0o700 });
    if (this.paths.socketDir !== this.paths.runDir)
      await mkdir(this.paths.socketDir, { recursive: true, mode: 0o700 });
    // QEMU creates the chardev log (and the `-D` log) with 0666 & ~umask; it keeps the mode of a
    // file that already exists, so create them 0600 first.
    await createPrivateFile(this.paths.consoleLog);
    if (this.config.debug) await createPrivateFile(this.paths.log);
    const child = await spawnQemu(this.#state.qemuPath, this.#state.argv, [], {
      stderrPath: this.paths.stderr,
      detached: this.#detached,
    }).catch((err: unknown) => {
      throw new SandboxError(
        'SANDBOX_START_FAILED',
        `cannot start QEMU for ${this.id}: ${(err as Error).message}`,
        {
          cause: err,
          sandboxId: this.id,
        },
      );
    });
    this.#child = child;
    this.#pid = child.pid;
    this.#pidStart = processStartTime(child.pid);
    this.#exited = undefined;
    this.#status = 'running';
    if (this.#detached) child.unref();
  }

  /**
   * Wait until QMP answers (retrying the connect until the deadline, stopping early if QEMU died),
   * then check `query-status`; with `restoreFrom`, load the saved state first.
   *
   * @throws {SandboxError} `SANDBOX_HYPERVISOR_EXITED` (QEMU's stderr tail and exit kept),
   *   `SANDBOX_READY_TIMEOUT`, `SANDBOX_ABORTED`, `SANDBOX_MIGRATION_FAILED`.
   */
  async waitReady(options: OperationOptions = {}): Promise<void> {
    const timeoutMs = clampTimeout(options, 30_000);
    const pid = this.#pid;
    if (pid === undefined) {
      throw new SandboxError('SANDBOX_INVALID_STATE', `sandbox ${this.id} was not started`, {
        sandboxId: this.id,
      });
    }
    let client: QmpClient | undefined;
    const exitedEarly = this.exited.then(() => 'exited' as const);
    try {
      const connecting = connectPolling(this.paths.qmp, {
        timeoutMs,
        pid,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const first = await Promise.race([connecting, exitedEarly]);
      if (first === 'exited') {
        connecting.then(
          (c) => c.close(),
          () => undefined,
        );
        throw await this.#exitError('QEMU exited before its QMP socket answered');
      }
      client = first;
      if (this.#restoreFrom !== undefined) {
        await this.#incoming(client, this.#restoreFrom, timeoutMs);
        this.#restoreFrom = undefined;
      }
      await client.execute('query-status', undefined, { timeout: timeoutMs });
      await restrictSockets(this.paths.socketDir);
    } catch (err) {
      if (SandboxError.is(err)) throw err;
      // A refused or dropped connection is often QEMU dying: its exit may not have been seen yet.
      if (await this.#exitsWithin(READY_EXIT_GRACE_MS))
        throw await this.#exitError('QEMU exited before it was ready', err);
      if (options.signal?.aborted) throw abortError(options.signal, 'waitReady');
      throw new SandboxError(
        'SANDBOX_READY_TIMEOUT',
        `Failed to connect to QEMU instance (timeout ${timeoutMs} ms): ${(err as Error).message}`,
        { cause: err, sandboxId: this.id, stderrTail: this.stderrTail() },
      );
    } finally {
      await client?.close();
    }
  }

  async #incoming(qmp: QmpClient, path: string, timeoutMs: number): Promise<void> {
    try {
      // From a template, guest RAM is the template's memory file: only device state is in the stream.
      if (this.config.bootFromTemplate) await ignoreShared(qmp);
      await migrateThroughFd(qmp, path, 'in', { timeout: timeoutMs });
      await qmp.execute('cont');
    } catch (err) {
      if (SandboxError.is(err)) throw err;
      throw new SandboxError(
        'SANDBOX_MIGRATION_FAILED',
        `cannot restore ${this.id} from ${path}: ${(err as Error).message}`,
        {
          cause: err,
          sandboxId: this.id,
          stderrTail: this.stderrTail(),
        },
      );
    }
  }

  /**
   * True when QEMU has exited or exits within `ms`. A QEMU that `/proc` already shows as a zombie (or
   * gone) has exited even if this process has not yet seen its exit: then the exit is waited for.
   */
  async #exitsWithin(ms: number): Promise<boolean> {
    if (!this.#alive()) return true;
    const dead = this.#pid !== undefined && !isProcessAlive(this.#pid, this.#pidStart);
    return this.#waitGone(dead ? 5_000 : ms);
  }

  async #exitError(message: string, cause?: unknown): Promise<SandboxError> {
    const exit = this.#child !== undefined ? await this.#child.exited : { code: null, signal: null };
    const how =
      exit.signal !== null
        ? `killed by ${exit.signal}`
        : exit.code !== null
          ? `exit code ${exit.code}`
          : 'exited';
    return new SandboxError('SANDBOX_HYPERVISOR_EXITED', `${message} (${how})`, {
      sandboxId: this.id,
      exit,
      stderrTail: this.stderrTail(),
      ...(cause === undefined ? {} : { cause }),
    });
  }

  /**
   * Run `fn` on a fresh QMP connection (closed afterwards). Errors become `code` SandboxErrors, or
   * `SANDBOX_HYPERVISOR_EXITED` with QEMU's stderr tail when QEMU died meanwhile.
   */
  async #qmp<T>(
    what: string,
    code: SandboxErrorCode,
    options: OperationOptions,
    fn: (q: QmpClient) => Promise<T>,
  ): Promise<T> {
    if (!this.#alive()) throw await this.#exitError(`${what}: QEMU is not running`);
    let client: QmpClient | undefined;
    try {
      client = await connectQmp(this.paths.qmp, {
        connectTimeout: 5_000,
        ...(this.#pid === undefined ? {} : { pid: this.#pid }),
        commandTimeout: clampTimeout(options, 30_000),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return await fn(client);
    } catch (err) {
      if (SandboxError.is(err)) throw err;
      if (await this.#exitsWithin(20)) throw await this.#exitError(`${what}: QEMU exited`, err);
      if (options.signal?.aborted) throw abortError(options.signal, what);
      throw new SandboxError(code, `${what}: ${(err as Error).message}`, { cause: err, sandboxId: this.id });
    } finally {
      await client?.close();
    }
  }

  /**
   * Stop QEMU; idempotent. `quit` over QMP, then SIGTERM, then SIGKILL, each after `graceMs`; then the
   * run directory (sockets, logs, state) is removed.
   * @throws {SandboxError} `SANDBOX_STOP_FAILED` when QEMU survives SIGKILL or the directory stays.
   */
  async stop(options: StopOptions = {}): Promise<StopResult> {
    const grace = options.graceMs ?? 5_000;
    let method: StopResult['method'] = 'already-stopped';
    if (this.#alive()) {
      method = 'quit';
      try {
        const q = await connectQmp(this.paths.qmp, {
          connectTimeout: 1_000,
          greetingTimeout: 2_000,
          ...(this.#pid === undefined ? {} : { pid: this.#pid }),
        });
        try {
          await q.execute('quit', undefined, { timeout: 2_000 });
        } finally {
          await q.close();
        }
      } catch {
        // QMP unusable (busy, wedged): fall through to signals.
      }
      if (!(await this.#waitGone(grace))) {
        method = 'sigterm';
        this.#signal('SIGTERM');
        if (!(await this.#waitGone(grace))) {
          method = 'sigkill';
          this.#signal('SIGKILL');
          if (!(await this.#waitGone(5_000))) {
            throw new SandboxError('SANDBOX_STOP_FAILED', `QEMU (pid ${this.#pid}) survived SIGKILL`, {
              sandboxId: this.id,
            });
          }
        }
      }
    }
    const exit = this.#child !== undefined ? await this.#child.exited : undefined;
    this.stderrTail();
    this.#status = 'stopped';
    await this.cleanup();
    return exit === undefined ? { method } : { method, exit };
  }

  /** Remove the run directory and the socket directory. @throws {SandboxError} `SANDBOX_STOP_FAILED` */
  async cleanup(): Promise<void> {
    try {
      if (this.paths.socketDir !== this.paths.runDir)
        await rm(this.paths.socketDir, { recursive: true, force: true });
      await rm(this.paths.runDir, { recursive: true, force: true });
    } catch (err) {
      throw new SandboxError(
        'SANDBOX_STOP_FAILED',
        `cannot remove ${this.paths.runDir}: ${(err as Error).message}`,
        {
          cause: err,
          sandboxId: this.id,
        },
      );
    }
  }

  #signal(sig: NodeJS.Signals): void {
    if (this.#child !== undefined) {
      this.#child.kill(sig);
      return;
    }
    if (this.#pid !== undefined && isProcessAlive(this.#pid, this.#pidStart)) {
      try {
        process.kill(this.#pid, sig);
      } catch {
        // gone meanwhile
      }
    }
  }

  /**
   * Wait up to `ms` for QEMU to be gone. Our own child is awaited (its exit event, no polling); a QEMU
   * another process started is polled through /proc, every 1 ms at first, backing off to 20 ms.
   */
  async #waitGone(ms: number): Promise<boolean> {
    const child = this.#child;
    if (child !== undefined) {
      if (!child.running) {
        await child.exited;
        return true;
      }
      const ac = new AbortController();
      const gone = await Promise.race([
        child.exited.then(() => true),
        sleep(ms, false, { signal: ac.signal }).catch(() => false),
      ]);
      ac.abort();
      return gone;
    }
    const deadline = Date.now() + ms;
    for (let delay = 1; this.#alive(); delay = Math.min(delay * 2, 20)) {
      if (Date.now() >= deadline) return false;
      await sleep(delay);
    }
    return true;
  }

  /** Pause the vCPUs (`stop`). @throws {SandboxError} `SANDBOX_INVALID_STATE`, `SANDBOX_QMP_FAILED` */
  async pause(options: OperationOptions = {}): Promise<void> {
    await this.#mustRun('pause');
    await this.#qmp('pause', 'SANDBOX_QMP_FAILED', options, (q) => q.execute('stop'));
    this.#status = 'paused';
  }

  /** Resume the vCPUs (`cont`). @throws {SandboxError} `SANDBOX_INVALID_STATE`, `SANDBOX_QMP_FAILED` */
  async resume(options: OperationOptions = {}): Promise<void> {
    await this.#mustRun('resume');
    await this.#qmp('resume', 'SANDBOX_QMP_FAILED', options, (q) => q.execute('cont'));
    this.#status = 'running';
  }

  /**
   * Ask the guest to power off (ACPI button, `system_powerdown`); resolves once QEMU has exited, when
   * `wait` (default). @throws {SandboxError} `SANDBOX_QMP_FAILED`, `SANDBOX_TIMEOUT`
   */
  async powerdown(options: OperationOptions & { wait?: boolean } = {}): Promise<void> {
    await this.#mustRun('powerdown');
    await this.#qmp('powerdown', 'SANDBOX_QMP_FAILED', options, (q) => q.execute('system_powerdown'));
    if (options.wait === false) return;
    if (!(await this.#waitGone(clampTimeout(options, 60_000)))) {
      throw new SandboxError(
        'SANDBOX_TIMEOUT',
        `the guest did not power off within ${clampTimeout(options, 60_000)} ms`,
        {
          sandboxId: this.id,
        },
      );
    }
    this.#status = 'stopped';
  }

  /**
   * Save the VM's state to `path` (Kata `saveSandbox`, without its shell): `path` is opened here
   * (created 0600 or truncated), its fd handed to QEMU with `getfd`, then `migrate fd:<name>` and a
   * wait for the migration. The VM is left paused (QEMU's `postmigrate`).
   * @throws {SandboxError} `SANDBOX_MIGRATION_FAILED`; `SANDBOX_UNSUPPORTED` without the
   *   `@vmm/fdpass` addon (checked before `path` is touched).
   */
  async save(path: string, options: OperationOptions = {}): Promise<void> {
    await this.#mustRun('save');
    requireFdPassing('save');
    await this.#qmp('save', 'SANDBOX_MIGRATION_FAILED', options, async (q) => {
      // A template keeps its RAM in the shared memory file: save only the device state (Kata).
      if (this.config.bootToBeTemplate) await ignoreShared(q);
      await migrateThroughFd(q, path, 'out', { timeout: clampTimeout(options, 60_000) });
    });
    this.#status = 'paused';
  }

  async #mustRun(what: string): Promise<void> {
    const recorded = this.#status;
    if ((recorded === 'running' || recorded === 'paused') && !this.#alive()) {
      // It was running and nobody stopped it: QEMU died (crash, SIGKILL, guest poweroff).
      throw await this.#exitError(`${what}: QEMU exited unexpectedly`);
    }
    if (recorded !== 'running' && recorded !== 'paused') {
      throw new SandboxError('SANDBOX_INVALID_STATE', `${what}: sandbox ${this.id} is ${recorded}`, {
        sandboxId: this.id,
      });
    }
  }

  // -------------------------------------------------------------------------------------- hotplug

  /**
   * Hotplug a device; whatever was added is rolled back on failure.
   * @throws {SandboxError} `SANDBOX_INVALID_CONFIG` (path `device.id`, see {@link checkDeviceId};
   *   checked before anything else), `SANDBOX_HOTPLUG_FAILED`, `SANDBOX_UNSUPPORTED`,
   *   `SANDBOX_INVALID_STATE`, `SANDBOX_EXISTS` (id in use), `SANDBOX_HYPERVISOR_EXITED`.
   */
  async hotplugAdd(device: HotplugDevice, options: OperationOptions = {}): Promise<HotplugResult> {
    // The id is checked first, before the VM's state and before any QMP connection.
    const id = checkDeviceId(
      device.kind === 'memory' ? (device.id ?? `dimm${this.#state.nextMemSlot}`) : device.id,
    );
    if (VCPU_ID_PATTERN.test(id)) {
      throw new SandboxError(
        'SANDBOX_INVALID_CONFIG',
        `device.id: ${JSON.stringify(id)} is reserved for hotplugged vCPUs (cpu-<n>)`,
        { path: 'device.id' },
      );
    }
    await this.#mustRun('hotplug');
    if (this.#state.devices.some((d) => d.id === id) || this.#state.vcpus.includes(id)) {
      throw new SandboxError('SANDBOX_EXISTS', `device ${id} is already plugged into ${this.id}`, {
        path: 'device.id',
      });
    }
    let record: DeviceRecord;
    switch (device.kind) {
      case 'block':
        record = await this.#addBlock(device, options);
        break;
      case 'memory':
        record = await this.#addMemory(device, id, options);
        break;
      case 'net':
        record = await this.#addNet(device, options);
        break;
      case 'vfio':
        record = await this.#addVfio(device, options);
        break;
      case 'vsock':
        record = await this.#addVsock(device, options);
        break;
      default:
        throw new SandboxError(
          'SANDBOX_UNSUPPORTED',
          `cannot hotplug device: unsupported device type '${(device as { kind: string }).kind}'`,
          { path: 'device.kind' },
        );
    }
    this.#state.devices.push(record);
    return this.devices().find((d) => d.id === record.id) as HotplugResult;
  }

  /** A PCI place for a new device: a free root port (q35), else a bridge slot. */
  #placePci(
    id: string,
    placement: 'auto' | 'bridge' | 'root-port',
  ): {
    bus: string;
    addr?: string;
    guestAddress?: string;
    placement: 'bridge' | 'root-port';
    release: () => void;
  } {
    const rp = placement === 'bridge' ? undefined : this.#state.rootPorts.find((p) => p.device === null);
    if (rp !== undefined) {
      rp.device = id;
      return {
        bus: rp.id,
        guestAddress: `${rp.slot.toString(16).padStart(2, '0')}/00`,
        placement: 'root-port',
        release: () => {
          rp.device = null;
        },
      };
    }
    if (placement === 'root-port') {
      throw new SandboxError(
        'SANDBOX_UNSUPPORTED',
        `no free PCIe root port for ${id} (config.pcieRootPort)`,
        {
          path: 'config.pcieRootPort',
        },
      );
    }
    const type = this.arch.bridgeType;
    if (type === null || type === 'ccw') {
      throw new SandboxError(
        'SANDBOX_UNSUPPORTED',
        `${this.arch.arch}/${this.arch.machineType} has no PCI bridges for ${id}`,
      );
    }
    let p: ReturnType<BridgeAllocator['add']>;
    try {
      p = this.#devices.bridges.add(id, type);
    } catch (err) {
      throw new SandboxError(
        'SANDBOX_HOTPLUG_FAILED',
        `no bridge slot for ${id}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return {
      bus: p.bridge.id,
      addr: p.addr,
      ...(p.pciPath === undefined ? {} : { guestAddress: p.pciPath }),
      placement: 'bridge',
      release: () => {
        this.#devices.bridges.remove(id);
      },
    };
  }

  #attachOf(device: BlockHotplug): BlockAttachment {
    if (device.attach !== undefined) return device.attach;
    // A PCI placement only makes sense for virtio-blk.
    if (device.placement === 'bridge' || device.placement === 'root-port') return 'virtio-blk';
    switch (this.config.blockDeviceDriver) {
      case 'virtio-scsi':
        return 'virtio-scsi';
      case 'nvdimm':
        return 'nvdimm';
      case 'virtio-mmio':
        throw new SandboxError('SANDBOX_UNSUPPORTED', 'virtio-mmio block devices cannot be hotplugged', {
          path: 'config.blockDeviceDriver',
        });
      default:
        return 'virtio-blk';
    }
  }

  async #addBlock(device: BlockHotplug, options: OperationOptions): Promise<DeviceRecord> {
    if (!this.arch.capabilities.blockDeviceHotplug) {
      throw new SandboxError('SANDBOX_UNSUPPORTED', `${this.arch.machineType} cannot hotplug block devices`);
    }
    let size: number;
    try {
      const st = await stat(device.path);
      size = st.isBlockDevice() || st.isFile() ? st.size : -1;
    } catch (err) {
      throw new SandboxError('SANDBOX_ASSET_MISSING', `device.path: ${device.path} does not exist`, {
        path: 'device.path',
        cause: err,
      });
    }
    if (size < 0)
      throw new SandboxError(
        'SANDBOX_INVALID_CONFIG',
        `device.path: ${device.path} is not a file or block device`,
        { path: 'device.path' },
      );
    const attach = this.#attachOf(device);
    const id = device.id;
    const node = `drive-${id}`;
    const c = this.config;
    const blockdev = rawBlockdev({
      nodeName: node,
      filename: device.path,
      readOnly: device.readOnly === true,
      ...(c.blockDeviceCacheSet
        ? { direct: c.blockDeviceCacheDirect, noFlush: c.blockDeviceCacheNoflush }
        : {}),
    });
    const fail = (err: unknown): never => {
      if (SandboxError.is(err)) throw err;
      throw new SandboxError(
        'SANDBOX_HOTPLUG_FAILED',
        `hotplug of block device ${id} failed (rolled back): ${(err as Error).message}`,
        {
          cause: err,
          sandboxId: this.id,
          stderrTail: this.#alive() ? [] : this.stderrTail(),
        },
      );
    };
    if (attach === 'nvdimm') {
      if (size === 0)
        throw new SandboxError('SANDBOX_INVALID_CONFIG', `device.path: ${device.path} is empty`, {
          path: 'device.path',
        });
      const index = this.#state.devices.filter((d) => d.attach === 'nvdimm').length;
      await this.#qmp(`hotplug ${id}`, 'SANDBOX_HOTPLUG_FAILED', options, (q) =>
        hotplugMemory(q, {
          id: `nvdimmbackmem-${id}`,
          qomType: 'memory-backend-file',
          memPath: device.path,
          size,
          share: true,
          driver: 'nvdimm',
          deviceId: id,
        }),
      ).catch(fail);
      return {
        id,
        kind: 'block',
        attach,
        backend: `nvdimmbackmem-${id}`,
        placement: 'none',
        guestAddress: `pmem${index}`,
      };
    }
    if (attach === 'virtio-scsi') {
      if (this.config.blockDeviceDriver !== 'virtio-scsi') {
        throw new SandboxError(
          'SANDBOX_UNSUPPORTED',
          'virtio-scsi needs config.blockDeviceDriver virtio-scsi (the scsi0 controller)',
          {
            path: 'config.blockDeviceDriver',
          },
        );
      }
      const used = new Set(this.#state.devices.map((d) => d.scsiIndex).filter((n) => n !== undefined));
      let index = 0;
      while (used.has(index)) index++;
      const { id: scsiId, lun } = scsiIdLun(index);
      await this.#qmp(`hotplug ${id}`, 'SANDBOX_HOTPLUG_FAILED', options, (q) =>
        hotplugBlockDevice(
          q,
          blockdev,
          scsiDevice({ id, drive: node, driver: 'scsi-hd', bus: 'scsi0.0', scsiId, lun }),
        ),
      ).catch(fail);
      return {
        id,
        kind: 'block',
        attach,
        bus: 'scsi0.0',
        backend: node,
        placement: 'scsi',
        scsiIndex: index,
        guestAddress: `${scsiId}:${lun}`,
      };
    }
    const place = this.#placePci(id, device.placement ?? 'auto');
    try {
      await this.#qmp(`hotplug ${id}`, 'SANDBOX_HOTPLUG_FAILED', options, (q) =>
        hotplugBlockDevice(
          q,
          blockdev,
          blkDevice({
            id,
            drive: node,
            bus: place.bus,
            ...(place.addr === undefined ? {} : { addr: place.addr }),
            ...(this.arch.nestedRun ? { disableModern: true } : {}),
          }),
        ),
      );
    } catch (err) {
      place.release();
      return fail(err);
    }
    return {
      id,
      kind: 'block',
      attach,
      bus: place.bus,
      ...(place.addr === undefined ? {} : { addr: place.addr }),
      ...(place.guestAddress === undefined ? {} : { guestAddress: place.guestAddress }),
      backend: node,
      placement: place.placement,
    };
  }

  async #addMemory(device: MemoryHotplug, id: string, options: OperationOptions): Promise<DeviceRecord> {
    if (!this.arch.capabilities.memoryHotplug) {
      throw new SandboxError('SANDBOX_UNSUPPORTED', `${this.arch.machineType} cannot hotplug memory`);
    }
    const block = device.blockSizeMiB ?? 128;
    if (!Number.isInteger(device.sizeMiB) || device.sizeMiB <= 0 || !Number.isInteger(block) || block <= 0) {
      throw new SandboxError(
        'SANDBOX_INVALID_CONFIG',
        `device.sizeMiB must be a positive integer, got ${device.sizeMiB}`,
        {
          path: 'device.sizeMiB',
        },
      );
    }
    // Kata calcHotplugMemMiBSize: round up to the guest's memory block size.
    const sizeMiB = Math.ceil(device.sizeMiB / block) * block;
    const plugged = this.#state.devices
      .filter((d) => d.kind === 'memory')
      .reduce((n, d) => n + (d.sizeMiB ?? 0), 0);
    if (this.config.memorySize + plugged + sizeMiB > this.#state.hostMemMiB) {
      throw new SandboxError(
        'SANDBOX_HOTPLUG_FAILED',
        `adding ${sizeMiB} MiB would exceed the host's ${this.#state.hostMemMiB} MiB`,
        { path: 'device.sizeMiB' },
      );
    }
    const dimms = this.#state.devices.filter((d) => d.kind === 'memory' || d.attach === 'nvdimm').length;
    if (dimms >= this.config.memSlots) {
      throw new SandboxError(
        'SANDBOX_HOTPLUG_FAILED',
        `all ${this.config.memSlots} memory slots are in use`,
        {
          path: 'config.memSlots',
        },
      );
    }
    const slot = this.#state.nextMemSlot++;
    const backend = `mem${slot}`;
    await this.#qmp(`hotplug ${id}`, 'SANDBOX_HOTPLUG_FAILED', options, (q) =>
      hotplugMemory(q, { id: backend, size: sizeMiB * 1024 * 1024, deviceId: id }),
    ).catch((err: unknown) => {
      if (SandboxError.is(err)) throw err;
      throw new SandboxError(
        'SANDBOX_HOTPLUG_FAILED',
        `memory hotplug failed (rolled back): ${(err as Error).message}`,
        { cause: err },
      );
    });
    return { id, kind: 'memory', backend, sizeMiB, placement: 'none' };
  }

  async #addNet(device: NetHotplug, options: OperationOptions): Promise<DeviceRecord> {
    if (device.tapFds.length === 0) {
      throw new SandboxError('SANDBOX_INVALID_CONFIG', 'device.tapFds: at least one tap fd is needed', {
        path: 'device.tapFds',
      });
    }
    if (device.mac !== undefined && !MAC_ADDRESS_PATTERN.test(device.mac)) {
      throw new SandboxError(
        'SANDBOX_INVALID_CONFIG',
        `device.mac: ${JSON.stringify(device.mac)} is not a MAC address (six hex pairs separated by ":")`,
        { path: 'device.mac' },
      );
    }
    const id = device.id;
    const netdev = `netdev-${id}`;
    const place = this.#placePci(id, 'auto');
    try {
      await this.#qmp(`hotplug ${id}`, 'SANDBOX_HOTPLUG_FAILED', options, async (q) => {
        await addNetdevByFds(q, {
          type: 'tap',
          id: netdev,
          fds: device.tapFds,
          ...(device.vhostFds === undefined ? {} : { vhostFds: device.vhostFds }),
        });
        try {
          await q.execute(
            'device_add',
            netDevice({
              id,
              netdev,
              bus: place.bus,
              ...(place.addr === undefined ? {} : { addr: place.addr }),
              ...(device.mac === undefined ? {} : { mac: device.mac }),
              ...(device.tapFds.length > 1 ? { queues: device.tapFds.length } : {}),
            }),
          );
        } catch (err) {
          await q.execute('netdev_del', { id: netdev }).catch(() => undefined);
          throw err;
        }
      });
    } catch (err) {
      place.release();
      if (SandboxError.is(err)) throw err;
      throw new SandboxError(
        'SANDBOX_HOTPLUG_FAILED',
        `net hotplug of ${id} failed (rolled back): ${(err as Error).message}`,
        { cause: err },
      );
    }
    return {
      id,
      kind: 'net',
      bus: place.bus,
      ...(place.addr === undefined ? {} : { addr: place.addr }),
      ...(place.guestAddress === undefined ? {} : { guestAddress: place.guestAddress }),
      backend: netdev,
      placement: place.placement,
    };
  }

  async #addVfio(device: VfioHotplug, options: OperationOptions): Promise<DeviceRecord> {
    if (!/^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/.test(device.hostAddr)) {
      throw new SandboxError(
        'SANDBOX_INVALID_CONFIG',
        `device.hostAddr: ${JSON.stringify(device.hostAddr)} is not a PCI address like 0000:01:00.0`,
        {
          path: 'device.hostAddr',
        },
      );
    }
    const id = device.id;
    const rootBus = this.arch.machineType === 'q35' || this.arch.machineType === 'virt' ? 'pcie.0' : 'pci.0';
    const place = this.config.hotplugVfioOnRootBus
      ? { bus: rootBus, placement: 'none' as const, release: () => undefined }
      : this.#placePci(id, 'auto');
    try {
      await this.#qmp(`hotplug ${id}`, 'SANDBOX_HOTPLUG_FAILED', options, (q) =>
        q.execute(
          'device_add',
          vfioDevice({
            id,
            host: device.hostAddr,
            bus: place.bus,
            ...('addr' in place && place.addr !== undefined ? { addr: place.addr } : {}),
          }),
        ),
      );
    } catch (err) {
      place.release();
      if (SandboxError.is(err)) throw err;
      throw new SandboxError(
        'SANDBOX_HOTPLUG_FAILED',
        `VFIO hotplug of ${device.hostAddr} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return {
      id,
      kind: 'vfio',
      bus: place.bus,
      placement: place.placement === 'none' ? 'none' : place.placement,
    };
  }

  async #addVsock(device: VsockHotplug, options: OperationOptions): Promise<DeviceRecord> {
    if (!existsSync('/dev/vhost-vsock')) {
      throw new SandboxError('SANDBOX_UNSUPPORTED', 'vsock needs /dev/vhost-vsock (modprobe vhost_vsock)', {
        path: 'device',
      });
    }
    if (!Number.isInteger(device.guestCid) || device.guestCid < 3 || device.guestCid > 0xffff_fffe) {
      throw new SandboxError(
        'SANDBOX_INVALID_CONFIG',
        `device.guestCid must be in 3..4294967294, got ${device.guestCid}`,
        {
          path: 'device.guestCid',
        },
      );
    }
    const id = device.id;
    const place = this.#placePci(id, 'auto');
    try {
      await this.#qmp(`hotplug ${id}`, 'SANDBOX_HOTPLUG_FAILED', options, (q) =>
        q.execute(
          'device_add',
          vsockDevice({
            id,
            guestCid: device.guestCid,
            bus: place.bus,
            ...(place.addr === undefined ? {} : { addr: place.addr }),
          }),
        ),
      );
    } catch (err) {
      place.release();
      if (SandboxError.is(err)) throw err;
      throw new SandboxError('SANDBOX_HOTPLUG_FAILED', `vsock hotplug failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return {
      id,
      kind: 'vsock',
      bus: place.bus,
      ...(place.addr === undefined ? {} : { addr: place.addr }),
      placement: place.placement,
    };
  }

  /**
   * Unplug a device: `device_del`, wait for `DEVICE_DELETED`, then delete its backend (blockdev node,
   * memory object, netdev) and free its slot.
   * @throws {SandboxError} `SANDBOX_NOT_FOUND`, `SANDBOX_HOTPLUG_FAILED` (the guest did not release it in time).
   */
  async hotplugRemove(id: string, options: OperationOptions = {}): Promise<void> {
    await this.#mustRun('unplug');
    const i = this.#state.devices.findIndex((d) => d.id === id);
    const rec = this.#state.devices[i];
    if (rec === undefined) {
      throw new SandboxError('SANDBOX_NOT_FOUND', `no hotplugged device ${id} in ${this.id}`, { path: 'id' });
    }
    if (rec.attach === 'nvdimm') {
      throw new SandboxError('SANDBOX_UNSUPPORTED', 'QEMU cannot hot-unplug an NVDIMM', { path: 'id' });
    }
    await this.#qmp(`unplug ${id}`, 'SANDBOX_HOTPLUG_FAILED', options, async (q) => {
      await deleteDevice(q, id, { timeout: clampTimeout(options, 30_000) });
      if (rec.backend !== undefined) {
        if (rec.kind === 'block') await q.execute('blockdev-del', { 'node-name': rec.backend });
        else if (rec.kind === 'memory') await q.execute('object-del', { id: rec.backend });
        else if (rec.kind === 'net') await q.execute('netdev_del', { id: rec.backend });
      }
    });
    if (rec.placement === 'bridge') this.#devices.bridges.remove(id);
    if (rec.placement === 'root-port') {
      const rp = this.#state.rootPorts.find((p) => p.device === id);
      if (rp !== undefined) rp.device = null;
    }
    this.#state.devices.splice(i, 1);
  }

  /**
   * Set the number of vCPUs (Kata `resizeVCPUs`): `count` clamped to 1..defaultMaxVcpus; adds
   * `cpu-<n>` devices in free `query-hotpluggable-cpus` slots, or removes hotplugged ones newest first
   * (boot vCPUs cannot be removed). A partial change is returned with `error` set.
   *
   * vCPU removal completes when QEMU reports `DEVICE_DELETED` for the device or for its lapic child
   * (QEMU 7.2 under TCG reports only `/machine/peripheral/<id>/lapic`). On QEMU 7.2 TCG any later
   * `device_add` then crashes QEMU (see the README): remove vCPUs last.
   *
   * @throws {SandboxError} `SANDBOX_HOTPLUG_FAILED` when not even one vCPU could be changed.
   */
  async resizeVcpus(count: number, options: OperationOptions = {}): Promise<VcpuResizeResult> {
    await this.#mustRun('resize vCPUs');
    if (!Number.isInteger(count)) {
      throw new SandboxError('SANDBOX_INVALID_CONFIG', `count must be an integer, got ${count}`, {
        path: 'count',
      });
    }
    const boot = this.config.numVcpus;
    const max = this.config.defaultMaxVcpus;
    const before = boot + this.#state.vcpus.length;
    const target = Math.min(Math.max(count, 1), max);
    let error: SandboxError | undefined;
    if (target > before) {
      await this.#qmp('add vCPUs', 'SANDBOX_HOTPLUG_FAILED', options, async (q) => {
        for (let n = before; n < target; n++) {
          const cpuId = `cpu-${this.#state.nextCpu}`;
          try {
            await hotplugCpu(q, cpuId);
            this.#state.nextCpu++;
            this.#state.vcpus.push(cpuId);
          } catch (err) {
            error = new SandboxError(
              'SANDBOX_HOTPLUG_FAILED',
              `only ${n - before} of ${target - before} vCPUs were added: ${(err as Error).message}`,
              {
                cause: err,
              },
            );
            break;
          }
        }
      });
    } else if (target < before) {
      const removable = Math.min(before - target, this.#state.vcpus.length);
      if (removable < before - target) {
        error = new SandboxError(
          'SANDBOX_HOTPLUG_FAILED',
          `only hotplugged vCPUs can be removed: ${boot} were there at boot`,
          {
            path: 'count',
          },
        );
      }
      await this.#qmp('remove vCPUs', 'SANDBOX_HOTPLUG_FAILED', options, async (q) => {
        for (let n = 0; n < removable; n++) {
          const cpuId = this.#state.vcpus[this.#state.vcpus.length - 1] as string;
          try {
            await unplugCpu(q, cpuId, clampTimeout(options, 30_000));
            this.#state.vcpus.pop();
          } catch (err) {
            error = new SandboxError(
              'SANDBOX_HOTPLUG_FAILED',
              `only ${n} of ${removable} vCPUs were removed: ${(err as Error).message}`,
              {
                cause: err,
              },
            );
            break;
          }
        }
      });
    }
    const after = boot + this.#state.vcpus.length;
    if (error !== undefined && after === before && target !== before) throw error;
    return Object.freeze({
      before,
      after,
      requested: count,
      target,
      ...(error === undefined ? {} : { error }),
    });
  }
}

async function readHostFactsIfNeeded(given: Partial<HostFacts> | undefined): Promise<Partial<HostFacts>> {
  if (given?.accel !== undefined && given.memMiB !== undefined && given.nested !== undefined) return {};
  return readHostFacts();
}

function restoreBridges(state: unknown): BridgeAllocator {
  try {
    return BridgeAllocator.fromState(state);
  } catch (err) {
    throw new SandboxError('SANDBOX_STATE_INVALID', `hypervisor.bridges: ${(err as Error).message}`, {
      path: 'hypervisor.bridges',
      cause: err,
    });
  }
}

function parseQemuState(value: unknown): QemuState {
  const r = qemuStateSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    const path = ['hypervisor', ...(i?.path ?? []).map(String)].join('.');
    throw new SandboxError('SANDBOX_STATE_INVALID', `${path}: ${i?.message ?? 'invalid'}`, {
      path,
      cause: r.error,
    });
  }
  return r.data;
}

/**
 * `device_del` a vCPU and wait until it is gone: a `DEVICE_DELETED` for the device or for its lapic
 * child (all QEMU 7.2 under TCG reports), or `query-hotpluggable-cpus` showing its slot free again,
 * whichever comes first (the guest-notes ways that work).
 */
async function unplugCpu(q: QmpClient, cpuId: string, timeoutMs: number): Promise<void> {
  const base = `/machine/peripheral/${cpuId}`;
  const ac = new AbortController();
  const event = q.executeAndWaitFor(
    'device_del',
    { id: cpuId },
    {
      event: 'DEVICE_DELETED',
      timeout: timeoutMs,
      signal: ac.signal,
      match: (e) => {
        const d = e.data as { device?: string; path?: string } | undefined;
        return d?.device === cpuId || d?.path === base || (d?.path?.startsWith(`${base}/`) ?? false);
      },
    },
  );
  const slotFree = (async (): Promise<void> => {
    for (;;) {
      await sleep(250, undefined, { signal: ac.signal });
      const slots = await q.execute('query-hotpluggable-cpus', undefined, { signal: ac.signal });
      if (!slots.some((slot) => slot['qom-path'] === base)) return;
    }
  })();
  try {
    await Promise.race([event, slotFree]);
  } finally {
    ac.abort();
    // The loser rejects with an abort; nothing to report.
    await Promise.allSettled([event, slotFree]);
  }
}

/**
 * How long `waitReady` waits for QEMU's exit after a failed QMP connection before it reports a
 * timeout rather than an exit (QEMU closes its sockets a moment before its exit status is seen).
 */
const READY_EXIT_GRACE_MS = 250;

/** How often {@link connectPolling} retries while QEMU has not yet created its QMP socket. */
export const QMP_POLL_INTERVAL_MS = 10;

/**
 * `connectQmp` for a QEMU that is still starting, retrying ENOENT/ECONNREFUSED every
 * {@link QMP_POLL_INTERVAL_MS} ms until `timeoutMs` or until `pid` exits. `@vmm/qmp`'s own
 * `connectTimeout` retry backs off to 200 ms and has no option to cap it, which costs up to
 * ~200 ms of start-to-ready latency; each attempt here is a single `connect()`.
 * @throws {QmpError} what `connectQmp` throws (`QMP_CONNECT_FAILED` after the deadline).
 */
export async function connectPolling(
  path: string,
  options: { timeoutMs: number; pid: number; signal?: AbortSignal },
): Promise<QmpClient> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      return await connectQmp(path, {
        connectTimeout: 0,
        pid: options.pid,
        greetingTimeout: Math.min(options.timeoutMs, 10_000),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      const code = QmpError.is(err) ? (err.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
      const retriable = code === 'ENOENT' || code === 'ECONNREFUSED';
      if (!retriable || Date.now() + QMP_POLL_INTERVAL_MS > deadline || !isProcessAlive(options.pid)) {
        throw err;
      }
      await sleep(QMP_POLL_INTERVAL_MS, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}

/**
 * Create `path` (or keep it) as a private file: mode 0600 whatever the umask, never through a
 * symlink. For files QEMU opens itself and would otherwise create with a umask-derived mode.
 * @throws {SandboxError} `SANDBOX_START_FAILED`.
 */
async function createPrivateFile(path: string): Promise<void> {
  const { O_WRONLY, O_CREAT, O_APPEND, O_NOFOLLOW } = fsConstants;
  try {
    const fh = await open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o600);
    try {
      await fh.chmod(0o600);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new SandboxError('SANDBOX_START_FAILED', `cannot create ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Make the unix sockets QEMU bound in `dir` (QMP, console) 0600: `bind()` gives them
 * 0777 & ~umask. The 0700 directory keeps other users out meanwhile; this is defence in depth.
 */
async function restrictSockets(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const st = await lstat(path).catch(() => undefined);
    if (st?.isSocket() === true && (st.mode & 0o777) !== 0o600)
      await chmod(path, 0o600).catch(() => undefined);
  }
}

/** Kata's `x-ignore-shared` migration capability (shared memory is not sent). */
async function ignoreShared(qmp: QmpClient): Promise<void> {
  await qmp.execute('migrate-set-capabilities', {
    capabilities: [{ capability: 'x-ignore-shared', state: true }],
  });
}

/**
 * Fail with `SANDBOX_UNSUPPORTED` unless fds can be passed to QEMU (the `@vmm/fdpass` addon loads).
 * Save and restore need it: there is deliberately no shell-based fallback.
 * @throws {SandboxError} `SANDBOX_UNSUPPORTED`
 */
export function requireFdPassing(what: string, available: () => boolean = fdPassingAvailable): void {
  if (available()) return;
  throw new SandboxError(
    'SANDBOX_UNSUPPORTED',
    `${what} needs the @vmm/fdpass native addon to hand the state file to QEMU (getfd + fd: migration), and it is not built; run \`pnpm --filter @vmm/fdpass build\`. There is no shell fallback.`,
  );
}

/**
 * Migrate to (`'out'`, `migrate`) or from (`'in'`, `migrate-incoming`) the file at `path` without
 * a shell: open it here (write: `O_WRONLY|O_CREAT|O_TRUNC`, mode 0600; read: `O_RDONLY`), pass the
 * fd with `getfd` under a fresh name, close our copy, send the command with `fd:<name>` (QEMU takes
 * the named fd; if the command is refused the name is released with `closefd`), then wait for the
 * migration to complete.
 * @throws {SandboxError} `SANDBOX_UNSUPPORTED` without fd passing (before the file is opened);
 *   otherwise whatever `open`, `getfd`, the command or {@link waitForMigration} throws.
 */
export async function migrateThroughFd(
  qmp: QmpClient,
  path: string,
  direction: 'in' | 'out',
  options: { timeout: number },
): Promise<void> {
  const what = direction === 'out' ? 'save' : 'restore';
  requireFdPassing(what);
  const { O_WRONLY, O_CREAT, O_TRUNC, O_RDONLY } = fsConstants;
  const file: FileHandle =
    direction === 'out' ? await open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600) : await open(path, O_RDONLY);
  const name = `vmm-migrate-${randomBytes(6).toString('hex')}`;
  try {
    await passFd(qmp, file.fd, name);
  } catch (err) {
    if (QmpError.is(err) && err.code === 'QMP_FD_PASSING_UNAVAILABLE') {
      throw new SandboxError('SANDBOX_UNSUPPORTED', `${what}: ${err.message}; there is no shell fallback`, {
        cause: err,
      });
    }
    throw err;
  } finally {
    // QEMU holds its own copy now (SCM_RIGHTS), or the pass failed: ours is no longer needed.
    await file.close();
  }
  const uri = `fd:${name}`;
  try {
    if (direction === 'out') await qmp.execute('migrate', { uri });
    else await qmp.execute('migrate-incoming', { uri });
  } catch (err) {
    await qmp.execute('closefd', { fdname: name }).catch(() => undefined);
    throw err;
  }
  await waitForMigration(qmp, { timeout: options.timeout, interval: 50 });
}
