import { describe, expect, it } from 'vitest';
import { encodeQemuArgv, validateQemuConfig } from './encode.js';
import { ArgvError, type ArgvErrorCode } from './errors.js';

const blk = { kind: 'block', id: 'd0', file: '/d.img' };

const cases: Array<[string, unknown, ArgvErrorCode, string]> = [
  ['empty device id', { devices: [{ ...blk, id: '' }] }, 'ARGV_INVALID_ID', 'devices[0].id'],
  ['id with a space', { devices: [blk, { ...blk, id: 'my disk' }] }, 'ARGV_INVALID_ID', 'devices[1].id'],
  [
    'id starting with a digit',
    { devices: [{ kind: 'rng', id: '0rng' }] },
    'ARGV_INVALID_ID',
    'devices[0].id',
  ],
  ['id with a comma', { devices: [{ kind: 'rng', id: 'a,b' }] }, 'ARGV_INVALID_ID', 'devices[0].id'],
  ['iothread id', { ioThreads: [{ id: 'io thread' }] }, 'ARGV_INVALID_ID', 'ioThreads[0].id'],
  ['negative memory size', { memory: { size: '-1G' } }, 'ARGV_INVALID_CONFIG', 'memory.size'],
  ['zero memory size', { memory: { size: '0M' } }, 'ARGV_INVALID_CONFIG', 'memory.size'],
  [
    'tap name over IFNAMSIZ',
    { devices: [{ kind: 'net', type: 'tap', id: 'n', ifName: 'a-very-long-tap-name' }] },
    'ARGV_INVALID_DEVICE',
    'devices[0].ifName',
  ],
  [
    'negative object size',
    { devices: [{ kind: 'memory-backend-epc', id: 'e', size: -4096 }] },
    'ARGV_INVALID_DEVICE',
    'devices[0].size',
  ],
  ['maxCpus < cpus', { smp: { cpus: 4, maxCpus: 2 } }, 'ARGV_INVALID_CONFIG', 'smp.maxCpus'],
  ['zero cpus', { smp: { cpus: 0 } }, 'ARGV_INVALID_CONFIG', 'smp.cpus'],
  ['fractional cpus', { smp: { cpus: 1.5 } }, 'ARGV_INVALID_CONFIG', 'smp.cpus'],
  [
    'unknown kind',
    { devices: [blk, blk, { kind: 'floppy', id: 'f' }] },
    'ARGV_UNKNOWN_KIND',
    'devices[2].kind',
  ],
  ['missing kind', { devices: [{ id: 'x' }] }, 'ARGV_UNKNOWN_KIND', 'devices[0].kind'],
  [
    'wrong type (string for number)',
    { devices: [{ kind: 'vsock', id: 'v', contextId: '3' }] },
    'ARGV_INVALID_DEVICE',
    'devices[0].contextId',
  ],
  ['wrong type (number for string)', { name: 42 }, 'ARGV_INVALID_CONFIG', 'name'],
  ['wrong type (object for array)', { devices: {} }, 'ARGV_INVALID_CONFIG', 'devices'],
  ['config not an object', 'q35', 'ARGV_INVALID_CONFIG', ''],
  ['unknown config field', { machine: { type: 'q35' }, cpus: 2 }, 'ARGV_UNKNOWN_FIELD', 'cpus'],
  [
    'unknown device field (typo)',
    { devices: [{ ...blk, readonly: true }] },
    'ARGV_UNKNOWN_FIELD',
    'devices[0].readonly',
  ],
  [
    'newline in a path',
    { devices: [{ ...blk, file: '/a\n-device x' }] },
    'ARGV_UNESCAPABLE_VALUE',
    'devices[0].file',
  ],
  [
    'NUL in kernel params',
    { kernel: { path: '/k', params: 'a\0b' } },
    'ARGV_UNESCAPABLE_VALUE',
    'kernel.params',
  ],
  ['comma-injection in cpu model', { cpuModel: 'host,,x' }, 'ARGV_INVALID_CONFIG', 'cpuModel'],
  ['bad uuid', { uuid: 'not-a-uuid' }, 'ARGV_INVALID_CONFIG', 'uuid'],
  ['bad machine type', { machine: { type: 'q35,accel=tcg' } }, 'ARGV_INVALID_CONFIG', 'machine.type'],
  [
    'qmp socket with name and fd',
    { qmpSockets: [{ type: 'unix', name: '/q', fd: 3 }] },
    'ARGV_INVALID_CONFIG',
    'qmpSockets[0].name',
  ],
  [
    'fw_cfg with file and str',
    { fwCfg: [{ name: 'opt/a', file: '/f', str: 's' }] },
    'ARGV_INVALID_CONFIG',
    'fwCfg[0].file',
  ],
  [
    'exec migration without a command',
    { incoming: { migrationType: 'exec' } },
    'ARGV_INVALID_CONFIG',
    'incoming.exec',
  ],
  [
    'fileBackedMem without a path',
    { memory: { size: '1G' }, knobs: { fileBackedMem: true } },
    'ARGV_INVALID_CONFIG',
    'knobs.fileBackedMem',
  ],
  [
    'vsock cid below 3',
    { devices: [{ kind: 'vsock', id: 'v', contextId: 2 }] },
    'ARGV_INVALID_DEVICE',
    'devices[0].contextId',
  ],
  [
    'bad mac',
    {
      devices: [{ kind: 'vhost-user-net', socketPath: '/s', charDevId: 'c', typeDevId: 'n', address: 'xx' }],
    },
    'ARGV_INVALID_DEVICE',
    'devices[0].address',
  ],
  ['devno on pci', { devices: [{ ...blk, devno: 'fe.0.0001' }] }, 'ARGV_INVALID_DEVICE', 'devices[0].devno'],
  [
    'globalParam without =',
    { globalParam: 'kvm-pit.lost_tick_policy' },
    'ARGV_INVALID_CONFIG',
    'globalParam',
  ],
  [
    'NUMA maxcpus != sockets*cores*threads',
    {
      numaNodes: [{ size: '1G' }, { size: '1G' }],
      smp: { cpus: 2, sockets: 2, cores: 1, threads: 1, maxCpus: 4 },
    },
    'ARGV_INVALID_CONFIG',
    'smp.maxCpus',
  ],
];

describe('invalid configs', () => {
  it.each(cases)('%s -> %s at %s', (_name, config, code, path) => {
    let caught: unknown;
    try {
      encodeQemuArgv(config as never);
    } catch (e) {
      caught = e;
    }
    expect(ArgvError.is(caught)).toBe(true);
    const err = caught as ArgvError;
    expect(err).toBeInstanceOf(ArgvError);
    expect({ code: err.code, path: err.path }).toEqual({ code, path });
    expect(err.message).toContain(path === '' ? 'config' : path);
    expect(err.issues[0]).toMatchObject({ code, path });
    expect(err.name).toBe('ArgvError');
  });

  it('names the device index and kind, keeps the ZodError as cause (never thrown raw)', () => {
    let err: ArgvError | undefined;
    try {
      validateQemuConfig({
        devices: [
          { kind: 'rng', id: 'r' },
          { kind: 'block', id: 'd', file: '' },
        ],
      });
    } catch (e) {
      err = e as ArgvError;
    }
    expect(err?.deviceIndex).toBe(1);
    expect(err?.kind).toBe('block');
    expect(err?.message).toBe('devices[1].file (block): must not be empty (got "")');
    expect((err?.cause as Error | undefined)?.name).toBe('ZodError');
  });

  it('messages name the offending value on one line, control characters escaped', () => {
    expect(() => encodeQemuArgv({ devices: [{ kind: 'block', id: 'd', file: '/a\n-device x' }] })).toThrow(
      'devices[0].file (block): holds a control character (newline, tab, NUL, ...), which QEMU cannot receive intact (got "/a\\n-device x")',
    );
    expect(() => encodeQemuArgv({ smp: { cpus: 4, maxCpus: 2 } })).toThrow(
      'smp.maxCpus: MaxCPUs 2 must be equal to or greater than CPUs 4 (got 2)',
    );
  });

  it('collects every issue', () => {
    try {
      validateQemuConfig({ name: 1, devices: [{ kind: 'rng', id: '' }] });
      expect.unreachable();
    } catch (e) {
      expect((e as ArgvError).issues.map((i) => i.path)).toEqual(['name', 'devices[0].id']);
      expect((e as ArgvError).message).toContain('(and 1 more)');
    }
  });

  it('is() works across realms without instanceof', () => {
    const fake = Object.create(null) as object;
    expect(ArgvError.is(fake)).toBe(false);
    expect(ArgvError.is(new Error('x'))).toBe(false);
    expect(ArgvError.is(new ArgvError('ARGV_CONFLICT', 'x'))).toBe(true);
  });
});

describe('ids unique per QEMU namespace', () => {
  it.each([
    ['two drives', { devices: [blk, { ...blk }] }, 'devices[1].id'],
    [
      'rng object vs iothread',
      { ioThreads: [{ id: 'r0' }], devices: [{ kind: 'rng', id: 'r0' }] },
      'devices[0].id',
    ],
    [
      'device ids across kinds',
      {
        devices: [
          { kind: 'serial', id: 'x' },
          { kind: 'balloon', id: 'x' },
        ],
      },
      'devices[1].id',
    ],
    [
      'chardev of a char device and a vhost-user device',
      {
        devices: [
          { kind: 'char', driver: 'serial', backend: 'pty', id: 'c0' },
          { kind: 'vhost-user-blk', socketPath: '/s', charDevId: 'c0' },
        ],
      },
      'devices[1].charDevId',
    ],
    ["the encoder's own dimm1", { memory: { size: '1G' }, ioThreads: [{ id: 'dimm1' }] }, 'ioThreads[0].id'],
  ])('%s -> ARGV_CONFLICT at %s', (_name, config, path) => {
    expect(() => encodeQemuArgv(config as never)).toThrow(
      expect.objectContaining({ code: 'ARGV_CONFLICT', path }),
    );
  });
  it('the same id in different namespaces is fine (QEMU keeps them apart)', () => {
    expect(() =>
      encodeQemuArgv({
        devices: [
          { kind: 'block', id: 'x', file: '/f' },
          { kind: 'rng', id: 'x' },
          { kind: 'serial', id: 'x' },
        ],
      }),
    ).not.toThrow();
  });
});
