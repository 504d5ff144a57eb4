/**
 * The apt side of the build: resolve the current kernel ABI package through the
 * `linux-image-amd64` metapackage, pin versions, and `apt-get download` .debs. Nothing is installed.
 */
import { userInfo } from 'node:os';
import { execa } from 'execa';
import { GuestError } from './errors.js';
import type { DebPackage } from './manifest.js';

/** The metapackage whose dependency names the current kernel ABI package. */
export const KERNEL_METAPACKAGE = 'linux-image-amd64';
/** Where busybox comes from. */
export const BUSYBOX_PACKAGE = 'busybox-static';

/** The pinned inputs of a build. */
export interface ResolvedPackages {
  kernel: DebPackage;
  busybox: DebPackage;
  /** Kernel release: the ABI package name without `linux-image-`. */
  release: string;
}

/** One stanza of `apt-cache show` output: field name → value (continuation lines joined). */
export type AptRecord = ReadonlyMap<string, string>;

/** Split `apt-cache show` output into records. Pure. */
export function parseAptRecords(stdout: string): AptRecord[] {
  const out: AptRecord[] = [];
  for (const stanza of stdout.split(/\n\s*\n/)) {
    const rec = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (/^\s/.test(line) && last !== undefined) {
        rec.set(last, `${rec.get(last)}\n${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
      if (m?.[1] === undefined || m[2] === undefined) continue;
      last = m[1];
      rec.set(last, m[2]);
    }
    if (rec.has('Package')) out.push(rec);
  }
  return out;
}

/**
 * The kernel ABI package a `linux-image-amd64` record depends on, with the exact version when the
 * dependency pins one (Debian's does: `linux-image-6.1.0-56-amd64 (= 6.1.192-2)`). Pure.
 */
export function parseKernelDependency(
  depends: string,
): { name: string; version: string | undefined } | undefined {
  for (const alt of depends.split(/[,|]/)) {
    const m = /^\s*(linux-image-\d[^\s:(]*-amd64)(?::\S+)?\s*(?:\(\s*=\s*([^\s)]+)\s*\))?\s*$/.exec(alt);
    if (m?.[1] !== undefined) return { name: m[1], version: m[2] };
  }
  return undefined;
}

/** `apt-cache policy a b` output → candidate version per package (`(none)` left out). Pure. */
export function parsePolicyCandidates(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    const pkg = /^(\S+):$/.exec(line);
    if (pkg?.[1] !== undefined) {
      current = pkg[1];
      continue;
    }
    const cand = /^\s+Candidate:\s*(\S+)/.exec(line);
    if (cand?.[1] !== undefined && current !== undefined && cand[1] !== '(none)') out.set(current, cand[1]);
  }
  return out;
}

/** apt-get's file name for a downloaded package (`:` in the version becomes `%3a`). Pure. */
export function debFileName(pkg: DebPackage, arch = 'amd64'): string {
  return `${pkg.name}_${pkg.version.replaceAll(':', '%3a')}_${arch}.deb`;
}

const ENV = { LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' };

async function aptCache(
  args: string[],
  signal: AbortSignal,
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const r = await execa('apt-cache', args, {
      env: ENV,
      reject: false,
      cancelSignal: signal,
      stdin: 'ignore',
    });
    if (r.isCanceled) throw signal.reason;
    return { ok: r.exitCode === 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new GuestError('GUEST_UNSUPPORTED_HOST', `apt-cache could not run: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Resolve and pin the kernel ABI package and busybox-static from the local apt lists. When the
 * lookup finds nothing (a fresh box), runs `apt-get update` once (root only) and retries.
 * @throws {GuestError} `GUEST_KERNEL_NOT_FOUND`, `GUEST_APT_FAILED`, `GUEST_UNSUPPORTED_HOST`.
 */
export async function resolvePackages(signal: AbortSignal, onUpdate: () => void): Promise<ResolvedPackages> {
  let resolved = await tryResolve(signal);
  if (resolved === undefined) {
    if (process.getuid?.() !== 0) {
      throw new GuestError(
        'GUEST_KERNEL_NOT_FOUND',
        `${KERNEL_METAPACKAGE} or ${BUSYBOX_PACKAGE} has no candidate in the apt lists; run \`sudo apt-get update\` once`,
      );
    }
    onUpdate();
    await aptGetUpdate(signal);
    resolved = await tryResolve(signal);
  }
  if (resolved === undefined) {
    throw new GuestError(
      'GUEST_KERNEL_NOT_FOUND',
      `${KERNEL_METAPACKAGE} resolves to no installable kernel ABI package (or ${BUSYBOX_PACKAGE} has no candidate), even after apt-get update`,
    );
  }
  return resolved;
}

/**
 * `apt-get update -qq` (root only).
 * @throws {GuestError} `GUEST_APT_FAILED` with apt's output.
 */
export async function aptGetUpdate(signal: AbortSignal): Promise<void> {
  const r = await execa('apt-get', ['update', '-qq'], {
    env: ENV,
    reject: false,
    cancelSignal: signal,
    stdin: 'ignore',
    all: true,
  });
  if (signal.aborted) throw signal.reason;
  if (r.exitCode !== 0) {
    throw new GuestError('GUEST_APT_FAILED', `apt-get update failed (exit ${r.exitCode})`, { stderr: r.all });
  }
}

const downloadFailures = new WeakSet<object>();

/** True for the error {@link downloadDebs} throws when apt-get download fails (e.g. a version gone from the mirror). */
export function isDownloadFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && downloadFailures.has(error);
}

async function tryResolve(signal: AbortSignal): Promise<ResolvedPackages | undefined> {
  // One apt-cache call (each costs ~0.7 s where apt keeps no pkgcache.bin): the candidate records
  // of the metapackage, whose Depends pins the ABI package, and of busybox-static.
  const show = await aptCache(['show', '--no-all-versions', KERNEL_METAPACKAGE, BUSYBOX_PACKAGE], signal);
  if (!show.ok) return undefined;
  const records = parseAptRecords(show.stdout);
  const meta = records.find((r) => r.get('Package') === KERNEL_METAPACKAGE);
  const bb = records.find((r) => r.get('Package') === BUSYBOX_PACKAGE);
  const dep = parseKernelDependency(meta?.get('Depends') ?? '');
  const bv = bb?.get('Version');
  if (dep === undefined || bv === undefined) return undefined;
  let kv = dep.version;
  if (kv === undefined) {
    const policy = await aptCache(['policy', dep.name], signal);
    kv = policy.ok ? parsePolicyCandidates(policy.stdout).get(dep.name) : undefined;
    if (kv === undefined) return undefined;
  }
  return {
    kernel: { name: dep.name, version: kv },
    busybox: { name: BUSYBOX_PACKAGE, version: bv },
    release: dep.name.slice('linux-image-'.length),
  };
}

/**
 * `apt-get download name=version...` into `dir` (which must be empty: the caller renames the
 * results into place). `APT::Sandbox::User` is the current user, so apt running as root does not
 * drop to `_apt`, which could not write there.
 * @throws {GuestError} `GUEST_APT_FAILED` with apt's output.
 */
export async function downloadDebs(
  pkgs: readonly DebPackage[],
  dir: string,
  signal: AbortSignal,
): Promise<void> {
  const user = userInfo().username;
  const r = await execa(
    'apt-get',
    ['download', '-q', '-o', `APT::Sandbox::User=${user}`, ...pkgs.map((p) => `${p.name}=${p.version}`)],
    { cwd: dir, env: ENV, reject: false, cancelSignal: signal, stdin: 'ignore', all: true },
  );
  if (signal.aborted) throw signal.reason;
  if (r.exitCode !== 0) {
    const error = new GuestError(
      'GUEST_APT_FAILED',
      `apt-get download ${pkgs.map((p) => `${p.name}=${p.version}`).join(' ')} failed (exit ${r.exitCode})`,
      { stderr: r.all },
    );
    downloadFailures.add(error);
    throw error;
  }
}
