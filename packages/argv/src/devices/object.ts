/**
 * Memory and confidential-computing objects (govmm `Object`): `memory-backend-file` behind an NVDIMM,
 * `memory-backend-epc` (SGX), `sev-guest`, `sev-snp-guest`, `tdx-guest`, `s390-pv-guest`, `pef-guest`.
 */
import { z } from 'zod';
import type { EncodeContext } from '../context.js';
import { buildOptions } from '../option-string.js';
import { blockFilename } from '../paths.js';
import {
  byteCount,
  hostPath,
  nonNegativeInt,
  optionText,
  positiveInt,
  qemuId,
  qemuName,
  uuidText,
} from '../values.js';

/**
 * QEMU's smallest NVDIMM label area (`MIN_NAMESPACE_LABEL_SIZE` in hw/mem/nvdimm.c, 128 KiB): the
 * `label-size` setter refuses anything below it on every machine (observed with QEMU 7.2).
 */
export const MIN_NVDIMM_LABEL_SIZE = 128 * 1024;

/** NVDIMM backed by a file: `-device nvdimm,id=DEVID,memdev=ID -object memory-backend-file,...`. */
export const memoryBackendFileSchema = z
  .strictObject({
    kind: z.literal('memory-backend-file'),
    /** Front-end device driver. @default 'nvdimm' */
    driver: qemuName.optional(),
    /** Object id (`memdev=` of the device). */
    id: qemuId,
    /** Device id. */
    deviceId: qemuId,
    /** Backing file on the host. */
    memPath: hostPath,
    /** Size in bytes (> 0), label area included. */
    size: byteCount.positive(),
    /**
     * Size in bytes of the NVDIMM's namespace label area (`label-size=` on the device), carved out of the
     * end of the backing file, so the guest sees `size - labelSize` bytes. At least 128 KiB (QEMU's
     * minimum) and less than `size`. Needed on ppc64 `pseries`, where QEMU >= 5.1 refuses an NVDIMM
     * without it (and wants `size - labelSize` to be a multiple of 256 MiB). @default none (no label area)
     */
    labelSize: byteCount
      .min(
        MIN_NVDIMM_LABEL_SIZE,
        `must be at least ${MIN_NVDIMM_LABEL_SIZE} (128 KiB, QEMU's minimum label size)`,
      )
      .optional(),
    /**
     * NVDIMM UUID (`uuid=` on the device). ppc64 `pseries` (QEMU 7.2) refuses an NVDIMM whose UUID is
     * unset or all zeros. @default none (QEMU's all-zero UUID)
     */
    uuid: uuidText.optional(),
    /** Read-only backing (`readonly=on`) and an unarmed NVDIMM (`unarmed=on`). @default false */
    readOnly: z.boolean().optional(),
  })
  .superRefine((d, c) => {
    if (d.labelSize !== undefined && d.labelSize >= d.size) {
      c.addIssue({
        code: 'custom',
        path: ['labelSize'],
        message: `must be less than size (${d.size}): the label area is carved out of the backing file`,
      });
    }
  });
/** Config of a `memory-backend-file` NVDIMM. */
export type MemoryBackendFileConfig = z.infer<typeof memoryBackendFileSchema>;

/**
 * `-device nvdimm,id=DEVID,memdev=ID[,label-size=L][,uuid=U][,unarmed=on]
 * -object memory-backend-file,id=ID,mem-path=P,size=N[,readonly=on]`.
 */
export function encodeMemoryBackendFile(d: MemoryBackendFileConfig): string[] {
  return [
    '-device',
    buildOptions(d.driver ?? 'nvdimm', [
      ['id', d.deviceId],
      ['memdev', d.id],
      d.labelSize !== undefined && ['label-size', d.labelSize],
      d.uuid !== undefined && ['uuid', d.uuid],
      d.readOnly === true && ['unarmed', 'on'],
    ]),
    '-object',
    buildOptions('memory-backend-file', [
      ['id', d.id],
      ['mem-path', d.memPath],
      ['size', d.size],
      d.readOnly === true && ['readonly', 'on'],
    ]),
  ];
}

/** SGX EPC memory: `-object memory-backend-epc,id=ID,size=N[,prealloc=on]`. */
export const memoryBackendEpcSchema = z.strictObject({
  kind: z.literal('memory-backend-epc'),
  id: qemuId,
  /** Size in bytes (> 0). */
  size: byteCount.positive(),
  /** Pre-allocate. @default false */
  prealloc: z.boolean().optional(),
});
/** Config of a `memory-backend-epc` object. */
export type MemoryBackendEpcConfig = z.infer<typeof memoryBackendEpcSchema>;

/** Encode a `memory-backend-epc` object. */
export function encodeMemoryBackendEpc(d: MemoryBackendEpcConfig): string[] {
  return [
    '-object',
    buildOptions('memory-backend-epc', [
      ['id', d.id],
      ['size', d.size],
      d.prealloc === true && ['prealloc', 'on'],
    ]),
  ];
}

/** AMD SEV guest. */
export const sevGuestSchema = z.strictObject({
  kind: z.literal('sev-guest'),
  id: qemuId,
  /** Firmware (OVMF) image, loaded as a read-only pflash drive. */
  file: hostPath,
  /** C-bit position in page table entries (`cbitpos=`). */
  cBitPos: positiveInt,
  /** Physical address bits lost with SEV (`reduced-phys-bits=`). */
  reducedPhysBits: positiveInt,
});
/** Config of a `sev-guest` object. */
export type SevGuestConfig = z.infer<typeof sevGuestSchema>;

/** `-object sev-guest,id=ID,cbitpos=C,reduced-phys-bits=R -drive if=pflash,format=raw,readonly=on,file=F`. */
export function encodeSevGuest(d: SevGuestConfig): string[] {
  return [
    '-object',
    buildOptions('sev-guest', [
      ['id', d.id],
      ['cbitpos', d.cBitPos],
      ['reduced-phys-bits', d.reducedPhysBits],
    ]),
    '-drive',
    buildOptions(undefined, [
      ['if', 'pflash'],
      ['format', 'raw'],
      ['readonly', 'on'],
      ['file', blockFilename(d.file)],
    ]),
  ];
}

/** AMD SEV-SNP guest (govmm MAIN). The firmware file becomes `-bios`. */
export const sevSnpGuestSchema = z.strictObject({
  kind: z.literal('sev-snp-guest'),
  id: qemuId,
  /** Firmware image; emitted as `-bios FILE`. */
  file: hostPath,
  cBitPos: positiveInt,
  reducedPhysBits: positiveInt,
  /** Base64 ID block (`id-block=`). */
  idBlock: optionText.optional(),
  /** Base64 ID authentication (`id-auth=`). */
  idAuth: optionText.optional(),
  /** Guest policy (`policy=`). */
  policy: nonNegativeInt.optional(),
  /** Base64 host data, 32 bytes (`host-data=`). */
  hostData: optionText.optional(),
});
/** Config of a `sev-snp-guest` object. */
export type SevSnpGuestConfig = z.infer<typeof sevSnpGuestSchema>;

/**
 * `-object sev-snp-guest,id=ID,cbitpos=C,reduced-phys-bits=R,kernel-hashes=on[,id-block][,id-auth][,policy][,host-data]`.
 * @throws {ArgvError} `ARGV_CONFLICT` when another device already chose a different firmware.
 */
export function encodeSevSnpGuest(d: SevSnpGuestConfig, ctx: EncodeContext): string[] {
  ctx.setFirmware(d.file, 'file');
  return [
    '-object',
    buildOptions('sev-snp-guest', [
      ['id', d.id],
      ['cbitpos', d.cBitPos],
      ['reduced-phys-bits', d.reducedPhysBits],
      ['kernel-hashes', 'on'],
      d.idBlock !== undefined && ['id-block', d.idBlock],
      d.idAuth !== undefined && ['id-auth', d.idAuth],
      d.policy !== undefined && ['policy', d.policy],
      d.hostData !== undefined && ['host-data', d.hostData],
    ]),
  ];
}

/** Intel TDX guest (govmm G22 form: firmware through a `loader` device). */
export const tdxGuestSchema = z.strictObject({
  kind: z.literal('tdx-guest'),
  id: qemuId,
  /** Id of the firmware loader device. */
  deviceId: qemuId,
  /** Firmware loader driver. @default 'loader' */
  driver: qemuName.optional(),
  /** Firmware (TDVF) image. */
  file: hostPath,
  /** `debug=on`. @default false */
  debug: z.boolean().optional(),
});
/** Config of a `tdx-guest` object. */
export type TdxGuestConfig = z.infer<typeof tdxGuestSchema>;

/** `-device loader,id=DEVID,file=F -object tdx-guest,id=ID[,debug=on]`. */
export function encodeTdxGuest(d: TdxGuestConfig): string[] {
  return [
    '-device',
    buildOptions(d.driver ?? 'loader', [
      ['id', d.deviceId],
      ['file', d.file],
    ]),
    '-object',
    buildOptions('tdx-guest', [['id', d.id], d.debug === true && ['debug', 'on']]),
  ];
}

/** s390x protected virtualisation guest: `-object s390-pv-guest,id=ID`. */
export const s390PvGuestSchema = z.strictObject({ kind: z.literal('s390-pv-guest'), id: qemuId });
/** Config of an `s390-pv-guest` object. */
export type S390PvGuestConfig = z.infer<typeof s390PvGuestSchema>;

/** Encode an `s390-pv-guest` object. */
export function encodeS390PvGuest(d: S390PvGuestConfig): string[] {
  return ['-object', buildOptions('s390-pv-guest', [['id', d.id]])];
}

/** POWER protected execution (PEF) guest. */
export const pefGuestSchema = z.strictObject({
  kind: z.literal('pef-guest'),
  id: qemuId,
  /** Id of the ultravisor proxy device. */
  deviceId: qemuId,
  /** Proxy device driver. @default 'spapr-tpm-proxy' */
  driver: qemuName.optional(),
  /** Host path of the TPM proxy (`host-path=`). */
  file: hostPath,
});
/** Config of a `pef-guest` object. */
export type PefGuestConfig = z.infer<typeof pefGuestSchema>;

/** `-device spapr-tpm-proxy,id=DEVID,host-path=F -object pef-guest,id=ID`. */
export function encodePefGuest(d: PefGuestConfig): string[] {
  return [
    '-device',
    buildOptions(d.driver ?? 'spapr-tpm-proxy', [
      ['id', d.deviceId],
      ['host-path', d.file],
    ]),
    '-object',
    buildOptions('pef-guest', [['id', d.id]]),
  ];
}
