import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { killAllQemus, type QemuProcess, qmpAccel, spawnQemu } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const execFileP = promisify(execFile);

/** Run the built `vmm` with `input` on stdin (a pipe: no terminal). */
function vmm(args: string[], input = ''): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    child.stdin.end(input);
  });
}

let q: QemuProcess;
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm --filter @vmm/cli build\` first`);
  q = await spawnQemu({ args: ['-device', 'virtio-scsi-pci,id=scsi0'] });
});
afterAll(killAllQemus);

describe(`vmm qmp / qmp-shell against QEMU 7.2 (${qmpAccel().accel})`, () => {
  it('vmm qmp <socket> query-status prints the reply', async () => {
    const { stdout } = await execFileP(process.execPath, [BIN, 'qmp', q.qmpPath, 'query-status']);
    expect(JSON.parse(stdout)).toEqual({ status: 'prelaunch', singlestep: false, running: false });
  });

  it('vmm qmp with JSON arguments, and a QEMU error exits 1 with the class', async () => {
    const ok = await vmm(['qmp', q.qmpPath, 'qom-get', '{"path": "/machine", "property": "type"}']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toBe('pc-q35-7.2-machine');
    const bad = await vmm(['qmp', q.qmpPath, 'device_del', '{"id": "nope"}']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/device_del: DeviceNotFound: .*\[QMP_COMMAND_FAILED\]/);
  });

  it('vmm qmp --hmp', async () => {
    const r = await vmm(['qmp', '--hmp', q.qmpPath, 'info', 'status']);
    expect(r.out).toMatch(/VM status: paused \(prelaunch\)/);
  });

  it('vmm qmp-shell runs a stdin script: key=value args, nested members, errors, events, HMP', async () => {
    const script = [
      'query-status',
      'blockdev-add driver=raw node-name=n0 file.driver=null-co file.size=1048576 read-only=true',
      'device_add driver=scsi-hd id=sd0 drive=n0 bus=scsi0.0',
      'cont',
      'device_del id=nope',
      ':hmp',
      'info status',
      '',
    ].join('\n');
    const r = await vmm(['qmp-shell', q.qmpPath], script);
    const objs = r.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs[0]).toEqual({ return: { status: 'prelaunch', singlestep: false, running: false } });
    expect(objs.filter((o) => 'return' in o)).toHaveLength(4);
    expect(objs.some((o) => o.event === 'RESUME')).toBe(true);
    expect(objs.find((o) => 'error' in o)).toMatchObject({ error: { class: 'DeviceNotFound' } });
    expect(r.out).toMatch(/VM status: running/);
    expect(r.code).toBe(1);
    const node = await vmm(['qmp', q.qmpPath, 'query-named-block-nodes']);
    expect(JSON.parse(node.out)).toEqual(
      expect.arrayContaining([expect.objectContaining({ 'node-name': 'n0', ro: true })]),
    );
  });

  it('vmm qmp-shell -p pretty-prints', async () => {
    const r = await vmm(['qmp-shell', '-p', q.qmpPath], 'query-name\n');
    expect(r.code).toBe(0);
    expect(r.out).toBe('{\n    "return": {}\n}\n');
  });
});
