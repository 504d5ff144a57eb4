import type { GuestManifest } from './manifest.js';

/** A built guest in the cache: everything needed to boot it. */
export interface GuestImage {
  /** Uncompressed ELF `vmlinux`, booted through PVH (`-kernel vmlinux`): the fast path under TCG. */
  kernel: string;
  /** The package's compressed bzImage (`vmlinuz`), for loaders that need one. Boots ~6 s slower under TCG. */
  bzImage: string;
  /** Uncompressed newc initramfs (`-initrd`). */
  initrd: string;
  /** Kernel release, e.g. `6.1.0-56-amd64`. */
  release: string;
  /** The release directory holding the files above and `manifest.json`. */
  dir: string;
  /** What the guest was built from. */
  manifest: GuestManifest;
  /** Kernel command line the guest is meant to boot with; append knobs from {@link encodeGuestKnobs}. */
  defaultAppend: string[];
}

/** Steps {@link GuestProgress} reports, in order. */
export const GUEST_BUILD_STEPS = {
  /** Resolving the kernel ABI package and versions with apt-cache. */
  resolve: 'resolve',
  /** Running `apt-get update` because the lookup found nothing. */
  update: 'update',
  /** The cached guest matches the inputs: nothing to build. */
  cached: 'cached',
  /** Waiting for another process's build (the cache lock). */
  lock: 'lock',
  /** `apt-get download` of the kernel and busybox-static packages. */
  download: 'download',
  /** Unpacking the kernel package. */
  extract: 'extract',
  /** Carving the uncompressed vmlinux out of the bzImage. */
  vmlinux: 'vmlinux',
  /** Resolving module dependency closures. */
  modules: 'modules',
  /** Writing the initramfs. */
  initramfs: 'initramfs',
  /** Hashing outputs, writing manifest.json, renaming into place. */
  commit: 'commit',
  /** Finished; the message says whether it was built or reused. */
  done: 'done',
} as const;

/** One of {@link GUEST_BUILD_STEPS}. */
export type GuestBuildStep = keyof typeof GUEST_BUILD_STEPS;

/** A progress report from {@link ensureGuest}. */
export interface GuestProgress {
  step: GuestBuildStep;
  /** Human-readable detail, e.g. `linux-image-6.1.0-56-amd64 6.1.192-2`. */
  message: string;
  /** Milliseconds since the call started. */
  elapsedMs: number;
}

/** Options for {@link ensureGuest}. */
export interface EnsureGuestOptions {
  /** Cache root; each kernel release gets a directory under it. @default `${XDG_CACHE_HOME:-~/.cache}/vmm/guest` */
  cacheDir?: string;
  /** Cancels the lookup, download or build; the cache is left as it was. */
  signal?: AbortSignal;
  /** Gives up (code `GUEST_TIMEOUT`) after this many milliseconds. @default 600_000 */
  timeoutMs?: number;
  /** How long to wait for another process building into the same cache. @default 600_000 */
  lockTimeoutMs?: number;
  /** Rebuild even if the cached guest matches the inputs. @default false */
  force?: boolean;
  /** Called at each step. Exceptions it throws are ignored. */
  onProgress?: (progress: GuestProgress) => void;
}

/** Options for {@link findGuest}. */
export interface FindGuestOptions {
  /** Cache root. @default `${XDG_CACHE_HOME:-~/.cache}/vmm/guest` */
  cacheDir?: string;
  /** A specific kernel release; by default the most recently built valid guest. */
  release?: string;
}

/** Kernel command-line knobs the guest's /init reads. */
export interface GuestKnobs {
  /**
   * Module sets to load at boot (`probe.modules=`): names from `GUEST_MODULE_SETS` are loaded in
   * addition to the boot sets; with `'none'` in the list only the listed sets load; `'all'` loads every set.
   * @default the boot sets only
   */
  modules?: readonly string[];
  /** Poll interval of the device watcher in seconds (`probe.poll=`). @default 0.05 */
  pollSeconds?: number;
  /** Start an interactive ash on the console after GUEST-READY (`probe.shell=1`). @default false */
  shell?: boolean;
  /** Print `CLOCK <seconds>` (CLOCK_MONOTONIC) each poll (`probe.clock=1`). @default false */
  clock?: boolean;
}
