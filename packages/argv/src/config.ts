/** The whole VM description (govmm `Config`), as one zod schema. */
import { z } from 'zod';
import { deviceSchema } from './devices/index.js';
import { ARCHES } from './transport.js';
import {
  hostFd,
  hostPath,
  nonEmptyText,
  nonNegativeInt,
  optionText,
  positiveInt,
  qemuId,
  qemuName,
  sizeString,
  uuidText,
} from './values.js';

/** `-machine`: type, accelerator and options. */
export const machineSchema = z.strictObject({
  /** Machine type, e.g. `q35`, `pc`, `virt`, `microvm`, `pseries`, `s390-ccw-virtio`. */
  type: qemuName,
  /** Accelerators, e.g. `kvm`, `tcg`, `kvm:tcg` (`accel=`). @default none */
  acceleration: z
    .string()
    .regex(/^[a-z]+(:[a-z]+)*$/, 'must be accelerators such as kvm or kvm:tcg')
    .optional(),
  /**
   * More machine options. A string is QEMU option syntax as govmm takes it (`usb=off,nvdimm=on`; write a
   * literal comma in a value as `,,`); it is parsed and re-encoded, so it cannot smuggle other options.
   * An object is written key by key with values escaped.
   * @default none
   */
  options: z
    .union([
      optionText,
      z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), z.union([optionText, z.number(), z.boolean()])),
    ])
    .optional(),
});
/** Config of `-machine`. */
export type MachineConfig = z.infer<typeof machineSchema>;

/** QMP/HMP monitor protocols: `-qmp`, `-qmp-pretty`, `-monitor`. */
export const QMP_PROTOCOLS = ['qmp', 'qmp-pretty', 'hmp'] as const;

/** A QMP (or HMP) unix socket. */
export const qmpSocketSchema = z
  .strictObject({
    /** Socket type; only unix sockets. */
    type: z.literal('unix'),
    /** Socket path. Exactly one of name / fd. */
    name: hostPath.optional(),
    /** An already listening/connected socket fd in the launching process. */
    fd: hostFd.optional(),
    /** QEMU listens (`server=on`). @default false */
    server: z.boolean().optional(),
    /** With `server`, do not wait for a client before starting (`wait=off`). @default false */
    noWait: z.boolean().optional(),
    /** Monitor protocol. @default 'qmp' */
    protocol: z.enum(QMP_PROTOCOLS).optional(),
  })
  .superRefine((q, c) => {
    if ((q.name === undefined) === (q.fd === undefined)) {
      c.addIssue({ code: 'custom', path: ['name'], message: 'exactly one of name and fd is required' });
    }
    if (q.noWait === true && q.server !== true) {
      c.addIssue({ code: 'custom', path: ['noWait'], message: 'noWait applies to server sockets only' });
    }
  });
/** Config of a QMP socket. */
export type QmpSocketConfig = z.infer<typeof qmpSocketSchema>;

/** Guest memory (`-m`). */
export const memorySchema = z.strictObject({
  /** RAM size, e.g. `2048M`, `2G` (not zero). */
  size: sizeString.refine((s) => /[1-9]/.test(s), 'must not be zero'),
  /** Hotplug slots (`slots=`, 1..255). @default none */
  slots: positiveInt.max(255).optional(),
  /** Maximum memory with hotplug (`maxmem=`). @default none */
  maxMem: sizeString.optional(),
  /** Backing file/directory for `knobs.fileBackedMem` (`mem-path=`). @default none */
  path: hostPath.optional(),
});
/** Config of guest memory. */
export type MemoryConfig = z.infer<typeof memorySchema>;

/** `-rtc`. */
export const rtcSchema = z.strictObject({
  /** `utc`, `localtime` or a start date `2006-06-17T16:01:21` / `2006-06-17`. @default none */
  base: z
    .string()
    .regex(/^(utc|localtime|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?)$/, 'must be utc, localtime or a date')
    .optional(),
  /** `host`, `rt` or `vm`. @default none */
  clock: z.enum(['host', 'rt', 'vm']).optional(),
  /** `slew` or `none`. @default none */
  driftFix: z.enum(['slew', 'none']).optional(),
});
/** Config of the RTC. */
export type RtcConfig = z.infer<typeof rtcSchema>;

/** Boolean knobs (govmm `Knobs`). Every one defaults to `false`. */
export const knobsSchema = z.strictObject({
  /** `-no-user-config`. */
  noUserConfig: z.boolean().optional(),
  /** `-nodefaults`. */
  noDefaults: z.boolean().optional(),
  /** `-nographic`. */
  noGraphic: z.boolean().optional(),
  /** `--no-reboot`. */
  noReboot: z.boolean().optional(),
  /** `--no-shutdown`. */
  noShutdown: z.boolean().optional(),
  /** `-daemonize`. */
  daemonize: z.boolean().optional(),
  /** Back guest RAM with /dev/hugepages. */
  hugePages: z.boolean().optional(),
  /** Pre-allocate guest RAM (`prealloc=on`). */
  memPrealloc: z.boolean().optional(),
  /** Back guest RAM with `memory.path`. */
  fileBackedMem: z.boolean().optional(),
  /** Share guest RAM (`share=on`), needed by vhost-user. */
  memShared: z.boolean().optional(),
  /** Lock guest memory (`-overcommit mem-lock=on`). */
  mlock: z.boolean().optional(),
  /** Start paused (`-S`). */
  stopped: z.boolean().optional(),
  /** CCW devices get `iommu_platform=on` (s390x protected virtualisation). */
  iommuPlatform: z.boolean().optional(),
});
/** Config of the knobs. */
export type KnobsConfig = z.infer<typeof knobsSchema>;

const cpuRange = z.string().regex(/^\d+(-\d+)?$/, 'must be a CPU/node number or range such as 0-3');

/** One NUMA node (govmm MAIN `NUMANode`). */
export const numaNodeSchema = z.strictObject({
  /** Memory of this node, e.g. `1G`. */
  size: sizeString,
  /** Backend object type. @default memory-backend-file with a mem path, else memory-backend-ram */
  memBackendType: z.enum(['memory-backend-ram', 'memory-backend-file', 'memory-backend-memfd']).optional(),
  /** Backing path for memory-backend-file. @default /dev/hugepages with knobs.hugePages, memory.path with knobs.fileBackedMem */
  memPath: hostPath.optional(),
  /** Host nodes to bind the memory to (`host-nodes=H,policy=bind`), e.g. `0` or `0-1`. @default none */
  hostNodes: z.union([cpuRange, z.array(cpuRange).min(1)]).optional(),
  /** Guest CPUs of this node (`cpus=`), e.g. `0-1` or `['0-1', '4']`. @default none */
  cpus: z.union([cpuRange, z.array(cpuRange).min(1)]).optional(),
});
/** Config of a NUMA node. */
export type NumaNodeConfig = z.infer<typeof numaNodeSchema>;

/** A NUMA distance (`-numa dist,src=,dst=,val=`). */
export const numaDistanceSchema = z.strictObject({
  src: nonNegativeInt,
  dst: nonNegativeInt,
  /** Distance 10..255 (10 = local). */
  val: z.number().int().min(10).max(255),
});
/** Config of a NUMA distance. */
export type NumaDistanceConfig = z.infer<typeof numaDistanceSchema>;

/** Direct kernel boot. */
export const kernelSchema = z.strictObject({
  /** Kernel image (`-kernel`). */
  path: hostPath,
  /**
   * Initrd (`-initrd`), written literally (a plain path for Linux kernels). For a multiboot kernel QEMU
   * splits this at commas into modules, so give such kernels comma-free paths. @default none
   */
  initrdPath: hostPath.optional(),
  /** Command line (`-append`, its own argv element). @default none */
  params: optionText.optional(),
});
/** Config of direct kernel boot. */
export type KernelConfig = z.infer<typeof kernelSchema>;

/** Incoming migration. */
export const incomingSchema = z
  .strictObject({
    /** `fd` (`-incoming fd:N`), `exec` (`exec:CMD`) or `defer`. */
    migrationType: z.enum(['fd', 'exec', 'defer']),
    /** Host fd carrying the stream (type fd). */
    fd: hostFd.optional(),
    /** Shell command producing the stream (type exec). */
    exec: nonEmptyText.optional(),
  })
  .superRefine((m, c) => {
    if (m.migrationType === 'fd' && m.fd === undefined)
      c.addIssue({ code: 'custom', path: ['fd'], message: 'fd migration needs fd' });
    if (m.migrationType === 'exec' && m.exec === undefined) {
      c.addIssue({ code: 'custom', path: ['exec'], message: 'exec migration needs exec' });
    }
    if (m.migrationType !== 'fd' && m.fd !== undefined)
      c.addIssue({ code: 'custom', path: ['fd'], message: 'fd is for fd migration' });
    if (m.migrationType !== 'exec' && m.exec !== undefined) {
      c.addIssue({ code: 'custom', path: ['exec'], message: 'exec is for exec migration' });
    }
  });
/** Config of incoming migration. */
export type IncomingConfig = z.infer<typeof incomingSchema>;

/** A firmware config blob (`-fw_cfg`). */
export const fwCfgSchema = z
  .strictObject({
    /** Item name, e.g. `opt/com.example/blob`. */
    name: nonEmptyText,
    /** File to expose. Exactly one of file / str. */
    file: hostPath.optional(),
    /** String to expose. */
    str: optionText.optional(),
  })
  .superRefine((f, c) => {
    if ((f.file === undefined) === (f.str === undefined)) {
      c.addIssue({ code: 'custom', path: ['file'], message: 'exactly one of file and str is required' });
    }
  });
/** Config of a fw_cfg item. */
export type FwCfgConfig = z.infer<typeof fwCfgSchema>;

const cpuCount = positiveInt.max(2 ** 32 - 1);

/** CPU topology (`-smp`). */
export const smpSchema = z
  .strictObject({
    /** vCPUs at boot. */
    cpus: cpuCount,
    /** Cores per socket. @default none */
    cores: cpuCount.optional(),
    /** Threads per core. @default none */
    threads: cpuCount.optional(),
    /** Sockets. @default none */
    sockets: cpuCount.optional(),
    /** Hotplug ceiling (`maxcpus=`), >= cpus. @default none */
    maxCpus: cpuCount.optional(),
  })
  .superRefine((s, c) => {
    if (s.maxCpus !== undefined && s.maxCpus < s.cpus) {
      c.addIssue({
        code: 'custom',
        path: ['maxCpus'],
        message: `MaxCPUs ${s.maxCpus} must be equal to or greater than CPUs ${s.cpus}`,
      });
    }
  });
/** Config of the CPU topology. */
export type SmpConfig = z.infer<typeof smpSchema>;

/** The whole VM (govmm `Config`). Every field is optional; an empty config encodes to `[]`. */
export const qemuConfigSchema = z
  .strictObject({
    /** Target architecture; decides transports and memory layout (never the host's). @default 'amd64' */
    arch: z.enum(ARCHES).optional(),
    /** Guest name (`-name`). */
    name: nonEmptyText.optional(),
    /** SMBIOS UUID (`-uuid`). */
    uuid: uuidText.optional(),
    /** Machine type and options. */
    machine: machineSchema.optional(),
    /**
     * CPU model and features, as QEMU's `-cpu` takes them: `host`, `host,pmu=off`, `Skylake-Client,-vmx`.
     * Commas separate features (QEMU does not honour `,,` here).
     */
    cpuModel: z
      .string()
      .regex(
        /^[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.+=-]+)*$/,
        'must be a CPU model optionally followed by ,feature items',
      )
      .optional(),
    /** QMP/HMP sockets. */
    qmpSockets: z.array(qmpSocketSchema).optional(),
    /** Guest memory. */
    memory: memorySchema.optional(),
    /** Devices, in argv order. */
    devices: z.array(deviceSchema).optional(),
    /** Real-time clock. */
    rtc: rtcSchema.optional(),
    /**
     * One `-global DRIVER.PROPERTY=VALUE`. The value is taken literally by QEMU (commas included).
     */
    globalParam: z
      .string()
      .regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.[A-Za-z0-9_-]+=/, 'must be DRIVER.PROPERTY=VALUE')
      .pipe(optionText)
      .optional(),
    /** Flash images (`-pflash`). */
    pflash: z.array(hostPath).optional(),
    /** VGA card (`-vga`), e.g. `none`, `std`, `virtio`. */
    vga: qemuName.optional(),
    /** Boolean knobs. */
    knobs: knobsSchema.optional(),
    /** NUMA nodes; when set, guest RAM is split across them instead of the single `dimm1` backend. */
    numaNodes: z.array(numaNodeSchema).optional(),
    /** NUMA distances. */
    numaDistances: z.array(numaDistanceSchema).optional(),
    /** Direct kernel boot. */
    kernel: kernelSchema.optional(),
    /** Firmware (`-bios`). */
    bios: hostPath.optional(),
    /** IO threads (`-object iothread,id=ID`). */
    ioThreads: z.array(z.strictObject({ id: qemuId })).optional(),
    /** Incoming migration. */
    incoming: incomingSchema.optional(),
    /** PID file (`-pidfile`). */
    pidFile: hostPath.optional(),
    /** Debug log file (`-D`). */
    logFile: hostPath.optional(),
    /** Firmware config items (`-fw_cfg`), one option per item. */
    fwCfg: z.array(fwCfgSchema).optional(),
    /**
     * Seccomp sandbox (`-sandbox`), QEMU option syntax:
     * `on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny`.
     */
    seccompSandbox: nonEmptyText.optional(),
    /** CPU topology (`-smp`, always last before extraParams). */
    smp: smpSchema.optional(),
    /**
     * Raw arguments appended verbatim after everything else. They BYPASS validation and escaping (as
     * govmm's `ExtraParams`): only NUL bytes are refused, because no argv can hold them.
     */
    extraParams: z.array(z.string().refine((s) => !s.includes('\0'), 'holds a NUL byte')).optional(),
  })
  .superRefine((cfg, c) => {
    const smp = cfg.smp;
    if (
      smp !== undefined &&
      (cfg.numaNodes?.length ?? 0) > 1 &&
      smp.maxCpus !== undefined &&
      smp.sockets !== undefined &&
      smp.cores !== undefined &&
      smp.threads !== undefined &&
      smp.maxCpus !== smp.sockets * smp.cores * smp.threads
    ) {
      const product = smp.sockets * smp.cores * smp.threads;
      c.addIssue({
        code: 'custom',
        path: ['smp', 'maxCpus'],
        message: `MaxCPUs ${smp.maxCpus} must equal Sockets(${smp.sockets}) * Cores(${smp.cores}) * Threads(${smp.threads}) = ${product}`,
      });
    }
    if (cfg.knobs?.fileBackedMem === true && cfg.memory?.path === undefined && cfg.knobs.hugePages !== true) {
      c.addIssue({
        code: 'custom',
        path: ['knobs', 'fileBackedMem'],
        message: 'fileBackedMem needs memory.path',
      });
    }
    if (cfg.memory?.path !== undefined && cfg.knobs?.fileBackedMem !== true) {
      c.addIssue({
        code: 'custom',
        path: ['memory', 'path'],
        message: 'memory.path is used only with knobs.fileBackedMem',
      });
    }
  });

/** A whole VM description. Build it in TypeScript or load it from JSON; validate with {@link validateQemuConfig}. */
export type QemuConfig = z.infer<typeof qemuConfigSchema>;
