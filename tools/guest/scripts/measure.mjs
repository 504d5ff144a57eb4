#!/usr/bin/env node
// Measure the default guest: ensureGuest cold (fresh cache, real apt download) and warm, and
// spawn → GUEST-READY under QEMU for a few module sets. Prints a Markdown table.
//   node scripts/measure.mjs [--runs 5] [--cold]
// Needs `pnpm --filter @vmm/guest build` first. Each QEMU is SIGKILLed after its READY line.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGuest } from '../dist/index.js';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 5) || 5;

function accel() {
  if (process.env.VMM_ACCEL === 'kvm' || process.env.VMM_ACCEL === 'tcg') return process.env.VMM_ACCEL;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  return existsSync('/sys/module/kvm_pvm') ? 'tcg' : 'kvm';
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

let current;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    current?.kill('SIGKILL');
    process.exit(130);
  });
}

function bootOnce(image, append, kernel = image.kernel) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      'qemu-system-x86_64',
      [
        '-machine',
        `q35,accel=${accel()}`,
        '-cpu',
        'qemu64',
        '-m',
        '256,slots=2,maxmem=1G',
        '-smp',
        '1,maxcpus=4',
        '-nodefaults',
        '-no-user-config',
        '-display',
        'none',
        '-serial',
        'stdio',
        '-no-reboot',
        '-kernel',
        kernel,
        '-initrd',
        image.initrd,
        '-append',
        [...image.defaultAppend, ...append].join(' '),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    current = child;
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const m = /GUEST-READY .*uptime=([\d.]+)/.exec(out);
      if (m && child.exitCode === null) {
        const wall = (performance.now() - started) / 1000;
        child.kill('SIGKILL');
        child.once('exit', () => resolve({ wall, guest: Number(m[1]) }));
        clearTimeout(timer);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!/GUEST-READY/.test(out))
        reject(new Error(`QEMU exited (${code ?? signal}) before GUEST-READY:\n${out.slice(-2000)}`));
    });
  });
}

const rows = [];
if (args.includes('--cold')) {
  const dir = mkdtempSync(join(tmpdir(), 'vmm-guest-cold-'));
  try {
    let t = performance.now();
    await ensureGuest({ cacheDir: dir, force: true });
    rows.push([
      'ensureGuest, empty cache (apt-get download + build)',
      `${((performance.now() - t) / 1000).toFixed(2)} s`,
    ]);
    t = performance.now();
    await ensureGuest({ cacheDir: dir });
    rows.push(['ensureGuest, warm cache', `${((performance.now() - t) / 1000).toFixed(3)} s`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const image = await ensureGuest();
console.log(
  `accel ${accel()}, ${runs} runs each, load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const configs = [
  ['default boot sets', []],
  [
    'without scsi and console (pci, mmio, blk, net, button, evdev)',
    ['probe.modules=none,virtio_pci,virtio_mmio,virtio_blk,virtio_net,button,evdev'],
  ],
  ['probe.modules=none', ['probe.modules=none']],
  ['probe.modules=all', ['probe.modules=all']],
  ['default, bzImage instead of vmlinux', [], image.bzImage],
];
// Round-robin over the configurations, so that load from other processes hits them alike.
const results = configs.map(() => ({ walls: [], guests: [] }));
for (let i = 0; i < runs; i++) {
  for (const [c, [, append, kernel]] of configs.entries()) {
    const r = await bootOnce(image, append, kernel);
    results[c].walls.push(r.wall);
    results[c].guests.push(r.guest);
  }
}
const base = median(results[0].walls);
for (const [c, [name]] of configs.entries()) {
  const { walls, guests } = results[c];
  rows.push([
    `spawn → GUEST-READY, ${name}`,
    `${median(walls).toFixed(2)} s (${Math.min(...walls).toFixed(2)}–${Math.max(...walls).toFixed(2)}), ×${(median(walls) / base).toFixed(2)} of default; guest uptime ${median(guests).toFixed(2)} s`,
  ]);
}
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
console.log('| what | median (min–max) |\n|---|---|');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
