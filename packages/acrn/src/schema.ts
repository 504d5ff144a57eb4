import { z } from 'zod';

/**
 * Validation rules shared by the config schemas. acrn-dm takes each device as one `-s` value,
 * `slot[:func],emul[,conf]`, and every device model splits `conf` on `,` with `strsep`; there is no
 * escape (unlike QEMU's `,,`). So a value that lands inside an `-s` value may not contain a comma,
 * and no value anywhere may contain control characters (newlines, NUL).
 */
const CONTROL = /[\u0000-\u001f\u007f]/;

const NO_CONTROL = 'must not contain control characters (newline, NUL, ...)';
const NO_COMMA = "must not contain ',': acrn-dm splits -s values on commas and has no escape for them";

/** A non-empty string without control characters (its own argv element: commas are fine). */
export const plainString: z.ZodString = z
  .string()
  .min(1)
  .refine((s) => !CONTROL.test(s), NO_CONTROL);

/** A non-empty string that is safe inside an acrn-dm `-s` value: no commas, no control characters. */
export const slotValue: z.ZodString = plainString.refine((s) => !s.includes(','), NO_COMMA);

/** PCI slot numbers acrn-dm accepts (`MAXSLOTS` is 32). */
export const ACRN_MAX_SLOT = 31;
/** The slot acrn-dm leaves to GVT-g (hard-coded in the ACRNGT module), never given to a device. */
export const ACRN_GVTG_SLOT = 2;
/** acrn-dm refuses a VM name of 128 bytes or more (`MAX_VMNAME_LEN`). */
export const ACRN_MAX_NAME_LENGTH = 127;
/** Longest unix socket path (sun_path is 108 bytes incl. NUL; acrn-dm truncates silently). */
export const ACRN_MAX_SOCKET_PATH = 107;

/**
 * The VM name: acrn-dm's one positional argument, also what `acrnctl` addresses. Letters, digits,
 * `.`, `_`, `-`, not starting with `-` (it would be read as an option) and under 128 bytes.
 */
export const vmNameSchema: z.ZodString = z
  .string()
  .min(1)
  .max(ACRN_MAX_NAME_LENGTH)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-", not starting with "-"');

/** A UUID in canonical 8-4-4-4-12 hex form. */
export const uuidSchema: z.ZodString = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID');

/** A PCI function number, 0..7. */
const pciFunction = z.int().min(0).max(7);

/** `-s S:0,hostbridge`: the PCI host bridge. Kata puts it first so it gets slot 0. */
export const hostbridgeSchema = z.strictObject({
  kind: z.literal('hostbridge'),
  /** PCI function; govmm only accepts 0. @default 0 */
  function: z.literal(0).default(0),
});

/** `-s S:F,lpc` plus `-lcom1,stdio`: the LPC bridge, with COM1 on acrn-dm's stdio. */
export const lpcSchema = z.strictObject({
  kind: z.literal('lpc'),
  /** PCI function. @default 0 */
  function: pciFunction.default(0),
});

/** Backends of acrn-dm's virtio-console. */
export const ACRN_CONSOLE_BACKENDS = ['pty', 'tty', 'socket', 'file', 'stdio'] as const;
/** One of {@link ACRN_CONSOLE_BACKENDS}. */
export type AcrnConsoleBackend = (typeof ACRN_CONSOLE_BACKENDS)[number];

/**
 * `-s S,virtio-console,[@]<backend>:<port>[=<path>]`. `portType: 'console'` adds the `@` that
 * makes the port a console (hvc) rather than a plain virtio-serial port.
 */
export const consoleSchema = z
  .strictObject({
    kind: z.literal('console'),
    /** Backend. */
    backend: z.enum(ACRN_CONSOLE_BACKENDS),
    /** `console` marks the port with `@` (guest sees a console); `serial` is a plain port. @default 'serial' */
    portType: z.enum(['serial', 'console']).default('serial'),
    /** Port name, socket backend only (the others use fixed names like `tty_port`). */
    name: slotValue
      .refine((s) => !/[:=]/.test(s), "must not contain ':' or '=' (acrn-dm splits on them)")
      .optional(),
    /** tty device, output file or unix socket path; required for tty/file/socket, not allowed for pty/stdio. */
    path: slotValue.optional(),
    /** Socket backend only: `server` (acrn-dm listens, its default) or `client`. Omitted by default, as Kata. */
    socketType: z.enum(['server', 'client']).optional(),
  })
  .superRefine((c, ctx) => {
    const needsPath = c.backend === 'tty' || c.backend === 'file' || c.backend === 'socket';
    if (needsPath && c.path === undefined) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: `is required for the ${c.backend} backend` });
    }
    if (!needsPath && c.path !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: `is not used by the ${c.backend} backend` });
    }
    if (c.backend === 'socket') {
      if (c.name === undefined) {
        ctx.addIssue({ code: 'custom', path: ['name'], message: 'is required for the socket backend' });
      }
      if (c.path?.includes(':')) {
        ctx.addIssue({
          code: 'custom',
          path: ['path'],
          message:
            "must not contain ':' for the socket backend (acrn-dm reads what follows as the socket type)",
        });
      }
      if (c.path !== undefined && Buffer.byteLength(c.path) > ACRN_MAX_SOCKET_PATH) {
        ctx.addIssue({
          code: 'custom',
          path: ['path'],
          message: `is longer than ${ACRN_MAX_SOCKET_PATH} bytes, the unix socket limit`,
        });
      }
    } else {
      if (c.name !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['name'], message: 'is only used by the socket backend' });
      }
      if (c.socketType !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['socketType'], message: 'is only used by the socket backend' });
      }
    }
  });

/**
 * `-s S,virtio-net,<ifName>,mac=<mac>`: a tap or macvtap interface. `type` does not change the
 * argv (acrn-dm tells them apart by the interface name), as in govmm.
 */
export const virtioNetSchema = z.strictObject({
  kind: z.literal('virtio-net'),
  /** Interface type. */
  type: z.enum(['tap', 'macvtap']),
  /** Host interface name (Linux rules: 1..15 bytes, no `/`, `:`, whitespace; here also no `,` `=`). */
  ifName: z
    .string()
    .regex(
      /^(?!\.{1,2}$)[^\s/:,=\u0000-\u001f\u007f]{1,15}$/,
      'must be a Linux interface name (1-15 characters, no "/", ":", ",", "=" or whitespace)',
    ),
  /** Guest MAC address, `aa:bb:cc:dd:ee:ff`. */
  macAddress: z
    .string()
    .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, 'must be a MAC address like 02:00:00:00:00:01'),
});

/** The backing file of the dummy block devices Kata puts in the hotplug pool. */
export const ACRN_NODISK = 'nodisk';

/**
 * `-s S,virtio-blk,<filePath>`. `index` is the drive index (0 = the VM image, 1..N = the hotplug
 * pool); the slot it lands in is recorded in the instance's slot table.
 */
export const virtioBlkSchema = z.strictObject({
  kind: z.literal('virtio-blk'),
  /** Backing file or block device, or `nodisk` for an empty placeholder. */
  filePath: slotValue,
  /** Drive index, the key of the slot table. */
  index: z.int().min(0).max(65_535),
});

/** Any device acrn-dm gets through `-s`, discriminated on `kind`. */
export const acrnDeviceSchema = z.discriminatedUnion('kind', [
  hostbridgeSchema,
  lpcSchema,
  consoleSchema,
  virtioNetSchema,
  virtioBlkSchema,
]);

/** Device input (defaults optional). */
export type AcrnDeviceConfig = z.input<typeof acrnDeviceSchema>;
/** Device after validation (defaults filled). */
export type AcrnDevice = z.output<typeof acrnDeviceSchema>;
/** Host bridge device. */
export type AcrnHostbridgeConfig = z.input<typeof hostbridgeSchema>;
/** LPC device. */
export type AcrnLpcConfig = z.input<typeof lpcSchema>;
/** virtio-console device. */
export type AcrnConsoleConfig = z.input<typeof consoleSchema>;
/** virtio-net device. */
export type AcrnVirtioNetConfig = z.input<typeof virtioNetSchema>;
/** virtio-blk device. */
export type AcrnVirtioBlkConfig = z.input<typeof virtioBlkSchema>;

/** acrn-dm `-m` sizes: a positive number with an optional k/M/G/T suffix (`2048M`). */
export const memorySizeSchema: z.ZodString = z
  .string()
  .regex(/^[1-9][0-9]*[kKmMgGtT]?$/, 'must be a positive size like 2048M or 2G');

/** The whole acrn-dm command line, in govmm's `Config` shape (camelCase). */
export const acrnConfigSchema = z
  .strictObject({
    /** VM name, the positional argument acrn-dm requires (last on the command line). */
    name: vmNameSchema,
    /** `-U`: VM UUID. ACRN only accepts its known UUIDs; see the UUID pool. */
    uuid: uuidSchema.optional(),
    /** `-A`: ACPI virtualisation. @default false */
    acpiVirt: z.boolean().default(false),
    /** `-m`: guest memory. */
    memory: z.strictObject({ size: memorySizeSchema }).optional(),
    /** Devices, given slots in order (0, 1, 3, 4, ... : slot 2 is GVT-g's). @default [] */
    devices: z.array(acrnDeviceSchema).default([]),
    /** `-k` kernel and `-B` boot arguments. */
    kernel: z
      .strictObject({
        /** Kernel image on the host. */
        path: plainString,
        /** Kernel command line (one argv element; commas are fine here). */
        params: z
          .string()
          .refine((s) => !CONTROL.test(s), NO_CONTROL)
          .optional(),
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    const seen = new Map<number, number>();
    let stdio: string | undefined;
    c.devices.forEach((d, i) => {
      if (d.kind === 'virtio-blk') {
        const first = seen.get(d.index);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['devices', i, 'index'],
            message: `block index ${d.index} is already used by devices[${first}]`,
          });
        } else seen.set(d.index, i);
      }
      const usesStdio = d.kind === 'lpc' || (d.kind === 'console' && d.backend === 'stdio');
      if (usesStdio) {
        if (stdio !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['devices', i],
            message: `acrn-dm's stdio is already taken by ${stdio} (acrn-dm allows one stdio user)`,
          });
        } else stdio = `devices[${i}] (${d.kind === 'lpc' ? 'LPC com1' : 'stdio console'})`;
      }
    });
  });

/** acrn-dm config as written by the caller. */
export type AcrnConfig = z.input<typeof acrnConfigSchema>;
/** acrn-dm config after validation. */
export type AcrnParsedConfig = z.output<typeof acrnConfigSchema>;
