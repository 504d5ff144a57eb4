/**
 * `MockHypervisor`: an in-memory `Hypervisor` for users' own tests. It keeps the lifecycle rules of
 * the real ones (same states, same error codes), records every call, can be told to fail the next
 * call of an operation, and writes console lines you give it to a real console log.
 */
import { appendFile, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
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
import type { SandboxStatus } from './state.js';

/** Operations whose next call {@link MockHypervisor.failNext} can make fail. */
export const MOCK_OPERATIONS = [
  'start',
  'waitReady',
  'stop',
  'pause',
  'resume',
  'save',
  'hotplugAdd',
  'hotplugRemove',
  'resizeVcpus',
] as const;
/** One of {@link MOCK_OPERATIONS}. */
export type MockOperation = (typeof MOCK_OPERATIONS)[number];

/** One recorded call. */
export interface MockCall {
  readonly op: MockOperation;
  readonly args: readonly unknown[];
}

/** Options of {@link MockHypervisor}. */
export interface MockHypervisorOptions {
  /** Sandbox id. @default 'mock' */
  id?: string;
  /** Console log file the mock writes {@link MockHypervisor.emitConsole} lines to. @default none (console() throws) */
  consoleLog?: string;
  /** vCPUs at start. @default 1 */
  vcpus?: number;
  /** vCPU ceiling. @default 8 */
  maxVcpus?: number;
  /** Capabilities to report. @default everything true */
  capabilities?: Partial<HypervisorCapabilities>;
}

const ALL_CAPS: HypervisorCapabilities = Object.freeze({
  blockDeviceHotplug: true,
  memoryHotplug: true,
  vcpuHotplug: true,
  netHotplug: true,
  vfioHotplug: true,
  vsock: true,
  fsSharing: true,
  multiQueue: true,
  pauseResume: true,
  saveRestore: true,
});

/** An in-memory hypervisor. */
export class MockHypervisor implements Hypervisor {
  readonly type = 'mock' as const;
  readonly id: string;
  /** Every call made, in order (including failed ones). */
  readonly calls: MockCall[] = [];
  #status: SandboxStatus = 'created';
  #failures = new Map<MockOperation, Error>();
  #devices: HotplugResult[] = [];
  #vcpus: number;
  readonly #bootVcpus: number;
  readonly #maxVcpus: number;
  readonly #caps: HypervisorCapabilities;
  readonly #consoleLog: string | undefined;
  #resolveExit: ((e: { code: number | null; signal: string | null }) => void) | undefined;
  #exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(options: MockHypervisorOptions = {}) {
    this.id = options.id ?? 'mock';
    this.#vcpus = options.vcpus ?? 1;
    this.#bootVcpus = this.#vcpus;
    this.#maxVcpus = options.maxVcpus ?? 8;
    this.#caps = Object.freeze({ ...ALL_CAPS, ...options.capabilities });
    this.#consoleLog = options.consoleLog;
    this.#exited = new Promise((resolve) => {
      this.#resolveExit = resolve;
    });
  }

  get status(): SandboxStatus {
    return this.#status;
  }

  get exited(): Promise<{ code: number | null; signal: string | null }> {
    return this.#exited;
  }

  /** Make the next call of `op` throw `error` (default: a `SANDBOX_HOTPLUG_FAILED`/`SANDBOX_START_FAILED` error). */
  failNext(op: MockOperation, error?: Error): void {
    this.#failures.set(
      op,
      error ??
        new SandboxError(
          op === 'start'
            ? 'SANDBOX_START_FAILED'
            : op.startsWith('hotplug') || op === 'resizeVcpus'
              ? 'SANDBOX_HOTPLUG_FAILED'
              : 'SANDBOX_QMP_FAILED',
          `mock: ${op} failed (failNext)`,
        ),
    );
  }

  /** Append a line to the console log (created 0600, its directory 0700), as a guest would print it. */
  async emitConsole(line: string): Promise<void> {
    if (this.#consoleLog === undefined)
      throw new SandboxError('SANDBOX_CONSOLE', 'mock: no consoleLog given');
    await mkdir(dirname(this.#consoleLog), { recursive: true, mode: 0o700 });
    await appendFile(this.#consoleLog, `${line}\n`, { mode: 0o600 });
  }

  /** Simulate the VM process exiting on its own (a crash, or the guest powering off). */
  simulateExit(code: number | null = 0, signal: string | null = null): void {
    this.#status = 'stopped';
    this.#resolveExit?.({ code, signal });
  }

  #call(op: MockOperation, args: unknown[]): void {
    this.calls.push(Object.freeze({ op, args: Object.freeze(args) }));
    const f = this.#failures.get(op);
    if (f !== undefined) {
      this.#failures.delete(op);
      throw f;
    }
  }

  #mustRun(what: string): void {
    if (this.#status !== 'running' && this.#status !== 'paused') {
      throw new SandboxError('SANDBOX_INVALID_STATE', `${what}: sandbox ${this.id} is ${this.#status}`, {
        sandboxId: this.id,
      });
    }
  }

  async start(_options?: OperationOptions): Promise<void> {
    this.#call('start', []);
    if (this.#status !== 'created') {
      throw new SandboxError('SANDBOX_INVALID_STATE', `sandbox ${this.id} is ${this.#status}, not created`);
    }
    this.#status = 'running';
  }

  async waitReady(_options?: OperationOptions): Promise<void> {
    this.#call('waitReady', []);
    if (this.#status === 'stopped') {
      throw new SandboxError('SANDBOX_HYPERVISOR_EXITED', `mock ${this.id} exited`, { sandboxId: this.id });
    }
    if (this.#status === 'created')
      throw new SandboxError('SANDBOX_INVALID_STATE', `sandbox ${this.id} was not started`);
  }

  async stop(_options?: StopOptions): Promise<StopResult> {
    this.#call('stop', []);
    if (this.#status === 'stopped') return { method: 'already-stopped' };
    this.simulateExit(0);
    return { method: 'quit', exit: { code: 0, signal: null } };
  }

  async pause(_options?: OperationOptions): Promise<void> {
    this.#call('pause', []);
    this.#mustRun('pause');
    this.#status = 'paused';
  }

  async resume(_options?: OperationOptions): Promise<void> {
    this.#call('resume', []);
    this.#mustRun('resume');
    this.#status = 'running';
  }

  async save(path: string, _options?: OperationOptions): Promise<void> {
    this.#call('save', [path]);
    this.#mustRun('save');
    this.#status = 'paused';
  }

  async hotplugAdd(device: HotplugDevice, _options?: OperationOptions): Promise<HotplugResult> {
    this.#call('hotplugAdd', [device]);
    this.#mustRun('hotplug');
    const id = device.kind === 'memory' ? (device.id ?? `dimm${this.#devices.length}`) : device.id;
    if (this.#devices.some((d) => d.id === id)) {
      throw new SandboxError('SANDBOX_EXISTS', `device ${id} is already plugged into ${this.id}`, {
        path: 'device.id',
      });
    }
    const r: HotplugResult = Object.freeze({
      id,
      kind: device.kind,
      ...(device.kind === 'memory' ? { sizeMiB: Math.ceil(device.sizeMiB / 128) * 128 } : {}),
    });
    this.#devices.push(r);
    return r;
  }

  async hotplugRemove(id: string, _options?: OperationOptions): Promise<void> {
    this.#call('hotplugRemove', [id]);
    this.#mustRun('unplug');
    const i = this.#devices.findIndex((d) => d.id === id);
    if (i < 0)
      throw new SandboxError('SANDBOX_NOT_FOUND', `no hotplugged device ${id} in ${this.id}`, { path: 'id' });
    this.#devices.splice(i, 1);
  }

  async resizeVcpus(count: number, _options?: OperationOptions): Promise<VcpuResizeResult> {
    this.#call('resizeVcpus', [count]);
    this.#mustRun('resize vCPUs');
    const before = this.#vcpus;
    const target = Math.min(Math.max(count, 1), this.#maxVcpus);
    this.#vcpus = Math.max(target, this.#bootVcpus);
    const result = { before, after: this.#vcpus, requested: count, target };
    return Object.freeze(
      this.#vcpus === target
        ? result
        : {
            ...result,
            error: new SandboxError('SANDBOX_HOTPLUG_FAILED', 'only hotplugged vCPUs can be removed'),
          },
    );
  }

  capabilities(): HypervisorCapabilities {
    return this.#caps;
  }

  pids(): number[] {
    return [];
  }

  console(): ConsoleReader {
    if (this.#consoleLog === undefined)
      throw new SandboxError('SANDBOX_CONSOLE', 'mock: no consoleLog given');
    return new ConsoleReader(this.#consoleLog);
  }

  devices(): readonly HotplugResult[] {
    return Object.freeze([...this.#devices]);
  }

  toState(): Record<string, unknown> {
    return { vcpus: this.#vcpus, devices: this.#devices.map((d) => ({ ...d })) };
  }

  processInfo(): null {
    return null;
  }

  reload(state: HypervisorReloadState): void {
    this.#status = state.status;
    const h = state.hypervisor as { vcpus?: unknown; devices?: unknown } | null;
    if (typeof h?.vcpus === 'number') this.#vcpus = h.vcpus;
    if (Array.isArray(h?.devices))
      this.#devices = (h.devices as HotplugResult[]).map((d) => Object.freeze({ ...d }));
  }

  async cleanup(): Promise<void> {
    if (this.#consoleLog !== undefined) await rm(this.#consoleLog, { force: true });
  }
}
