import { closeSync, openSync, readlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { makeTempDir } from '@vmm/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeFd,
  dupFd,
  FdpassError,
  isAvailable,
  recvWithFds,
  socketFd,
  writeWithFds,
} from '../src/index.js';

interface Pair {
  client: Socket;
  server: Socket;
  close(): Promise<void>;
}

const pairs: Pair[] = [];
afterEach(async () => {
  await Promise.all(pairs.splice(0).map((p) => p.close()));
});

/** A connected unix socket pair; the server side is paused so only recvmsg reads it. */
async function pair(): Promise<Pair> {
  const dir = await makeTempDir('vmm-fdp-');
  const path = dir.join('s.sock');
  let srv!: Server;
  const accepted = new Promise<Socket>((resolve) => {
    srv = createServer({ pauseOnConnect: true }, resolve);
  });
  await new Promise<void>((r) => srv.listen(path, r));
  const client = createConnection(path);
  await new Promise<void>((r) => client.once('connect', () => r()));
  const server = await accepted;
  const p: Pair = {
    client,
    server,
    close: async () => {
      client.destroy();
      server.destroy();
      await new Promise((r) => srv.close(r));
      await dir.remove();
    },
  };
  pairs.push(p);
  return p;
}

/** Read with recvmsg until `bytes` bytes arrived; collect fds. */
async function readAll(s: Socket, bytes: number): Promise<{ data: Buffer; fds: number[] }> {
  const parts: Buffer[] = [];
  const fds: number[] = [];
  let n = 0;
  while (n < bytes) {
    const got = recvWithFds(s, 1 << 20);
    if (got === null) {
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    if (got.data.length === 0) break;
    parts.push(got.data);
    fds.push(...got.fds);
    n += got.data.length;
  }
  return { data: Buffer.concat(parts), fds };
}

describe('@vmm/fdpass', () => {
  it('loads the native addon', () => {
    expect(isAvailable()).toBe(true);
  });

  it('sends an fd with the data on one sendmsg; the receiver gets a working descriptor', async () => {
    const { client, server } = await pair();
    const fd = openSync('/etc/hostname', 'r');
    await writeWithFds(client, Buffer.from('{"execute":"getfd"}\n'), [fd]);
    closeSync(fd);
    const got = await readAll(server, 20);
    expect(got.data.toString()).toBe('{"execute":"getfd"}\n');
    expect(got.fds).toHaveLength(1);
    expect(readlinkSync(`/proc/self/fd/${got.fds[0]}`)).toBe('/etc/hostname');
    closeFd(got.fds[0]!);
  });

  it('keeps byte order with earlier socket.write() data and finishes a partial write (4 MiB message)', async () => {
    const { client, server } = await pair();
    const before = Buffer.alloc(3 * 1024 * 1024, 0x61);
    client.write(before); // fills the kernel buffer: Node queues the rest
    const big = Buffer.alloc(4 * 1024 * 1024, 0x62);
    const fd = openSync('/etc/passwd', 'r');
    const sent = writeWithFds(client, big, [fd]);
    const got = await readAll(server, before.length + big.length);
    await sent;
    closeSync(fd);
    expect(got.data.length).toBe(before.length + big.length);
    expect(got.data.subarray(0, before.length).every((b) => b === 0x61)).toBe(true);
    expect(got.data.subarray(before.length).every((b) => b === 0x62)).toBe(true);
    expect(got.fds).toHaveLength(1);
    expect(readlinkSync(`/proc/self/fd/${got.fds[0]}`)).toBe('/etc/passwd');
    closeFd(got.fds[0]!);
  });

  it('retries EAGAIN when the kernel buffer is full, until the peer reads', async () => {
    const { client, server } = await pair();
    // Fill the socket buffer with sendmsg until EAGAIN-driven waiting kicks in.
    const chunk = Buffer.alloc(256 * 1024, 0x63);
    const fd = openSync('/etc/hostname', 'r');
    const writes = [
      writeWithFds(client, chunk, [fd]),
      writeWithFds(client, chunk, [fd]),
      writeWithFds(client, chunk, [fd]),
    ];
    let settled = false;
    const all = Promise.all(writes).then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    const got = await readAll(server, chunk.length * 3);
    await all;
    closeSync(fd);
    expect(settled).toBe(true);
    expect(got.data.length).toBe(chunk.length * 3);
    expect(got.fds.length).toBe(3);
    for (const f of got.fds) closeFd(f);
  });

  it('reports errors with codes: EPIPE after the peer closed, EBADF for a bad fd, bad arguments', async () => {
    const { client, server } = await pair();
    server.destroy();
    await new Promise((r) => setTimeout(r, 20));
    const fd = openSync('/etc/hostname', 'r');
    const err = await writeWithFds(client, Buffer.from('x'), [fd]).catch((e: unknown) => e);
    closeSync(fd);
    expect(FdpassError.is(err)).toBe(true);
    expect(['FDPASS_SYSCALL', 'FDPASS_NO_SOCKET_FD']).toContain((err as FdpassError).code);
    expect(() => dupFd(987654)).toThrow(expect.objectContaining({ code: 'FDPASS_SYSCALL', errno: 'EBADF' }));
    const p2 = await pair();
    await expect(writeWithFds(p2.client, Buffer.alloc(0), [])).rejects.toMatchObject({
      code: 'FDPASS_INVALID_ARGUMENT',
    });
    await expect(writeWithFds(p2.client, Buffer.from('x'), [-1])).rejects.toMatchObject({
      code: 'FDPASS_INVALID_ARGUMENT',
    });
  });

  it('dupFd gives an independent descriptor; socketFd reads the socket fd', async () => {
    const fd = openSync('/etc/hostname', 'r');
    const d = dupFd(fd);
    closeSync(fd);
    expect(readlinkSync(`/proc/self/fd/${d}`)).toBe('/etc/hostname');
    closeFd(d);
    const { client } = await pair();
    expect(socketFd(client)).toBeGreaterThan(2);
    client.destroy();
    expect(() => socketFd(client)).toThrow(expect.objectContaining({ code: 'FDPASS_NO_SOCKET_FD' }));
  });
});
