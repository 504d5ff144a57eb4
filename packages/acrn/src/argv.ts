import { z } from 'zod';
import { AcrnError, parseWith } from './errors.js';
import {
  ACRN_GVTG_SLOT,
  ACRN_MAX_SLOT,
  type AcrnConfig,
  type AcrnConsoleConfig,
  type AcrnDevice,
  type AcrnDeviceConfig,
  type AcrnHostbridgeConfig,
  type AcrnLpcConfig,
  type AcrnVirtioBlkConfig,
  type AcrnVirtioNetConfig,
  acrnConfigSchema,
  acrnDeviceSchema,
  consoleSchema,
  hostbridgeSchema,
  lpcSchema,
  virtioBlkSchema,
  virtioNetSchema,
} from './schema.js';
import { AcrnSlotTable, slotForPosition } from './slots.js';

type Parsed<T extends { kind: string }> = Extract<AcrnDevice, { kind: T['kind'] }>;

const slotSchema = z
  .int()
  .min(0)
  .max(ACRN_MAX_SLOT)
  .refine((s) => s !== ACRN_GVTG_SLOT, `slot ${ACRN_GVTG_SLOT} is reserved for GVT-g`);

function checkSlot(slot: number): number {
  return parseWith(slotSchema, slot, 'slot');
}

function hostbridgeArgs(d: Parsed<AcrnHostbridgeConfig>, slot: number): string[] {
  return ['-s', `${slot}:${d.function},hostbridge`];
}

function lpcArgs(d: Parsed<AcrnLpcConfig>, slot: number): string[] {
  // One element, as govmm emits it; getopt reads `-lcom1,stdio` exactly as `-l com1,stdio`.
  return ['-s', `${slot}:${d.function},lpc`, '-lcom1,stdio'];
}

function consoleArgs(d: Parsed<AcrnConsoleConfig>, slot: number): string[] {
  const marker = d.portType === 'console' ? '@' : '';
  let port: string;
  switch (d.backend) {
    case 'pty':
      port = 'pty:pty_port';
      break;
    case 'stdio':
      port = 'stdio:stdio_port';
      break;
    case 'tty':
      port = `tty:tty_port=${d.path}`;
      break;
    case 'file':
      port = `file:file_port=${d.path}`;
      break;
    case 'socket':
      port = `socket:${d.name}=${d.path}${d.socketType === undefined ? '' : `:${d.socketType}`}`;
      break;
  }
  return ['-s', `${slot},virtio-console,${marker}${port}`];
}

function virtioNetArgs(d: Parsed<AcrnVirtioNetConfig>, slot: number): string[] {
  return ['-s', `${slot},virtio-net,${d.ifName},mac=${d.macAddress}`];
}

function virtioBlkArgs(d: Parsed<AcrnVirtioBlkConfig>, slot: number): string[] {
  return ['-s', `${slot},virtio-blk,${d.filePath}`];
}

function deviceArgs(d: AcrnDevice, slot: number): string[] {
  switch (d.kind) {
    case 'hostbridge':
      return hostbridgeArgs(d, slot);
    case 'lpc':
      return lpcArgs(d, slot);
    case 'console':
      return consoleArgs(d, slot);
    case 'virtio-net':
      return virtioNetArgs(d, slot);
    case 'virtio-blk':
      return virtioBlkArgs(d, slot);
  }
}

/**
 * `-s <slot>:<function>,hostbridge`.
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` for an invalid device or slot (incl. slot 2).
 */
export function encodeHostbridge(device: AcrnHostbridgeConfig, slot: number): string[] {
  return hostbridgeArgs(parseWith(hostbridgeSchema, device, 'hostbridge'), checkSlot(slot));
}

/**
 * `-s <slot>:<function>,lpc -lcom1,stdio`: the LPC bridge and COM1 on acrn-dm's stdio (the `-l`
 * option and its value in one element, as govmm).
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` for an invalid device or slot (incl. slot 2).
 */
export function encodeLpc(device: AcrnLpcConfig, slot: number): string[] {
  return lpcArgs(parseWith(lpcSchema, device, 'lpc'), checkSlot(slot));
}

/**
 * `-s <slot>,virtio-console,[@]<backend>:<port>[=<path>]`.
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` for an invalid device (e.g. a comma in `path`) or slot.
 */
export function encodeConsole(device: AcrnConsoleConfig, slot: number): string[] {
  return consoleArgs(parseWith(consoleSchema, device, 'console'), checkSlot(slot));
}

/**
 * `-s <slot>,virtio-net,<ifName>,mac=<macAddress>`.
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` for an invalid device or slot.
 */
export function encodeVirtioNet(device: AcrnVirtioNetConfig, slot: number): string[] {
  return virtioNetArgs(parseWith(virtioNetSchema, device, 'virtio-net'), checkSlot(slot));
}

/**
 * `-s <slot>,virtio-blk,<filePath>`.
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` for an invalid device (e.g. a comma in `filePath`) or slot.
 */
export function encodeVirtioBlk(device: AcrnVirtioBlkConfig, slot: number): string[] {
  return virtioBlkArgs(parseWith(virtioBlkSchema, device, 'virtio-blk'), checkSlot(slot));
}

/**
 * Any device's `-s` arguments, by `kind`.
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` for an invalid device or slot.
 */
export function encodeAcrnDevice(device: AcrnDeviceConfig, slot: number): string[] {
  return deviceArgs(parseWith(acrnDeviceSchema, device, 'device'), checkSlot(slot));
}

/** What {@link encodeAcrnArgv} returns. */
export interface AcrnArgv {
  /** acrn-dm's arguments (without the binary). */
  argv: string[];
  /** Slot of each device, in `config.devices` order. */
  deviceSlots: number[];
  /** This VM's drive index -> slot table, for `acrnctl blkrescan`. */
  slots: AcrnSlotTable;
}

/**
 * The acrn-dm command line for `config`, in govmm's order: `-U uuid`, `-A`, `-m size`, the
 * devices (`-s ...`, slots 0, 1, 3, ...), `-k kernel`, `-B params`, and the VM name last.
 * Pure: no I/O, no shared state; each call returns its own slot table.
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` (field path in `path`), `ACRN_TOO_MANY_DEVICES`.
 */
export function encodeAcrnArgv(config: AcrnConfig): AcrnArgv {
  const c = parseWith(acrnConfigSchema, config, 'config');
  const argv: string[] = [];
  if (c.uuid !== undefined) argv.push('-U', c.uuid);
  if (c.acpiVirt) argv.push('-A');
  if (c.memory !== undefined) argv.push('-m', c.memory.size);
  const slots = new AcrnSlotTable();
  const deviceSlots: number[] = [];
  c.devices.forEach((device, position) => {
    let slot: number;
    try {
      slot = slotForPosition(position);
    } catch (error) {
      if (AcrnError.is(error)) {
        throw new AcrnError(error.code, `config.devices[${position}]: ${error.message}`, {
          cause: error,
          path: ['devices', position],
        });
      }
      throw error;
    }
    deviceSlots.push(slot);
    argv.push(...deviceArgs(device, slot));
    if (device.kind === 'virtio-blk') slots.set(device.index, slot);
  });
  if (c.kernel !== undefined) {
    argv.push('-k', c.kernel.path);
    if (c.kernel.params !== undefined && c.kernel.params !== '') argv.push('-B', c.kernel.params);
  }
  argv.push(c.name);
  return { argv, deviceSlots, slots };
}
