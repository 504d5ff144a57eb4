/**
 * `Sandbox`: a hypervisor plus its persisted state and lock. Every operation takes the per-sandbox
 * lock, reloads the state another process may have written, acts, and writes the state back, so
 * several processes (`vmm run --detach`, `vmm hotplug`, `vmm stop`) can drive one VM.
 */

import { join } from 'node:path';
import { AcrnHypervisor, type AcrnHypervisorOptions } from './acrn.js';
import { parseHypervisorConfig } from './config.js';
import type { ConsoleReader } from './console.js';
import { SandboxError } from './errors.js';
import {
  type HotplugDevice,
  type HotplugResult,
  type Hypervisor,
  type HypervisorCapabilities,
  type HypervisorType,
  type OperationOptions,
  parseHypervisorType,
  type StopOptions,
  type StopResult,
  type VcpuResizeResult,
} from './hypervisor.js';
import { acquireLock, isProcessAlive } from './lock.js';
import { MockHypervisor } from './mock.js';
import {
  checkSandboxId,
  defaultStateDir,
  newSandboxId,
  RUN_FILES,
  type SandboxPaths,
  sandboxPaths,
} from './paths.js';
import { QemuHypervisor } from './qemu.js';
import type { HostFacts } from './qemu-compose.js';
import { findOrphanQemu, killOrphanQemu, type OrphanQemu, recoverAfterCrash } from './recovery.js';
import { type SandboxState, type SandboxStatus, STATE_SCHEMA_VERSION, StateStore } from './state.js';

/** Options of {@link Sandbox.create}. */
export interface SandboxCreateOptions {
  /** State directory. @default defaultStateDir() (`$XDG_RUNTIME_DIR/vmm`, or `/run/vmm` as root) */
  stateDir?: string;
  /** Sandbox id. @default 12 random hex digits */
  id?: string;
  /** `qemu` or `mock` (a string is parsed). @default 'qemu' */
  hypervisor?: HypervisorType | string;
  /** Let the VM outlive this process. @default false */
  detached?: boolean;
  /** Host facts (read from the host when absent). */
  host?: Partial<HostFacts>;
  /** ACRN only: binaries, UUID pool directory, acrn-dm environment. */
  acrn?: Omit<AcrnHypervisorOptions, 'id' | 'paths' | 'signal'>;
  /** Restore a state saved with {@link Sandbox.save} instead of booting. */
  restoreFrom?: string;
  /** How long to wait for the sandbox lock. @default 30_000 */
  lockTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Options of {@link Sandbox.attach} and {@link Sandbox.list}. */
export interface SandboxAttachOptions {
  /** State directory. @default defaultStateDir() */
  stateDir?: string;
  /** How long to wait for the sandbox lock. @default 30_000 */
  lockTimeoutMs?: number;
}

/** A sandbox as `vmm ps` shows it. */
export interface SandboxInfo {
  readonly id: string;
  readonly hypervisor: HypervisorType;
  /** `running`/`paused` only while the process lives; `stopped` when it has gone. */
  readonly status: SandboxStatus;
  readonly pid: number | null;
  readonly createdAt: string;
  readonly qmp: string;
  readonly console: string;
  readonly consoleLog: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly devices: readonly HotplugResult[];
  /**
   * A QEMU that runs this sandbox although its state does not record it (the managing process died
   * while starting it), with the reason. The next operation on the sandbox (e.g. `stop`) kills it.
   */
  readonly orphan?: OrphanQemu;
}

/** A sandbox with persisted state. */
export class Sandbox {
  readonly id: string;
  readonly stateDir: string;
  readonly paths: SandboxPaths;
  readonly hypervisor: Hypervisor;
  readonly #store: StateStore;
  readonly #lockTimeoutMs: number;
  #state: SandboxState;

  private constructor(init: {
    id: string;
    stateDir: string;
    paths: SandboxPaths;
    hypervisor: Hypervisor;
    state: SandboxState;
    lockTimeoutMs: number;
  }) {
    this.id = init.id;
    this.stateDir = init.stateDir;
    this.paths = init.paths;
    this.hypervisor = init.hypervisor;
    this.#state = init.state;
    this.#store = new StateStore({ stateDir: init.stateDir });
    this.#lockTimeoutMs = init.lockTimeoutMs;
  }

  /**
   * Validate the config, check assets, compose the VM and persist it (status `created`). Nothing runs yet.
   * @throws {SandboxError} `SANDBOX_INVALID_CONFIG`, `SANDBOX_ASSET_*`, `SANDBOX_EXISTS`,
   *   `SANDBOX_UNKNOWN_HYPERVISOR`, `SANDBOX_SOCKET_PATH_TOO_LONG`, `SANDBOX_STATE_IO`.
   */
  static async create(config: unknown, options: SandboxCreateOptions = {}): Promise<Sandbox> {
    const type = parseHypervisorType(options.hypervisor ?? 'qemu');
    const stateDir = options.stateDir ?? defaultStateDir();
    const id = checkSandboxId(options.id ?? newSandboxId());
    const paths = sandboxPaths(stateDir, id);
    const resolved = parseHypervisorConfig(config);
    const store = new StateStore({ stateDir });
    const hv: Hypervisor = await createHypervisor(type, resolved, { id, paths, ...options });
    const state: SandboxState = {
      version: STATE_SCHEMA_VERSION,
      id,
      hypervisorType: type,
      createdAt: new Date().toISOString(),
      status: 'created',
      config: resolved as unknown as Record<string, unknown>,
      pid: null,
      pidStartTime: null,
      paths: {
        runDir: paths.runDir,
        socketDir: paths.socketDir,
        qmp: paths.qmp,
        console: paths.console,
        consoleLog: paths.consoleLog,
        stderr: paths.stderr,
      },
      hypervisor: hv.toState(),
    };
    // The directory appears with its state file (temp dir + rename): a crash or a full disk never
    // leaves an id taken by a directory without state.
    await store.createWithState(state);
    return new Sandbox({
      id,
      stateDir,
      paths,
      hypervisor: hv,
      state,
      lockTimeoutMs: options.lockTimeoutMs ?? 30_000,
    });
  }

  /**
   * Re-attach to a sandbox another process created (and maybe started).
   * @throws {SandboxError} `SANDBOX_NOT_FOUND`, `SANDBOX_STATE_INVALID`.
   */
  static async attach(id: string, options: SandboxAttachOptions = {}): Promise<Sandbox> {
    const stateDir = options.stateDir ?? defaultStateDir();
    checkSandboxId(id);
    const store = new StateStore({ stateDir });
    const state = await store.read(id);
    const paths = sandboxPaths(stateDir, id);
    let hv: Hypervisor;
    switch (state.hypervisorType) {
      case 'qemu':
        hv = QemuHypervisor.fromState({ ...state, paths });
        break;
      case 'acrn':
        hv = AcrnHypervisor.fromState({ ...state, paths });
        break;
      case 'mock': {
        const mock = new MockHypervisor({ id, consoleLog: paths.consoleLog });
        mock.reload(state);
        hv = mock;
        break;
      }
      default:
        throw new SandboxError('SANDBOX_UNSUPPORTED', `cannot attach to a ${state.hypervisorType} sandbox`, {
          sandboxId: id,
        });
    }
    return new Sandbox({
      id,
      stateDir,
      paths,
      hypervisor: hv,
      state,
      lockTimeoutMs: options.lockTimeoutMs ?? 30_000,
    });
  }

  /**
   * Every sandbox in the state directory, sorted by id. Unreadable state files are skipped.
   * @throws {SandboxError} `SANDBOX_STATE_IO` when the directory cannot be listed.
   */
  static async list(options: SandboxAttachOptions = {}): Promise<SandboxInfo[]> {
    const stateDir = options.stateDir ?? defaultStateDir();
    const store = new StateStore({ stateDir });
    const out: SandboxInfo[] = [];
    for (const id of await store.list()) {
      try {
        out.push(infoOf(await store.read(id)));
      } catch {
        // removed meanwhile, or corrupt: `vmm ps` lists what it can read
      }
    }
    return out;
  }

  /** Lifecycle state (`stopped` once the process is gone, even if nobody recorded it). */
  get status(): SandboxStatus {
    return this.hypervisor.status;
  }

  /** What `vmm ps` shows for this sandbox. */
  info(): SandboxInfo {
    return infoOf({ ...this.#state, status: this.hypervisor.status, hypervisor: this.hypervisor.toState() });
  }

  /**
   * Run `fn` with the path of the VM's QMP socket while holding the sandbox lock, so no other vmm
   * operation talks to the VM meanwhile: QEMU serves one QMP client at a time, and vmm opens a
   * connection per operation and holds none in between. For tools that speak QMP themselves, such as
   * `vmm qmp <id>` and `vmm qmp-shell <id>`.
   * @throws {SandboxError} `SANDBOX_UNSUPPORTED` for a sandbox whose hypervisor has no QMP,
   *   `SANDBOX_INVALID_STATE` when the VM is not running or paused, `SANDBOX_LOCK_TIMEOUT`.
   */
  async withQmpSocket<T>(fn: (socketPath: string) => Promise<T>, options: OperationOptions = {}): Promise<T> {
    return this.#op(
      'qmp',
      options,
      async () => {
        if (this.hypervisor.type !== 'qemu') {
          throw new SandboxError(
            'SANDBOX_UNSUPPORTED',
            `sandbox ${this.id} runs ${this.hypervisor.type}, which has no QMP socket`,
            { sandboxId: this.id },
          );
        }
        const status = this.hypervisor.status;
        if (status !== 'running' && status !== 'paused') {
          throw new SandboxError(
            'SANDBOX_INVALID_STATE',
            `sandbox ${this.id} is ${status}: QEMU is not running`,
            {
              sandboxId: this.id,
            },
          );
        }
        return fn(this.paths.qmp);
      },
      false,
    );
  }

  /** The guest console. */
  console(): ConsoleReader {
    return this.hypervisor.console();
  }

  /** What the VM can do. */
  capabilities(): HypervisorCapabilities {
    return this.hypervisor.capabilities();
  }

  /** Resolves when the VM process has exited. */
  get exited(): Promise<{ readonly code: number | null; readonly signal: string | null }> {
    return this.hypervisor.exited;
  }

  async #op<T>(
    what: string,
    options: OperationOptions | undefined,
    fn: () => Promise<T>,
    persist = true,
  ): Promise<T> {
    await using _lock = await acquireLock(this.paths.lock, {
      timeoutMs: this.#lockTimeoutMs,
      ...(options?.signal ? { signal: options.signal } : {}),
    }).catch((err: unknown) => {
      if (SandboxError.is(err) && err.code === 'SANDBOX_NOT_FOUND') {
        throw new SandboxError('SANDBOX_NOT_FOUND', `${what}: sandbox ${this.id} no longer exists`, {
          cause: err,
          sandboxId: this.id,
        });
      }
      throw err;
    });
    let latest = await this.#store.read(this.id);
    if (_lock.recovered) latest = await recoverAfterCrash(this.#store, latest, this.paths);
    this.#state = latest;
    this.hypervisor.reload(latest);
    try {
      return await fn();
    } finally {
      if (persist) await this.#persist();
    }
  }

  async #persist(): Promise<void> {
    const p = this.hypervisor.processInfo();
    this.#state = {
      ...this.#state,
      status: this.hypervisor.status,
      pid: p?.pid ?? null,
      pidStartTime: p?.startTime ?? null,
      hypervisor: this.hypervisor.toState(),
    };
    await this.#store.write(this.#state).catch((err: unknown) => {
      // The directory is gone when the VM was stopped meanwhile; nothing left to record.
      if (!isProcessAlive(p?.pid ?? 0)) return;
      throw err;
    });
  }

  /**
   * Launch the VM and wait until it answers (QMP). On failure the VM is stopped and its directory
   * removed; the error carries QEMU's stderr tail.
   * @throws {SandboxError} `SANDBOX_START_FAILED`, `SANDBOX_HYPERVISOR_EXITED`, `SANDBOX_READY_TIMEOUT`.
   */
  async start(options: OperationOptions = {}): Promise<void> {
    await this.#op(
      'start',
      options,
      async () => {
        try {
          await this.hypervisor.start(options);
          await this.#persist();
          await this.hypervisor.waitReady(options);
        } catch (err) {
          await this.hypervisor.stop({ graceMs: 1_000 }).catch(() => undefined);
          await this.hypervisor.cleanup().catch(() => undefined);
          throw err;
        }
      },
      true,
    );
  }

  /**
   * Stop the VM (idempotent) and remove the sandbox: no process, socket or directory is left. An
   * orphan QEMU (one `list()` reports in `orphan`: running for this sandbox but never recorded) is
   * killed too.
   * @throws {SandboxError} `SANDBOX_STOP_FAILED` (QEMU or an orphan survived SIGKILL).
   */
  async stop(options: StopOptions = {}): Promise<StopResult> {
    const stop = async (): Promise<StopResult> => {
      const r = await this.hypervisor.stop(options);
      // A QEMU the state never recorded (its manager died between the spawn and the state write, or
      // it was launched by hand from the recorded argv) is an orphan: kill it before its files go.
      if (this.#state.pid === null) {
        const orphan = findOrphanQemu({ pid: null, pidStartTime: null, status: 'stopped' }, this.paths);
        if (orphan !== undefined && !(await killOrphanQemu(orphan))) {
          throw new SandboxError('SANDBOX_STOP_FAILED', `orphan QEMU (pid ${orphan.pid}) survived SIGKILL`, {
            sandboxId: this.id,
          });
        }
      }
      await this.hypervisor.cleanup();
      await this.#store.remove(this.id);
      return r;
    };
    try {
      return await this.#op('stop', options, stop, false);
    } catch (err) {
      // Already removed (stopped by another process, or twice here): stopping is idempotent.
      if (SandboxError.is(err) && err.code === 'SANDBOX_NOT_FOUND') return stop();
      throw err;
    }
  }

  /** Pause the vCPUs. @throws {SandboxError} `SANDBOX_INVALID_STATE`, `SANDBOX_QMP_FAILED` */
  pause(options: OperationOptions = {}): Promise<void> {
    return this.#op('pause', options, () => this.hypervisor.pause(options));
  }

  /** Resume the vCPUs. @throws {SandboxError} `SANDBOX_INVALID_STATE`, `SANDBOX_QMP_FAILED` */
  resume(options: OperationOptions = {}): Promise<void> {
    return this.#op('resume', options, () => this.hypervisor.resume(options));
  }

  /** Save the VM state to a file (the VM is left paused). @throws {SandboxError} `SANDBOX_MIGRATION_FAILED` */
  save(path: string, options: OperationOptions = {}): Promise<void> {
    return this.#op('save', options, () => this.hypervisor.save(path, options));
  }

  /** Hotplug a device (rolled back on failure). @throws {SandboxError} `SANDBOX_HOTPLUG_FAILED`, `SANDBOX_UNSUPPORTED` */
  hotplugAdd(device: HotplugDevice, options: OperationOptions = {}): Promise<HotplugResult> {
    return this.#op('hotplug', options, () => this.hypervisor.hotplugAdd(device, options));
  }

  /** Unplug a device. @throws {SandboxError} `SANDBOX_NOT_FOUND`, `SANDBOX_HOTPLUG_FAILED` */
  hotplugRemove(id: string, options: OperationOptions = {}): Promise<void> {
    return this.#op('unplug', options, () => this.hypervisor.hotplugRemove(id, options));
  }

  /** Set the vCPU count (clamped; partial results carry `error`). @throws {SandboxError} `SANDBOX_HOTPLUG_FAILED` */
  resizeVcpus(count: number, options: OperationOptions = {}): Promise<VcpuResizeResult> {
    return this.#op('resize vCPUs', options, () => this.hypervisor.resizeVcpus(count, options));
  }
}

interface DeviceView {
  id: string;
  kind: HotplugResult['kind'];
  sizeMiB?: number;
  bus?: string;
  addr?: string;
  guestAddress?: string;
}

function infoOf(state: SandboxState): SandboxInfo {
  const h = state.hypervisor as { devices?: unknown; vcpus?: unknown };
  const cfg = state.config as { numVcpus?: number; memorySize?: number };
  // QEMU and the mock keep `devices`; ACRN keeps its pool `disks`.
  const h2 = state.hypervisor as { disks?: unknown };
  const devices = Array.isArray(h.devices)
    ? (h.devices as DeviceView[])
    : Array.isArray(h2.disks)
      ? (h2.disks as { id: string }[]).map((d): DeviceView => ({ id: d.id, kind: 'block' }))
      : [];
  // QEMU keeps the hotplugged vCPU ids; the mock keeps the total.
  const vcpus =
    typeof h.vcpus === 'number'
      ? h.vcpus
      : (cfg.numVcpus ?? 1) + (Array.isArray(h.vcpus) ? h.vcpus.length : 0);
  const alive = state.pid !== null && isProcessAlive(state.pid, state.pidStartTime);
  const orphan =
    state.hypervisorType === 'qemu' && !alive
      ? findOrphanQemu(state, { pid: join(state.paths.runDir, RUN_FILES.pid), qmp: state.paths.qmp })
      : undefined;
  const status: SandboxStatus =
    (state.status === 'running' || state.status === 'paused') && !alive && state.hypervisorType !== 'mock'
      ? 'stopped'
      : state.status;
  return Object.freeze({
    id: state.id,
    hypervisor: state.hypervisorType,
    status,
    pid: alive ? state.pid : null,
    createdAt: state.createdAt,
    qmp: state.paths.qmp,
    console: state.paths.console,
    consoleLog: state.paths.consoleLog,
    vcpus,
    memoryMiB:
      (cfg.memorySize ?? 0) +
      devices.filter((d) => d.kind === 'memory').reduce((n, d) => n + (d.sizeMiB ?? 0), 0),
    devices: Object.freeze(
      devices.map((d) =>
        Object.freeze({
          id: d.id,
          kind: d.kind,
          ...(d.bus === undefined ? {} : { bus: d.bus }),
          ...(d.addr === undefined ? {} : { addr: d.addr }),
          ...(d.guestAddress === undefined ? {} : { guestAddress: d.guestAddress }),
          ...(d.sizeMiB === undefined ? {} : { sizeMiB: d.sizeMiB }),
        }),
      ),
    ),
    ...(orphan === undefined ? {} : { orphan: Object.freeze(orphan) }),
  });
}

/** Options of {@link createHypervisor}. */
export interface CreateHypervisorOptions {
  id: string;
  paths: SandboxPaths;
  detached?: boolean;
  host?: Partial<HostFacts>;
  restoreFrom?: string;
  /** ACRN only: binaries, UUID pool directory, acrn-dm environment. */
  acrn?: Omit<AcrnHypervisorOptions, 'id' | 'paths' | 'signal'>;
  signal?: AbortSignal;
}

/**
 * Make a hypervisor of `type` for a config (Kata's `NewHypervisor`).
 * @throws {SandboxError} `SANDBOX_UNKNOWN_HYPERVISOR`, and what the backend's `create` throws.
 */
export async function createHypervisor(
  type: HypervisorType | string,
  config: unknown,
  options: CreateHypervisorOptions,
): Promise<Hypervisor> {
  const t = parseHypervisorType(type);
  switch (t) {
    case 'qemu':
      return QemuHypervisor.create(config, {
        id: options.id,
        paths: options.paths,
        ...(options.detached === undefined ? {} : { detached: options.detached }),
        ...(options.host === undefined ? {} : { host: options.host }),
        ...(options.restoreFrom === undefined ? {} : { restoreFrom: options.restoreFrom }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    case 'mock': {
      const c = parseHypervisorConfig(config);
      return new MockHypervisor({
        id: options.id,
        consoleLog: options.paths.consoleLog,
        vcpus: c.numVcpus,
        maxVcpus: c.defaultMaxVcpus,
      });
    }
    case 'acrn':
      return AcrnHypervisor.create(config, {
        id: options.id,
        paths: options.paths,
        ...(options.acrn ?? {}),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
  }
}
