#!/usr/bin/env node
// Build the addon with node-gyp. Headers come from, in order: $npm_config_nodedir, the distro's
// Node headers (/usr/include/node, as Debian's nodejs-dev ships them), else node-gyp's download.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// `--if-missing`: do nothing when the addon is already built (used before tests).
// `--optional`: never fail (the package's install hook: the addon is optional, and @vmm/qmp reports
// QMP_FD_PASSING_UNAVAILABLE without it), and fall back to the node-gyp that npm/pnpm put on PATH.
const optional = process.argv.includes('--optional');
if (
  process.argv.includes('--if-missing') &&
  existsSync(join(import.meta.dirname, '..', 'build', 'Release', 'fdpass.node'))
) {
  process.exit(0);
}
const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
} catch {
  gyp = undefined; // not a dependency of a published install: use the package manager's own
}
const args = gyp === undefined ? ['rebuild'] : [gyp, 'rebuild'];
const nodedir =
  process.env.npm_config_nodedir ??
  (existsSync(join(dirname(process.execPath), '..', 'include', 'node', 'node_api.h'))
    ? join(dirname(process.execPath), '..')
    : undefined);
if (nodedir !== undefined) args.push(`--nodedir=${nodedir}`);
const r =
  gyp === undefined
    ? spawnSync('node-gyp', args, { stdio: 'inherit', cwd: join(import.meta.dirname, '..') })
    : spawnSync(process.execPath, args, { stdio: 'inherit', cwd: join(import.meta.dirname, '..') });
if (r.status !== 0 && optional) {
  console.warn('@vmm/fdpass: native build failed; fd passing will be unavailable (everything else works)');
  process.exit(0);
}
process.exit(r.status ?? 1);
