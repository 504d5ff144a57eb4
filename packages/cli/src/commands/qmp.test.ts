import { PassThrough } from 'node:stream';
import { type FakeQmpServer, startFakeQmp } from '@vmm/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { parseJsonArgs, runQmpCommand } from './qmp.js';

async function run(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(args, { stdout, stderr, env: {} });
  return { code, out, err };
}

let server: FakeQmpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const handler: Parameters<typeof startFakeQmp>[0] = {
  handler: (req) => {
    if (req.command === 'query-status') return { return: { status: 'paused', running: false } };
    if (req.command === 'device_del')
      return { error: { class: 'DeviceNotFound', desc: "Device 'x' not found" } };
    if (req.command === 'human-monitor-command')
      return { return: `out: ${String(req.arguments?.['command-line'])}\r\n` };
    return { return: req.arguments ?? {} };
  },
};

describe('vmm qmp', () => {
  it('prints the reply as JSON', async () => {
    server = await startFakeQmp(handler);
    const r = await run(['qmp', server.path, 'query-status']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(r.out)).toEqual({ status: 'paused', running: false });
    expect((await run(['qmp', server.path, 'query-status', '--compact'])).out).toBe(
      '{"status":"paused","running":false}\n',
    );
  });

  it('passes JSON arguments', async () => {
    server = await startFakeQmp(handler);
    const r = await run(['qmp', server.path, 'echo', '{"id": "d1", "n": 2}']);
    expect(JSON.parse(r.out)).toEqual({ id: 'd1', n: 2 });
    expect(server.connections[0]!.requests[1]!.arguments).toEqual({ id: 'd1', n: 2 });
  });

  it('QEMU errors: exit 1 with class, desc and code; --json prints the error object', async () => {
    server = await startFakeQmp(handler);
    const r = await run(['qmp', server.path, 'device_del', '{"id":"x"}']);
    expect(r.code).toBe(1);
    expect(r.err).toBe("vmm: device_del: DeviceNotFound: Device 'x' not found [QMP_COMMAND_FAILED]\n");
    const j = await run(['qmp', '--json', server.path, 'device_del', '{"id":"x"}']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toEqual({ error: { class: 'DeviceNotFound', desc: "Device 'x' not found" } });
  });

  it('--hmp runs an HMP command line and prints its text', async () => {
    server = await startFakeQmp(handler);
    const r = await run(['qmp', '--hmp', server.path, 'info', 'status']);
    expect(r.out).toBe('out: info status\r\n');
  });

  it('usage errors exit 2', async () => {
    expect((await run(['qmp'])).code).toBe(2);
    expect((await run(['qmp', '/tmp/x.sock', 'c', '[1]'])).err).toMatch(/must be a JSON object/);
    expect((await run(['qmp', '/tmp/x.sock', 'c', '{'])).code).toBe(2);
    expect((await run(['qmp', '/tmp/x.sock', 'c', '--timeout', 'soon'])).code).toBe(2);
  });

  it('a missing socket is QMP_CONNECT_FAILED, exit 1', async () => {
    const r = await run(['qmp', '/tmp/vmm-nope/qmp.sock', 'query-status']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ENOENT.*QMP_CONNECT_FAILED/);
  });

  it('runQmpCommand and parseJsonArgs are reusable', async () => {
    server = await startFakeQmp(handler);
    expect(await runQmpCommand(server.path, 'query-status', undefined)).toEqual({
      status: 'paused',
      running: false,
    });
    expect(parseJsonArgs(undefined)).toBeUndefined();
    expect(parseJsonArgs('{"a":1}')).toEqual({ a: 1 });
  });
});
