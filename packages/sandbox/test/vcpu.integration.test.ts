/**
 * A throwaway VM: vCPU add (clamped to defaultMaxVcpus, and a partial success when QEMU refuses
 * the second vCPU) then remove (last, because QEMU 7.2 under TCG breaks after a vCPU unplug, see
 * guest-notes), then QEMU SIGKILLed while the manager waits on the console: a typed exit with
 * QEMU's last stderr lines, and nothing hangs or is left behind.
 */
import { existsSync } from 'node:fs';
import { childPids, connectTestQmp, makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QemuHypervisor, Sandbox, type SandboxError } from '../src/index.js';
import { accel, guestConfig, marker } from './helpers.js';

describe('a throwaway VM: vCPU add/remove, then SIGKILL while waiting', () => {
  let tmp: TempDir;
  let sb: Sandbox;
  const wait = { timeoutMs: 90_000 } as const;
  const a = accel();

  beforeAll(async () => {
    tmp = await makeTempDir('vmm-vcpu-');
    // `+vmx` makes TCG print a warning: a stderr line to find in the exit error later.
    // At most 3 vCPUs: the add below asks for 5 and is clamped.
    const config = await guestConfig({
      hypervisorMachineType: 'q35',
      defaultMaxVcpus: 3,
      ...(a === 'tcg' ? { cpuFeatures: '+vmx' } : {}),
    });
    sb = await Sandbox.create(config, { stateDir: tmp.join('state'), host: { accel: a } });
    await sb.start();
    await sb.console().waitFor(marker('ready'), { ...wait, exited: sb.exited });
  });

  afterAll(async () => {
    await sb?.stop({ graceMs: 1_000 }).catch(() => undefined);
    await tmp?.remove();
  });

  it('adds vCPUs up to the maximum, partly (a QEMU refusal midway), then removes them: the guest reports both', async () => {
    const con = sb.console();
    const hotpluggable = (): Promise<{ 'qom-path'?: string }[]> =>
      sb.withQmpSocket(async (path) => {
        const q = await connectTestQmp(path);
        try {
          return (await q.execute('query-hotpluggable-cpus')) as { 'qom-path'?: string }[];
        } finally {
          await q.close();
        }
      });
    expect((await hotpluggable()).length).toBe(3);
    // Behind the sandbox's back, a device takes the id the second new vCPU would get (`cpu-1`), so
    // QEMU refuses that `device_add` after the first one succeeded: a partial success.
    await sb.withQmpSocket(async (path) => {
      const q = await connectTestQmp(path);
      try {
        await q.execute('blockdev-add', { driver: 'null-co', 'node-name': 'g7-blocker', size: 1 << 20 });
        await q.execute('device_add', {
          driver: 'scsi-hd',
          id: 'cpu-1',
          drive: 'g7-blocker',
          bus: 'scsi0.0',
        });
      } finally {
        await q.close();
      }
    });
    let mark = await con.mark();
    // 5 is clamped to defaultMaxVcpus (3): two vCPUs to add; only the first one can be.
    const added = await sb.resizeVcpus(5);
    expect(added).toMatchObject({ before: 1, after: 2, requested: 5, target: 3 });
    expect(added.error).toMatchObject({ code: 'SANDBOX_HOTPLUG_FAILED' });
    expect(added.error?.message).toMatch(/only 1 of 2 vCPUs were added: .*cpu-1/);
    expect(sb.info().vcpus).toBe(2);
    expect((await con.waitFor(marker('cpus'), { ...wait, from: mark })).value.cpus).toBe(2);
    // QEMU agrees: two of the three slots are taken (boot CPU and `cpu-0`).
    expect((await hotpluggable()).filter((c) => c['qom-path'] !== undefined).length).toBe(2);
    // Nothing can be added now: no progress at all is an error, not a result.
    await expect(sb.resizeVcpus(3)).rejects.toMatchObject({
      code: 'SANDBOX_HOTPLUG_FAILED',
      message: expect.stringMatching(/only 0 of 1 vCPUs were added/),
    });
    expect(sb.info().vcpus).toBe(2);
    await expect(sb.resizeVcpus(1.5)).rejects.toMatchObject({
      code: 'SANDBOX_INVALID_CONFIG',
      path: 'count',
    });
    mark = await con.mark();
    // 0 is clamped to 1; only the hotplugged vCPU goes. Completion is QEMU 7.2's lapic DEVICE_DELETED.
    const removed = await sb.resizeVcpus(0, { timeoutMs: 90_000 });
    expect(removed).toMatchObject({ before: 2, after: 1, requested: 0, target: 1 });
    expect(removed.error).toBeUndefined();
    expect((await con.waitFor(marker('cpus'), { ...wait, from: mark })).value.cpus).toBe(1);
  });

  it('QEMU SIGKILLed while the manager waits on the console: typed exit with stderr, no hang', async () => {
    const hv = sb.hypervisor as QemuHypervisor;
    const pid = hv.pid as number;
    const con = sb.console();
    const waiting = con.waitFor(() => undefined, {
      timeoutMs: 60_000,
      exited: sb.exited,
      from: await con.mark(),
    });
    setTimeout(() => process.kill(pid, 'SIGKILL'), 200);
    await expect(waiting).rejects.toMatchObject({ code: 'SANDBOX_HYPERVISOR_EXITED' });
    expect(await sb.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const err = (await sb.pause().catch((e: unknown) => e)) as SandboxError;
    expect(err).toMatchObject({ code: 'SANDBOX_HYPERVISOR_EXITED', exit: { code: null, signal: 'SIGKILL' } });
    expect(err.message).toContain('killed by SIGKILL');
    if (a === 'tcg') expect(err.stderrTail.join('\n')).toContain("TCG doesn't support requested feature");
    expect(sb.info().status).toBe('stopped');
    expect(await sb.stop()).toMatchObject({ method: 'already-stopped' });
    expect(childPids()).not.toContain(pid);
    expect(existsSync(sb.paths.runDir)).toBe(false);
  });
});
