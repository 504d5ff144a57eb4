/**
 * Asset checks: every path a VM boots from exists and is a regular file, and custom assets match
 * their SHA-512 digest before use (Kata `types.Asset.Valid` + `HypervisorConfig.assetPath`).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AssetKind, ResolvedHypervisorConfig } from './config.js';
import { abortError, SandboxError } from './errors.js';

/** The files a VM boots from, after custom-asset overrides and defaults. */
export interface ResolvedAssets {
  readonly kernel: string;
  readonly image: string | undefined;
  readonly initrd: string | undefined;
  readonly firmware: string | undefined;
  readonly hypervisor: string;
}

/** Options of {@link resolveAssets}. */
export interface ResolveAssetsOptions {
  /** Hypervisor binary to use when the config names none (e.g. the arch's QEMU). */
  defaultHypervisorPath: string;
  /** Cancels digest computation. */
  signal?: AbortSignal;
}

const FIELD: Record<AssetKind, string> = {
  kernel: 'kernelPath',
  image: 'imagePath',
  initrd: 'initrdPath',
  firmware: 'firmwarePath',
  hypervisor: 'hypervisorPath',
};

/** Hex SHA-512 of a file, streamed. @throws {SandboxError} `SANDBOX_ASSET_MISSING`, `SANDBOX_ABORTED` */
export async function sha512File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha512');
  try {
    for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer);
  } catch (err) {
    if (signal?.aborted) throw abortError(signal, `hashing ${path}`);
    throw new SandboxError('SANDBOX_ASSET_MISSING', `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return hash.digest('hex');
}

/**
 * Check one asset: it must be a regular file; with `sha512` its digest must match. `custom` (default:
 * a digest was given) says it came from `customAssets`, which then names it in errors.
 *
 * @throws {SandboxError} `SANDBOX_ASSET_MISSING` (path names the config field),
 *   `SANDBOX_ASSET_DIGEST_MISMATCH` (expected and actual digests in the message).
 */
export async function verifyAsset(
  kind: AssetKind,
  path: string,
  sha512: string | undefined,
  signal?: AbortSignal,
  custom: boolean = sha512 !== undefined,
): Promise<void> {
  // A custom asset is named by its `customAssets` entry, with or without a digest.
  const field = custom ? `customAssets.${kind}` : FIELD[kind];
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (err) {
    throw new SandboxError('SANDBOX_ASSET_MISSING', `${field}: ${kind} ${path} does not exist`, {
      path: field,
      cause: err,
    });
  }
  if (!isFile) {
    throw new SandboxError('SANDBOX_ASSET_MISSING', `${field}: ${kind} ${path} is not a regular file`, {
      path: field,
    });
  }
  if (sha512 === undefined) return;
  const actual = await sha512File(path, signal);
  if (actual !== sha512.toLowerCase()) {
    throw new SandboxError(
      'SANDBOX_ASSET_DIGEST_MISMATCH',
      `${field}: ${kind} ${path} has SHA-512 ${actual}, expected ${sha512.toLowerCase()}`,
      { path: `customAssets.${kind}.sha512` },
    );
  }
}

/**
 * Resolve and check every asset of a validated config: custom assets (already folded into the paths
 * by the schema) are verified against their digests; the hypervisor binary falls back to
 * `defaultHypervisorPath` and must exist.
 *
 * @throws {SandboxError} `SANDBOX_ASSET_MISSING`, `SANDBOX_ASSET_DIGEST_MISMATCH`, `SANDBOX_ABORTED`.
 */
export async function resolveAssets(
  config: ResolvedHypervisorConfig,
  options: ResolveAssetsOptions,
): Promise<ResolvedAssets> {
  const assets: ResolvedAssets = {
    kernel: config.kernelPath,
    image: config.imagePath,
    initrd: config.initrdPath,
    firmware: config.firmwarePath,
    hypervisor: config.hypervisorPath ?? options.defaultHypervisorPath,
  };
  const custom = config.customAssets;
  await Promise.all(
    (Object.entries(assets) as [AssetKind, string | undefined][]).map(([kind, path]) =>
      path === undefined
        ? undefined
        : verifyAsset(kind, path, custom[kind]?.sha512, options.signal, custom[kind] !== undefined),
    ),
  );
  return Object.freeze(assets);
}
