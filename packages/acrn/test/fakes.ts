import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Recording fakes of acrn-dm and acrnctl: small executables (node scripts) generated into a temp
 * dir. ACRN cannot run on these machines, so the lifecycle is tested against these.
 *
 * fake acrn-dm: records `{pid, argv}` to `<dir>/acrn-dm.<pid>.json`; prints a line to stdout and
 * stderr; creates the console socket path from its `socket:console0=<path>` argument once its
 * SIGINT handler is installed (as acrn-dm creates its console socket); stays up until signalled.
 * Behaviour from `FAKE_ACRN_DM` (comma list): `fail` (print an error, exit 3 at once),
 * `ignore-sigint` (log SIGINT, keep running), `no-console` (never create the console path).
 * Every SIGINT received is appended to `<dir>/signals.log` as `<pid> SIGINT`.
 *
 * fake acrnctl: records argv to `<dir>/acrnctl.log` (one JSON array a line); its `mode` is baked
 * in: `ok` (prints "blkrescan done"), `fail` (error on stderr and stdout, exit 1), `hang` (never exits).
 */
const ACRN_DM = String.raw`#!/usr/bin/env node
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const dir = __DIR__;
const flags = (process.env.FAKE_ACRN_DM || '').split(',');
const argv = process.argv.slice(2);
fs.writeFileSync(path.join(dir, 'acrn-dm.' + process.pid + '.json'), JSON.stringify({ pid: process.pid, argv }));
if (flags.includes('fail')) {
  process.stderr.write('vm_create: /dev/acrn_vhm: No such file or directory\n');
  process.exit(3);
}
process.on('SIGINT', () => {
  fs.appendFileSync(path.join(dir, 'signals.log'), process.pid + ' SIGINT\n');
  if (!flags.includes('ignore-sigint')) process.exit(0);
});
process.stdout.write('com1: guest serial output\n');
process.stderr.write('fake acrn-dm ' + process.pid + ' up\n');
const consoleArg = argv.find((a) => /,virtio-console,@?socket:console0=/.test(a));
if (consoleArg && !flags.includes('no-console')) {
  fs.writeFileSync(consoleArg.slice(consoleArg.indexOf('=') + 1), '');
}
setInterval(() => {}, 1 << 30);
`;

const ACRNCTL = String.raw`#!/usr/bin/env node
'use strict';
const fs = require('node:fs');
const path = require('node:path');
fs.appendFileSync(path.join(__DIR__, 'acrnctl.log'), JSON.stringify(process.argv.slice(2)) + '\n');
const mode = __MODE__;
if (mode === 'fail') {
  process.stdout.write('acrnctl: sending blkrescan request\n');
  process.stderr.write('blkrescan: cannot find vm ' + process.argv[3] + '\n');
  process.exit(1);
}
if (mode === 'hang') setInterval(() => {}, 1 << 30);
else process.stdout.write('blkrescan done\n');
`;

/** Paths of the generated fakes. */
export interface Fakes {
  dir: string;
  acrnDm: string;
  acrnctl: string;
  acrnctlFail: string;
  acrnctlHang: string;
}

/** Write the fakes into `dir`. */
export async function writeFakes(dir: string): Promise<Fakes> {
  const write = async (name: string, text: string): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, text);
    await chmod(file, 0o755);
    return file;
  };
  const ctl = (mode: string): string =>
    ACRNCTL.replace('__DIR__', JSON.stringify(dir)).replace('__MODE__', JSON.stringify(mode));
  return {
    dir,
    acrnDm: await write('acrn-dm', ACRN_DM.replace('__DIR__', JSON.stringify(dir))),
    acrnctl: await write('acrnctl', ctl('ok')),
    acrnctlFail: await write('acrnctl-fail', ctl('fail')),
    acrnctlHang: await write('acrnctl-hang', ctl('hang')),
  };
}

/** The argv the fake acrn-dm with this pid was started with. */
export async function recordedArgv(dir: string, pid: number): Promise<string[]> {
  const rec = JSON.parse(await readFile(join(dir, `acrn-dm.${pid}.json`), 'utf8')) as { argv: string[] };
  return rec.argv;
}

/** Every fake acrn-dm invocation recorded so far. */
export async function recordedLaunches(dir: string): Promise<{ pid: number; argv: string[] }[]> {
  const out: { pid: number; argv: string[] }[] = [];
  for (const f of await readdir(dir)) {
    if (/^acrn-dm\.\d+\.json$/.test(f)) out.push(JSON.parse(await readFile(join(dir, f), 'utf8')));
  }
  return out;
}

/** Lines of `<dir>/signals.log`. */
export async function recordedSignals(dir: string): Promise<string[]> {
  try {
    return (await readFile(join(dir, 'signals.log'), 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** Every acrnctl argv recorded so far. */
export async function recordedCtl(dir: string): Promise<string[][]> {
  try {
    return (await readFile(join(dir, 'acrnctl.log'), 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as string[]);
  } catch {
    return [];
  }
}
