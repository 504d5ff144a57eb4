import { describe, expect, it } from 'vitest';
import {
  encodeAcrnArgv,
  encodeAcrnDevice,
  encodeConsole,
  encodeHostbridge,
  encodeLpc,
  encodeVirtioBlk,
  encodeVirtioNet,
} from './argv.js';
import { AcrnError } from './errors.js';
import type { AcrnConfig, AcrnDeviceConfig } from './schema.js';

const UUID = 'a7ada506-1ab0-4b6b-a0da-e513ca9b8c2f';

function invalid(fn: () => unknown): AcrnError {
  try {
    fn();
  } catch (error) {
    if (AcrnError.is(error)) return error;
    throw error;
  }
  throw new Error('expected an AcrnError');
}

describe('device encoders', () => {
  it('hostbridge', () => {
    expect(encodeHostbridge({ kind: 'hostbridge' }, 0)).toEqual(['-s', '0:0,hostbridge']);
    expect(encodeHostbridge({ kind: 'hostbridge', function: 0 }, 5)).toEqual(['-s', '5:0,hostbridge']);
  });

  it('hostbridge only on function 0 (govmm Valid)', () => {
    const e = invalid(() => encodeHostbridge({ kind: 'hostbridge', function: 1 as 0 }, 0));
    expect(e.code).toBe('ACRN_INVALID_CONFIG');
    expect(e.path).toEqual(['function']);
  });

  it('lpc with COM1 on stdio', () => {
    expect(encodeLpc({ kind: 'lpc' }, 1)).toEqual(['-s', '1:0,lpc', '-lcom1,stdio']);
    expect(encodeLpc({ kind: 'lpc', function: 3 }, 1)).toEqual(['-s', '1:3,lpc', '-lcom1,stdio']);
  });

  it.each<[AcrnDeviceConfig & { kind: 'console' }, string]>([
    [{ kind: 'console', backend: 'pty' }, '3,virtio-console,pty:pty_port'],
    [{ kind: 'console', backend: 'pty', portType: 'console' }, '3,virtio-console,@pty:pty_port'],
    [{ kind: 'console', backend: 'tty', path: '/dev/pts/3' }, '3,virtio-console,tty:tty_port=/dev/pts/3'],
    [
      { kind: 'console', backend: 'tty', portType: 'console', path: '/dev/pts/3' },
      '3,virtio-console,@tty:tty_port=/dev/pts/3',
    ],
    [
      { kind: 'console', backend: 'file', path: '/var/log/vm.log' },
      '3,virtio-console,file:file_port=/var/log/vm.log',
    ],
    [
      {
        kind: 'console',
        backend: 'socket',
        name: 'console0',
        portType: 'console',
        path: '/run/vm/console.sock',
      },
      '3,virtio-console,@socket:console0=/run/vm/console.sock',
    ],
    [
      { kind: 'console', backend: 'socket', name: 'agent.channel.0', path: '/run/vm/kata.sock' },
      '3,virtio-console,socket:agent.channel.0=/run/vm/kata.sock',
    ],
    [
      { kind: 'console', backend: 'socket', name: 'c', path: '/run/c.sock', socketType: 'client' },
      '3,virtio-console,socket:c=/run/c.sock:client',
    ],
    // govmm's Stdio constant is "console" while AcrnParams matches "stdio": it printed a bare
    // `virtio-console,@`. Here stdio is a real backend.
    [{ kind: 'console', backend: 'stdio', portType: 'console' }, '3,virtio-console,@stdio:stdio_port'],
    [{ kind: 'console', backend: 'stdio' }, '3,virtio-console,stdio:stdio_port'],
  ])('console %j', (device, value) => {
    expect(encodeConsole(device, 3)).toEqual(['-s', value]);
    expect(encodeAcrnDevice(device, 3)).toEqual(['-s', value]);
  });

  it.each<[AcrnDeviceConfig, (string | number)[], RegExp]>([
    [{ kind: 'console', backend: 'tty' }, ['path'], /required for the tty backend/],
    [{ kind: 'console', backend: 'file' }, ['path'], /required for the file backend/],
    [{ kind: 'console', backend: 'socket', path: '/s' }, ['name'], /required for the socket backend/],
    [{ kind: 'console', backend: 'pty', path: '/dev/ptmx' }, ['path'], /not used by the pty backend/],
    [{ kind: 'console', backend: 'stdio', path: '/x' }, ['path'], /not used by the stdio backend/],
    [{ kind: 'console', backend: 'tty', name: 'n', path: '/dev/tty1' }, ['name'], /only used by the socket/],
    [{ kind: 'console', backend: 'file', path: '/a,b' }, ['path'], /has no escape/],
    [{ kind: 'console', backend: 'file', path: '/a\nb' }, ['path'], /control characters/],
    [{ kind: 'console', backend: 'socket', name: 'a=b', path: '/s' }, ['name'], /':' or '='/],
    [{ kind: 'console', backend: 'socket', name: 'a:b', path: '/s' }, ['name'], /':' or '='/],
    [{ kind: 'console', backend: 'socket', name: 'c', path: '/s:server' }, ['path'], /socket type/],
    [{ kind: 'console', backend: 'socket', name: 'c', path: `/${'x'.repeat(107)}` }, ['path'], /107 bytes/],
    [{ kind: 'console', backend: 'serial' as 'pty' }, ['backend'], /./],
  ])('rejects console %j', (device, path, message) => {
    const e = invalid(() => encodeAcrnDevice(device, 3));
    expect(e.code).toBe('ACRN_INVALID_CONFIG');
    expect(e.path).toEqual(path);
    expect(e.message).toMatch(message);
    expect(e.issues?.length).toBeGreaterThan(0);
  });

  it('virtio-net, tap and macvtap', () => {
    expect(
      encodeVirtioNet(
        { kind: 'virtio-net', type: 'tap', ifName: 'tap0', macAddress: '02:00:00:00:00:01' },
        4,
      ),
    ).toEqual(['-s', '4,virtio-net,tap0,mac=02:00:00:00:00:01']);
    expect(
      encodeVirtioNet(
        { kind: 'virtio-net', type: 'macvtap', ifName: 'macvtap7', macAddress: 'AA:bb:CC:dd:EE:ff' },
        6,
      ),
    ).toEqual(['-s', '6,virtio-net,macvtap7,mac=AA:bb:CC:dd:EE:ff']);
  });

  it.each<[Record<string, unknown>, string]>([
    [{ ifName: 'tap0,mac=00:00:00:00:00:00' }, 'ifName'],
    [{ ifName: 'tap0=x' }, 'ifName'],
    [{ ifName: '' }, 'ifName'],
    [{ ifName: 'a-very-long-name' }, 'ifName'],
    [{ ifName: 'tap/0' }, 'ifName'],
    [{ ifName: 'tap 0' }, 'ifName'],
    [{ ifName: '..' }, 'ifName'],
    [{ macAddress: '02:00:00:00:00:01,vhost=on' }, 'macAddress'],
    [{ macAddress: '0200.0000.0001' }, 'macAddress'],
    [{ type: 'vhostuser' }, 'type'],
  ])('rejects virtio-net %j', (patch, field) => {
    const device = {
      kind: 'virtio-net',
      type: 'tap',
      ifName: 'tap0',
      macAddress: '02:00:00:00:00:01',
      ...patch,
    };
    const e = invalid(() => encodeAcrnDevice(device as AcrnDeviceConfig, 4));
    expect(e.code).toBe('ACRN_INVALID_CONFIG');
    expect(e.path).toEqual([field]);
  });

  it('virtio-blk', () => {
    expect(encodeVirtioBlk({ kind: 'virtio-blk', filePath: '/img/rootfs.img', index: 0 }, 4)).toEqual([
      '-s',
      '4,virtio-blk,/img/rootfs.img',
    ]);
    expect(encodeVirtioBlk({ kind: 'virtio-blk', filePath: 'nodisk', index: 1 }, 5)).toEqual([
      '-s',
      '5,virtio-blk,nodisk',
    ]);
  });

  it('virtio-blk rejects a comma in the path (it would inject device options)', () => {
    const e = invalid(() => encodeVirtioBlk({ kind: 'virtio-blk', filePath: '/a.img,ro', index: 0 }, 4));
    expect(e.code).toBe('ACRN_INVALID_CONFIG');
    expect(e.path).toEqual(['filePath']);
    expect(e.message).toBe(
      "virtio-blk.filePath: must not contain ',': acrn-dm splits -s values on commas and has no escape for them",
    );
  });

  it.each([-1, 32, 1.5, 2])('rejects slot %d', (slot) => {
    const e = invalid(() => encodeVirtioBlk({ kind: 'virtio-blk', filePath: '/a', index: 0 }, slot));
    expect(e.code).toBe('ACRN_INVALID_CONFIG');
    expect(e.message).toMatch(/^slot: /);
  });

  it('slot 2 error says why', () => {
    expect(invalid(() => encodeHostbridge({ kind: 'hostbridge' }, 2)).message).toBe(
      'slot: slot 2 is reserved for GVT-g',
    );
  });

  it('rejects unknown kinds and unknown fields', () => {
    expect(invalid(() => encodeAcrnDevice({ kind: 'vfio' } as unknown as AcrnDeviceConfig, 0)).path).toEqual([
      'kind',
    ]);
    const e = invalid(() =>
      encodeAcrnDevice(
        { kind: 'virtio-blk', filePath: '/a', index: 0, readonly: true } as AcrnDeviceConfig,
        0,
      ),
    );
    expect(e.code).toBe('ACRN_INVALID_CONFIG');
    expect(e.message).toMatch(/readonly/);
  });
});

describe('encodeAcrnArgv', () => {
  it('orders -U, -A, -m, devices, -k, -B, name (govmm LaunchAcrn order)', () => {
    const config: AcrnConfig = {
      name: 'vm1',
      uuid: UUID,
      acpiVirt: true,
      memory: { size: '1024M' },
      devices: [
        { kind: 'hostbridge' },
        { kind: 'lpc' },
        { kind: 'console', backend: 'pty', portType: 'console' },
        { kind: 'virtio-blk', filePath: '/img', index: 0 },
        { kind: 'virtio-net', type: 'tap', ifName: 'tap0', macAddress: '02:00:00:00:00:01' },
      ],
      kernel: { path: '/boot/vmlinuz', params: 'console=hvc0 earlyprintk=serial,ttyS0,115200n8' },
    };
    const { argv, deviceSlots, slots } = encodeAcrnArgv(config);
    expect(argv).toEqual([
      '-U',
      UUID,
      '-A',
      '-m',
      '1024M',
      '-s',
      '0:0,hostbridge',
      '-s',
      '1:0,lpc',
      '-lcom1,stdio',
      '-s',
      '3,virtio-console,@pty:pty_port',
      '-s',
      '4,virtio-blk,/img',
      '-s',
      '5,virtio-net,tap0,mac=02:00:00:00:00:01',
      '-k',
      '/boot/vmlinuz',
      '-B',
      'console=hvc0 earlyprintk=serial,ttyS0,115200n8',
      'vm1',
    ]);
    expect(deviceSlots).toEqual([0, 1, 3, 4, 5]);
    expect(slots.entries()).toEqual([{ index: 0, slot: 4 }]);
  });

  it('omits what is not set; the name is always last', () => {
    expect(encodeAcrnArgv({ name: 'x' }).argv).toEqual(['x']);
    expect(encodeAcrnArgv({ name: 'x', kernel: { path: '/k' } }).argv).toEqual(['-k', '/k', 'x']);
    expect(encodeAcrnArgv({ name: 'x', kernel: { path: '/k', params: '' } }).argv).toEqual(['-k', '/k', 'x']);
    expect(encodeAcrnArgv({ name: 'x', acpiVirt: false, memory: { size: '2G' } }).argv).toEqual([
      '-m',
      '2G',
      'x',
    ]);
  });

  it('skips slot 2 exactly once, whatever the device kinds', () => {
    const devices: AcrnDeviceConfig[] = Array.from({ length: 6 }, (_, index) => ({
      kind: 'virtio-blk',
      filePath: `/d${index}`,
      index,
    }));
    const { argv, deviceSlots, slots } = encodeAcrnArgv({ name: 'x', devices });
    expect(deviceSlots).toEqual([0, 1, 3, 4, 5, 6]);
    expect(argv.filter((_, i) => argv[i - 1] === '-s')).toEqual([
      '0,virtio-blk,/d0',
      '1,virtio-blk,/d1',
      '3,virtio-blk,/d2',
      '4,virtio-blk,/d3',
      '5,virtio-blk,/d4',
      '6,virtio-blk,/d5',
    ]);
    expect(slots.get(2)).toBe(3);
  });

  it('fills 31 slots and refuses the 32nd device', () => {
    const blk = (index: number): AcrnDeviceConfig => ({ kind: 'virtio-blk', filePath: 'nodisk', index });
    const full = encodeAcrnArgv({ name: 'x', devices: Array.from({ length: 31 }, (_, i) => blk(i)) });
    expect(full.deviceSlots.at(-1)).toBe(31);
    expect(full.deviceSlots).not.toContain(2);
    const e = invalid(() =>
      encodeAcrnArgv({ name: 'x', devices: Array.from({ length: 32 }, (_, i) => blk(i)) }),
    );
    expect(e.code).toBe('ACRN_TOO_MANY_DEVICES');
    expect(e.path).toEqual(['devices', 31]);
  });

  it('gives every call its own slot table (no globals)', () => {
    const a = encodeAcrnArgv({ name: 'a', devices: [{ kind: 'virtio-blk', filePath: '/a', index: 0 }] });
    const b = encodeAcrnArgv({
      name: 'b',
      devices: [{ kind: 'hostbridge' }, { kind: 'virtio-blk', filePath: '/b', index: 0 }],
    });
    expect(a.slots.get(0)).toBe(0);
    expect(b.slots.get(0)).toBe(1);
    expect(a.slots).not.toBe(b.slots);
  });

  it.each<[Partial<AcrnConfig>, (string | number)[]]>([
    [{ name: '-U' }, ['name']],
    [{ name: '' }, ['name']],
    [{ name: 'a b' }, ['name']],
    [{ name: 'a/b' }, ['name']],
    [{ name: 'x'.repeat(128) }, ['name']],
    [{ uuid: 'not-a-uuid' }, ['uuid']],
    [{ uuid: `${UUID} -A` }, ['uuid']],
    [{ memory: { size: '0M' } }, ['memory', 'size']],
    [{ memory: { size: '-1' } }, ['memory', 'size']],
    [{ memory: { size: '1024 M' } }, ['memory', 'size']],
    [{ kernel: { path: '' } }, ['kernel', 'path']],
    [{ kernel: { path: '/k', params: 'a\nb' } }, ['kernel', 'params']],
    [{ devices: [{ kind: 'virtio-blk', filePath: '', index: 0 }] }, ['devices', 0, 'filePath']],
    [{ devices: [{ kind: 'virtio-blk', filePath: 'a', index: -1 }] }, ['devices', 0, 'index']],
  ])('rejects %j with the field path', (patch, path) => {
    const e = invalid(() => encodeAcrnArgv({ name: 'vm', ...patch } as AcrnConfig));
    expect(e.code).toBe('ACRN_INVALID_CONFIG');
    expect(e.path).toEqual(path);
    expect(e.message.startsWith('config.')).toBe(true);
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('rejects a duplicate block index (govmm silently overwrote the slot)', () => {
    const e = invalid(() =>
      encodeAcrnArgv({
        name: 'vm',
        devices: [
          { kind: 'virtio-blk', filePath: '/a', index: 1 },
          { kind: 'virtio-blk', filePath: '/b', index: 1 },
        ],
      }),
    );
    expect(e.path).toEqual(['devices', 1, 'index']);
    expect(e.message).toBe('config.devices[1].index: block index 1 is already used by devices[0]');
  });

  it('rejects a second user of stdio (the LPC takes it for com1)', () => {
    const e = invalid(() =>
      encodeAcrnArgv({
        name: 'vm',
        devices: [{ kind: 'lpc' }, { kind: 'console', backend: 'stdio', portType: 'console' }],
      }),
    );
    expect(e.path).toEqual(['devices', 1]);
    expect(e.message).toMatch(/stdio is already taken by devices\[0\] \(LPC com1\)/);
    // without the LPC, a stdio console is fine
    expect(
      encodeAcrnArgv({ name: 'vm', devices: [{ kind: 'console', backend: 'stdio', portType: 'console' }] })
        .argv,
    ).toEqual(['-s', '0,virtio-console,@stdio:stdio_port', 'vm']);
  });

  it('keeps commas in the kernel command line (its own argv element)', () => {
    expect(encodeAcrnArgv({ name: 'v', kernel: { path: '/a,b', params: 'x=1,2' } }).argv).toEqual([
      '-k',
      '/a,b',
      '-B',
      'x=1,2',
      'v',
    ]);
  });

  it('never throws a raw ZodError, also for garbage input', () => {
    for (const garbage of [null, 42, 'vm', [], { name: 'v', devices: 'x' }, { name: 'v', extra: 1 }]) {
      const e = invalid(() => encodeAcrnArgv(garbage as unknown as AcrnConfig));
      expect(e.code).toBe('ACRN_INVALID_CONFIG');
      expect(e.name).toBe('AcrnError');
    }
  });
});
