/** Run `vmm` in-process with in-memory stdout/stderr (shared by the CLI's tests). */
import { PassThrough } from 'node:stream';
import { main } from '../src/main.js';

/** Run `vmm args...` in this process; resolves with the exit code and what it printed. */
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
