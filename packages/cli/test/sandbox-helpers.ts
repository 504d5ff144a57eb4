import { Sandbox } from '@vmm/sandbox';

export { runVmm } from './run-vmm.js';

/** A running mock sandbox (no QEMU) in `stateDir`. */
export async function mockSandbox(stateDir: string, id: string): Promise<Sandbox> {
  const sb = await Sandbox.create(
    { kernelPath: '/k', initrdPath: '/i', memorySize: 256, defaultMaxVcpus: 4 },
    { stateDir, id, hypervisor: 'mock' },
  );
  await sb.start();
  return sb;
}
