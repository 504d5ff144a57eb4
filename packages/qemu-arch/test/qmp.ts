/**
 * A minimal QMP client for these tests (qemu-arch may not depend on @vmm/qmp, a sibling): connect,
 * negotiate, run commands one at a time, skip events. Every wait is bounded; `close()` frees the socket.
 */
import { createConnection, type Socket } from 'node:net';

export interface TestQmp {
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

export async function connectQmp(path: string, timeoutMs = 10_000): Promise<TestQmp> {
  const socket: Socket = createConnection(path);
  socket.setEncoding('utf8');
  let buf = '';
  const frames: Record<string, unknown>[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  socket.on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      const msg = JSON.parse(line) as Record<string, unknown>;
      if ('event' in msg) continue;
      frames.push(msg);
    }
    wake?.();
  });
  const fail = (e: Error): void => {
    failure = e;
    wake?.();
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('QMP socket closed')));

  const next = async (): Promise<Record<string, unknown>> => {
    const deadline = Date.now() + timeoutMs;
    while (frames.length === 0) {
      if (failure !== undefined) throw failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`QMP: no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
    return frames.shift() as Record<string, unknown>;
  };

  const greeting = await next();
  if (!('QMP' in greeting)) throw new Error(`QMP: unexpected greeting ${JSON.stringify(greeting)}`);
  const execute = async (command: string, args?: Record<string, unknown>): Promise<unknown> => {
    socket.write(
      `${JSON.stringify({ execute: command, ...(args === undefined ? {} : { arguments: args }) })}\n`,
    );
    const reply = await next();
    if ('error' in reply) throw new Error(`QMP ${command}: ${JSON.stringify(reply.error)}`);
    return reply.return;
  };
  await execute('qmp_capabilities');
  return { execute, close: () => socket.destroy() };
}
