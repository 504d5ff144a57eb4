import { z } from 'zod';
import { parseWith } from './errors.js';
import {
  ACRN_MAX_VCPUS,
  type AcrnKernelParam,
  acrnKernelParams,
  acrnMemorySize,
  serializeKernelParams,
} from './kernel.js';
import {
  ACRN_NODISK,
  type AcrnConfig,
  type AcrnDeviceConfig,
  plainString,
  uuidSchema,
  vmNameSchema,
} from './schema.js';

/** How many dummy block devices Kata puts on the command line for later hotplug (`AcrnBlkDevPoolSz`). */
export const ACRN_BLOCK_POOL_SIZE = 8;

const optionsSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .refine(
      (id) => vmNameSchema.safeParse(`sandbox-${id}`).success,
      'must give a valid VM name sandbox-<id>: letters, digits, ".", "_", "-", under 128 bytes in all',
    ),
  uuid: uuidSchema,
  kernelPath: plainString,
  imagePath: plainString,
  consolePath: plainString,
  memoryMiB: z.int().min(1).default(2048),
  debug: z.boolean().default(false),
  maxVcpus: z.int().min(1).max(ACRN_MAX_VCPUS).default(ACRN_MAX_VCPUS),
  kernelParams: z.array(z.strictObject({ key: z.string(), value: z.string() })).default([]),
  blockPoolSize: z.int().min(0).max(27).default(ACRN_BLOCK_POOL_SIZE),
});

/** Options of {@link createSandboxConfig}. */
export interface AcrnSandboxOptions {
  /** Sandbox id; the VM is named `sandbox-<id>`. */
  id: string;
  /** VM UUID, normally leased from an {@link AcrnUuidPool}. */
  uuid: string;
  /** Guest kernel. */
  kernelPath: string;
  /** Guest root image (ACRN guests boot from an image; it becomes virtio-blk index 0). */
  imagePath: string;
  /** Unix socket acrn-dm serves the guest console on. */
  consolePath: string;
  /** Guest memory in MiB. @default 2048 */
  memoryMiB?: number;
  /** Debug kernel parameters. @default false */
  debug?: boolean;
  /** `maxcpus=` for the guest, 1..8. @default 8 */
  maxVcpus?: number;
  /** Extra kernel parameters, appended last. @default [] */
  kernelParams?: readonly AcrnKernelParam[];
  /** Dummy `nodisk` drives (indexes 1..N) to reserve for hotplug; 0..27 (slots permitting). @default 8 */
  blockPoolSize?: number;
}

/**
 * The acrn-dm config Kata's ACRN driver builds for a sandbox: UUID, ACPI, memory, then hostbridge
 * (slot 0), LPC (1), the console socket as a console port (3), the image as drive 0 (4), the
 * dummy `nodisk` pool as drives 1..N (5..), the kernel with its parameters, name `sandbox-<id>`.
 * Append network devices to `devices` before encoding, as Kata's `addDevice` does.
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` for invalid options.
 */
export function createSandboxConfig(
  options: AcrnSandboxOptions,
): AcrnConfig & { devices: AcrnDeviceConfig[] } {
  const o = parseWith(optionsSchema, options, 'sandbox');
  const name = `sandbox-${o.id}`;
  const devices: AcrnDeviceConfig[] = [
    { kind: 'hostbridge', function: 0 },
    { kind: 'lpc', function: 0 },
    { kind: 'console', backend: 'socket', portType: 'console', name: 'console0', path: o.consolePath },
    { kind: 'virtio-blk', filePath: o.imagePath, index: 0 },
  ];
  for (let index = 1; index <= o.blockPoolSize; index++) {
    devices.push({ kind: 'virtio-blk', filePath: ACRN_NODISK, index });
  }
  const params = acrnKernelParams({
    debug: o.debug,
    withImage: true,
    maxVcpus: o.maxVcpus,
    extra: o.kernelParams,
  });
  return {
    name,
    uuid: o.uuid,
    acpiVirt: true,
    memory: { size: acrnMemorySize(o.memoryMiB) },
    devices,
    kernel: { path: o.kernelPath, params: serializeKernelParams(params) },
  };
}
