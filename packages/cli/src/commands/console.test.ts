import type { MockHypervisor } from '@vmm/sandbox';
import { makeTempDir } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { mockSandbox, runVmm } from '../../test/sandbox-helpers.js';

describe('vmm console', () => {
  it('prints the console log from the first byte', async () => {
    await using tmp = await makeTempDir('vmm-con-');
    const sb = await mockSandbox(tmp.path, 'c');
    await (sb.hypervisor as MockHypervisor).emitConsole('early line');
    await (sb.hypervisor as MockHypervisor).emitConsole('GUEST-READY cpus=1 mem-mb=256 blk=[] net=[]');
    expect(await runVmm(['console', 'c', '--state-dir', tmp.path])).toEqual({
      code: 0,
      out: 'early line\nGUEST-READY cpus=1 mem-mb=256 blk=[] net=[]\n',
      err: '',
    });
  });
});
