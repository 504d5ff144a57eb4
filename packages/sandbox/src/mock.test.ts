import { makeTempDir } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { MockHypervisor } from './mock.js';

describe('MockHypervisor', () => {
  it('follows the lifecycle and records calls', async () => {
    const hv = new MockHypervisor({ id: 'm', vcpus: 1, maxVcpus: 4 });
    expect(hv.status).toBe('created');
    await expect(hv.pause()).rejects.toMatchObject({ code: 'SANDBOX_INVALID_STATE' });
    await hv.start();
    await hv.waitReady();
    await expect(hv.start()).rejects.toMatchObject({ code: 'SANDBOX_INVALID_STATE' });
    await hv.pause();
    expect(hv.status).toBe('paused');
    await hv.resume();
    const r = await hv.hotplugAdd({ kind: 'memory', sizeMiB: 100 });
    expect(r).toEqual({ id: 'dimm0', kind: 'memory', sizeMiB: 128 });
    await expect(hv.hotplugAdd({ kind: 'memory', id: 'dimm0', sizeMiB: 1 })).rejects.toMatchObject({
      code: 'SANDBOX_EXISTS',
    });
    expect(await hv.resizeVcpus(9)).toEqual({ before: 1, after: 4, requested: 9, target: 4 });
    expect((await hv.resizeVcpus(0)).after).toBe(1);
    await hv.hotplugRemove('dimm0');
    await expect(hv.hotplugRemove('dimm0')).rejects.toMatchObject({ code: 'SANDBOX_NOT_FOUND' });
    expect(await hv.stop()).toEqual({ method: 'quit', exit: { code: 0, signal: null } });
    expect(await hv.stop()).toEqual({ method: 'already-stopped' });
    expect(await hv.exited).toEqual({ code: 0, signal: null });
    expect(hv.calls.map((c) => c.op)).toEqual([
      'pause',
      'start',
      'waitReady',
      'start',
      'pause',
      'resume',
      'hotplugAdd',
      'hotplugAdd',
      'resizeVcpus',
      'resizeVcpus',
      'hotplugRemove',
      'hotplugRemove',
      'stop',
      'stop',
    ]);
  });

  it('fails the next call on request, once', async () => {
    const hv = new MockHypervisor();
    hv.failNext('start');
    await expect(hv.start()).rejects.toMatchObject({ code: 'SANDBOX_START_FAILED' });
    await hv.start();
    hv.failNext('hotplugAdd', new Error('custom'));
    await expect(hv.hotplugAdd({ kind: 'vsock', id: 'v', guestCid: 3 })).rejects.toThrow('custom');
    hv.simulateExit(null, 'SIGKILL');
    expect(await hv.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await expect(hv.waitReady()).rejects.toMatchObject({ code: 'SANDBOX_HYPERVISOR_EXITED' });
  });

  it('writes console lines a ConsoleReader can wait for', async () => {
    await using tmp = await makeTempDir('vmm-mock-');
    const hv = new MockHypervisor({ consoleLog: tmp.join('console.log') });
    const con = hv.console();
    const mark = await con.mark();
    const waiting = con.waitFor((l) => (l.startsWith('READY') ? l.slice(6) : undefined), {
      from: mark,
      timeoutMs: 2_000,
    });
    await hv.emitConsole('booting');
    await hv.emitConsole('READY now');
    expect((await waiting).value).toBe('now');
  });
});
