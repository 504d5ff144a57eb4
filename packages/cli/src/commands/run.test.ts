import { writeFile } from 'node:fs/promises';
import { parseGuestLine } from '@vmm/guest';
import { makeTempDir } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { runVmm } from '../../test/sandbox-helpers.js';
import { defaultGuestConfig } from './run.js';

describe('vmm run (argument handling)', () => {
  it.each([
    [['run', '--detach', '--stop-when-ready'], 2, /exclude each other/],
    [['run', '--kernel', '/k', '--initrd', '/i', '--accel', 'hvf'], 2, /--accel must be kvm or tcg/],
    [['run', '--kernel', '/k', '--initrd', '/i', '--cpus', 'two'], 2, /--cpus must be a whole number/],
    [['run', '--kernel', '/k'], 1, /imagePath: Missing image and initrd path/],
    [['run', '--kernel', '/nonexistent/k', '--initrd', '/nonexistent/i'], 1, /SANDBOX_ASSET_MISSING/],
    [['run', '--config', '/nonexistent.json'], 1, /cannot read --config/],
  ])('%j -> exit %i', async (args, code, message) => {
    await using tmp = await makeTempDir('vmm-run-');
    const r = await runVmm([...args, '--state-dir', tmp.path]);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect((await runVmm(['ps', '--json', '--state-dir', tmp.path])).out.trim()).toBe('[]');
  });

  it('refuses a config file that is not a JSON object', async () => {
    await using tmp = await makeTempDir('vmm-run-');
    await writeFile(tmp.join('c.json'), '[1]');
    expect((await runVmm(['run', '--config', tmp.join('c.json'), '--state-dir', tmp.path])).err).toMatch(
      /JSON object/,
    );
  });

  it('boots the default guest on q35 with root ports', () => {
    const c = defaultGuestConfig({
      kernel: '/g/vmlinux',
      initrd: '/g/initramfs.cpio',
      defaultAppend: ['console=ttyS0', 'quiet'],
    } as never);
    expect(c).toMatchObject({
      hypervisorMachineType: 'q35',
      kernelParams: 'console=ttyS0 quiet',
      pcieRootPort: 2,
    });
  });

  it('finds guest markers after BIOS text on the same line', () => {
    expect(parseGuestLine('Booting from ROM..GUEST-READY cpus=1 mem-mb=256 blk=[] net=[]')).toMatchObject({
      kind: 'ready',
    });
    expect(parseGuestLine('[ 1.0] kernel line')).toBeUndefined();
  });
});
