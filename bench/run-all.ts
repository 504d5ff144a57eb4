/**
 * Runs every benchmark script in this folder (`<name>.bench.ts` or `<name>/index.bench.ts`) one after
 * another. Each prints its own figures and ratios against its baseline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const only = process.argv.slice(2);
const scripts: string[] = [];
for (const entry of readdirSync(here, { withFileTypes: true })) {
  if (entry.isFile() && entry.name.endsWith('.bench.ts')) scripts.push(entry.name);
  else if (entry.isDirectory() && existsSync(join(here, entry.name, 'index.bench.ts')))
    scripts.push(join(entry.name, 'index.bench.ts'));
}
let failed = 0;
for (const s of scripts.sort()) {
  if (only.length > 0 && !only.some((o) => s.startsWith(o))) continue;
  console.log(`\n### ${s}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, s)], { stdio: 'inherit' });
  if (r.status !== 0) failed += 1;
}
process.exitCode = failed === 0 ? 0 : 1;
