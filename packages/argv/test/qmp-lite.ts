/**
 * A minimal QMP client for these tests only (@vmm/argv is a leaf and must not depend on @vmm/qmp):
 * connect, negotiate, run commands one at a time, close. Every socket and timer is released.
 */
import { createConnection } from 'node:net';

export interface QmpLite {
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  close(): Promise<void>;
}

export async function connectQmp(path: string, timeoutMs = 10_000): Promise<QmpLite> {
  const socket = createConnection(path);
  socket.setEncoding('utf8');
  let buf = '';
  const waiting: Array<(msg: Record<string, unknown>) => void> = [];
  const queued: Array<Record<string, unknown>> = [];
  let failure: Error | undefined;
  socket.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      const msg = JSON.parse(line) as Record<string, unknown>;
      if ('event' in msg) continue;
      const w = waiting.shift();
      if (w) w(msg);
      else queued.push(msg);
    }
  });
  socket.on('error', (e) => {
    failure = e;
  });
  const next = (): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const q = queued.shift();
      if (q) return resolve(q);
      const timer = setTimeout(() => reject(new Error('QMP reply timed out')), timeoutMs);
      waiting.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const greeting = await next();
  if (!('QMP' in greeting)) throw new Error(`no QMP greeting: ${JSON.stringify(greeting)}`);
  const execute = async (command: string, args?: Record<string, unknown>): Promise<unknown> => {
    socket.write(
      `${JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args })}\n`,
    );
    const reply = await next();
    if ('error' in reply) throw new Error(`${command}: ${JSON.stringify(reply.error)}`);
    return reply.return;
  };
  await execute('qmp_capabilities');
  return {
    execute,
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.destroy();
      }),
  };
}
