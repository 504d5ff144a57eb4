/** The README example runs as written against a real QEMU (copied into the package so `@vmm/qmp` self-resolves). */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { killAllQemus, spawnQemu } from '@vmm/test-utils';
import { afterAll, expect, it } from 'vitest';

afterAll(killAllQemus);

it('README example', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /## Example\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const q = await spawnQemu();
  const file = fileURLToPath(new URL('./readme-example.tmp.mjs', import.meta.url));
  writeFileSync(file, code!);
  try {
    const r = spawnSync(process.execPath, [file], {
      env: { ...process.env, QMP_SOCKET: q.qmpPath },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/major: 7/);
    expect(r.stdout).toMatch(/QMP_COMMAND_FAILED GenericError/);
    expect(r.stdout).toMatch(/prelaunch RESUME VM status: running/);
  } finally {
    rmSync(file, { force: true });
    await q.kill();
  }
});
