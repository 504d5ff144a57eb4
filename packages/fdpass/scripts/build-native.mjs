#!/usr/bin/env node
// Build the addon with node-gyp. Headers come from, in order: $npm_config_nodedir, the distro's
// Node headers (/usr/include/node, as Debian's nodejs-dev ships them), else node-gyp's download.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// `--if-missing`: do nothing when the addon is already built (used before tests).
if (
  process.argv.includes('--if-missing') &&
  existsSync(join(import.meta.dirname, '..', 'build', 'Release', 'fdpass.node'))
) {
  process.exit(0);
}
const require = createRequire(import.meta.url);
const gyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
const args = [gyp, 'rebuild'];
const nodedir =
  process.env.npm_config_nodedir ??
  (existsSync(join(dirname(process.execPath), '..', 'include', 'node', 'node_api.h'))
    ? join(dirname(process.execPath), '..')
    : undefined);
if (nodedir !== undefined) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: join(import.meta.dirname, '..') });
process.exit(r.status ?? 1);
