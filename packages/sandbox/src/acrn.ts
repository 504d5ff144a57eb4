/**
 * `AcrnHypervisor`: Kata's acrn.go on @vmm/acrn. acrn-dm is launched as our child with a UUID leased
 * from a locked pool, stopped with SIGINT then SIGKILL, and disks are hotplugged into the dummy
 * `nodisk` pool with `acrnctl blkrescan`. What ACRN cannot do (pause, save, vCPU/memory/network
 * hotplug) is refused with `SANDBOX_UNSUPPORTED`, where Kata silently did nothing.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ACRN_DM_PATH,
  ACRN_MAX_VCPUS,
  ACRN_NODISK,
  ACRNCTL_PATH,
  type AcrnDmProcess,
  AcrnSlotTable,
  type AcrnUuidLease,
  createSandboxConfig,
  createUuidPool,
  encodeAcrnArgv,
  hotplugBlock,
  launchAcrnDm,
  stopAcrnDm,
} from '@vmm/acrn';
import { z } from 'zod';
import { resolveAssets } from './assets.js';
import { parseHypervisorConfig, type ResolvedHypervisorConfig } from './config.js';
import { ConsoleReader } from './console.js';
import { SandboxError } from './errors.js';
import type {
  HotplugDevice,
  HotplugResult,
  Hypervisor,
  HypervisorCapabilities,
  HypervisorReloadState,
  OperationOptions,
  StopOptions,
  StopResult,
  VcpuResizeResult,
} from './hypervisor.js';
import { tailLines } from './launch.js';
import { isProcessAlive, processStartTime } from './lock.js';
import type { SandboxPaths } from './paths.js';
import type { SandboxStatus } from './state.js';

/** Dummy drives reserved for hotplug (Kata's pool of 8; index 8 is usable here, unlike Kata). */
export const ACRN_HOTPLUG_POOL = 8;

const acrnStateSchema = z.strictObject({
  uuid: z.string().nullable(),
  vmName: z.string(),
  acrnDmPath: z.string(),
  acrnctlPath: z.string(),
  argv: z.array(z.string()),
  slots: z.array(z.strictObject({ index: z.number().int(), slot: z.number().int() })),
  /** Pool index -> hotplugged device. */
  disks: z.array(z.strictObject({ id: z.string(), index: z.number().int(), path: z.string() })),
});
type AcrnState = z.infer<typeof acrnStateSchema>;

/** Options of {@link AcrnHypervisor.create}. */
export interface AcrnHypervisorOptions {
  id: string;
  paths: SandboxPaths;
  /** acrn-dm binary. @default config.hypervisorPath, else /usr/bin/acrn-dm */
  acrnDmPath?: string;
  /** acrnctl binary. @default config.hypervisorCtlPath, else /usr/bin/acrnctl */
  acrnctlPath?: string;
  /** Directory of the UUID pool's lease file. @default `<stateDir>/acrn` (the run directory's parent) */
  uuidPoolDir?: string;
  /** Extra environment for acrn-dm (tests drive the fakes with it). */
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** A VM run by ACRN's device model. */
export class AcrnHypervisor implements Hypervisor {
  readonly type = 'acrn' as const;
  readonly id: string;
  readonly paths: SandboxPaths;
  readonly config: ResolvedHypervisorConfig;
  #state: AcrnState;
  #status: SandboxStatus;
  #proc: AcrnDmProcess | undefined;
  #lease: AcrnUuidLease | undefined;
  #pid: number | undefined;
  #pidStart: string | undefined;
  readonly #poolDir: string;
  readonly #env: Record<string, string> | undefined;
  #exited: Promise<{ code: number | null; signal: string | null }> | undefined;

  private constructor(init: {
    id: string;
    paths: SandboxPaths;
    config: ResolvedHypervisorConfig;
    state: AcrnState;
    status: SandboxStatus;
    poolDir: string;
    env?: Record<string, string>;
  }) {
    this.id = init.id;
    this.paths = init.paths;
    this.config = init.config;
    this.#state = init.state;
    this.#status = init.status;
    this.#poolDir = init.poolDir;
    this.#env = init.env;
  }

  /**
   * Validate the config for ACRN (an image, not an initrd; at most 8 vCPUs) and check the assets.
   * @throws {SandboxError} `SANDBOX_INVALID_CONFIG`, `SANDBOX_ASSET_MISSING`, `SANDBOX_ASSET_DIGEST_MISMATCH`.
   */
  static async create(config: unknown, options: AcrnHypervisorOptions): Promise<AcrnHypervisor> {
    const c = parseHypervisorConfig(config);
    if (c.imagePath === undefined) {
      throw new SandboxError(
        'SANDBOX_INVALID_CONFIG',
        'imagePath: ACRN boots a disk image; an initrd is not supported',
        {
          path: 'imagePath',
        },
      );
    }
    if (c.defaultMaxVcpus > ACRN_MAX_VCPUS) {
      throw new SandboxError(
        'SANDBOX_INVALID_CONFIG',
        `defaultMaxVcpus: ACRN supports at most ${ACRN_MAX_VCPUS} vCPUs`,
        {
          path: 'defaultMaxVcpus',
        },
      );
    }
    const acrnDmPath = options.acrnDmPath ?? c.hypervisorPath ?? ACRN_DM_PATH;
    await resolveAssets({ ...c, hypervisorPath: acrnDmPath }, { defaultHypervisorPath: acrnDmPath });
    return new AcrnHypervisor({
      id: options.id,
      paths: options.paths,
      config: c,
      state: {
        uuid: null,
        vmName: `sandbox-${options.id}`,
        acrnDmPath,
        acrnctlPath: options.acrnctlPath ?? c.hypervisorCtlPath ?? ACRNCTL_PATH,
        argv: [],
        slots: [],
        disks: [],
      },
      status: 'created',
      poolDir: options.uuidPoolDir ?? join(options.paths.runDir, '..', 'acrn'),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
  }

  /** Re-attach from persisted state. @throws {SandboxError} `SANDBOX_STATE_INVALID` */
  static fromState(init: {
    id: string;
    paths: SandboxPaths;
    config: unknown;
    status: SandboxStatus;
    pid: number | null;
    pidStartTime: string | null;
    hypervisor: unknown;
  }): AcrnHypervisor {
    const hv = new AcrnHypervisor({
      id: init.id,
      paths: init.paths,
      config: parseHypervisorConfig(init.config),
      state: parseAcrnState(init.hypervisor),
      status: init.status,
      poolDir: join(init.paths.runDir, '..', 'acrn'),
    });
    hv.#pid = init.pid ?? undefined;
    hv.#pidStart = init.pidStartTime ?? undefined;
    return hv;
  }

  get status(): SandboxStatus {
    if ((this.#status === 'running' || this.#status === 'paused') && !this.#alive()) return 'stopped';
    return this.#status;
  }

  /** The acrn-dm argv (without the binary), once started. */
  get argv(): readonly string[] {
    return this.#state.argv;
  }

  /** The leased UUID, while running. */
  get uuid(): string | null {
    return this.#state.uuid;
  }

  get exited(): Promise<{ code: number | null; signal: string | null }> {
    if (this.#exited !== undefined) return this.#exited;
    if (this.#proc !== undefined) {
      this.#exited = this.#proc.exited.then((e) => ({ code: e.exitCode ?? null, signal: e.signal ?? null }));
    } else if (this.#pid === undefined) {
      this.#exited = Promise.resolve({ code: null, signal: null });
    } else {
      const pid = this.#pid;
      this.#exited = new Promise((resolve) => {
        const t = setInterval(() => {
          if (!isProcessAlive(pid, this.#pidStart)) {
            clearInterval(t);
            resolve({ code: null, signal: null });
          }
        }, 50);
        t.unref();
      });
    }
    return this.#exited;
  }

  #alive(): boolean {
    if (this.#proc !== undefined) return this.#proc.isRunning();
    return this.#pid !== undefined && isProcessAlive(this.#pid, this.#pidStart);
  }

  #unsupported(what: string): never {
    throw new SandboxError('SANDBOX_UNSUPPORTED', `ACRN cannot ${what}`, { sandboxId: this.id });
  }

  /**
   * Lease a UUID, launch acrn-dm (it must stay up and create its console socket) and copy its COM1
   * output to the console log.
   * @throws {SandboxError} `SANDBOX_INVALID_STATE`, `SANDBOX_START_FAILED` (acrn-dm's stderr kept).
   */
  async start(options: OperationOptions = {}): Promise<void> {
    if (this.#status !== 'created') {
      throw new SandboxError('SANDBOX_INVALID_STATE', `sandbox ${this.id} is ${this.#status}, not created`);
    }
    await mkdir(this.paths.runDir, { recursive: true, mode: 0o700 });
    const pool = createUuidPool({ stateDir: this.#poolDir });
    try {
      this.#lease = await pool.acquire(this.id, options.signal ? { signal: options.signal } : {});
      const c = this.config;
      const acrnConfig = createSandboxConfig({
        id: this.id,
        uuid: this.#lease.uuid,
        kernelPath: c.kernelPath,
        imagePath: c.imagePath as string,
        consolePath: this.paths.console,
        memoryMiB: c.memorySize,
        debug: c.debug,
        maxVcpus: c.defaultMaxVcpus,
        kernelParams: c.kernelParams,
        blockPoolSize: ACRN_HOTPLUG_POOL,
      });
      this.#state.argv = [...encodeAcrnArgv(acrnConfig).argv];
      const proc = await launchAcrnDm(acrnConfig, {
        path: this.#state.acrnDmPath,
        readyPath: this.paths.console,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMs === undefined ? {} : { readyTimeoutMs: options.timeoutMs }),
        ...(this.#env === undefined ? {} : { env: this.#env }),
      });
      this.#proc = proc;
      this.#pid = proc.pid;
      this.#pidStart = processStartTime(proc.pid);
      this.#state.uuid = this.#lease.uuid;
      this.#state.slots = proc.slots.entries().map((e) => ({ index: e.index, slot: e.slot }));
      await this.#lease.setPid(proc.pid);
      // COM1 goes to acrn-dm's stdout, which @vmm/acrn already drains into a tail: write what came
      // so far, then every later chunk (same tick, so nothing falls in between).
      writeFileSync(this.paths.consoleLog, proc.stdoutTail(), { mode: 0o600 });
      const log = createWriteStream(this.paths.consoleLog, { flags: 'a' });
      proc.stdout.on('data', (chunk: Buffer) => log.write(chunk));
      void proc.exited.then(() => log.end());
      this.#status = 'running';
    } catch (err) {
      await this.#lease?.release().catch(() => undefined);
      this.#lease = undefined;
      this.#state.uuid = null;
      if (SandboxError.is(err)) throw err;
      throw new SandboxError(
        'SANDBOX_START_FAILED',
        `cannot start acrn-dm for ${this.id}: ${(err as Error).message}`,
        {
          cause: err,
          sandboxId: this.id,
          stderrTail: tailLines(String((err as { stderr?: unknown }).stderr ?? '')),
        },
      );
    }
  }

  /** acrn-dm is up (Kata only slept here). @throws {SandboxError} `SANDBOX_HYPERVISOR_EXITED` */
  async waitReady(_options: OperationOptions = {}): Promise<void> {
    if (!this.#alive()) {
      throw new SandboxError('SANDBOX_HYPERVISOR_EXITED', `acrn-dm for ${this.id} is not running`, {
        sandboxId: this.id,
        stderrTail: tailLines(this.#proc?.stderrTail() ?? ''),
      });
    }
  }

  /** SIGINT, then SIGKILL after `graceMs` (default 15 s, Kata's); frees the UUID; removes the run dir. */
  async stop(options: StopOptions = {}): Promise<StopResult> {
    const timeoutMs = options.graceMs ?? 15_000;
    let method: StopResult['method'] = 'already-stopped';
    let exit: StopResult['exit'];
    if (this.#alive()) {
      const r =
        this.#proc !== undefined
          ? await this.#proc.stop({ timeoutMs })
          : await stopAcrnDm(this.#pid as number, { timeoutMs });
      method =
        r.stoppedBy === 'SIGKILL' ? 'sigkill' : r.stoppedBy === 'SIGINT' ? 'sigint' : 'already-stopped';
      exit = { code: r.exitCode ?? null, signal: r.signal ?? null };
    }
    if (this.#lease !== undefined) await this.#lease.release().catch(() => undefined);
    else if (this.#state.uuid !== null) {
      await createUuidPool({ stateDir: this.#poolDir })
        .release(this.#state.uuid)
        .catch(() => undefined);
    }
    this.#state.uuid = null;
    this.#status = 'stopped';
    await sleep(0);
    await this.cleanup();
    return exit === undefined ? { method } : { method, exit };
  }

  async cleanup(): Promise<void> {
    await rm(this.paths.runDir, { recursive: true, force: true });
  }

  pause(): Promise<void> {
    return Promise.reject(this.#err('pause a VM'));
  }

  resume(): Promise<void> {
    return Promise.reject(this.#err('resume a VM'));
  }

  save(): Promise<void> {
    return Promise.reject(this.#err('save a VM'));
  }

  resizeVcpus(): Promise<VcpuResizeResult> {
    return Promise.reject(this.#err('hotplug vCPUs'));
  }

  #err(what: string): SandboxError {
    try {
      this.#unsupported(what);
    } catch (err) {
      return err as SandboxError;
    }
  }

  /**
   * Put a disk into a free `nodisk` pool slot (`acrnctl blkrescan <vm> <slot>,<file>`).
   * @throws {SandboxError} `SANDBOX_UNSUPPORTED` for anything but block devices,
   *   `SANDBOX_HOTPLUG_FAILED` (acrnctl's output kept), `SANDBOX_EXISTS`.
   */
  async hotplugAdd(device: HotplugDevice, options: OperationOptions = {}): Promise<HotplugResult> {
    if (device.kind !== 'block') return this.#unsupported(`hotplug ${device.kind} devices`);
    if (this.status !== 'running') {
      throw new SandboxError('SANDBOX_INVALID_STATE', `hotplug: sandbox ${this.id} is ${this.status}`);
    }
    if (this.#state.disks.some((d) => d.id === device.id)) {
      throw new SandboxError('SANDBOX_EXISTS', `device ${device.id} is already plugged into ${this.id}`, {
        path: 'device.id',
      });
    }
    const used = new Set(this.#state.disks.map((d) => d.index));
    let index = 1;
    while (used.has(index)) index++;
    if (index > ACRN_HOTPLUG_POOL) {
      throw new SandboxError(
        'SANDBOX_HOTPLUG_FAILED',
        `all ${ACRN_HOTPLUG_POOL} hotplug drive slots are in use`,
      );
    }
    await this.#blkrescan(index, device.path, options);
    this.#state.disks.push({ id: device.id, index, path: device.path });
    const slot = this.#slots().require(index);
    return Object.freeze({
      id: device.id,
      kind: 'block',
      addr: String(slot),
      guestAddress: `vd${String.fromCharCode(97 + index)}`,
    });
  }

  /** Swap the disk back for `nodisk` (Kata did nothing here). @throws {SandboxError} `SANDBOX_NOT_FOUND`, `SANDBOX_HOTPLUG_FAILED` */
  async hotplugRemove(id: string, options: OperationOptions = {}): Promise<void> {
    const i = this.#state.disks.findIndex((d) => d.id === id);
    const disk = this.#state.disks[i];
    if (disk === undefined)
      throw new SandboxError('SANDBOX_NOT_FOUND', `no hotplugged device ${id} in ${this.id}`, { path: 'id' });
    await this.#blkrescan(disk.index, ACRN_NODISK, options);
    this.#state.disks.splice(i, 1);
  }

  #slots(): AcrnSlotTable {
    return AcrnSlotTable.fromEntries(this.#state.slots);
  }

  async #blkrescan(index: number, filePath: string, options: OperationOptions): Promise<void> {
    try {
      await hotplugBlock(
        { vmName: this.#state.vmName, slots: this.#slots(), index, filePath },
        {
          path: this.#state.acrnctlPath,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        },
      );
    } catch (err) {
      throw new SandboxError(
        'SANDBOX_HOTPLUG_FAILED',
        `acrnctl blkrescan failed: ${(err as Error).message}`,
        {
          cause: err,
          sandboxId: this.id,
        },
      );
    }
  }

  capabilities(): HypervisorCapabilities {
    return Object.freeze({
      blockDeviceHotplug: true,
      memoryHotplug: false,
      vcpuHotplug: false,
      netHotplug: false,
      vfioHotplug: false,
      vsock: false,
      fsSharing: false,
      multiQueue: false,
      pauseResume: false,
      saveRestore: false,
    });
  }

  pids(): number[] {
    return this.#alive() && this.#pid !== undefined ? [this.#pid] : [];
  }

  console(): ConsoleReader {
    return new ConsoleReader(this.paths.consoleLog, this.paths.console);
  }

  devices(): readonly HotplugResult[] {
    return this.#state.disks.map((d) => Object.freeze({ id: d.id, kind: 'block' as const }));
  }

  toState(): Record<string, unknown> {
    return { ...this.#state, slots: [...this.#state.slots], disks: [...this.#state.disks] };
  }

  processInfo(): { readonly pid: number; readonly startTime: string | null } | null {
    return this.#pid === undefined ? null : { pid: this.#pid, startTime: this.#pidStart ?? null };
  }

  reload(state: HypervisorReloadState): void {
    this.#state = parseAcrnState(state.hypervisor);
    this.#status = state.status;
    if (this.#proc === undefined) {
      this.#pid = state.pid ?? undefined;
      this.#pidStart = state.pidStartTime ?? undefined;
    }
  }
}

function parseAcrnState(value: unknown): AcrnState {
  const r = acrnStateSchema.safeParse(value);
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
