/**
 * Character devices (govmm `CharDevice`, `LegacySerialDevice`, `SerialDevice`): a `-chardev` backend with
 * its front end (`virtserialport`, `virtconsole`, a `virtio-serial` controller), the legacy `-serial`
 * option, and the bare `virtio-serial` controller.
 */
import { z } from 'zod';
import type { EncodeContext } from '../context.js';
import { buildOptions, type OptionPair } from '../option-string.js';
import {
  ccwProps,
  disableModernProp,
  resolveTransport,
  romfileProp,
  transportFields,
  virtioDriverName,
} from '../transport.js';
import { hostPath, nonEmptyText, positiveInt, qemuId } from '../values.js';

/** `-chardev` backends. */
export const CHAR_BACKENDS = ['pipe', 'socket', 'console', 'serial', 'tty', 'pty', 'file'] as const;
/** One of {@link CHAR_BACKENDS}. */
export type CharBackend = (typeof CHAR_BACKENDS)[number];
/**
 * Front ends of a {@link CharDeviceConfig}: ports on a virtio-serial controller (the `serial` device kind),
 * or `serial` for "backend only" (for `legacy-serial`). govmm also accepts `virtio-serial` here and writes
 * `virtio-serial-pci,chardev=...`, which QEMU rejects (the controller has no chardev property).
 */
export const CHAR_DRIVERS = ['virtserialport', 'virtconsole', 'serial'] as const;

/** A character device backend and its front end. */
export const charDeviceSchema = z
  .strictObject({
    kind: z.literal('char'),
    /** `-chardev` backend. */
    backend: z.enum(CHAR_BACKENDS),
    /** Front end; `serial` emits only the `-chardev` (pair it with a `legacy-serial` device). */
    driver: z.enum(CHAR_DRIVERS),
    /** Bus of the front end (`bus=`), e.g. `serial0.0`. @default none */
    bus: nonEmptyText.optional(),
    /** Front-end device id (required unless `driver` is `serial`). */
    deviceId: qemuId.optional(),
    /** Chardev id. */
    id: qemuId,
    /** Backend path (socket path, file, host tty). Not used by `pty`. */
    path: hostPath.optional(),
    /** Port name seen by the guest (`name=`), e.g. `org.qemu.guest_agent.0`. @default none */
    name: nonEmptyText.optional(),
    /**
     * Also write everything the guest sends to this file (`logfile=`), whether or not a client is
     * connected: the way to never lose early console output on a `socket` backend. @default none
     */
    logfile: hostPath.optional(),
    /** Append to `logfile` instead of truncating it (`logappend=on`). @default false */
    logappend: z.boolean().optional(),
  })
  .superRefine((d, c) => {
    if (d.backend !== 'pty' && d.backend !== 'console' && d.path === undefined) {
      c.addIssue({ code: 'custom', path: ['path'], message: `backend ${d.backend} needs a path` });
    }
    if ((d.backend === 'pty' || d.backend === 'console') && d.path !== undefined) {
      c.addIssue({ code: 'custom', path: ['path'], message: `backend ${d.backend} takes no path` });
    }
    if (d.logappend !== undefined && d.logfile === undefined) {
      c.addIssue({ code: 'custom', path: ['logappend'], message: 'logappend needs a logfile' });
    }
    if (d.driver !== 'serial' && d.deviceId === undefined) {
      c.addIssue({ code: 'custom', path: ['deviceId'], message: `driver ${d.driver} needs a deviceId` });
    }
  });
/** Config of a character device. */
export type CharDeviceConfig = z.infer<typeof charDeviceSchema>;

function chardevArgs(d: CharDeviceConfig): string[] {
  const pairs: OptionPair[] = [['id', d.id], d.path !== undefined && ['path', d.path]];
  if (d.backend === 'socket') pairs.push(['server', 'on'], ['wait', 'off']);
  pairs.push(
    d.logfile !== undefined && ['logfile', d.logfile],
    d.logappend !== undefined && ['logappend', d.logappend ? 'on' : 'off'],
  );
  return ['-chardev', buildOptions(d.backend, pairs)];
}

/**
 * `-device virtserialport|virtconsole[,bus=B],chardev=ID,id=DEVID[,name=N]
 *  -chardev BACKEND,id=ID[,path=P][,server=on,wait=off][,logfile=L][,logappend=on|off]`;
 * driver `serial` -> only the `-chardev`.
 */
export function encodeCharDevice(d: CharDeviceConfig): string[] {
  const chardev = chardevArgs(d);
  if (d.driver === 'serial') return chardev;
  return [
    '-device',
    buildOptions(d.driver, [
      d.bus !== undefined && ['bus', d.bus],
      ['chardev', d.id],
      ['id', d.deviceId ?? ''],
      d.name !== undefined && ['name', d.name],
    ]),
    ...chardev,
  ];
}

/** The legacy serial port wired to a chardev: `-serial chardev:ID`. */
export const legacySerialSchema = z.strictObject({
  kind: z.literal('legacy-serial'),
  /** Id of a chardev (a `char` device with driver `serial`). */
  chardev: qemuId,
});
/** Config of a legacy serial port. */
export type LegacySerialConfig = z.infer<typeof legacySerialSchema>;

/** Encode a legacy serial port. */
export function encodeLegacySerial(d: LegacySerialConfig): string[] {
  return ['-serial', `chardev:${d.chardev}`];
}

/** A virtio-serial controller (govmm `SerialDevice`). */
export const serialDeviceSchema = z.strictObject({
  kind: z.literal('serial'),
  id: qemuId,
  /** Number of ports (`max_ports=`); govmm drops it unless PCI with a romfile, we always emit it. */
  maxPorts: positiveInt.max(511).optional(),
  ...transportFields,
});
/** Config of a virtio-serial controller. */
export type SerialDeviceConfig = z.infer<typeof serialDeviceSchema>;

/**
 * `-device virtio-serial-<t>[,disable-modern=true],id=ID[,romfile=R][,max_ports=N][,iommu_platform=on][,devno=D]`.
 * @throws {ArgvError} `ARGV_INVALID_DEVICE` for a field that does not apply to the resolved transport.
 */
export function encodeSerialDevice(d: SerialDeviceConfig, ctx: EncodeContext): string[] {
  const t = resolveTransport(d, ctx);
  return [
    '-device',
    buildOptions(virtioDriverName('virtio-serial', t), [
      disableModernProp(t, d),
      ['id', d.id],
      romfileProp(t, d),
      d.maxPorts !== undefined && ['max_ports', d.maxPorts],
      ...ccwProps(t, d, ctx, true),
    ]),
  ];
}
