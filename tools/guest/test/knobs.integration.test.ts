/**
 * The guest's knobs and boot-time devices under the real QEMU: disks present at boot (virtio-blk and
 * virtio-scsi) are in GUEST-READY, an unknown module set is reported, markers reach both consoles
 * (ttyS0 and a virtconsole hvc0), `probe.shell=1` answers on hvc0, `probe.clock=1` shows the guest's
 * clock stopping while the VM is paused, and SCSI disks hotplug and unplug.
 */
import { execFileSync } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { childPids, killAllQemus, makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { encodeGuestKnobs, ensureGuest, type GuestImage, parseGuestLine } from '../src/index.js';
import { type GuestVm, startGuestVm } from './helpers/vm.js';

let image: GuestImage;
let tmp: TempDir;

beforeAll(async () => {
  image = await ensureGuest({ timeoutMs: 300_000 });
  tmp = await makeTempDir('vmm-guest-');
  execFileSync('truncate', ['-s', '8M', tmp.join('vd.img'), tmp.join('sd.img'), tmp.join('sd2.img')]);
}, 300_000);

afterAll(async () => {
  await killAllQemus();
  await tmp?.remove();
});

async function until(ok: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('guest knobs and SCSI', () => {
  let vm: GuestVm;
  let hvc: Socket | undefined;
  let hvcOut = '';
  afterAll(async () => {
    hvc?.destroy();
    await vm?.stop();
  });

  it('reports boot disks, bad knobs, a stopped clock while paused, and SCSI hotplug', async () => {
    vm = await startGuestVm(image, {
      append: [
        ...encodeGuestKnobs({ clock: true, pollSeconds: 0.1, shell: true }),
        'probe.modules=virtio_rng,bogus',
        'probe.poll=fast', // the last one wins
        'console=hvc0',
      ],
      extraArgs: [
        '-device',
        'virtio-serial-pci',
        '-chardev',
        `socket,id=hvc,path=${tmp.join('hvc.sock')},server=on,wait=off`,
        '-device',
        'virtconsole,chardev=hvc',
        '-blockdev',
        `driver=raw,node-name=vd0,file.driver=file,file.filename=${tmp.join('vd.img')}`,
        '-device',
        'virtio-blk-pci,drive=vd0,id=vd0',
        '-device',
        'virtio-scsi-pci,id=scsi0',
        '-blockdev',
        `driver=raw,node-name=sd0,file.driver=file,file.filename=${tmp.join('sd.img')}`,
        '-device',
        'scsi-hd,drive=sd0,id=sd0,bus=scsi0.0,scsi-id=0,lun=0',
        '-device',
        'virtio-rng-pci',
      ],
    });
    onTestFailed(() => console.log(vm.diagnostics()));
    console.log(`accel: ${vm.accel.accel} (${vm.accel.reason})`);
    const { qmp, console: con } = vm;
    // The virtconsole is a socket that drops output until a client connects: connect before boot.
    hvc = createConnection(tmp.join('hvc.sock'));
    hvc.setEncoding('utf8');
    hvc.on('data', (d: string) => {
      hvcOut += d;
    });
    const ready = await con.waitFor('ready', undefined, { timeoutMs: 60_000 });
    expect(ready.event).toMatchObject({ cpus: 1, memMb: 256, blk: ['sda', 'vda'], net: [] });
    // Bad knobs are reported, not fatal: the poll interval falls back to 0.05 s.
    const errors = con.events.flatMap((e) => (e.event.kind === 'error' ? [e.event.message] : []));
    expect(errors).toEqual([
      'probe.poll=fast is not a positive number of seconds, using 0.05',
      'unknown module set bogus',
    ]);

    // Markers go to every console: hvc0 has the same READY line. probe.shell=1 runs ash on the
    // last console= (hvc0).
    await until(() => hvcOut.includes('BusyBox'), 'the shell banner on hvc0');
    const hvcReady = hvcOut.split(/\r?\n/).find((l) => l.startsWith('GUEST-READY'));
    expect(parseGuestLine(hvcReady ?? '')).toEqual(ready.event);
    hvc.write('echo SHELL-$((6*7))\n');
    await until(() => hvcOut.includes('SHELL-42'), 'the shell to answer');

    // Pause for 2 s: CLOCK stops advancing, then continues.
    await con.waitFor('clock', undefined, { from: ready.index });
    await qmp.execute('stop');
    const pausedAt = Date.now();
    await new Promise((r) => setTimeout(r, 300)); // let lines written before the stop reach the file
    const beforeIdx = con.events.length;
    const before = con.events.filter((e) => e.event.kind === 'clock').at(-1)!;
    await new Promise((r) => setTimeout(r, 2000));
    expect(con.events.length).toBe(beforeIdx);
    await qmp.execute('cont');
    const resumedAt = Date.now();
    const after = await con.waitFor('clock', undefined, { from: beforeIdx });
    const guestGap =
      (after.event as { seconds: number }).seconds - (before.event as { seconds: number }).seconds;
    console.log(
      `paused ${resumedAt - pausedAt} ms of wall time; guest clock advanced ${guestGap.toFixed(2)} s across it`,
    );
    expect(resumedAt - pausedAt).toBeGreaterThanOrEqual(2000);
    expect(guestGap).toBeGreaterThan(0);
    expect(guestGap).toBeLessThan(1.5);

    // Another SCSI disk on the controller: sdb appears and goes.
    await qmp.execute('blockdev-add', {
      'node-name': 'sd1',
      driver: 'raw',
      file: { driver: 'file', filename: tmp.join('sd2.img') },
    });
    let mark = con.events.length;
    await qmp.execute('device_add', {
      driver: 'scsi-hd',
      id: 'sd1',
      drive: 'sd1',
      bus: 'scsi0.0',
      'scsi-id': 1,
      lun: 0,
    });
    expect((await con.waitFor('hotplugBlk', undefined, { from: mark })).event.device).toBe('sdb');
    mark = con.events.length;
    const qmark = qmp.events.length;
    await qmp.execute('device_del', { id: 'sd1' });
    await qmp.waitEvent('DEVICE_DELETED', (d) => d.device === 'sd1', { from: qmark });
    expect((await con.waitFor('unplugBlk', undefined, { from: mark })).event.device).toBe('sdb');
    expect(con.events.filter((e) => e.event.kind === 'malformed')).toEqual([]);
  });

  it('leaves no QEMU behind', async () => {
    hvc?.destroy();
    await vm?.stop();
    expect(childPids()).toEqual([]);
  });
});
