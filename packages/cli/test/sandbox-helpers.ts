/** Helpers of the sandbox verbs' tests: run `vmm` in-process, and make mock sandboxes (no QEMU). */
import { PassThrough } from 'node:stream';
import { Sandbox } from '@vmm/sandbox';
import { main } from '../src/main.js';

/** Run `vmm` in-process with in-memory stdout/stderr. */
export async function runVmm(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(args, { stdout, stderr, env });
  return { code, out, err };
}

/** A running mock sandbox (no QEMU) in `stateDir`. */
export async function mockSandbox(stateDir: string, id: string): Promise<Sandbox> {
  const sb = await Sandbox.create(
    { kernelPath: '/k', initrdPath: '/i', memorySize: 256, defaultMaxVcpus: 4 },
    { stateDir, id, hypervisor: 'mock' },
  );
  await sb.start();
  return sb;
}
