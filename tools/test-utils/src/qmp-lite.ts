import { createConnection } from 'node:net';

/** A QMP event as QEMU sends it. */
export interface TestQmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

/** A minimal QMP session for tests: see {@link connectTestQmp}. */
export interface TestQmp {
  /** Run one command and resolve with its `return`; rejects with QEMU's error class and desc. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Every event received so far, in order. */
  readonly events: readonly TestQmpEvent[];
  /** Resolve with the first event named `name` (already received or still to come) that `match` accepts. */
  waitForEvent(name: string, match?: (e: TestQmpEvent) => boolean, timeoutMs?: number): Promise<TestQmpEvent>;
  /** Destroy the socket; resolves once it is closed. */
  close(): Promise<void>;
}

/**
 * Connect to a QMP unix socket, check the greeting and negotiate. Commands run one at a time.
 *
 * For tests of packages that must not depend on `@vmm/qmp` (argv, qemu-arch, guest are leaves or
 * siblings of it): a deliberately tiny line-based client, not a substitute for the real one. Every
 * wait is bounded by `timeoutMs`; `close()` releases the socket and no timer outlives a call.
 */
export async function connectTestQmp(path: string, timeoutMs = 10_000): Promise<TestQmp> {
  const socket = createConnection(path);
  socket.setEncoding('utf8');
  let buf = '';
  const replies: Record<string, unknown>[] = [];
  const events: TestQmpEvent[] = [];
  const wakers = new Set<() => void>();
  let failure: Error | undefined;
  const wakeAll = (): void => {
    for (const w of [...wakers]) w();
  };
  socket.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (typeof msg.event === 'string') events.push(msg as unknown as TestQmpEvent);
      else replies.push(msg);
    }
    wakeAll();
  });
  const fail = (e: Error): void => {
    failure ??= e;
    wakeAll();
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('QMP socket closed')));

  /** Wait until `ready()` returns a value, a failure happens, or the deadline passes. */
  const until = async <T>(ready: () => T | undefined, what: string, ms: number): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = ready();
      if (value !== undefined) return value;
      if (failure !== undefined) throw failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`QMP: no ${what} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const waker = (): void => {
          clearTimeout(timer);
          wakers.delete(waker);
          resolve();
        };
        const timer = setTimeout(waker, left);
        wakers.add(waker);
      });
    }
  };
  const nextReply = (): Promise<Record<string, unknown>> => until(() => replies.shift(), 'reply', timeoutMs);

  const greeting = await nextReply();
  if (!('QMP' in greeting)) throw new Error(`QMP: unexpected greeting ${JSON.stringify(greeting)}`);
  const execute = async (command: string, args?: Record<string, unknown>): Promise<unknown> => {
    socket.write(
      `${JSON.stringify({ execute: command, ...(args === undefined ? {} : { arguments: args }) })}\n`,
    );
    const reply = await nextReply();
    if ('error' in reply) throw new Error(`QMP ${command}: ${JSON.stringify(reply.error)}`);
    return reply.return;
  };
  await execute('qmp_capabilities');
  return {
    execute,
    events,
    waitForEvent: (name, match = () => true, ms = timeoutMs) =>
      until(() => events.find((e) => e.event === name && match(e)), `${name} event`, ms),
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.destroy();
      }),
  };
}
