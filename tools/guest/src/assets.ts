/**
 * The files baked into the initramfs besides busybox and modules: /init, its shared shell library
 * and the power-button action. They ship in the package's `assets/` directory.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GuestError } from './errors.js';
import { GUEST_BOOT_SETS, GUEST_MODULE_PARAMS, GUEST_MODULE_SETS } from './module-sets.js';

/** The init scripts' contents and the hash the cache stamp uses. */
export interface GuestAssets {
  init: string;
  lib: string;
  powerButton: string;
  /** sha256 over the three scripts and the module-set table (sets, boot sets, parameters). */
  sha256: string;
}

/** The package's `assets/` directory (next to `dist/` and `src/`). */
export const ASSETS_DIR: string = fileURLToPath(new URL('../assets/', import.meta.url));

/** Hash of the initramfs's non-package content. Pure. */
export function hashAssets(init: string, lib: string, powerButton: string): string {
  const hash = createHash('sha256');
  for (const part of [
    init,
    lib,
    powerButton,
    JSON.stringify([GUEST_MODULE_SETS, GUEST_BOOT_SETS, GUEST_MODULE_PARAMS]),
  ]) {
    hash
      .update(String(Buffer.byteLength(part)))
      .update('\0')
      .update(part);
  }
  return hash.digest('hex');
}

/**
 * Read the assets from {@link ASSETS_DIR}.
 * @throws {GuestError} `GUEST_UNSUPPORTED_HOST` when the package is installed without its assets.
 */
export async function readAssets(dir: string = ASSETS_DIR): Promise<GuestAssets> {
  try {
    const [init, lib, powerButton] = await Promise.all(
      ['init', 'lib.sh', 'power-button'].map((f) => readFile(`${dir}${f}`, 'utf8')),
    );
    return {
      init: init!,
      lib: lib!,
      powerButton: powerButton!,
      sha256: hashAssets(init!, lib!, powerButton!),
    };
  } catch (cause) {
    throw new GuestError('GUEST_UNSUPPORTED_HOST', `the guest's init scripts are missing from ${dir}`, {
      cause,
    });
  }
}
