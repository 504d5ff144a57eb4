import { createConnection, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startFakeQmp } from '../src/index.js';

function collect(path: string, send: string[], frames: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const got: string[] = [];
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        got.push(buf.slice(0, nl).trim());
        buf = buf.slice(nl + 1);
        if (got.length === 1) for (const m of send) s.write(`${m}\n`);
      }
      if (got.length >= frames) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

/** Connect, wait for the greeting, and record how the connection ends (error code or EOF). */
async function greeted(path: string): Promise<{ socket: Socket; ended: Promise<string> }> {
  const socket = createConnection(path);
  const ended = new Promise<string>((resolve) => {
    let how = 'close without end';
    socket.on('end', () => {
      how = 'eof';
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      how = e.code ?? e.message;
    });
    socket.on('close', () => resolve(how));
  });
  socket.resume();
  await new Promise((r) => socket.once('data', r));
  return { socket, ended };
}

/** Write and wait until the bytes left the socket for the kernel (the peer may not have read them). */
function writeFlushed(socket: Socket, text: string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(text, (err) => (err ? reject(err) : resolve())));
}

describe('startFakeQmp', () => {
  it('greets, negotiates, runs the handler script, and records requests', async () => {
    await using server = await startFakeQmp({
      handler: (req) =>
        req.command === 'query-status'
          ? { return: { status: 'running' } }
          : { error: { class: 'CommandNotFound', desc: 'nope' } },
    });
    const frames = await collect(
      server.path,
      [
        '{"execute":"qmp_capabilities","id":1}',
        '{"execute":"query-status","id":2}',
        '{"execute":"x","id":3}',
      ],
      4,
    );
    expect(JSON.parse(frames[0]!)).toHaveProperty('QMP.capabilities', ['oob']);
    expect(frames.slice(1).map((f) => JSON.parse(f))).toEqual([
      { return: {}, id: 1 },
      { return: { status: 'running' }, id: 2 },
      { error: { class: 'CommandNotFound', desc: 'nope' }, id: 3 },
    ]);
    const conn = server.connections[0]!;
    expect(conn.requests.map((r) => r.command)).toEqual(['qmp_capabilities', 'query-status', 'x']);
  });

  it('sends raw pre-greeting text and answers unparsable input with an id-less error', async () => {
    await using server = await startFakeQmp({ preGreeting: ['{"event":"STOP"}'] });
    const frames = await collect(server.path, ['{"execute": }'], 3);
    expect(frames[0]).toBe('{"event":"STOP"}');
    expect(JSON.parse(frames[2]!)).toEqual({
      error: { class: 'GenericError', desc: 'JSON parse error, expecting value' },
    });
  });

  it.each([
    ['from a handler', true],
    ['from the test', false],
  ])(
    'stopReading() %s, then reset(): the unread bytes make the client read fail with ECONNRESET',
    async (_n, inHandler) => {
      await using server = await startFakeQmp({
        handler: (req, conn) => {
          if (req.command === 'stop-reading' && inHandler) conn.stopReading();
          return undefined;
        },
      });
      const { socket, ended } = await greeted(server.path);
      const conn = await server.nextConnection();
      const replied = new Promise((r) => socket.once('data', r));
      await writeFlushed(socket, '{"execute":"stop-reading","id":1}');
      await replied;
      if (!inHandler) conn.stopReading();
      await writeFlushed(socket, '{"execute":"query-status","id":2}');
      // Give the fake every chance to read it if it still could.
      await new Promise((r) => setTimeout(r, 20));
      expect(conn.requests.map((r) => r.command)).toEqual(['stop-reading']);
      expect(conn.received()).not.toContain('query-status');
      conn.reset();
      expect(await ended).toBe('ECONNRESET');
    },
  );

  it('reset() or destroy() with nothing unread is a plain EOF for the client', async () => {
    await using server = await startFakeQmp();
    const a = await greeted(server.path);
    (await server.nextConnection()).reset();
    expect(await a.ended).toBe('eof');
    const b = await greeted(server.path);
    const conn = await server.nextConnection();
    await writeFlushed(b.socket, '{"execute":"qmp_capabilities","id":1}');
    await conn.nextRequest();
    conn.destroy();
    expect(await b.ended).toBe('eof');
  });
});
