/**
 * The build itself, run under the cache lock: download the pinned .debs, unpack the kernel, carve
 * `vmlinux`, work out module closures, write the initramfs with busybox's own cpio, hash the outputs
 * and move the finished release directory into place with a rename.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { debFileName, downloadDebs, type ResolvedPackages } from './apt.js';
import type { GuestAssets } from './assets.js';
import { resolveLoadOrder } from './closure.js';
import { findXzStreams, hasPvhNote, type ModInfo, readModInfo } from './elf.js';
import { GuestError } from './errors.js';
import { BUILDER_VERSION, computeStamp, type GuestFileInfo, type GuestManifest } from './manifest.js';
import { GUEST_BOOT_SETS, GUEST_MODULE_PARAMS, GUEST_MODULE_SETS, moduleName } from './module-sets.js';
import type { GuestBuildStep } from './types.js';

/** File names inside a release directory. */
export const GUEST_FILES = {
  vmlinux: 'vmlinux',
  vmlinuz: 'vmlinuz',
  initramfs: 'initramfs.cpio',
  manifest: 'manifest.json',
} as const;

export interface BuildContext {
  root: string;
  packages: ResolvedPackages;
  assets: GuestAssets;
  signal: AbortSignal;
  step: (step: GuestBuildStep, message: string) => void;
  startedAt: number;
}

/** Build into a temp dir under `root`, then rename it to `root/<release>`. Returns the manifest written. */
export async function buildGuest(ctx: BuildContext): Promise<GuestManifest> {
  const { root, packages, signal } = ctx;
  const work = await mkdtemp(join(root, '.build-'));
  try {
    const debs = await ensureDebs(ctx);
    signal.throwIfAborted();

    ctx.step('extract', `unpacking ${packages.kernel.name} and ${packages.busybox.name}`);
    const pkg = join(work, 'pkg');
    await mkdir(pkg);
    await untar(debs.kernel, pkg, ['./boot/vmlinuz-*', '*lib/modules/*.ko'], signal);
    await untar(debs.busybox, pkg, ['./bin/busybox'], signal);
    const modulesDir = await findModulesDir(pkg, packages.release);

    const out = join(work, 'out');
    await mkdir(out);
    ctx.step('vmlinux', 'carving the uncompressed vmlinux out of the bzImage');
    const vmlinuz = join(out, GUEST_FILES.vmlinuz);
    await copyFile(join(pkg, 'boot', `vmlinuz-${packages.release}`), vmlinuz).catch((cause: unknown) => {
      throw new GuestError('GUEST_EXTRACT_FAILED', `the package has no boot/vmlinuz-${packages.release}`, {
        cause,
      });
    });
    await carveVmlinux(vmlinuz, join(out, GUEST_FILES.vmlinux), signal);

    ctx.step('modules', 'resolving module dependency closures');
    const staging = join(work, 'initramfs');
    const plan = await planModules(modulesDir);
    await stageInitramfs(staging, join(pkg, 'bin', 'busybox'), plan, ctx.assets);

    ctx.step('initramfs', `writing initramfs.cpio (${plan.included.length} modules)`);
    await writeCpio(staging, join(pkg, 'bin', 'busybox'), join(out, GUEST_FILES.initramfs), signal);

    ctx.step('commit', 'hashing outputs and writing manifest.json');
    const manifest: GuestManifest = {
      manifestVersion: 1,
      release: packages.release,
      arch: 'amd64',
      packages: { kernel: packages.kernel, busybox: packages.busybox },
      initSha256: ctx.assets.sha256,
      builderVersion: BUILDER_VERSION,
      stamp: computeStamp({
        kernel: packages.kernel,
        busybox: packages.busybox,
        initSha256: ctx.assets.sha256,
        builderVersion: BUILDER_VERSION,
      }),
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - ctx.startedAt,
      files: {
        vmlinux: await fileInfo(out, GUEST_FILES.vmlinux),
        vmlinuz: await fileInfo(out, GUEST_FILES.vmlinuz),
        initramfs: await fileInfo(out, GUEST_FILES.initramfs),
      },
      modules: { included: plan.included, sets: plan.sets, boot: [...GUEST_BOOT_SETS] },
    };
    await writeFile(join(out, GUEST_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`, {
      mode: 0o644,
    });
    signal.throwIfAborted();
    await swapIntoPlace(out, join(root, packages.release));
    await pruneDebs(join(root, 'debs'), [debs.kernel, debs.busybox]);
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The .debs in `root/debs`, downloaded (into a temp dir, then renamed) when missing. */
async function ensureDebs(ctx: BuildContext): Promise<{ kernel: string; busybox: string }> {
  const dir = join(ctx.root, 'debs');
  await mkdir(dir, { recursive: true });
  const { kernel, busybox } = ctx.packages;
  const want = { kernel: join(dir, debFileName(kernel)), busybox: join(dir, debFileName(busybox)) };
  const have = new Set(await readdir(dir));
  const missing = [kernel, busybox].filter((p) => !have.has(debFileName(p)));
  if (missing.length === 0) {
    ctx.step('download', 'packages already downloaded');
    return want;
  }
  ctx.step('download', `apt-get download ${missing.map((p) => `${p.name}=${p.version}`).join(' ')}`);
  const tmp = await mkdtemp(join(dir, '.dl-'));
  try {
    await downloadDebs(missing, tmp, ctx.signal);
    for (const p of missing) {
      const name = debFileName(p);
      await rename(join(tmp, name), join(dir, name)).catch((cause: unknown) => {
        throw new GuestError('GUEST_APT_FAILED', `apt-get download did not produce ${name}`, { cause });
      });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return want;
}

/** `dpkg-deb --fsys-tarfile deb | tar -x -C dir --wildcards patterns...` */
async function untar(deb: string, dir: string, patterns: string[], signal: AbortSignal): Promise<void> {
  try {
    await execa('dpkg-deb', ['--fsys-tarfile', deb], {
      cancelSignal: signal,
      stdin: 'ignore',
      buffer: false,
    }).pipe('tar', ['-x', '-C', dir, '--wildcards', '--no-same-owner', ...patterns], {
      cancelSignal: signal,
    });
  } catch (cause) {
    if (signal.aborted) throw signal.reason;
    const stderr =
      typeof cause === 'object' && cause !== null && 'stderr' in cause ? String(cause.stderr) : '';
    throw new GuestError('GUEST_EXTRACT_FAILED', `unpacking ${deb} failed`, { cause, stderr });
  }
}

async function findModulesDir(pkg: string, release: string): Promise<string> {
  for (const base of ['lib/modules', 'usr/lib/modules']) {
    const dir = join(pkg, base, release);
    try {
      await readdir(dir);
      return dir;
    } catch {
      // try the next layout
    }
  }
  throw new GuestError('GUEST_EXTRACT_FAILED', `the kernel package has no lib/modules/${release}`);
}

/**
 * Decompress the XZ payload of a bzImage into an ELF vmlinux. The payload is found by its stream
 * magic; `--single-stream` makes xz ignore the bytes after it. A candidate that does not decompress
 * to an ELF with a PVH note is skipped.
 */
async function carveVmlinux(vmlinuz: string, vmlinux: string, signal: AbortSignal): Promise<void> {
  const image = await readFile(vmlinuz);
  const offsets = findXzStreams(image);
  for (const offset of offsets) {
    const r = await execa('xz', ['-dc', '--single-stream'], {
      input: image.subarray(offset),
      stdout: { file: vmlinux },
      reject: false,
      cancelSignal: signal,
    }).catch((cause: unknown) => {
      throw new GuestError('GUEST_UNSUPPORTED_HOST', 'xz could not run (install xz-utils)', { cause });
    });
    if (signal.aborted) throw signal.reason;
    if (r.exitCode !== 0) continue;
    const head = await readHead(vmlinux, 64 * 1024);
    if (head.readUInt32LE(0) === 0x464c457f && hasPvhNote(await readFile(vmlinux))) return;
  }
  throw new GuestError(
    'GUEST_EXTRACT_FAILED',
    offsets.length === 0
      ? 'the bzImage holds no XZ stream: this kernel is not XZ-compressed'
      : `none of the ${offsets.length} XZ streams in the bzImage is an ELF vmlinux with a PVH entry note`,
  );
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

interface ModulePlan {
  /** Module name → path of its .ko in the unpacked package. */
  files: Map<string, string>;
  /** Every module to include, sorted. */
  included: string[];
  /** Set → load order. */
  sets: Record<string, string[]>;
}

async function planModules(modulesDir: string): Promise<ModulePlan> {
  const index = new Map<string, string>();
  for (const entry of await readdir(modulesDir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ko'))
      index.set(moduleName(entry.name), join(entry.parentPath, entry.name));
  }
  const infos = new Map<string, ModInfo | undefined>();
  const readInfo = async (name: string): Promise<void> => {
    if (infos.has(name)) return;
    const path = index.get(name);
    if (path === undefined) {
      infos.set(name, undefined);
      return;
    }
    const info = readModInfo(await readFile(path));
    if (info === undefined) {
      throw new GuestError(
        'GUEST_MODULE_MISSING',
        `${relative(modulesDir, path)} has no readable .modinfo section`,
      );
    }
    infos.set(name, info);
    await Promise.all([...info.depends, ...info.softPre].map((d) => readInfo(moduleName(d))));
  };
  const roots = Object.values(GUEST_MODULE_SETS).flat();
  await Promise.all(roots.map((r) => readInfo(moduleName(r))));
  const sets: Record<string, string[]> = {};
  const included = new Set<string>();
  for (const [set, mods] of Object.entries(GUEST_MODULE_SETS)) {
    let order: string[];
    try {
      order = resolveLoadOrder(mods, (n) => infos.get(n));
    } catch (error) {
      if (GuestError.is(error)) {
        throw new GuestError('GUEST_MODULE_MISSING', `module set ${set}: ${error.message}`, { cause: error });
      }
      throw error;
    }
    sets[set] = order;
    for (const m of order) included.add(m);
  }
  const files = new Map<string, string>();
  for (const m of included) files.set(m, index.get(m) as string);
  return { files, included: [...included].sort(), sets };
}

async function stageInitramfs(
  staging: string,
  busybox: string,
  plan: ModulePlan,
  assets: GuestAssets,
): Promise<void> {
  for (const d of [
    'bin',
    'dev',
    'proc',
    'sys',
    'run',
    'tmp',
    'root',
    'etc/probe',
    'etc/modsets',
    'etc/acpi/PWRF',
    'lib/modules',
  ]) {
    await mkdir(join(staging, d), { recursive: true });
  }
  await copyFile(busybox, join(staging, 'bin/busybox'));
  await chmod(join(staging, 'bin/busybox'), 0o755);
  const applets = (await execa(busybox, ['--list'], { stdin: 'ignore' })).stdout
    .split('\n')
    .filter((a) => /^[\w.[-]+$/.test(a));
  for (const applet of applets) {
    if (applet !== 'busybox') await symlink('busybox', join(staging, 'bin', applet));
  }
  await symlink('bin', join(staging, 'sbin'));
  await writeFile(join(staging, 'init'), assets.init, { mode: 0o755 });
  await writeFile(join(staging, 'etc/probe/lib.sh'), assets.lib, { mode: 0o644 });
  await writeFile(join(staging, 'etc/acpi/PWRF/00000080'), assets.powerButton, { mode: 0o755 });
  for (const [name, path] of plan.files) await copyFile(path, join(staging, 'lib/modules', `${name}.ko`));
  for (const [set, order] of Object.entries(plan.sets)) {
    const lines = order.map((m) =>
      GUEST_MODULE_PARAMS[m] === undefined ? m : `${m} ${GUEST_MODULE_PARAMS[m]}`,
    );
    await writeFile(join(staging, 'etc/modsets', set), `${lines.join('\n')}\n`);
  }
  await writeFile(join(staging, 'etc/modsets/.boot'), `${GUEST_BOOT_SETS.join(' ')}\n`);
  await writeFile(join(staging, 'etc/modsets/.all'), `${Object.keys(plan.sets).join(' ')}\n`);
}

/** Every path under `dir`, relative, parents before children, sorted. */
async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.sort();
}

async function writeCpio(
  staging: string,
  busybox: string,
  target: string,
  signal: AbortSignal,
): Promise<void> {
  const paths = await listTree(staging);
  const r = await execa(busybox, ['cpio', '-o', '-H', 'newc'], {
    cwd: staging,
    input: `${paths.join('\n')}\n`,
    stdout: { file: target },
    reject: false,
    cancelSignal: signal,
  });
  if (signal.aborted) throw signal.reason;
  if (r.exitCode !== 0) {
    throw new GuestError('GUEST_INITRAMFS_FAILED', `busybox cpio -o -H newc failed (exit ${r.exitCode})`, {
      stderr: r.stderr,
    });
  }
}

export async function fileInfo(dir: string, name: string): Promise<GuestFileInfo> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(join(dir, name), { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { name, size, sha256: hash.digest('hex') };
}

/**
 * Move `from` to `to`. When `to` exists (an older build of the same release), it is renamed aside
 * first and removed after; QEMUs that have its files open keep them.
 */
async function swapIntoPlace(from: string, to: string): Promise<void> {
  const aside = `${to}.old-${randomBytes(4).toString('hex')}`;
  let moved = false;
  try {
    await rename(to, aside);
    moved = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await rename(from, to);
  if (moved) await rm(aside, { recursive: true, force: true });
}

/** Remove .debs of the same packages at other versions (old kernel ABIs, old busybox). */
async function pruneDebs(dir: string, keep: string[]): Promise<void> {
  const kept = new Set(keep.map((p) => p.slice(dir.length + 1)));
  for (const name of await readdir(dir)) {
    if (kept.has(name)) continue;
    if (/^linux-image-\d.*-amd64_.*\.deb$/.test(name) || /^busybox-static_.*\.deb$/.test(name)) {
      await rm(join(dir, name), { force: true });
    }
  }
}
