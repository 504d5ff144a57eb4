/**
 * One test per fault scenario of ../shared/reference/qmp-notes.md (numbered as there), against the
 * scriptable fake QMP server from @vmm/test-utils.
 */
import { spawnSync } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { getEventListeners } from 'node:events';
import { closeSync, openSync, readlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { recvWithFds } from '@vmm/fdpass';
import {
  activeResources,
  type FakeQmpOptions,
  type FakeQmpServer,
  makeTempDir,
  openFds,
  qemuGreeting,
  resourcesAdded,
  startFakeQmp,
} from '@vmm/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  connectQmp,
  QMP_STATES,
  QmpAbortError,
  QmpClient,
  type QmpClientOptions,
  QmpCommandError,
  QmpError,
  type QmpEvent,
  type QmpState,
  REDACTED,
} from '../src/index.js';

const servers: FakeQmpServer[] = [];
const clients: QmpClient[] = [];

async function fake(options: FakeQmpOptions = {}): Promise<FakeQmpServer> {
  const s = await startFakeQmp(options);
  servers.push(s);
  return s;
}

async function connect(server: FakeQmpServer, options: QmpClientOptions = {}): Promise<QmpClient> {
  const c = await connectQmp(server.path, options);
  clients.push(c);
  return c;
}

function track(c: QmpClient): QmpClient {
  clients.push(c);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<QmpError> {
  try {
    await p;
  } catch (err) {
    expect(QmpError.is(err)).toBe(true);
    return err as QmpError;
  }
  throw new Error('expected a rejection');
}

/**
 * Watch the client sockets Node creates from now on (`net.client.socket` diagnostics channel) and
 * record the error each one reports: the transport failure exactly as the client sees it.
 */
function watchClientSockets(): { sockets: Socket[]; errors: string[]; stop(): void } {
  const sockets: Socket[] = [];
  const errors: string[] = [];
  const onSocket = (message: unknown): void => {
    const { socket } = message as { socket: Socket };
    sockets.push(socket);
    socket.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
  };
  diagnosticsChannel.subscribe('net.client.socket', onSocket);
  return { sockets, errors, stop: () => diagnosticsChannel.unsubscribe('net.client.socket', onSocket) };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('#1 socket missing / refused', () => {
  it('rejects at once with QMP_CONNECT_FAILED (ENOENT) without a retry policy', async () => {
    const t0 = Date.now();
    const err = await rejection(connectQmp('/tmp/vmm-no-such-dir/qmp.sock'));
    expect(err.code).toBe('QMP_CONNECT_FAILED');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('retries until the server appears when connectTimeout is set', async () => {
    await using dir = await makeTempDir('vmm-q1-');
    const path = dir.join('late.sock');
    const pending = connectQmp(path, { connectTimeout: 5000 });
    await new Promise((r) => setTimeout(r, 150));
    await fake({ path });
    const c = track(await pending);
    expect(c.state).toBe('ready');
  });

  it('stops retrying as soon as the given pid has exited', async () => {
    const child = spawnSync('true');
    const t0 = Date.now();
    const err = await rejection(
      connectQmp('/tmp/vmm-no-such-dir/q.sock', { connectTimeout: 10_000, pid: child.pid ?? 1 << 22 }),
    );
    expect(err.code).toBe('QMP_CONNECT_FAILED');
    expect(err.message).toMatch(/has exited/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('#2 no greeting', () => {
  it('times out with QMP_GREETING and destroys the socket', async () => {
    const server = await fake({ greeting: null });
    const err = await rejection(connectQmp(server.path, { greetingTimeout: 150 }));
    expect(err.code).toBe('QMP_GREETING');
    expect(err.message).toMatch(/no QMP greeting/);
    await server.connections[0]!.closed;
  });
});

describe('#3 first message is not a greeting', () => {
  it('HMP banner: QMP_GREETING quoting the first bytes', async () => {
    const server = await fake({
      greeting: "QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) ",
    });
    const err = await rejection(connectQmp(server.path));
    expect(err.code).toBe('QMP_GREETING');
    expect(err.message).toContain('QEMU 7.2.0 monitor');
  });

  it('a JSON object that is not a greeting', async () => {
    const server = await fake({ greeting: '{"return": {}}\r\n' });
    expect((await rejection(connectQmp(server.path))).code).toBe('QMP_GREETING');
  });

  it('awaitGreeting:false works with a peer that sends none (QGA-like)', async () => {
    const server = await fake({ greeting: null, handler: () => ({ return: 42 }) });
    const c = await connect(server, { awaitGreeting: false });
    expect(await c.executeUntyped('guest-sync', { id: 1 })).toBe(42);
  });
});

describe('#4 events before the greeting', () => {
  const ev = '{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}';

  it('skips up to the bound', async () => {
    const server = await fake({ preGreeting: [ev, '', ev, ev] });
    const c = await connect(server);
    expect(c.state).toBe('ready');
  });

  it('fails with QMP_GREETING past the bound', async () => {
    const server = await fake({ preGreeting: Array.from({ length: 5 }, () => ev) });
    const err = await rejection(connectQmp(server.path, { maxPreGreetingMessages: 4 }));
    expect(err.code).toBe('QMP_GREETING');
  });
});

describe('#5 greeting shape', () => {
  it('missing capabilities → QMP_GREETING', async () => {
    const server = await fake({
      greeting: { QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: '' } } },
    });
    expect((await rejection(connectQmp(server.path))).code).toBe('QMP_GREETING');
  });

  it('unknown capabilities and extra keys are accepted; only offered caps are enabled', async () => {
    const g = qemuGreeting(['foo']);
    (g.QMP as Record<string, unknown>).extra = true;
    const server = await fake({ greeting: g });
    const c = await connect(server);
    expect(c.greeting?.capabilities).toEqual(['foo']);
    expect(c.oobEnabled).toBe(false);
    expect(server.connections[0]!.requests[0]!.raw).toEqual({ execute: 'qmp_capabilities', id: 1 });
  });

  it('enables oob when offered', async () => {
    const server = await fake();
    const c = await connect(server);
    expect(c.oobEnabled).toBe(true);
    expect(server.connections[0]!.requests[0]!.arguments).toEqual({ enable: ['oob'] });
  });
});

describe('#6 negotiation error', () => {
  it('is fatal: QMP_NEGOTIATION with class and desc, connection closed', async () => {
    const server = await fake({
      autoNegotiate: false,
      handler: () => ({
        error: { class: 'GenericError', desc: "Parameter 'enable' does not accept value 'bogus'" },
      }),
    });
    const c = track(new QmpClient(server.path));
    const err = await rejection(c.ready);
    expect(err.code).toBe('QMP_NEGOTIATION');
    expect(err).toMatchObject({ errorClass: 'GenericError' });
    expect((await c.closed).reason).toBe('error');
    expect(c.state).toBe('closed');
  });
});

describe('#7 event between qmp_capabilities and its reply', () => {
  it('is routed as an event, not taken as the reply', async () => {
    const server = await fake({
      autoNegotiate: false,
      handler: (req, conn) => {
        if (req.command === 'qmp_capabilities') {
          conn.event('RESUME');
          return { return: {} };
        }
        return { return: { status: 'running', running: true, singlestep: false } };
      },
    });
    const c = track(new QmpClient(server.path));
    const seen: string[] = [];
    c.on('*', (e) => seen.push(e.event));
    await c.ready;
    expect(seen).toEqual(['RESUME']);
    expect((await c.execute('query-status')).status).toBe('running');
  });
});

describe('#8 messages split across reads', () => {
  it('1 byte per write, splitting UTF-8, CR/LF and \\u escapes, gives the same result', async () => {
    const server = await fake({
      handler: (req, conn) => {
        void conn.writeSlowly(
          `{"return": {"name": "é€\\u00E9\\r\\n"}, "id": ${JSON.stringify(req.id)}}\r\n`,
          {
            chunkSize: 1,
            delayMs: 1,
          },
        );
        return 'ignore';
      },
    });
    const c = await connect(server);
    expect(await c.execute('query-name')).toEqual({ name: 'é€é\r\n' });
  });
});

describe('#9 several messages in one read', () => {
  it('dispatches all in wire order; a throwing listener loses nothing', async () => {
    const server = await fake({
      handler: (req, conn) => {
        if (req.command !== 'first') return 'ignore';
        const second = conn.requests.find((r) => r.command === 'second');
        conn.write(
          `{"return": 1, "id": ${JSON.stringify(req.id)}}\r\n{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 0}}\r\n{"return": 2, "id": ${JSON.stringify(second?.id ?? -1)}}\r\n`,
        );
        return 'ignore';
      },
      capabilities: ['oob'],
    });
    const listenerErrors: unknown[] = [];
    const c = await connect(server, { onListenerError: (e) => listenerErrors.push(e) });
    const order: string[] = [];
    c.on('STOP', () => {
      order.push('event');
      throw new Error('listener bug');
    });
    // Both are written before the fake answers (window 8 with oob).
    const second = c.executeUntyped('second');
    const first = c.executeUntyped('first');
    const p1 = first.then((v) => order.push(`first=${v}`));
    const p2 = second.then((v) => order.push(`second=${v}`));
    await Promise.all([p1, p2]);
    expect(order).toEqual(['event', 'first=1', 'second=2']);
    expect(listenerErrors).toHaveLength(1);
  });
});

describe('#10 pretty multi-line JSON, braces and quotes in strings', () => {
  it('frames pretty output and strings with } {" and escaped CR/LF', async () => {
    const server = await fake({
      handler: (req) => ({
        raw: `{\r\n    "error": {\r\n        "class": "GenericError",\r\n        "desc": "bad } value {\\"x\\": 1}\\r\\n"\r\n    },\r\n    "id": ${JSON.stringify(req.id)}\r\n}\r\n`,
      }),
    });
    const c = await connect(server);
    const err = await rejection(c.executeUntyped('x'));
    expect(err).toBeInstanceOf(QmpCommandError);
    expect((err as QmpCommandError).desc).toBe('bad } value {"x": 1}\r\n');
  });
});

describe('#19 QEMU refuses a command', () => {
  it('QmpCommandError carries the command, its wire id, the error class and desc, request and response', async () => {
    const server = await fake({
      handler: (req) =>
        req.command === 'device_del'
          ? { error: { class: 'DeviceNotFound', desc: "Device 'nope' not found" } }
          : { return: {} },
    });
    const c = await connect(server);
    await c.executeUntyped('warm-up');
    const err = await rejection(c.execute('device_del', { id: 'nope' }));
    const req = server.connections[0]!.requests.at(-1)!;
    expect(req.command).toBe('device_del');
    expect(typeof req.id).toBe('number');
    expect(err).toBeInstanceOf(QmpCommandError);
    const ce = err as QmpCommandError;
    expect(ce.name).toBe('QmpCommandError');
    expect(ce.code).toBe('QMP_COMMAND_FAILED');
    expect(ce.command).toBe('device_del');
    expect(ce.id).toBe(req.id);
    expect(ce.errorClass).toBe('DeviceNotFound');
    expect(ce.desc).toBe("Device 'nope' not found");
    expect(ce.message).toBe("device_del: DeviceNotFound: Device 'nope' not found");
    expect(ce.request).toEqual({ execute: 'device_del', arguments: { id: 'nope' }, id: req.id });
    expect(ce.response).toEqual({
      error: { class: 'DeviceNotFound', desc: "Device 'nope' not found" },
      id: req.id,
    });
    expect(JSON.parse(ce.raw!)).toEqual(ce.response);
    // A refusal is not a transport failure: the connection stays usable.
    expect(await c.executeUntyped('after')).toEqual({});
  });
});

describe('#11/#12 malformed or non-object frames', () => {
  it.each([
    ['malformed JSON', '{"return": }\r\n'],
    ['NaN', '{"return": NaN}\r\n'],
    ['a JSON array', '[1, 2]\r\n'],
    ['a number', '42\r\n'],
    ['a raw newline inside a string', '{"return": "a\nb"}\r\n'],
  ])('%s: QMP_PROTOCOL with the raw snippet for every pending command, then disconnect', async (_n, raw) => {
    const server = await fake({ handler: (req) => (req.command === 'bad' ? { raw } : 'ignore') });
    const hooked: QmpError[] = [];
    const c = await connect(server, { onProtocolError: (e) => hooked.push(e) });
    const other = c.executeUntyped('other');
    const err = await rejection(c.executeUntyped('bad'));
    expect(err.code).toBe('QMP_PROTOCOL');
    expect(err.raw).toContain(raw.trim().slice(0, 5));
    expect((await rejection(other)).code).toBe('QMP_PROTOCOL');
    const info = await c.closed;
    expect(info.reason).toBe('error');
    // The hook saw the one protocol error, which is also the close error and each command's cause.
    expect(hooked).toHaveLength(1);
    expect(hooked[0]).toBeInstanceOf(QmpError);
    expect(hooked[0]!.code).toBe('QMP_PROTOCOL');
    expect(hooked[0]!.raw).toBe(raw.trimEnd());
    expect(info.error).toBe(hooked[0]);
    expect(err.cause).toBe(hooked[0]);
  });

  it('protocolErrorPolicy continue: only in-flight commands fail, the connection stays', async () => {
    const server = await fake({
      handler: (req) => (req.command === 'bad' ? { raw: '[1]\r\n' } : { return: 7 }),
    });
    const c = await connect(server, { protocolErrorPolicy: 'continue' });
    expect((await rejection(c.executeUntyped('bad'))).code).toBe('QMP_PROTOCOL');
    expect(await c.executeUntyped('good')).toBe(7);
  });
});

describe('#13 oversized / never-terminated message', () => {
  it('aborts at maxMessageBytes with QMP_MESSAGE_TOO_LARGE and frees the buffer', async () => {
    const server = await fake({
      handler: (_req, conn) => {
        conn.write('{"return": "');
        const chunk = 'a'.repeat(64 * 1024);
        for (let i = 0; i < 32; i++) conn.write(chunk);
        return 'ignore';
      },
    });
    const c = await connect(server, { maxMessageBytes: 256 * 1024 });
    const err = await rejection(c.executeUntyped('flood'));
    expect(err.code).toBe('QMP_MESSAGE_TOO_LARGE');
    expect((await c.closed).error?.code).toBe('QMP_MESSAGE_TOO_LARGE');
  });
});

describe('#14 large legitimate replies', () => {
  it('a 5 MB reply succeeds', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024);
    const server = await fake({ handler: () => ({ return: big }) });
    const c = await connect(server);
    expect(((await c.executeUntyped('big')) as string).length).toBe(big.length);
  });
});

describe('#16 reply with an unknown id', () => {
  it('is dropped and reported; the right command still gets its own reply', async () => {
    const stray: unknown[] = [];
    const server = await fake({
      handler: (_req, conn) => {
        conn.send({ return: { wrong: true }, id: 'nope' });
        conn.send({ return: { wrong: true }, id: 99999 });
        return { return: { right: true } };
      },
    });
    const c = await connect(server, { onUnroutable: (m) => stray.push(m.id) });
    expect(await c.executeUntyped('x')).toEqual({ right: true });
    expect(stray).toEqual(['nope', 99999]);
    expect(c.stats.unroutable).toBe(2);
  });
});

describe('#17 error without an id', () => {
  it('fails pending commands with QMP_PROTOCOL and disconnects (default)', async () => {
    const server = await fake({
      handler: () => ({
        raw: '{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}\r\n',
      }),
    });
    const c = await connect(server);
    const err = await rejection(c.executeUntyped('x'));
    expect(err.code).toBe('QMP_PROTOCOL');
    expect(err.message).toMatch(/without an id/);
    expect(c.state).toBe('closed');
  });
});

describe('#18 reply with an id but neither return nor error', () => {
  it.each([
    ['no return/error', (id: unknown) => ({ raw: `{"id": ${JSON.stringify(id)}, "foo": 1}\r\n` })],
    [
      'error without desc',
      (id: unknown) => ({ raw: `{"id": ${JSON.stringify(id)}, "error": {"class": "X"}}\r\n` }),
    ],
  ])('%s: QMP_BAD_REPLY for that command only', async (_n, make) => {
    const server = await fake({ handler: (req) => (req.command === 'odd' ? make(req.id) : { return: 1 }) });
    const c = await connect(server);
    const err = await rejection(c.executeUntyped('odd'));
    expect(err.code).toBe('QMP_BAD_REPLY');
    expect(err.raw).toContain('"id"');
    expect(await c.executeUntyped('next')).toBe(1);
  });

  it('a typed reply that fails its schema is QMP_BAD_REPLY naming the field', async () => {
    const server = await fake({ handler: () => ({ return: { running: 'yes', status: 'running' } }) });
    const c = await connect(server);
    const err = await rejection(c.execute('query-status'));
    expect(err.code).toBe('QMP_BAD_REPLY');
    expect(err.message).toContain('running');
  });
});

describe('#20 server never replies', () => {
  it('QMP_TIMEOUT; the id stays reserved and the late reply is swallowed; the connection stays usable', async () => {
    let stuckId: unknown;
    const server = await fake({
      handler: (req) => {
        if (req.command === 'stuck') {
          stuckId = req.id;
          return 'ignore';
        }
        return { return: 'ok' };
      },
    });
    const c = await connect(server);
    const err = await rejection(c.executeUntyped('stuck', undefined, { timeout: 100 }));
    expect(err.code).toBe('QMP_TIMEOUT');
    expect(err).toMatchObject({ command: 'stuck', timeoutMs: 100 });
    // While its reply may still come, no other command carries the stuck id.
    expect(await c.executeUntyped('before')).toBe('ok');
    const ids = () => server.connections[0]!.requests.map((r) => r.id);
    expect(ids().at(-1)).not.toBe(stuckId);
    server.connections[0]!.send({ return: 'late', id: stuckId });
    expect(await c.executeUntyped('next')).toBe('ok');
    expect(c.stats.lateReplies).toBe(1);
    expect(c.stats.unroutable).toBe(0);
    // Once the late reply is in, the id is free again: the pool stays as small as what is in flight.
    expect(await c.executeUntyped('after')).toBe('ok');
    expect(new Set(ids().slice(1)).size).toBeLessThanOrEqual(2);
  });

  it('requests are compact JSON with small reused integer ids and no line terminator', async () => {
    const server = await fake({ handler: () => ({ return: {} }) });
    const c = await connect(server);
    for (let i = 0; i < 5; i++) await c.executeUntyped('query-status');
    await Promise.all(Array.from({ length: 20 }, () => c.executeUntyped('query-status')));
    const conn = server.connections[0]!;
    // Negotiation used id 1 and gave it back; one at a time, every command reuses it.
    expect(conn.received()).toMatch(
      /^\{"execute":"qmp_capabilities","arguments":\{"enable":\["oob"\]\},"id":1\}\{"execute":"query-status","id":1\}\{/,
    );
    expect(conn.requests.slice(1, 6).map((r) => r.id)).toEqual([1, 1, 1, 1, 1]);
    // Pipelined: never more distinct ids than the window.
    const pipelined = conn.requests.slice(6).map((r) => r.id as number);
    expect(Math.max(...pipelined)).toBeLessThanOrEqual(8);
    expect(conn.received()).not.toMatch(/[\r\n]/);
    expect(conn.received()).toMatch(/\}\{"execute":"query-status","id":\d\}$/);
  });

  it('disconnectOnTimeout closes the connection', async () => {
    const server = await fake({ handler: () => 'ignore' });
    const c = await connect(server, { disconnectOnTimeout: true });
    expect((await rejection(c.executeUntyped('stuck', undefined, { timeout: 50 }))).code).toBe('QMP_TIMEOUT');
    expect((await c.closed).error?.code).toBe('QMP_TIMEOUT');
  });
});

describe('#21 AbortSignal', () => {
  it('before the write: never sent; after the write: rejected, late reply swallowed, queue moves on', async () => {
    const held: Array<() => void> = [];
    const server = await fake({
      capabilities: [],
      handler: (req, conn) => {
        held.push(() => conn.send({ return: req.command, id: req.id }));
        return 'ignore';
      },
    });
    const c = await connect(server);
    expect(c.oobEnabled).toBe(false);
    const a = new AbortController();
    const b = new AbortController();
    const pa = c.executeUntyped('A', undefined, { signal: a.signal });
    const pb = c.executeUntyped('B', undefined, { signal: b.signal });
    const pc = c.executeUntyped('C');
    await vi.waitFor(() => expect(held).toHaveLength(1));
    b.abort(new Error('user'));
    const eb = await rejection(pb);
    expect(eb).toMatchObject({ code: 'QMP_ABORTED', sent: false });
    a.abort();
    const ea = await rejection(pa);
    expect(ea).toMatchObject({ code: 'QMP_ABORTED', sent: true });
    // C was written as soon as A's slot was freed; B never was.
    await vi.waitFor(() => expect(held).toHaveLength(2));
    held[0]!(); // late reply to A: swallowed
    held[1]!();
    expect(await pc).toBe('C');
    expect(server.connections[0]!.requests.map((r) => r.command)).toEqual(['qmp_capabilities', 'A', 'C']);
    expect(c.stats.lateReplies).toBe(1);
  });

  it('an already-aborted signal rejects at once', async () => {
    const server = await fake();
    const c = await connect(server);
    expect(await rejection(c.executeUntyped('x', undefined, { signal: AbortSignal.abort() }))).toMatchObject({
      code: 'QMP_ABORTED',
      sent: false,
    });
  });
});

describe('waitFor with an AbortSignal', () => {
  it('aborting rejects with QMP_ABORTED and leaves no listener, waiter or timer behind', async () => {
    const server = await fake();
    const c = await connect(server);
    const resBefore = activeResources().sort();
    const ac = new AbortController();
    const waiting = rejection(c.waitFor(['STOP', 'RESUME'], { signal: ac.signal, timeout: 60_000 }));
    // One listener per name plus the waiter itself, and one abort listener on the signal.
    expect(c.listenerCount).toBe(3);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    const reason = new Error('the user gave up');
    ac.abort(reason);
    const err = await waiting;
    expect(err).toBeInstanceOf(QmpAbortError);
    expect(err.code).toBe('QMP_ABORTED');
    expect(err.message).toBe('waiting for STOP|RESUME: aborted');
    expect(err.cause).toBe(reason);
    expect(c.listenerCount).toBe(0);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(resourcesAdded(resBefore, activeResources())).toEqual([]);
    // The event it waited for now reaches nobody, and the connection is unaffected.
    const next = c.waitFor('STOP');
    expect(c.listenerCount).toBe(2);
    server.connections[0]!.event('STOP');
    expect((await next).event).toBe('STOP');
    expect(c.listenerCount).toBe(0);
    expect(c.state).toBe('ready');
  });

  it('an already-aborted signal rejects at once and registers nothing', async () => {
    const server = await fake();
    const c = await connect(server);
    const signal = AbortSignal.abort(new Error('too late'));
    const err = await rejection(c.waitFor('STOP', { signal }));
    expect(err).toMatchObject({ code: 'QMP_ABORTED', message: 'waiting for STOP: aborted' });
    expect((err.cause as Error).message).toBe('too late');
    expect(c.listenerCount).toBe(0);
  });

  it('resolving removes its abort listener from the signal', async () => {
    const server = await fake();
    const c = await connect(server);
    const ac = new AbortController();
    const waiting = c.waitFor('STOP', { signal: ac.signal });
    server.connections[0]!.event('STOP');
    expect((await waiting).event).toBe('STOP');
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    expect(c.listenerCount).toBe(0);
  });
});

describe('#22 server closes mid-command', () => {
  it('rejects every pending command once with QMP_DISCONNECTED; iterators end; later calls QMP_NOT_CONNECTED', async () => {
    const server = await fake({
      capabilities: [],
      handler: (req) => (req.command === 'die' ? 'close' : 'ignore'),
    });
    const c = await connect(server);
    const it = c.events();
    const next = it.next();
    const errs = await Promise.all([
      rejection(c.executeUntyped('die')),
      rejection(c.executeUntyped('queued1')),
      rejection(c.executeUntyped('queued2')),
    ]);
    expect(errs.map((e) => e.code)).toEqual(['QMP_DISCONNECTED', 'QMP_DISCONNECTED', 'QMP_DISCONNECTED']);
    expect(errs[0]!.cause).toBeInstanceOf(QmpError);
    expect(await next).toEqual({ value: undefined, done: true });
    expect((await c.closed).reason).toBe('eof');
    expect((await rejection(c.executeUntyped('after'))).code).toBe('QMP_NOT_CONNECTED');
  });

  it('an iterator with onClose:throw throws the cause', async () => {
    const server = await fake({ handler: () => 'close' });
    const c = await connect(server);
    const it = c.events({ onClose: 'throw' });
    const next = it.next();
    await rejection(c.executeUntyped('die'));
    expect((await rejection(next)).code).toBe('QMP_TRANSPORT');
  });
});

describe('#23 quit / SHUTDOWN then EOF or ECONNRESET', () => {
  it.each([
    ['EOF after SHUTDOWN, no reply', 'end'],
    ['SHUTDOWN, reply, then EOF', 'reply'],
  ])('%s: quit resolves and the close is a normal shutdown', async (_n, how) => {
    const server = await fake({
      handler: (req, conn) => {
        if (req.command !== 'quit') return undefined;
        conn.event('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
        if (how === 'reply') conn.send({ return: {}, id: req.id });
        conn.end();
        return 'ignore';
      },
    });
    const watch = watchClientSockets();
    try {
      const c = await connect(server);
      const shutdown = c.waitFor('SHUTDOWN');
      expect(await c.execute('quit')).toEqual({});
      expect((await shutdown).data).toEqual({ guest: false, reason: 'host-qmp-quit' });
      expect(await c.closed).toEqual({ reason: 'shutdown', error: undefined });
      // A clean EOF: the client's socket reported no error.
      expect(watch.sockets).toHaveLength(1);
      expect(watch.errors).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  it('ECONNRESET after SHUTDOWN, no reply: quit resolves and the close is a normal shutdown', async () => {
    // QEMU reads its monitor one byte at a time, so when it exits on `quit` a request pipelined
    // behind it is still unread, and Linux resets the connection instead of ending it.
    const server = await fake({
      handler: (req, conn) => {
        if (req.command !== 'quit') return undefined;
        conn.stopReading();
        conn.event('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
        return 'ignore';
      },
    });
    const watch = watchClientSockets();
    try {
      const c = await connect(server);
      expect(c.oobEnabled).toBe(true); // window 8: the next command is written behind quit
      const shutdown = c.waitFor('SHUTDOWN');
      const quit = c.execute('quit');
      await shutdown;
      const late = rejection(c.execute('query-status'));
      const socket = watch.sockets[0]!;
      await vi.waitFor(() => {
        expect(c.stats.inFlight).toBe(2);
        expect(socket.writableLength).toBe(0);
      });
      const conn = server.connections[0]!;
      expect(conn.requests.map((r) => r.command)).toEqual(['qmp_capabilities', 'quit']);
      conn.reset();
      expect(await quit).toEqual({});
      expect(await c.closed).toEqual({ reason: 'shutdown', error: undefined });
      expect(watch.errors).toEqual(['ECONNRESET']);
      const err = await late;
      expect(err).toMatchObject({ code: 'QMP_DISCONNECTED', command: 'query-status' });
      expect(err.message).toMatch(/QEMU shut down/);
    } finally {
      watch.stop();
    }
  });

  it('ECONNRESET without quit or SHUTDOWN is a transport error caused by the ECONNRESET', async () => {
    const server = await fake({
      handler: (req, conn) => {
        if (req.command === 'stop-reading') conn.stopReading();
        return { return: {} };
      },
    });
    const watch = watchClientSockets();
    try {
      const c = await connect(server);
      await c.executeUntyped('stop-reading');
      const late = rejection(c.executeUntyped('unread'));
      const socket = watch.sockets[0]!;
      await vi.waitFor(() => {
        expect(c.stats.inFlight).toBe(1);
        expect(socket.writableLength).toBe(0);
      });
      server.connections[0]!.reset();
      const info = await c.closed;
      expect(info.reason).toBe('error');
      expect(info.error?.code).toBe('QMP_TRANSPORT');
      expect((info.error?.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNRESET');
      expect(watch.errors).toEqual(['ECONNRESET']);
      const err = await late;
      expect(err.code).toBe('QMP_DISCONNECTED');
      expect(err.cause).toBe(info.error);
    } finally {
      watch.stop();
    }
  });
});

describe('#24 write error / EPIPE', () => {
  it('rejects the command being written and everything pending, without crashing', async () => {
    const server = await fake({ capabilities: ['oob'], handler: () => 'close' });
    const c = await connect(server);
    const big = { blob: 'y'.repeat(8 * 1024 * 1024) };
    const results = await Promise.allSettled([
      c.executeUntyped('first'),
      c.executeUntyped('big', big),
      c.executeUntyped('after'),
    ]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.code).toBe('QMP_DISCONNECTED');
    }
    expect(c.state).toBe('closed');
  });
});

describe('#26 event before reply', () => {
  it.each([
    ['event first', true],
    ['reply first', false],
  ])('executeAndWaitFor resolves with both (%s)', async (_n, eventFirst) => {
    const server = await fake({
      handler: (req, conn) => {
        const ev = () => conn.event('DEVICE_DELETED', { device: 'd1', path: '/machine/peripheral/d1' });
        conn.event('DEVICE_DELETED', { device: 'other', path: '/x' });
        if (eventFirst) ev();
        conn.send({ return: {}, id: req.id });
        if (!eventFirst) setTimeout(ev, 10);
        return 'ignore';
      },
    });
    const c = await connect(server);
    const { reply, event } = await c.executeAndWaitFor(
      'device_del',
      { id: 'd1' },
      { event: 'DEVICE_DELETED', match: (e: QmpEvent) => (e.data as { device?: string }).device === 'd1' },
    );
    expect(reply).toEqual({});
    expect(event.data).toEqual({ device: 'd1', path: '/machine/peripheral/d1' });
    expect(c.listenerCount).toBe(0);
  });

  it.each(['POWERDOWN', 'SHUTDOWN'])(
    'executeAndWaitFor with anyOf resolves on %s (a listed event) and skips unlisted ones',
    async (name) => {
      const server = await fake({
        handler: (req, conn) => {
          if (req.command !== 'system_powerdown') return undefined;
          conn.event('STOP');
          conn.send({ return: {}, id: req.id });
          conn.event('RESUME');
          conn.event(name, name === 'SHUTDOWN' ? { guest: true, reason: 'guest-shutdown' } : undefined);
          return 'ignore';
        },
      });
      const c = await connect(server);
      const { reply, event } = await c.executeAndWaitFor('system_powerdown', undefined, {
        anyOf: ['POWERDOWN', 'SHUTDOWN'],
      });
      expect(reply).toEqual({});
      expect(event.event).toBe(name);
      expect(c.stats.events).toBe(3);
      expect(c.listenerCount).toBe(0);
    },
  );

  it('executeAndWaitFor with anyOf is not resolved by an event outside the list', async () => {
    const server = await fake({
      handler: (req, conn) => {
        conn.event('STOP');
        conn.send({ return: {}, id: req.id });
        conn.event('RESET', { guest: false, reason: 'host-qmp-system-reset' });
        return 'ignore';
      },
    });
    const c = await connect(server);
    const seen: string[] = [];
    c.on('*', (e) => seen.push(e.event));
    const err = await rejection(
      c.executeAndWaitFor('system_powerdown', undefined, { anyOf: ['POWERDOWN', 'SHUTDOWN'], timeout: 150 }),
    );
    expect(err.code).toBe('QMP_TIMEOUT');
    expect(err.message).toMatch(/replied, but no POWERDOWN\|SHUTDOWN event/);
    // Both unlisted events did arrive (before and after the reply) and were passed over.
    expect(seen).toEqual(['STOP', 'RESET']);
    expect(c.listenerCount).toBe(1);
  });

  it('a subscription made after the reply does not see the older event', async () => {
    const server = await fake({
      handler: (_req, conn) => {
        conn.event('DEVICE_DELETED', { device: 'd1', path: '/p' });
        return { return: {} };
      },
    });
    const c = await connect(server);
    await c.execute('device_del', { id: 'd1' });
    expect((await rejection(c.waitFor('DEVICE_DELETED', { timeout: 50 }))).code).toBe('QMP_TIMEOUT');
  });
});

describe('#28 burst of concurrent callers', () => {
  it.each([
    ['with oob', ['oob'], 8],
    ['without oob', [], 1],
  ])(
    '10,000 execute() at once complete in FIFO order (%s), window never exceeded',
    async (_n, caps, window) => {
      let maxInFlight = 0;
      let c!: QmpClient;
      const server = await fake({
        capabilities: caps,
        handler: (req) => {
          maxInFlight = Math.max(maxInFlight, c.stats.inFlight);
          return { return: req.arguments?.n };
        },
      });
      c = await connect(server);
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 10_000 }, (_, n) =>
          c.executeUntyped('echo', { n }).then((v) => order.push(v as number)),
        ),
      );
      expect(order).toEqual(Array.from({ length: 10_000 }, (_, n) => n));
      expect(maxInFlight).toBeLessThanOrEqual(window);
      expect(maxInFlight).toBeGreaterThan(0);
    },
  );

  it('commands issued before negotiation finishes are queued, not sent', async () => {
    const server = await fake({ handler: () => ({ return: 'ok' }) });
    const c = track(new QmpClient(server.path));
    const early = c.executeUntyped('early');
    expect(c.state).toBe('connecting');
    expect(await early).toBe('ok');
    expect(server.connections[0]!.requests.map((r) => r.command)).toEqual(['qmp_capabilities', 'early']);
  });
});

describe('event floods and slow consumers', () => {
  it('a never-read iterator and a slow listener do not delay replies; queues stay bounded', async () => {
    const server = await fake({
      handler: (_req, conn) => {
        const ev = `{"event": "BALLOON_CHANGE", "data": {"actual": 1}, "timestamp": {"seconds": 1, "microseconds": 1}}\r\n`;
        conn.write(ev.repeat(20_000));
        return { return: 'after-flood' };
      },
    });
    const c = await connect(server);
    const slow = c.events({ maxQueue: 100 });
    let seen = 0;
    c.on('BALLOON_CHANGE', () => {
      seen++;
    });
    expect(await c.executeUntyped('flood')).toBe('after-flood');
    expect(seen).toBe(20_000);
    expect(c.stats.droppedEvents).toBe(19_900);
    expect(c.stats.events).toBe(20_000);
    await slow.return?.();
  });
});

describe('lifecycle', () => {
  it('close() before ready rejects ready and queued commands, once, and resolves closed', async () => {
    const server = await fake({ greeting: null });
    const c = new QmpClient(server.path);
    const cmd = c.executeUntyped('early');
    const ready = c.ready.then(
      () => 'resolved',
      (e: QmpError) => e.code,
    );
    expect(c.state).toBe('connecting');
    const info = await c.close();
    expect(info).toEqual({ reason: 'client', error: undefined });
    expect(await ready).toBe('QMP_NOT_CONNECTED');
    expect((await rejection(cmd)).code).toBe('QMP_DISCONNECTED');
    expect(c.state).toBe('closed');
    expect(await c.close()).toEqual(info);
  });

  it('close({ drain: true }) lets queued and in-flight commands finish and refuses new ones', async () => {
    const server = await fake({
      capabilities: [],
      handler: async (req) => {
        await new Promise((r) => setTimeout(r, 20));
        return { return: req.command };
      },
    });
    const c = await connect(server);
    const a = c.executeUntyped('a');
    const b = c.executeUntyped('b');
    const closing = c.close({ drain: true });
    expect(c.state).toBe('closing');
    expect((await rejection(c.executeUntyped('late'))).code).toBe('QMP_NOT_CONNECTED');
    expect(await a).toBe('a');
    expect(await b).toBe('b');
    expect(await closing).toEqual({ reason: 'client', error: undefined });
  });

  it('close({ drain: true, drainTimeout }) gives up on a stuck command', async () => {
    const server = await fake({ handler: () => 'ignore' });
    const c = await connect(server);
    const stuck = rejection(c.executeUntyped('stuck'));
    await c.close({ drain: true, drainTimeout: 50 });
    expect((await stuck).code).toBe('QMP_DISCONNECTED');
  });

  it('goes connecting → negotiating → ready → closing → closed, in QMP_STATES order', async () => {
    const server = await fake({ greeting: null, autoNegotiate: false, handler: () => 'ignore' });
    const c = track(new QmpClient(server.path));
    const seen: QmpState[] = [];
    const note = (): void => {
      if (seen.at(-1) !== c.state) seen.push(c.state);
    };
    let readySettled = false;
    void c.ready.finally(() => {
      readySettled = true;
    });
    note();
    expect(c.state).toBe('connecting');
    const conn = await server.nextConnection();
    // Connected, but no greeting yet: the client waits in 'negotiating'.
    await vi.waitFor(() => expect(c.state).not.toBe('connecting'));
    note();
    expect(c.state).toBe('negotiating');
    conn.send(qemuGreeting([]));
    // Greeting in, qmp_capabilities sent but unanswered: still 'negotiating'.
    const caps = await conn.nextRequest();
    expect(caps.command).toBe('qmp_capabilities');
    note();
    expect(c.state).toBe('negotiating');
    expect(readySettled).toBe(false);
    conn.send({ return: {}, id: caps.id });
    await c.ready;
    note();
    expect(c.state).toBe('ready');
    const inFlight = c.executeUntyped('slow');
    const slow = await conn.nextRequest();
    expect(slow.command).toBe('slow');
    // Draining with a command in flight: 'closing' until its reply arrives.
    const closing = c.close({ drain: true });
    note();
    expect(c.state).toBe('closing');
    conn.send({ return: 'done', id: slow.id });
    expect(await inFlight).toBe('done');
    expect(await closing).toEqual({ reason: 'client', error: undefined });
    note();
    expect(seen).toEqual(['connecting', 'negotiating', 'ready', 'closing', 'closed']);
    expect(seen).toEqual(QMP_STATES.filter((s) => s !== 'idle'));
  });
});

describe('#29 fd passing', () => {
  it('sends the fd on the same sendmsg as the command; the caller may close its copy at once', async () => {
    const server = await fake({ recvFds: (s) => recvWithFds(s) });
    const c = await connect(server);
    await c.execute('query-status').catch(() => undefined);
    const fd = openSync('/etc/hostname', 'r');
    const p = c.execute('getfd', { fdname: 'f1' }, { fds: [fd] });
    closeSync(fd);
    await p;
    const req = server.connections[0]!.requests.find((r) => r.command === 'getfd')!;
    expect(req.fds).toHaveLength(1);
    expect(readlinkSync(`/proc/self/fd/${req.fds[0]}`)).toBe('/etc/hostname');
    closeSync(req.fds[0]!);
  });

  it('serialises fd-carrying commands: each batch arrives with its own command', async () => {
    const server = await fake({ recvFds: (s) => recvWithFds(s) });
    const c = await connect(server);
    const a = openSync('/etc/hostname', 'r');
    const b = openSync('/etc/passwd', 'r');
    await Promise.all([
      c.execute('add-fd', {}, { fds: [a] }).catch(() => undefined),
      c.executeUntyped('plain'),
      c.execute('add-fd', {}, { fds: [b] }).catch(() => undefined),
    ]);
    closeSync(a);
    closeSync(b);
    const reqs = server.connections[0]!.requests.filter((r) => r.command !== 'qmp_capabilities');
    expect(reqs.map((r) => [r.command, r.fds.length])).toEqual([
      ['add-fd', 1],
      ['plain', 0],
      ['add-fd', 1],
    ]);
    expect(readlinkSync(`/proc/self/fd/${reqs[2]!.fds[0]}`)).toBe('/etc/passwd');
    for (const r of reqs) for (const f of r.fds) closeSync(f);
  });

  it('rejects locally on a TCP transport', async () => {
    const tcp: Server = createServer((s) => {
      s.on('error', () => undefined);
      s.write(`${JSON.stringify(qemuGreeting([]))}\r\n`);
      s.on('data', (d) => {
        const id = JSON.parse(d.toString().trim()).id;
        s.write(`{"return": {}, "id": ${id}}\r\n`);
      });
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    try {
      const port = (tcp.address() as { port: number }).port;
      const c = track(await connectQmp({ host: '127.0.0.1', port }));
      expect(c.transport).toBe('tcp');
      const err = await rejection(c.execute('getfd', { fdname: 'x' }, { fds: [0] }));
      expect(err.code).toBe('QMP_FD_PASSING_UNAVAILABLE');
      await c.close();
    } finally {
      await new Promise((r) => tcp.close(r));
    }
  });
});

describe('oob rules', () => {
  it('exec-oob without oob negotiated is rejected locally and never sent', async () => {
    const server = await fake({ capabilities: [] });
    const c = await connect(server);
    expect((await rejection(c.executeUntyped('migrate-pause', undefined, { oob: true }))).code).toBe(
      'QMP_OOB_UNAVAILABLE',
    );
    expect(server.connections[0]!.requests.map((r) => r.command)).toEqual(['qmp_capabilities']);
  });

  it('exec-oob only for commands whose schema allows it; never the legacy control/run-oob syntax', async () => {
    const server = await fake({
      handler: (req) =>
        req.command === 'query-qmp-schema'
          ? {
              return: [
                {
                  name: 'migrate-pause',
                  'meta-type': 'command',
                  'arg-type': '0',
                  'ret-type': '0',
                  'allow-oob': true,
                },
                { name: 'query-status', 'meta-type': 'command', 'arg-type': '0', 'ret-type': '1' },
              ],
            }
          : { return: {} },
    });
    const c = await connect(server);
    expect((await rejection(c.executeUntyped('query-status', undefined, { oob: true }))).code).toBe(
      'QMP_OOB_UNAVAILABLE',
    );
    await c.executeUntyped('migrate-pause', undefined, { oob: true });
    const reqs = server.connections[0]!.requests;
    expect(reqs.find((r) => r.command === 'migrate-pause')?.oob).toBe(true);
    for (const r of reqs) expect(r.raw).not.toHaveProperty('control');
  });
});

describe('validation and logging', () => {
  it('typed arguments are validated before sending (QMP_ENCODE names the field)', async () => {
    const server = await fake();
    const c = await connect(server);
    // @ts-expect-error wrong type on purpose
    const err = await rejection(c.execute('balloon', { value: 'big' }));
    expect(err.code).toBe('QMP_ENCODE');
    expect(err.message).toContain('value');
    expect(server.connections[0]!.requests).toHaveLength(1);
  });

  it('onReceive gets every received frame, redacted; the caller still gets the real values', async () => {
    const received: string[] = [];
    let replyId: unknown;
    const server = await fake({
      handler: (req, conn) => {
        replyId = req.id;
        conn.event('VNC_PASSWORD_SEEN', { password: 'hunter2', client: 'c1' });
        return { return: { host: 'h', password: 'hunter2', nested: [{ passphrase: 'hunter2', ok: 1 }] } };
      },
    });
    const c = await connect(server, { onReceive: (f) => received.push(f) });
    const value = await c.executeUntyped('query-secret-thing');
    expect(value).toEqual({ host: 'h', password: 'hunter2', nested: [{ passphrase: 'hunter2', ok: 1 }] });
    expect(received.join('\n')).not.toContain('hunter2');
    expect(received.map((f) => JSON.parse(f))).toEqual([
      qemuGreeting(['oob']),
      { return: {}, id: 1 },
      {
        event: 'VNC_PASSWORD_SEEN',
        data: { password: REDACTED, client: 'c1' },
        timestamp: { seconds: 1700000000, microseconds: 1 },
      },
      { return: { host: 'h', password: REDACTED, nested: [{ passphrase: REDACTED, ok: 1 }] }, id: replyId },
    ]);
    expect(c.stats.received).toBe(received.length);
  });

  it('onSend/onReceive get redacted frames', async () => {
    const sent: string[] = [];
    const server = await fake();
    const c = await connect(server, { onSend: (f) => sent.push(f) });
    await c.execute('object-add', { 'qom-type': 'secret', id: 's0', data: 'hunter2' });
    await c.executeUntyped('set_password', { protocol: 'vnc', password: 'hunter2' });
    expect(sent.join('\n')).not.toContain('hunter2');
    expect(sent.join('\n')).toContain('<redacted>');
    expect(server.connections[0]!.received()).toContain('hunter2');
  });
});

describe('no leaks after close()', () => {
  it('sockets, timers and listeners are all released', async () => {
    const server = await fake({ handler: (req, _conn) => (req.command === 'slow' ? 'ignore' : undefined) });
    const fdsBefore = openFds().filter((f) => f.includes('socket:')).length;
    const resBefore = activeResources().sort();
    const c = await connectQmp(server.path);
    c.on('STOP', () => undefined);
    const it = c.events();
    const settled = Promise.allSettled([
      c.waitFor('RESET', { timeout: 60_000 }),
      c.executeUntyped('slow', undefined, { timeout: 60_000 }),
      it.next(),
    ]);
    await c.execute('query-name').catch(() => undefined);
    await c.close();
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(c.listenerCount).toBe(0);
    // The server side of the connection closes asynchronously.
    await server.connections[0]!.closed;
    expect(resourcesAdded(resBefore, activeResources())).toEqual([]);
    expect(openFds().filter((f) => f.includes('socket:')).length).toBe(fdsBefore);
  });
});
