import { writeFile } from 'node:fs/promises';
import { makeTempDir } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { mockSandbox, runVmm } from '../../test/sandbox-helpers.js';

describe('vmm hotplug (against a mock sandbox)', () => {
  it('adds and removes disks, memory and vCPUs', async () => {
    await using tmp = await makeTempDir('vmm-hp-');
    await mockSandbox(tmp.path, 'h');
    const img = tmp.join('d.img');
    await writeFile(img, '');
    const sd = ['--state-dir', tmp.path];
    expect((await runVmm(['hotplug', 'add', 'disk', 'h', img, ...sd])).out).toBe('h: added disk0 on \n');
    expect(JSON.parse((await runVmm(['hotplug', 'add', 'mem', 'h', '100', '--json', ...sd])).out)).toEqual({
      id: 'dimm1',
      kind: 'memory',
      sizeMiB: 128,
    });
    expect((await runVmm(['hotplug', 'add', 'cpu', 'h', '2', ...sd])).out).toBe('h: vCPUs 1 -> 3\n');
    expect((await runVmm(['hotplug', 'remove', 'cpu', 'h', ...sd])).out).toBe('h: vCPUs 3 -> 2\n');
    expect((await runVmm(['hotplug', 'remove', 'disk', 'h', 'disk0', ...sd])).out).toBe('h: removed disk0\n');
    const ps = JSON.parse((await runVmm(['ps', '--json', ...sd])).out) as { devices: { id: string }[] }[];
    expect(ps[0]?.devices.map((d) => d.id)).toEqual(['dimm1']);
  });

  it.each([
    [['hotplug'], /missing <add\|remove>/],
    [['hotplug', 'plug', 'disk', 'h'], /must be add or remove/],
    [['hotplug', 'add', 'gpu', 'h'], /must be disk, cpu or mem/],
    [['hotplug', 'add', 'disk'], /missing <id>/],
    [['hotplug', 'add', 'mem', 'h', 'lots'], /<MiB> must be a whole number/],
    [['hotplug', 'add', 'disk', 'h', '/x', '--driver', 'ide'], /--driver must be/],
  ])('%j is a usage error', async (args, message) => {
    await using tmp = await makeTempDir('vmm-hp-');
    await mockSandbox(tmp.path, 'h');
    const r = await runVmm([...args, '--state-dir', tmp.path]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});
