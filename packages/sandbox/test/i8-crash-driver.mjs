// The managing process the crash harness (crash.integration.test.ts) kill -9s at random points. It
// drives one sandbox through create, start, hotplug add/remove and stop, over and over, and prints
// `STEP <n> <name>` before and `DONE <n> <name>` after each operation (stdout, line-buffered by the
// test). It uses the built package (dist/), which the test builds first.
//
//   node i8-crash-driver.mjs <stateDir> <id> <config.json> <disk image prefix: <prefix>.d0 ...> <accel>
import { readFileSync } from 'node:fs';
import { Sandbox } from '../dist/index.js';

const [stateDir, id, configPath, image, accel] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, 'utf8'));
let n = 0;

async function step(name, fn) {
  const i = n++;
  process.stdout.write(`STEP ${i} ${name}\n`);
  const r = await fn();
  process.stdout.write(`DONE ${i} ${name}\n`);
  return r;
}

const disk = (d) => ({
  kind: 'block',
  id: d,
  path: `${image}.${d}`,
  attach: 'virtio-blk',
  placement: 'bridge',
});

for (;;) {
  const sb = await step('create', () => Sandbox.create(config, { stateDir, id, host: { accel } }));
  await step('start', () => sb.start());
  await step('ready', () =>
    sb.console().waitFor((l) => (l.includes('GUEST-READY') ? true : undefined), {
      timeoutMs: 120_000,
      exited: sb.exited,
    }),
  );
  await step('add d0', () => sb.hotplugAdd(disk('d0')));
  await step('add d1', () => sb.hotplugAdd(disk('d1')));
  await step('remove d0', () => sb.hotplugRemove('d0'));
  await step('add d2', () => sb.hotplugAdd(disk('d2')));
  await step('remove d1', () => sb.hotplugRemove('d1'));
  await step('stop', () => sb.stop({ graceMs: 2_000 }));
}
