/**
 * A throwaway VM: vCPU add then remove (last, because QEMU 7.2 under TCG breaks after a vCPU unplug,
 * see guest-notes), then QEMU SIGKILLed while the manager waits on the console: a typed exit with
 * QEMU's last stderr lines, and nothing hangs or is left behind.
 */
import { existsSync } from 'node:fs';
import { childPids, makeTempDir, type TempDir } from '@vmm/test-utils';
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
    const config = await guestConfig({
      hypervisorMachineType: 'q35',
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

  it('adds a vCPU, then removes it (count clamped to 1): the guest reports both', async () => {
    const con = sb.console();
    let mark = await con.mark();
    const added = await sb.resizeVcpus(2);
    expect(added).toMatchObject({ before: 1, after: 2, target: 2 });
    expect((await con.waitFor(marker('cpus'), { ...wait, from: mark })).value.cpus).toBe(2);
    await expect(sb.resizeVcpus(1.5)).rejects.toMatchObject({
      code: 'SANDBOX_INVALID_CONFIG',
      path: 'count',
    });
    mark = await con.mark();
    // 0 is clamped to 1; only the hotplugged vCPU goes. Completion is QEMU 7.2's lapic DEVICE_DELETED.
    const removed = await sb.resizeVcpus(0, { timeoutMs: 90_000 });
    expect(removed).toMatchObject({ before: 2, after: 1, requested: 0, target: 1 });
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
