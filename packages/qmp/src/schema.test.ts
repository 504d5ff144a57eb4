import { describe, expect, it } from 'vitest';
import { QmpSchema, type SchemaInfo } from './schema.js';

// A trimmed copy of QEMU 7.2's introspection shapes (type names are meaningless numbers there too).
const ENTRIES: SchemaInfo[] = [
  { name: 'query-status', 'meta-type': 'command', 'arg-type': '0', 'ret-type': '10' },
  { name: 'migrate-recover', 'meta-type': 'command', 'arg-type': '11', 'ret-type': '0', 'allow-oob': true },
  { name: 'device_add', 'meta-type': 'command', 'arg-type': '12', 'ret-type': '0', features: ['json-cli'] },
  { name: 'blockdev-add', 'meta-type': 'command', 'arg-type': '20', 'ret-type': '0' },
  { name: 'DEVICE_DELETED', 'meta-type': 'event', 'arg-type': '13' },
  { name: '0', 'meta-type': 'object', members: [] },
  {
    name: '10',
    'meta-type': 'object',
    members: [
      { name: 'status', type: '14' },
      { name: 'running', type: 'bool' },
    ],
  },
  { name: '11', 'meta-type': 'object', members: [{ name: 'uri', type: 'str' }] },
  { name: '12', 'meta-type': 'object', members: [{ name: 'driver', type: 'str' }] },
  {
    name: '13',
    'meta-type': 'object',
    members: [
      { name: 'device', type: 'str' },
      { name: 'path', type: 'str' },
    ],
  },
  {
    name: '14',
    'meta-type': 'enum',
    values: ['running', 'paused'],
    members: [{ name: 'running' }, { name: 'paused' }],
  },
  {
    name: '20',
    'meta-type': 'object',
    members: [
      { name: 'driver', type: '21' },
      { name: 'discard', type: '23' },
      { name: 'cache', type: '24' },
    ],
    tag: 'driver',
    variants: [
      { case: 'file', type: '22' },
      { case: 'raw', type: '25' },
    ],
  },
  { name: '21', 'meta-type': 'enum', values: ['file', 'raw'] },
  {
    name: '22',
    'meta-type': 'object',
    members: [
      { name: 'filename', type: 'str' },
      { name: 'aio', type: '26' },
    ],
  },
  { name: '23', 'meta-type': 'enum', values: ['ignore', 'unmap'] },
  { name: '24', 'meta-type': 'object', members: [{ name: 'direct', type: 'bool' }] },
  { name: '25', 'meta-type': 'object', members: [{ name: 'file', type: '27' }] },
  { name: '26', 'meta-type': 'enum', values: ['threads', 'native'] },
  { name: '27', 'meta-type': 'alternate', members: [{ type: '22' }, { type: 'str' }] },
  { name: 'str', 'meta-type': 'builtin', 'json-type': 'string' },
  { name: 'bool', 'meta-type': 'builtin', 'json-type': 'boolean' },
  { name: '30', 'meta-type': 'array', 'element-type': '13' },
];

describe('QmpSchema', () => {
  const s = new QmpSchema(ENTRIES);

  it('commands, events and allow-oob', () => {
    expect(s.hasCommand('query-status')).toBe(true);
    expect(s.hasCommand('DEVICE_DELETED')).toBe(false);
    expect(s.hasEvent('DEVICE_DELETED')).toBe(true);
    expect(s.allowsOob('migrate-recover')).toBe(true);
    expect(s.allowsOob('query-status')).toBe(false);
    expect(s.allowsOob('nope')).toBe(false);
    expect(s.commandNames()).toContain('blockdev-add');
    expect(s.eventNames()).toEqual(['DEVICE_DELETED']);
  });

  it.each([
    ['query-status/ret-type/status', true],
    ['query-status/ret-type/status/^paused', true],
    ['query-status/ret-type/status/^shutdown', false],
    ['query-status/ret-type/nope', false],
    ['device_add/$json-cli', true],
    ['device_add/$unstable', false],
    ['blockdev-add/arg-type/+file/filename', true],
    ['blockdev-add/arg-type/+file/aio/^native', true],
    ['blockdev-add/arg-type/+raw/file/filename', true],
    ['blockdev-add/arg-type/+nvme/filename', false],
    ['blockdev-add/arg-type/filename', true],
    ['blockdev-add/arg-type/discard/^unmap', true],
    ['blockdev-add/arg-type/cache/direct', true],
    ['DEVICE_DELETED/arg-type/device', true],
    ['no-such-command', false],
    ['', false],
  ])('has(%j) = %s', (path, expected) => {
    expect(s.has(path)).toBe(expected);
  });

  it('query returns the entry reached', () => {
    expect(s.query('query-status/ret-type/status')).toMatchObject({ 'meta-type': 'enum' });
    expect(s.query('blockdev-add/arg-type/+file/filename')).toMatchObject({
      name: 'str',
      'meta-type': 'builtin',
    });
  });
});
