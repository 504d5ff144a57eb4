#!/usr/bin/env node
/**
 * `pnpm --filter @vmm/guest run build-guest`: build (or reuse) the default guest and print where it
 * is. Used by scripts/setup.sh. Exit 1 with the error code on failure.
 */
import { ensureGuest } from './ensure.js';
import { GuestError } from './errors.js';

const force = process.argv.includes('--force');
const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('interrupted')));
try {
  const image = await ensureGuest({
    force,
    signal: controller.signal,
    onProgress: (p) =>
      process.stderr.write(`[${(p.elapsedMs / 1000).toFixed(1).padStart(5)} s] ${p.step}: ${p.message}\n`),
  });
  process.stdout.write(
    `${JSON.stringify({ release: image.release, kernel: image.kernel, bzImage: image.bzImage, initrd: image.initrd, append: image.defaultAppend.join(' ') }, null, 2)}\n`,
  );
} catch (error) {
  const e = GuestError.is(error) ? error : undefined;
  process.stderr.write(`build-guest: ${e?.code ?? 'ERROR'}: ${(error as Error).message}\n`);
  if (e?.stderr) process.stderr.write(`${e.stderr}\n`);
  process.exitCode = 1;
}
