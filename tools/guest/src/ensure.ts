import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { aptGetUpdate, isDownloadFailure, type ResolvedPackages, resolvePackages } from './apt.js';
import { aptStateKey, readAptMemo, writeAptMemo } from './apt-memo.js';
import { readAssets } from './assets.js';
import { buildGuest, fileInfo, GUEST_FILES } from './build.js';
import { GuestError } from './errors.js';
import { acquireLock } from './lock.js';
import { BUILDER_VERSION, computeStamp, type GuestManifest, parseManifest } from './manifest.js';
import type { EnsureGuestOptions, FindGuestOptions, GuestBuildStep, GuestImage } from './types.js';

/**
 * Kernel parameters the guest boots with: serial console, no kernel chatter (markers stay on
 * their own lines), reboot at once on a panic (with `-no-reboot`, QEMU exits instead of hanging).
 */
export const GUEST_DEFAULT_APPEND: readonly string[] = ['console=ttyS0', 'quiet', 'panic=-1'];

/**
 * The default cache root: `$XDG_CACHE_HOME/vmm/guest`, or `~/.cache/vmm/guest` when
 * `XDG_CACHE_HOME` is unset or not absolute (as the XDG spec says).
 */
export function defaultGuestCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(env.HOME ?? homedir(), '.cache');
  return join(base, 'vmm', 'guest');
}

const ensureOptionsSchema = z.object({
  cacheDir: z.string().min(1).optional(),
  signal: z.instanceof(AbortSignal).optional(),
  timeoutMs: z.number().int().positive().optional(),
  lockTimeoutMs: z.number().int().positive().optional(),
  force: z.boolean().optional(),
  onProgress: z.function().optional(),
});

const findOptionsSchema = z.object({
  cacheDir: z.string().min(1).optional(),
  release: z
    .string()
    .regex(/^[0-9][A-Za-z0-9._+-]*$/, 'expected a kernel release such as 6.1.0-56-amd64')
    .optional(),
});

function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const path = first === undefined || first.path.length === 0 ? 'options' : first.path.join('.');
  throw new GuestError('GUEST_INVALID_OPTIONS', `${path}: ${first?.message ?? 'invalid'}`, {
    cause: r.error,
  });
}

/**
 * Make sure the default guest for the current Debian kernel is built and cached, and return it.
 * Resolves `linux-image-amd64` to its ABI package through apt-cache (running `apt-get update` once
 * when the lookup finds nothing), and if the cache's `manifest.json` was built from the same
 * package versions and init scripts, returns it at once (milliseconds: the apt answer is remembered
 * until the apt state changes). Otherwise downloads the .debs and builds, under a lock shared with
 * other processes, into a temp directory renamed into place. If the mirror no longer has the pinned
 * version, refreshes the lists once (root only) and resolves again. Only Debian's apt mirror is
 * contacted.
 *
 * @throws {GuestError} `GUEST_INVALID_OPTIONS`, `GUEST_UNSUPPORTED_HOST`, `GUEST_KERNEL_NOT_FOUND`,
 * `GUEST_APT_FAILED`, `GUEST_CACHE_IO`, `GUEST_EXTRACT_FAILED`, `GUEST_MODULE_MISSING`, `GUEST_INITRAMFS_FAILED`,
 * `GUEST_LOCK_TIMEOUT`, `GUEST_ABORTED`, `GUEST_TIMEOUT`.
 */
export async function ensureGuest(options?: EnsureGuestOptions): Promise<GuestImage> {
  validate(ensureOptionsSchema, options);
  const opts: EnsureGuestOptions = options ?? {};
  const startedAt = Date.now();
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal === undefined ? timeout : AbortSignal.any([opts.signal, timeout]);
  const step = (s: GuestBuildStep, message: string): void => {
    try {
      opts.onProgress?.({ step: s, message, elapsedMs: Date.now() - startedAt });
    } catch {
      // a progress callback never breaks the build
    }
  };
  try {
    checkHost();
    signal.throwIfAborted();
    const root = resolve(opts.cacheDir ?? defaultGuestCacheDir());
    step('resolve', 'resolving linux-image-amd64 through apt-cache');
    const memoFile = join(root, '.apt-resolution.json');
    let packages = opts.force === true ? undefined : await readAptMemo(memoFile, await aptStateKey());
    const memoised = packages !== undefined;
    const assets = await readAssets();
    if (packages === undefined) {
      packages = await resolvePackages(signal, () =>
        step('update', 'apt-get update (the apt lists know no kernel)'),
      );
      await mkdir(root, { recursive: true });
      // Keyed on the state after the lookup: an `apt-get update` it ran has changed the lists.
      await writeAptMemo(memoFile, await aptStateKey(), packages);
    }
    step(
      'resolve',
      `${packages.kernel.name} ${packages.kernel.version}, ${packages.busybox.name} ${packages.busybox.version}${memoised ? ' (apt state unchanged since the last lookup)' : ''}`,
    );
    const ensureFor = async (packages: ResolvedPackages): Promise<GuestImage> => {
      const stamp = computeStamp({
        kernel: packages.kernel,
        busybox: packages.busybox,
        initSha256: assets.sha256,
        builderVersion: BUILDER_VERSION,
      });
      const dir = join(root, packages.release);
      if (opts.force !== true) {
        const cached = await loadRelease(dir);
        if (cached?.manifest.stamp === stamp) {
          step('cached', `${dir} is current`);
          step('done', `reused ${packages.release}`);
          return cached;
        }
      }
      await mkdir(root, { recursive: true });
      step('lock', `locking ${join(root, '.lock')}`);
      const lock = await acquireLock(join(root, '.lock'), opts.lockTimeoutMs ?? 600_000, signal);
      try {
        if (opts.force !== true) {
          // Another process may have built it while we waited.
          const cached = await loadRelease(dir);
          if (cached?.manifest.stamp === stamp) {
            step('cached', `${dir} was built by another process`);
            step('done', `reused ${packages.release}`);
            return cached;
          }
        }
        await buildGuest({ root, packages, assets, signal, step, startedAt });
      } finally {
        await lock.release();
      }
      const built = await loadRelease(dir);
      if (built === undefined) {
        throw new GuestError(
          'GUEST_MANIFEST_INVALID',
          `${dir} does not hold a valid guest right after building it`,
        );
      }
      step('done', `built ${packages.release} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
      return built;
    };
    try {
      return await ensureFor(packages);
    } catch (error) {
      // The lists named a version the mirror no longer has (a security update replaced the ABI):
      // refresh them once, as root, and resolve again.
      if (!isDownloadFailure(error) || process.getuid?.() !== 0) throw error;
      step('update', 'apt-get download failed: apt-get update, then resolving again');
      await aptGetUpdate(signal);
      packages = await resolvePackages(signal, () => undefined);
      await writeAptMemo(memoFile, await aptStateKey(), packages);
      step(
        'resolve',
        `${packages.kernel.name} ${packages.kernel.version}, ${packages.busybox.name} ${packages.busybox.version}`,
      );
      return await ensureFor(packages);
    }
  } catch (error) {
    throw asGuestError(error, signal, timeout, timeoutMs);
  }
}

function asGuestError(
  error: unknown,
  signal: AbortSignal,
  timeout: AbortSignal,
  timeoutMs: number,
): GuestError {
  if (GuestError.is(error)) return error;
  if (signal.aborted) {
    if (timeout.aborted) {
      return new GuestError('GUEST_TIMEOUT', `the guest was not ready within ${timeoutMs} ms`, {
        cause: error,
      });
    }
    return new GuestError('GUEST_ABORTED', 'building the guest was aborted', { cause: error });
  }
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof errno === 'string' && errno.startsWith('E')) {
    return new GuestError('GUEST_CACHE_IO', `the guest cache: ${(error as Error).message}`, { cause: error });
  }
  return new GuestError('GUEST_EXTRACT_FAILED', `building the guest failed: ${(error as Error).message}`, {
    cause: error,
  });
}

function checkHost(): void {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new GuestError(
      'GUEST_UNSUPPORTED_HOST',
      `the default guest is built from Debian amd64 packages on an x86_64 Linux host (this is ${process.platform}/${process.arch})`,
    );
  }
}

/**
 * The newest valid cached guest (or the given release), without running apt or building anything.
 * A release directory whose manifest is missing or invalid, or whose files are missing or have the
 * wrong size, is ignored.
 * @returns `undefined` when nothing usable is cached.
 * @throws {GuestError} `GUEST_INVALID_OPTIONS`.
 */
export async function findGuest(options?: FindGuestOptions): Promise<GuestImage | undefined> {
  const opts = validate(findOptionsSchema, options);
  const root = resolve(opts.cacheDir ?? defaultGuestCacheDir());
  if (opts.release !== undefined) return loadRelease(join(root, opts.release));
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return undefined;
  }
  const found: GuestImage[] = [];
  for (const e of entries) {
    if (e.startsWith('.') || e === 'debs' || e.includes('.old-')) continue;
    const image = await loadRelease(join(root, e));
    if (image !== undefined) found.push(image);
  }
  found.sort((a, b) => b.manifest.builtAt.localeCompare(a.manifest.builtAt));
  return found[0];
}

/**
 * Read and check one release directory: a valid manifest whose release matches the directory and
 * whose files exist with the recorded sizes (hashes are checked by {@link verifyGuest}).
 */
async function loadRelease(dir: string): Promise<GuestImage | undefined> {
  let manifest: GuestManifest;
  try {
    manifest = parseManifest(JSON.parse(await readFile(join(dir, GUEST_FILES.manifest), 'utf8')), dir);
  } catch {
    return undefined;
  }
  if (!dir.endsWith(`/${manifest.release}`)) return undefined;
  for (const f of Object.values(manifest.files)) {
    try {
      const s = await stat(join(dir, f.name));
      if (!s.isFile() || s.size !== f.size) return undefined;
    } catch {
      return undefined;
    }
  }
  return {
    kernel: join(dir, manifest.files.vmlinux.name),
    bzImage: join(dir, manifest.files.vmlinuz.name),
    initrd: join(dir, manifest.files.initramfs.name),
    release: manifest.release,
    dir,
    manifest,
    defaultAppend: [...GUEST_DEFAULT_APPEND],
  };
}

/**
 * Re-hash a guest's files and compare them with its manifest (about 0.3 s for the 63 MiB vmlinux).
 * {@link ensureGuest} and {@link findGuest} only compare sizes.
 * @throws {GuestError} `GUEST_MANIFEST_INVALID` naming the first file that differs.
 */
export async function verifyGuest(image: GuestImage): Promise<void> {
  for (const [key, f] of Object.entries(image.manifest.files)) {
    let actual: { sha256: string; size: number };
    try {
      actual = await fileInfo(image.dir, f.name);
    } catch (cause) {
      throw new GuestError(
        'GUEST_MANIFEST_INVALID',
        `files.${key}: ${join(image.dir, f.name)} is unreadable`,
        { cause },
      );
    }
    if (actual.sha256 !== f.sha256 || actual.size !== f.size) {
      throw new GuestError(
        'GUEST_MANIFEST_INVALID',
        `files.${key}: ${join(image.dir, f.name)} has sha256 ${actual.sha256} (${actual.size} B), the manifest says ${f.sha256} (${f.size} B)`,
      );
    }
  }
}
