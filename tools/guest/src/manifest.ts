/**
 * `manifest.json`: what a cached guest was built from and what it holds. The cache is keyed on the
 * build's inputs (the {@link computeStamp | stamp}), never on output hashes: the initramfs is not
 * bit-for-bit reproducible (busybox cpio records inode numbers), the inputs are.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { GuestError } from './errors.js';

/**
 * Bumped whenever the builder changes what it produces from the same packages and init script, so
 * old caches rebuild.
 */
export const BUILDER_VERSION = 1;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase sha256 hex digest');

/** A Debian package pinned to one version. */
export const debPackageSchema: z.ZodObject<{ name: z.ZodString; version: z.ZodString }> = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian package name'),
  version: z.string().regex(/^[0-9A-Za-z.+~:-]+$/, 'expected a Debian version'),
});

/** A Debian package pinned to one version. */
export type DebPackage = z.infer<typeof debPackageSchema>;

const fileSchema = z.object({
  /** File name inside the release directory. */
  name: z.string().regex(/^[A-Za-z0-9._-]+$/),
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
});

/** One output file of a build. */
export type GuestFileInfo = z.infer<typeof fileSchema>;

/** Schema of `manifest.json` (version 1). The single source of its type, {@link GuestManifest}. */
export const guestManifestSchema = z.object({
  manifestVersion: z.literal(1),
  /** Kernel release, e.g. `6.1.0-56-amd64` (the directory name under `lib/modules`). */
  release: z.string().regex(/^[0-9][A-Za-z0-9._+-]*$/),
  /** Debian architecture of the packages. */
  arch: z.literal('amd64'),
  packages: z.object({ kernel: debPackageSchema, busybox: debPackageSchema }),
  /** sha256 over the init scripts and module-set table baked into the initramfs. */
  initSha256: sha256Hex,
  builderVersion: z.number().int().positive(),
  /** sha256 of the inputs: {@link computeStamp}. Equal stamps mean the cached outputs are current. */
  stamp: sha256Hex,
  /** ISO-8601 time the build finished. */
  builtAt: z.iso.datetime(),
  /** Wall time of the build in milliseconds (download included). */
  buildMs: z.number().nonnegative(),
  files: z.object({ vmlinux: fileSchema, vmlinuz: fileSchema, initramfs: fileSchema }),
  modules: z.object({
    /** Every .ko in the initramfs (module names, underscores). */
    included: z.array(z.string()),
    /** Load order per module set (module names), dependencies first. */
    sets: z.record(z.string(), z.array(z.string())),
    /** Sets /init loads at boot unless `probe.modules=` says otherwise. */
    boot: z.array(z.string()),
  }),
});

/** Parsed `manifest.json`. */
export type GuestManifest = z.infer<typeof guestManifestSchema>;

/** The inputs whose change must rebuild the guest. */
export interface StampInputs {
  kernel: DebPackage;
  busybox: DebPackage;
  initSha256: string;
  builderVersion: number;
}

/**
 * The cache key: sha256 over the pinned package versions, the init scripts' hash and the builder
 * version, in a fixed field order. Pure.
 */
export function computeStamp(inputs: StampInputs): string {
  const canonical = JSON.stringify([
    ['builder', inputs.builderVersion],
    ['kernel', inputs.kernel.name, inputs.kernel.version],
    ['busybox', inputs.busybox.name, inputs.busybox.version],
    ['init', inputs.initSha256],
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Validate a parsed `manifest.json` value.
 * @throws {GuestError} `GUEST_MANIFEST_INVALID` naming the first bad field path; the zod issues are the `cause`.
 */
export function parseManifest(value: unknown, source = 'manifest.json'): GuestManifest {
  const result = guestManifestSchema.safeParse(value);
  if (result.success) {
    if (result.data.stamp !== computeStamp(stampInputsOf(result.data))) {
      throw new GuestError(
        'GUEST_MANIFEST_INVALID',
        `${source}: stamp does not match its packages and initSha256`,
      );
    }
    return result.data;
  }
  const first = result.error.issues[0];
  const path = first === undefined || first.path.length === 0 ? '(root)' : first.path.join('.');
  throw new GuestError('GUEST_MANIFEST_INVALID', `${source}: ${path}: ${first?.message ?? 'invalid'}`, {
    cause: result.error,
  });
}

/** The {@link StampInputs} recorded in a manifest. */
export function stampInputsOf(manifest: GuestManifest): StampInputs {
  return {
    kernel: manifest.packages.kernel,
    busybox: manifest.packages.busybox,
    initSha256: manifest.initSha256,
    builderVersion: manifest.builderVersion,
  };
}
