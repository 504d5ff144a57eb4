import { makeTempDir } from '@vmm/test-utils';
import { describe, expect, it } from 'vitest';
import { mockSandbox, runVmm } from '../../test/sandbox-helpers.js';
import { formatPs } from './ps.js';

describe('vmm ps', () => {
  it('lists nothing in an empty state dir', async () => {
    await using tmp = await makeTempDir('vmm-ps-');
    expect(await runVmm(['ps', '--state-dir', tmp.path])).toEqual({
      code: 0,
      out: 'no sandboxes\n',
      err: '',
    });
    expect(JSON.parse((await runVmm(['ps', '--json', '--state-dir', tmp.path])).out)).toEqual([]);
  });

  it('lists sandboxes as a table and as JSON (VMM_STATE_DIR is honoured)', async () => {
    await using tmp = await makeTempDir('vmm-ps-');
    await mockSandbox(tmp.path, 'b');
    await mockSandbox(tmp.path, 'a');
    const table = await runVmm(['ps'], { VMM_STATE_DIR: tmp.path });
    expect(table.code).toBe(0);
    const lines = table.out.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+PID\s+VCPUS\s+MEM\s+DEVICES\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 6))).toEqual([
      ['a', 'running', '-', '1', '256M', '-'],
      ['b', 'running', '-', '1', '256M', '-'],
    ]);
    const json = JSON.parse((await runVmm(['ps', '--json', '--state-dir', tmp.path])).out) as {
      id: string;
    }[];
    expect(json.map((s) => s.id)).toEqual(['a', 'b']);
  });

  it('formats running, paused, stopped and orphaned rows, aligned, with the orphan reason', () => {
    const base = {
      hypervisor: 'qemu' as const,
      createdAt: '2026-01-01T00:00:00.123Z',
      qmp: '',
      console: '',
      consoleLog: '',
      vcpus: 1,
      memoryMiB: 512,
      devices: [],
    };
    const reason =
      'QEMU pid 4242 runs this sandbox but its state (created) does not record it: the managing process died while starting it';
    const table = formatPs([
      { ...base, id: 'run1', status: 'running', pid: 1234 },
      { ...base, id: 'paused-box', status: 'paused', pid: 98765, vcpus: 2, memoryMiB: 640 },
      { ...base, id: 's', status: 'stopped', pid: null },
      { ...base, id: 'orph', status: 'created', pid: null, orphan: { pid: 4242, reason } },
      { ...base, id: 'z', status: 'created', pid: null },
    ]);
    expect(table).toBe(
      [
        'ID          STATUS    PID    VCPUS  MEM   DEVICES  CREATED',
        'run1        running   1234   1      512M  -        2026-01-01T00:00:00Z',
        'paused-box  paused    98765  2      640M  -        2026-01-01T00:00:00Z',
        's           stopped   -      1      512M  -        2026-01-01T00:00:00Z',
        'orph        orphaned  4242   1      512M  -        2026-01-01T00:00:00Z',
        `  orphaned: ${reason} (vmm stop orph kills it)`,
        'z           created   -      1      512M  -        2026-01-01T00:00:00Z',
        '',
      ].join('\n'),
    );
  });

  it('formats devices', () => {
    expect(
      formatPs([
        {
          id: 'x',
          hypervisor: 'qemu',
          status: 'stopped',
          pid: null,
          createdAt: '2026-01-01T00:00:00.123Z',
          qmp: '',
          console: '',
          consoleLog: '',
          vcpus: 2,
          memoryMiB: 384,
          devices: [
            { id: 'd0', kind: 'block' },
            { id: 'dimm0', kind: 'memory', sizeMiB: 128 },
          ],
        },
      ]),
    ).toBe(
      'ID  STATUS   PID  VCPUS  MEM   DEVICES   CREATED\nx   stopped  -    2      384M  d0,dimm0  2026-01-01T00:00:00Z\n',
    );
  });
});
