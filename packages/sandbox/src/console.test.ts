import { appendFile, writeFile } from 'node:fs/promises';
import { activeResources, makeTempDir, resourcesAdded } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { ConsoleReader } from './console.js';

describe('ConsoleReader', () => {
  it('finds lines from the first byte, including ones split across writes and CRLF endings', async () => {
    await using tmp = await makeTempDir('vmm-con-');
    const log = tmp.join('console.log');
    const con = new ConsoleReader(log);
    expect(await con.mark()).toBe(0);
    const timers = (): string[] => activeResources().filter((r) => r === 'Timeout');
    const before = timers();
    const found = con.waitFor((l) => (l.startsWith('GUEST-READY') ? l : undefined), {
      timeoutMs: 3_000,
      pollMs: 5,
    });
    await writeFile(log, 'early line\r\nGUEST-');
    await new Promise((r) => setTimeout(r, 30));
    await appendFile(log, 'READY cpus=1\r\nafter\n');
    const m = await found;
    expect(m.line).toBe('GUEST-READY cpus=1');
    expect(await con.read(m.next)).toBe('after\n');
    // No poll timer of ours is left (a file close may still be in flight: not a leak).
    expect(resourcesAdded(before, timers())).toEqual([]);
  });

  it('continues from a mark and does not see older lines', async () => {
    await using tmp = await makeTempDir('vmm-con-');
    const log = tmp.join('console.log');
    await writeFile(log, 'HOTPLUG-BLK vda\n');
    const con = new ConsoleReader(log);
    const mark = await con.mark();
    const w = con.waitFor((l) => (l.startsWith('HOTPLUG') ? l : undefined), {
      from: mark,
      timeoutMs: 2_000,
      pollMs: 5,
    });
    await appendFile(log, 'HOTPLUG-BLK vdb\n');
    expect((await w).line).toBe('HOTPLUG-BLK vdb');
  });

  it('times out with the last lines, aborts, and stops when the VM exits', async () => {
    await using tmp = await makeTempDir('vmm-con-');
    const log = tmp.join('console.log');
    await writeFile(log, 'panic: something\n');
    const con = new ConsoleReader(log);
    await expect(con.waitFor(() => undefined, { timeoutMs: 50, pollMs: 5 })).rejects.toMatchObject({
      code: 'SANDBOX_TIMEOUT',
      message: expect.stringContaining('console: panic: something'),
    });
    await expect(
      con.waitFor(() => undefined, { signal: AbortSignal.timeout(20), pollMs: 5 }),
    ).rejects.toMatchObject({
      code: 'SANDBOX_ABORTED',
    });
    await expect(
      con.waitFor(() => undefined, { exited: Promise.resolve(), pollMs: 5 }),
    ).rejects.toMatchObject({
      code: 'SANDBOX_HYPERVISOR_EXITED',
    });
  });

  it('streams lines until aborted', async () => {
    await using tmp = await makeTempDir('vmm-con-');
    const log = tmp.join('console.log');
    await writeFile(log, 'a\nb\n');
    const ac = new AbortController();
    const seen: string[] = [];
    for await (const line of new ConsoleReader(log).lines({ signal: ac.signal, pollMs: 5 })) {
      seen.push(line);
      if (seen.length === 2) await appendFile(log, 'c\n');
      if (seen.length === 3) ac.abort();
    }
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('has no input without a socket', async () => {
    await expect(new ConsoleReader('/nonexistent').connect()).rejects.toMatchObject({
      code: 'SANDBOX_CONSOLE',
    });
  });
});
