/**
 * The `Hypervisor` interface every backend implements (QEMU, ACRN, mock), the devices it hotplugs,
 * and hypervisor-type parsing.
 */
import type { ConsoleReader } from './console.js';
import { SandboxError } from './errors.js';
import { HYPERVISOR_TYPES, type HypervisorType, type SandboxStatus } from './state.js';

export { HYPERVISOR_TYPES, type HypervisorType };

/**
 * Parse a hypervisor type name (case-insensitive, surrounding blanks ignored).
 * @throws {SandboxError} `SANDBOX_UNKNOWN_HYPERVISOR` (Kata: `Unknown hypervisor type X`).
 */
export function parseHypervisorType(value: string): HypervisorType {
  const v = value.trim().toLowerCase();
  if ((HYPERVISOR_TYPES as readonly string[]).includes(v)) return v as HypervisorType;
  throw new SandboxError(
    'SANDBOX_UNKNOWN_HYPERVISOR',
    `Unknown hypervisor type ${JSON.stringify(value)} (known: ${HYPERVISOR_TYPES.join(', ')})`,
    { path: 'hypervisorType' },
  );
}

/** How a block device is attached. */
export const BLOCK_ATTACHMENTS = ['virtio-blk', 'virtio-scsi', 'nvdimm'] as const;
/** One of {@link BLOCK_ATTACHMENTS}. */
export type BlockAttachment = (typeof BLOCK_ATTACHMENTS)[number];

/** A disk to hotplug. */
export interface BlockHotplug {
  kind: 'block';
  /** Device id (QEMU id of the front end; the node is `drive-<id>`). */
  id: string;
  /** Image file or host block device. */
  path: string;
  /**
   * @default `virtio-blk` when `placement` is `bridge` or `root-port`, else the config's
   *   blockDeviceDriver (`virtio-scsi` → scsi-hd, `virtio-blk` → virtio-blk, `nvdimm`)
   */
  attach?: BlockAttachment;
  /** @default false */
  readOnly?: boolean;
  /**
   * virtio-blk placement: `bridge` (a slot on a PCI bridge), `root-port` (a free PCIe root port,
   * q35), or `auto` (a root port when the machine has free ones, else a bridge). @default 'auto'
   */
  placement?: 'auto' | 'bridge' | 'root-port';
}

/** Memory to hotplug (a pc-dimm backed by RAM). */
export interface MemoryHotplug {
  kind: 'memory';
  /** Size in MiB (rounded up to a multiple of `blockSizeMiB`). */
  sizeMiB: number;
  /** Guest memory block size in MiB (Kata `calcHotplugMemMiBSize`). @default 128 */
  blockSizeMiB?: number;
  /** Device id. @default `dimm<slot>` */
  id?: string;
}

/** A network interface to hotplug: tap queue fds (and vhost-net fds) owned by the caller. */
export interface NetHotplug {
  kind: 'net';
  /** Device id; the netdev is `netdev-<id>`. */
  id: string;
  /** Open tap fds (one per queue); they are passed to QEMU with `getfd`. The caller keeps and closes its copies. */
  tapFds: readonly number[];
  /** vhost-net fds, one per queue. @default none */
  vhostFds?: readonly number[];
  /** Guest MAC address. @default QEMU's */
  mac?: string;
}

/** A host PCI device to pass through with VFIO. */
export interface VfioHotplug {
  kind: 'vfio';
  id: string;
  /** Host PCI address, `0000:01:00.0`. */
  hostAddr: string;
}

/** A vhost-vsock device. */
export interface VsockHotplug {
  kind: 'vsock';
  id: string;
  /** Guest context id (3..2^32-2). */
  guestCid: number;
}

/** A device {@link Hypervisor.hotplugAdd} accepts. */
export type HotplugDevice = BlockHotplug | MemoryHotplug | NetHotplug | VfioHotplug | VsockHotplug;

/** Where a hotplugged device ended up. */
export interface HotplugResult {
  /** Device id (front end). */
  readonly id: string;
  readonly kind: HotplugDevice['kind'];
  /** Bus it sits on (`pci-bridge-0`, `rp1`, `scsi0.0`), if any. */
  readonly bus?: string;
  /** Slot on that bus (`0x01`), if any. */
  readonly addr?: string;
  /** PCI path as Kata reports it (`02/01`), SCSI address (`0:1`), or NVDIMM index. */
  readonly guestAddress?: string;
  /** Memory: MiB actually added. */
  readonly sizeMiB?: number;
}

/** Outcome of {@link Hypervisor.resizeVcpus} (Kata `resizeVCPUs`, without its unsigned underflows). */
export interface VcpuResizeResult {
  /** vCPUs before the call. */
  readonly before: number;
  /** vCPUs after the call. */
  readonly after: number;
  /** What was asked for. */
  readonly requested: number;
  /** What was aimed at: `requested` clamped to 1..maxVcpus. */
  readonly target: number;
  /** Set when only part of the change happened (Kata's partial success): why it stopped. */
  readonly error?: SandboxError;
}

/** What a hypervisor (and its machine) can do. */
export interface HypervisorCapabilities {
  readonly blockDeviceHotplug: boolean;
  readonly memoryHotplug: boolean;
  readonly vcpuHotplug: boolean;
  readonly netHotplug: boolean;
  readonly vfioHotplug: boolean;
  readonly vsock: boolean;
  readonly fsSharing: boolean;
  readonly multiQueue: boolean;
  readonly pauseResume: boolean;
  readonly saveRestore: boolean;
}

/** Options shared by the async operations. */
export interface OperationOptions {
  /** Cancels the operation. */
  signal?: AbortSignal;
  /** Gives up after this long. Each operation documents its default. */
  timeoutMs?: number;
}

/** Options of {@link Hypervisor.stop}. */
export interface StopOptions extends OperationOptions {
  /** How long to wait after `quit` before SIGTERM, and after SIGTERM before SIGKILL. @default 5_000 */
  graceMs?: number;
}

/** How a stop went. */
export interface StopResult {
  /** `quit` (QMP), `sigint` (ACRN), `sigterm`, `sigkill`, or `already-stopped`. */
  readonly method: 'quit' | 'sigint' | 'sigterm' | 'sigkill' | 'already-stopped';
  /** The process's exit, when this process could observe it (its parent). */
  readonly exit?: { readonly code: number | null; readonly signal: string | null };
}

/** A running (or runnable) VM. Implementations: `QemuHypervisor`, `AcrnHypervisor`, `MockHypervisor`. */
export interface Hypervisor {
  readonly type: HypervisorType;
  /** Sandbox id. */
  readonly id: string;
  /** Lifecycle state. */
  readonly status: SandboxStatus;
  /** Launch the VM process. @throws {SandboxError} `SANDBOX_START_FAILED`, `SANDBOX_INVALID_STATE` */
  start(options?: OperationOptions): Promise<void>;
  /** Wait until the VM answers its control channel. @throws {SandboxError} `SANDBOX_READY_TIMEOUT`, `SANDBOX_HYPERVISOR_EXITED` */
  waitReady(options?: OperationOptions): Promise<void>;
  /** Stop the VM; idempotent. @throws {SandboxError} `SANDBOX_STOP_FAILED` */
  stop(options?: StopOptions): Promise<StopResult>;
  /** Pause all vCPUs. @throws {SandboxError} `SANDBOX_INVALID_STATE`, `SANDBOX_QMP_FAILED` */
  pause(options?: OperationOptions): Promise<void>;
  /** Resume all vCPUs. @throws {SandboxError} `SANDBOX_INVALID_STATE`, `SANDBOX_QMP_FAILED` */
  resume(options?: OperationOptions): Promise<void>;
  /** Save the VM's state to a file (QEMU: migrate to a file). @throws {SandboxError} `SANDBOX_MIGRATION_FAILED`, `SANDBOX_UNSUPPORTED` */
  save(path: string, options?: OperationOptions): Promise<void>;
  /** Hotplug a device. @throws {SandboxError} `SANDBOX_HOTPLUG_FAILED` (rolled back), `SANDBOX_UNSUPPORTED` */
  hotplugAdd(device: HotplugDevice, options?: OperationOptions): Promise<HotplugResult>;
  /** Unplug a device by id. @throws {SandboxError} `SANDBOX_HOTPLUG_FAILED`, `SANDBOX_NOT_FOUND` */
  hotplugRemove(id: string, options?: OperationOptions): Promise<void>;
  /** Set the vCPU count (clamped to 1..max). @throws {SandboxError} `SANDBOX_HOTPLUG_FAILED` when nothing changed */
  resizeVcpus(count: number, options?: OperationOptions): Promise<VcpuResizeResult>;
  /** What this VM can do. */
  capabilities(): HypervisorCapabilities;
  /** Process ids: the hypervisor's first. Empty when not running. */
  pids(): number[];
  /** The guest console (output from the first byte, input when the backend has it). */
  console(): ConsoleReader;
  /** Hotplugged devices, by id. */
  devices(): readonly HotplugResult[];
  /** Resolves when the hypervisor process has exited (also when it was stopped). */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: string | null }>;
  /** Backend-specific state to persist (bridges, hotplugged devices, ...). */
  toState(): Record<string, unknown>;
  /** The hypervisor process and its `/proc` start time (to tell it from a reused pid), while one exists. */
  processInfo(): { readonly pid: number; readonly startTime: string | null } | null;
  /** Take over state another process persisted (called under the sandbox lock before each operation). */
  reload(state: HypervisorReloadState): void;
  /** Remove the run directory (after a failed start, or for a sandbox whose process is gone). */
  cleanup(): Promise<void>;
}

/** What {@link Hypervisor.reload} receives from the persisted sandbox state. */
export interface HypervisorReloadState {
  readonly status: SandboxStatus;
  readonly hypervisor: unknown;
  readonly pid: number | null;
  readonly pidStartTime: string | null;
}
