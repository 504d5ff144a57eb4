import { createConnection } from 'node:net';
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
});
