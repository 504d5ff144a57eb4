import { describe, expectTypeOf, it } from 'vitest';
import type { QmpClient } from './client.js';
import type { RunState } from './commands/_common.js';
import type { QmpArgs, QmpReply } from './commands/index.js';
import type { QmpEvent } from './events.js';

declare const qmp: QmpClient;

describe('typed registry', () => {
  it('replies are typed per command', () => {
    expectTypeOf(qmp.execute('query-status')).resolves.toMatchTypeOf<{
      status: RunState;
      running: boolean;
    }>();
    expectTypeOf(qmp.execute('add-fd', {}, { fds: [3] })).resolves.toMatchTypeOf<{
      'fdset-id': number;
      fd: number;
    }>();
    expectTypeOf(qmp.hmp('info status')).resolves.toEqualTypeOf<string>();
    expectTypeOf<QmpReply<'query-cpus-fast'>[number]['cpu-index']>().toEqualTypeOf<number>();
  });

  it('arguments are checked: required members, types, no arguments for argument-less commands', () => {
    void qmp.execute('device_del', { id: 'd1' });
    void qmp.execute('device_add', { driver: 'virtio-blk-pci', id: 'd1', drive: 'n1', 'num-queues': 2 });
    // @ts-expect-error device_del needs an id
    void qmp.execute('device_del');
    // @ts-expect-error value must be a number
    void qmp.execute('balloon', { value: '1G' });
    // @ts-expect-error query-status takes no arguments
    void qmp.execute('query-status', { verbose: true });
    expectTypeOf<QmpArgs<'blockdev-del'>>().toEqualTypeOf<{ 'node-name': string }>();
  });

  it('unknown commands are untyped', () => {
    expectTypeOf(qmp.execute('x-debug-something', { a: 1 })).resolves.toEqualTypeOf<unknown>();
    expectTypeOf(qmp.executeUntyped('query-status')).resolves.toEqualTypeOf<unknown>();
  });

  it('events are typed by name', () => {
    qmp.on('DEVICE_DELETED', (e) => {
      expectTypeOf(e.data.path).toEqualTypeOf<string>();
    });
    expectTypeOf(qmp.waitFor('SHUTDOWN')).resolves.toEqualTypeOf<QmpEvent<'SHUTDOWN'>>();
    expectTypeOf<QmpEvent<'MY_EVENT'>['data']>().toEqualTypeOf<Record<string, unknown> | undefined>();
  });
});
