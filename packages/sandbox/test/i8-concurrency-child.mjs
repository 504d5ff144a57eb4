// Child processes of concurrency.integration.test.ts, on the built package (dist/).
//
//   node i8-concurrency-child.mjs lock <lockPath> <logPath> <n>     n critical sections, logged
//   node i8-concurrency-child.mjs hold <lockPath>                     take the lock, print HELD, wait
//   node i8-concurrency-child.mjs hotplug <stateDir> <id> <prefix> <count> <imageDir>
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock, Sandbox } from '../dist/index.js';

const [mode, ...args] = process.argv.slice(2);
if (mode === 'lock') {
  const [lockPath, logPath, n] = args;
  for (let i = 0; i < Number(n); i++) {
    const lock = await acquireLock(lockPath, { timeoutMs: 60_000, pollMs: 2 });
    appendFileSync(logPath, `+${process.pid}\n`);
    await sleep(3);
    appendFileSync(logPath, `-${process.pid}\n`);
    await lock.release();
  }
} else if (mode === 'hold') {
  await acquireLock(args[0], { timeoutMs: 60_000 });
  process.stdout.write('HELD\n');
  await sleep(600_000);
} else if (mode === 'hotplug') {
  const [stateDir, id, prefix, count, imageDir] = args;
  const sb = await Sandbox.attach(id, { stateDir, lockTimeoutMs: 120_000 });
  for (let i = 0; i < Number(count); i++) {
    const dev = `${prefix}${i}`;
    await sb.hotplugAdd({
      kind: 'block',
      id: dev,
      path: `${imageDir}/${dev}.img`,
      attach: 'virtio-blk',
      placement: 'bridge',
    });
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
