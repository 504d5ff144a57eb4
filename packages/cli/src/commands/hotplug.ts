import { resolve } from 'node:path';
import type { BlockAttachment } from '@vmm/sandbox';
import { type Command, printJson } from '../command.js';
import { CliError } from '../errors.js';
import {
  attach,
  parseIntArg,
  positional,
  STATE_DIR_FLAG,
  STATE_DIR_USAGE,
  stringFlag,
} from '../sandbox-common.js';

const USAGE = `add|remove disk|cpu|mem <id> [args] [--device-id <dev>] [--driver virtio-blk|virtio-scsi|nvdimm]
       [--placement auto|bridge|root-port] [--read-only] [--json] [--state-dir <dir>]

  add disk <id> <image>       hotplug a disk (default driver: the sandbox's blockDeviceDriver)
  remove disk <id> <dev>      unplug it (waits for QEMU's DEVICE_DELETED)
  add cpu <id> [n]            add n vCPUs (default 1; clamped to the sandbox's maximum)
  remove cpu <id> [n]         remove n hotplugged vCPUs (newest first)
  add mem <id> <MiB>          hotplug memory (a pc-dimm, rounded up to 128 MiB blocks)
  remove mem <id> <dev>       unplug it
  --device-id <dev>  device id to use (disk: default disk<n>; mem: default dimm<n>)
  --json             print the result as JSON
${STATE_DIR_USAGE}`;

const KINDS = ['disk', 'cpu', 'mem'] as const;

/** `vmm hotplug`: add or remove a disk, vCPUs or memory in a running sandbox. */
export const command: Command = {
  name: 'hotplug',
  summary: 'hotplug a disk, vCPUs or memory into a running sandbox, or unplug them',
  usage: USAGE,
  options: {
    ...STATE_DIR_FLAG,
    'device-id': { type: 'string' },
    driver: { type: 'string' },
    placement: { type: 'string' },
    'read-only': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(ctx) {
    const action = positional(ctx, 'hotplug', 0, 'add|remove');
    const kind = positional(ctx, 'hotplug', 1, 'disk|cpu|mem');
    if (action !== 'add' && action !== 'remove') {
      throw new CliError(
        'CLI_USAGE',
        `vmm hotplug: the first argument must be add or remove, got "${action}"`,
      );
    }
    if (!(KINDS as readonly string[]).includes(kind)) {
      throw new CliError('CLI_USAGE', `vmm hotplug: the device kind must be disk, cpu or mem, got "${kind}"`);
    }
    const id = positional(ctx, 'hotplug', 2, 'id');
    const arg = ctx.positionals[3];
    const sb = await attach(ctx, id);
    const opts = { signal: ctx.signal };
    const out = (text: string, value: unknown): number => {
      if (ctx.values.json === true) printJson(ctx.io, value);
      else ctx.io.stdout.write(text);
      return 0;
    };
    if (kind === 'cpu') {
      const n = arg === undefined ? 1 : parseIntArg('hotplug', '<n>', arg, 1, 1024);
      const current = sb.info().vcpus;
      const r = await sb.resizeVcpus(action === 'add' ? current + n : current - n, opts);
      if (r.error !== undefined) ctx.io.stderr.write(`vmm hotplug: partly done: ${r.error.message}\n`);
      return out(`${id}: vCPUs ${r.before} -> ${r.after}\n`, r) || (r.error === undefined ? 0 : 1);
    }
    if (action === 'remove') {
      const dev = arg ?? stringFlag(ctx, 'device-id');
      if (dev === undefined)
        throw new CliError('CLI_USAGE', `vmm hotplug: remove ${kind} needs the device id`);
      await sb.hotplugRemove(dev, opts);
      return out(`${id}: removed ${dev}\n`, { id: dev, removed: true });
    }
    if (arg === undefined) {
      throw new CliError(
        'CLI_USAGE',
        `vmm hotplug: add ${kind} needs ${kind === 'disk' ? 'an image path' : 'a size in MiB'}`,
      );
    }
    if (kind === 'mem') {
      const sizeMiB = parseIntArg('hotplug', '<MiB>', arg, 1, 16 * 1024 * 1024);
      const devId = stringFlag(ctx, 'device-id');
      const r = await sb.hotplugAdd(
        { kind: 'memory', sizeMiB, ...(devId === undefined ? {} : { id: devId }) },
        opts,
      );
      return out(`${id}: added ${r.id} (${r.sizeMiB} MiB)\n`, r);
    }
    const driver = stringFlag(ctx, 'driver');
    if (driver !== undefined && !['virtio-blk', 'virtio-scsi', 'nvdimm'].includes(driver)) {
      throw new CliError(
        'CLI_USAGE',
        `vmm hotplug: --driver must be virtio-blk, virtio-scsi or nvdimm, got "${driver}"`,
      );
    }
    const placement = stringFlag(ctx, 'placement');
    if (placement !== undefined && !['auto', 'bridge', 'root-port'].includes(placement)) {
      throw new CliError(
        'CLI_USAGE',
        `vmm hotplug: --placement must be auto, bridge or root-port, got "${placement}"`,
      );
    }
    const devId =
      stringFlag(ctx, 'device-id') ?? `disk${sb.info().devices.filter((d) => d.kind === 'block').length}`;
    const r = await sb.hotplugAdd(
      {
        kind: 'block',
        id: devId,
        path: resolve(arg),
        ...(driver === undefined ? {} : { attach: driver as BlockAttachment }),
        ...(placement === undefined ? {} : { placement: placement as 'auto' | 'bridge' | 'root-port' }),
        ...(ctx.values['read-only'] === true ? { readOnly: true } : {}),
      },
      opts,
    );
    const where = [r.bus, r.addr].filter((x) => x !== undefined).join(' slot ');
    return out(`${id}: added ${r.id} on ${where}${r.guestAddress ? ` (${r.guestAddress})` : ''}\n`, r);
  },
};
