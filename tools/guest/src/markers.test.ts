import { describe, expect, it } from 'vitest';
import { formatGuestEvent, GUEST_MARKERS, type GuestEvent, parseGuestLine } from './markers.js';

describe('parseGuestLine', () => {
  it.each<[string, GuestEvent]>([
    [
      'GUEST-READY cpus=1 mem-mb=256 blk=[] net=[] uptime=2.90',
      { kind: 'ready', cpus: 1, memMb: 256, blk: [], net: [], uptime: 2.9 },
    ],
    [
      'GUEST-READY cpus=4 mem-mb=1024 blk=[vdb,sda,vda] net=[eth0,eth1]',
      {
        kind: 'ready',
        cpus: 4,
        memMb: 1024,
        blk: ['sda', 'vda', 'vdb'],
        net: ['eth0', 'eth1'],
        uptime: undefined,
      },
    ],
    [
      'GUEST-READY cpus=1 mem-mb=256 blk=[] net=[] kernel=6.1.0 uptime=1',
      { kind: 'ready', cpus: 1, memMb: 256, blk: [], net: [], uptime: 1 },
    ],
    ['GUEST-POWEROFF', { kind: 'poweroff' }],
    [
      'GUEST-ERROR insmod virtio_scsi: Invalid argument',
      { kind: 'error', message: 'insmod virtio_scsi: Invalid argument' },
    ],
    ['HOTPLUG-BLK vda', { kind: 'hotplugBlk', device: 'vda' }],
    ['UNPLUG-BLK sdb', { kind: 'unplugBlk', device: 'sdb' }],
    ['HOTPLUG-NET eth0', { kind: 'hotplugNet', device: 'eth0' }],
    ['UNPLUG-NET eth1', { kind: 'unplugNet', device: 'eth1' }],
    ['HOTPLUG-PMEM pmem0 16777216', { kind: 'hotplugPmem', device: 'pmem0', bytes: 16 << 20 }],
    ['HOTPLUG-PMEM pmem1.1 0', { kind: 'hotplugPmem', device: 'pmem1.1', bytes: 0 }],
    ['HOTPLUG-PMEM pmem0s   8388608 ', { kind: 'hotplugPmem', device: 'pmem0s', bytes: 8 << 20 }],
    ['UNPLUG-PMEM pmem0', { kind: 'unplugPmem', device: 'pmem0' }],
    ['CPUS 2', { kind: 'cpus', cpus: 2 }],
    ['MEM-MB 384', { kind: 'memMb', memMb: 384 }],
    ['CLOCK 12.34', { kind: 'clock', seconds: 12.34 }],
    ['CLOCK 7', { kind: 'clock', seconds: 7 }],
  ])('%s', (line, event) => {
    expect(parseGuestLine(line)).toEqual(event);
  });

  it('ignores line endings, carriage returns and leading blanks (a tty adds \\r)', () => {
    expect(parseGuestLine('\r  HOTPLUG-BLK vdc\r\n')).toEqual({ kind: 'hotplugBlk', device: 'vdc' });
  });

  it('finds a hyphenated marker after unterminated firmware output (SeaBIOS on pc), at a word boundary', () => {
    expect(parseGuestLine('Booting from ROM..GUEST-READY cpus=1 mem-mb=256 blk=[] net=[]')).toEqual({
      kind: 'ready',
      cpus: 1,
      memMb: 256,
      blk: [],
      net: [],
      uptime: undefined,
    });
    expect(parseGuestLine('\u001b[2J garbage HOTPLUG-BLK vdb')).toEqual({
      kind: 'hotplugBlk',
      device: 'vdb',
    });
    expect(parseGuestLine('[    5.1] nd_pmem namespace0.0: HOTPLUG-PMEM pmem0 4096')).toEqual({
      kind: 'hotplugPmem',
      device: 'pmem0',
      bytes: 4096,
    });
    expect(parseGuestLine('x MEM-MB')).toEqual({ kind: 'malformed', marker: 'MEM-MB', line: 'MEM-MB' });
  });

  it.each([
    'Allowing 4 CPUS 4',
    'timer CLOCK 1.5',
    'NOT-GUEST-READY cpus=1',
    'xGUEST-READY cpus=1',
    'GUEST-READY-ish',
  ])('does not take a bare word or a non-boundary match mid-line: %j', (line) => {
    expect(parseGuestLine(line)).toBeUndefined();
  });

  it.each([
    '',
    '[    2.345678] virtio_blk virtio1: [vda] 32768 512-byte logical blocks',
    'Run /init as init process',
    'GUEST-READYX cpus=1',
    'guest-ready cpus=1 mem-mb=1 blk=[] net=[]',
    'CPUSET 2',
    '~ # echo hi',
  ])('returns undefined for non-marker line %j', (line) => {
    expect(parseGuestLine(line)).toBeUndefined();
  });

  it.each([
    ['GUEST-READY', 'GUEST-READY'],
    ['GUEST-READY cpus=1 mem-mb=256 blk=[] ', 'GUEST-READY'],
    ['GUEST-READY cpus=x mem-mb=256 blk=[] net=[]', 'GUEST-READY'],
    ['GUEST-READY cpus=1 mem-mb=256 blk=vda net=[]', 'GUEST-READY'],
    ['GUEST-READY cpus=1 mem-mb=256 blk=[vda,] net=[]', 'GUEST-READY'],
    ['GUEST-READY cpus=1 mem-mb=256 blk=[] net=[] uptime=soon', 'GUEST-READY'],
    ['GUEST-READY cpus=1 junk mem-mb=256 blk=[] net=[]', 'GUEST-READY'],
    ['GUEST-POWEROFF now', 'GUEST-POWEROFF'],
    ['HOTPLUG-BLK', 'HOTPLUG-BLK'],
    ['HOTPLUG-BLK vda vdb', 'HOTPLUG-BLK'],
    ['HOTPLUG-BLK vda[    3.1] virtio', 'HOTPLUG-BLK'],
    ['HOTPLUG-PMEM', 'HOTPLUG-PMEM'],
    ['HOTPLUG-PMEM pmem0', 'HOTPLUG-PMEM'],
    ['HOTPLUG-PMEM pmem0 16M', 'HOTPLUG-PMEM'],
    ['HOTPLUG-PMEM pmem0 -4096', 'HOTPLUG-PMEM'],
    ['HOTPLUG-PMEM pmem0 4096 extra', 'HOTPLUG-PMEM'],
    ['HOTPLUG-PMEM /dev/pmem0 4096', 'HOTPLUG-PMEM'],
    ['UNPLUG-PMEM pmem0 4096', 'UNPLUG-PMEM'],
    ['CPUS -1', 'CPUS'],
    ['CPUS 2.5', 'CPUS'],
    ['MEM-MB lots', 'MEM-MB'],
    ['CLOCK', 'CLOCK'],
    ['CLOCK 1e3', 'CLOCK'],
  ])('reports %j as malformed %s', (line, marker) => {
    expect(parseGuestLine(line)).toEqual({
      kind: 'malformed',
      marker,
      line: line.trim() === line ? line : line.replace(/^\s+/, ''),
    });
  });

  it('round-trips every event kind through formatGuestEvent', () => {
    const events: Exclude<GuestEvent, { kind: 'malformed' }>[] = [
      { kind: 'ready', cpus: 2, memMb: 512, blk: ['sda', 'vda'], net: ['eth0'], uptime: 3.3 },
      { kind: 'ready', cpus: 1, memMb: 256, blk: [], net: [], uptime: undefined },
      { kind: 'poweroff' },
      { kind: 'error', message: 'no input device' },
      { kind: 'hotplugBlk', device: 'vda' },
      { kind: 'unplugBlk', device: 'vda' },
      { kind: 'hotplugNet', device: 'eth0' },
      { kind: 'unplugNet', device: 'eth0' },
      { kind: 'hotplugPmem', device: 'pmem0', bytes: 16 << 20 },
      { kind: 'unplugPmem', device: 'pmem0' },
      { kind: 'cpus', cpus: 3 },
      { kind: 'memMb', memMb: 384 },
      { kind: 'clock', seconds: 42.07 },
    ];
    for (const e of events) expect(parseGuestLine(formatGuestEvent(e))).toEqual(e);
    const kinds = new Set(events.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(Object.keys(GUEST_MARKERS).sort());
  });
});
