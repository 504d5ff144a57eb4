import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { endianness, machine as osMachine } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { type DeviceNodeInfo, decideAccel, KVM_MODULES, type KvmModules } from './accel.js';
import { type HostArch, machineFromNodeArch, QEMU_SYSTEM_BINARIES, toHostArch } from './arch.js';
import { HostinfoError, type HostinfoWarning } from './errors.js';
import { type BoundedText, DEFAULT_MAX_FILE_BYTES, isMissing, readBounded } from './fs-read.js';
import type { CpuFacts, HostInfo, HugepageSize, MemoryFacts, QemuFacts, VirtExtension } from './host-info.js';
import { detectNested, type NestedInfo, parseRunningOnVmm } from './nested.js';
import { type CpuinfoInfo, parseCpuinfo } from './parse-cpuinfo.js';
import { type MeminfoInfo, parseMeminfo, parseMemTotalKiB } from './parse-meminfo.js';
import { DEFAULT_QEMU_VERSION_TIMEOUT_MS, defaultQemuSearchDirs, findQemu, readQemuVersion } from './qemu.js';

/** Where and how readers look. Every field is optional. */
export interface ReadOptions {
  /** Root of the proc filesystem. @default '/proc' */
  procRoot?: string;
  /** Root of sysfs. @default '/sys' */
  sysRoot?: string;
  /** Root of the device nodes. @default '/dev' */
  devRoot?: string;
  /** Environment (`VMM_ACCEL`, `VMM_QEMU`, `PATH`). @default process.env */
  env?: Record<string, string | undefined>;
  /** Cap on bytes read from one file; beyond it the result is partial and says so. @default 16 MiB */
  maxFileBytes?: number;
  /** Cancels reads and the QEMU `--version` run. */
  signal?: AbortSignal;
}

/** Options of {@link readHostInfo}. */
export interface ReadHostInfoOptions extends ReadOptions {
  /** Look for QEMU and run its `--version`. @default true */
  qemu?: boolean;
  /** Explicit QEMU binary (skips the search). @default env.VMM_QEMU, else search */
  qemuPath?: string;
  /** Directories searched for `qemu-system-<arch>`. @default PATH, then /usr/bin, /usr/libexec, /usr/local/bin */
  qemuSearchDirs?: string[];
  /** Timeout of `qemu-system-* --version`, ms. @default 5000 */
  qemuTimeoutMs?: number;
}

const optionsSchema = z.strictObject({
  procRoot: z.string().min(1).optional(),
  sysRoot: z.string().min(1).optional(),
  devRoot: z.string().min(1).optional(),
  // process.env is an exotic object that z.record rejects; accept any object and read strings from it.
  env: z
    .custom<Record<string, string | undefined>>(
      (v) => typeof v === 'object' && v !== null,
      'expected an object',
    )
    .optional(),
  maxFileBytes: z
    .number()
    .int()
    .min(4096)
    .max(1 << 30)
    .optional(),
  signal: z.instanceof(AbortSignal).optional(),
  qemu: z.boolean().optional(),
  qemuPath: z.string().min(1).optional(),
  qemuSearchDirs: z.array(z.string().min(1)).optional(),
  qemuTimeoutMs: z.number().int().positive().max(600_000).optional(),
});

interface Resolved {
  proc: string;
  sys: string;
  dev: string;
  env: Record<string, string | undefined>;
  max: number;
  signal: AbortSignal | undefined;
}

function resolve(options: ReadHostInfoOptions | undefined): Resolved & { raw: ReadHostInfoOptions } {
  const parsed = optionsSchema.safeParse(options ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(options)';
    throw new HostinfoError('HOSTINFO_INVALID_OPTIONS', `option ${field}: ${issue.message}`, {
      cause: parsed.error,
    });
  }
  const o = options ?? {};
  return {
    proc: o.procRoot ?? '/proc',
    sys: o.sysRoot ?? '/sys',
    dev: o.devRoot ?? '/dev',
    env: o.env ?? process.env,
    max: o.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    signal: o.signal,
    raw: o,
  };
}

async function readText(r: Resolved, path: string): Promise<BoundedText> {
  return readBounded(path, r.max, r.signal);
}

/**
 * Run `tasks` concurrently, each warning into a list of its own, then append those lists to
 * `warnings` in task order: the warnings never depend on which read finished first.
 */
async function allInOrder<T extends readonly unknown[]>(
  warnings: HostinfoWarning[],
  tasks: { readonly [K in keyof T]: (into: HostinfoWarning[]) => Promise<T[K]> },
): Promise<T> {
  const lists = tasks.map((): HostinfoWarning[] => []);
  const results = await Promise.all(tasks.map((task, i) => task(lists[i]!)));
  for (const list of lists) warnings.push(...list);
  return results as unknown as T;
}

/** Optional file: `undefined` when missing; other errors become a warning. */
async function readOptional(
  r: Resolved,
  path: string,
  warnings: HostinfoWarning[],
): Promise<string | undefined> {
  try {
    return (await readText(r, path)).text;
  } catch (err) {
    if (HostinfoError.is(err) && err.code === 'HOSTINFO_ABORTED') throw err;
    if (!isMissing(err)) warnings.push({ code: 'HOSTINFO_FILE_UNREADABLE', message: (err as Error).message });
    return undefined;
  }
}

/**
 * Read and parse `<procRoot>/cpuinfo`.
 * @throws {HostinfoError} `HOSTINFO_FILE_UNREADABLE`, `HOSTINFO_PARSE`, `HOSTINFO_INVALID_OPTIONS`, `HOSTINFO_ABORTED`.
 */
export async function readCpuinfo(options?: ReadOptions): Promise<CpuinfoInfo & { truncated: boolean }> {
  const r = resolve(options);
  const file = join(r.proc, 'cpuinfo');
  const { text, truncated } = await readText(r, file);
  return { ...parseCpuinfo(text, { file }), truncated };
}

/**
 * Read and parse `<procRoot>/meminfo`.
 * @throws {HostinfoError} `HOSTINFO_FILE_UNREADABLE`, `HOSTINFO_PARSE`, `HOSTINFO_INVALID_OPTIONS`, `HOSTINFO_ABORTED`.
 */
export async function readMeminfo(options?: ReadOptions): Promise<MeminfoInfo> {
  const r = resolve(options);
  const file = join(r.proc, 'meminfo');
  return parseMeminfo((await readText(r, file)).text, { file });
}

/**
 * Kata's `getHostMemorySizeKb`: host memory in KiB from `<procRoot>/meminfo` (see {@link parseMemTotalKiB}).
 * @throws {HostinfoError} `HOSTINFO_NO_MEMTOTAL` (naming the file), `HOSTINFO_FILE_UNREADABLE`, `HOSTINFO_ABORTED`.
 */
export async function readHostMemorySizeKiB(options?: ReadOptions): Promise<bigint> {
  const r = resolve(options);
  const file = join(r.proc, 'meminfo');
  return parseMemTotalKiB((await readText(r, file)).text, { file });
}

/**
 * Kata's `RunningOnVMM` for `arch`: `false` on arm64, ppc64le and s390x without reading anything;
 * on amd64 the first `flags` line of `<procRoot>/cpuinfo` decides. (See {@link readHostInfo}'s
 * `nested` for vmm's answer on every arch.)
 * @param arch - @default the arch from `<procRoot>/sys/kernel/arch`, else this process's
 * @throws {HostinfoError} `HOSTINFO_NO_CPU_FLAGS` (naming the file), `HOSTINFO_FILE_UNREADABLE`, `HOSTINFO_ABORTED`.
 */
export async function readRunningOnVmm(options?: ReadOptions & { arch?: HostArch }): Promise<boolean> {
  const { arch: given, ...rest } = options ?? {};
  const r = resolve(rest);
  const arch = given ?? toHostArch(await readMachine(r, []));
  if (arch !== 'amd64') return false;
  const file = join(r.proc, 'cpuinfo');
  return parseRunningOnVmm((await readText(r, file)).text, { file });
}

async function readMachine(r: Resolved, warnings: HostinfoWarning[]): Promise<string> {
  const text = await readOptional(r, join(r.proc, 'sys/kernel/arch'), warnings);
  const fromProc = text?.trim();
  if (fromProc) return fromProc;
  if (r.proc !== '/proc') {
    warnings.push({
      code: 'HOSTINFO_FILE_UNREADABLE',
      message: `no ${join(r.proc, 'sys/kernel/arch')}: using this process's architecture`,
    });
  }
  try {
    return osMachine();
  } catch {
    return machineFromNodeArch(process.arch, endianness());
  }
}

async function deviceNode(path: string): Promise<DeviceNodeInfo> {
  const can = async (mode: number): Promise<boolean> =>
    access(path, mode).then(
      () => true,
      () => false,
    );
  try {
    const st = await stat(path);
    return {
      path,
      present: true,
      charDevice: st.isCharacterDevice(),
      readable: await can(constants.R_OK),
      writable: await can(constants.W_OK),
      mode: (st.mode & 0o7777).toString(8).padStart(4, '0'),
    };
  } catch {
    return { path, present: false, charDevice: false, readable: false, writable: false, mode: null };
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readModules(r: Resolved): Promise<KvmModules> {
  const present = await Promise.all(KVM_MODULES.map((m) => exists(join(r.sys, 'module', m))));
  return Object.fromEntries(KVM_MODULES.map((m, i) => [m, present[i]!])) as unknown as KvmModules;
}

async function readHugepageSizes(r: Resolved, warnings: HostinfoWarning[]): Promise<HugepageSize[]> {
  const dir = join(r.sys, 'kernel/mm/hugepages');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const sizes: HugepageSize[] = [];
  for (const name of names) {
    const m = /^hugepages-([0-9]{1,15})kB$/.exec(name);
    if (m === null) continue;
    const counter =
      (file: string) =>
      async (into: HostinfoWarning[]): Promise<number> => {
        const text = await readOptional(r, join(dir, name, file), into);
        const t = text?.trim() ?? '';
        return /^[0-9]{1,15}$/.test(t) ? Number(t) : 0;
      };
    const [total, free, reserved, surplus] = await allInOrder(warnings, [
      counter('nr_hugepages'),
      counter('free_hugepages'),
      counter('resv_hugepages'),
      counter('surplus_hugepages'),
    ]);
    sizes.push({ sizeKiB: Number(m[1]), total: total!, free: free!, reserved: reserved!, surplus: surplus! });
  }
  return sizes.sort((a, b) => a.sizeKiB - b.sizeKiB);
}

function virtualization(arch: HostArch | null, cpu: CpuinfoInfo): VirtExtension | null {
  const has = (f: string): boolean => cpu.flags.includes(f);
  if (arch === 'amd64') return has('vmx') ? 'vmx' : has('svm') ? 'svm' : null;
  if (arch === 's390x') return has('sie') ? 'sie' : null;
  if (arch === 'ppc64le') return cpu.global.platform === 'PowerNV' ? 'hv' : null;
  return null;
}

async function gatherQemu(
  r: Resolved & { raw: ReadHostInfoOptions },
  arch: HostArch | null,
): Promise<QemuFacts> {
  const binary = arch === null ? null : QEMU_SYSTEM_BINARIES[arch];
  const none: QemuFacts = { binary, path: null, version: null, searched: [], error: null };
  if (r.raw.qemu === false) return none;
  if (arch === null) {
    return {
      ...none,
      error: { code: 'HOSTINFO_UNSUPPORTED_ARCH', message: 'no QEMU binary for this architecture' },
    };
  }
  const explicit = r.raw.qemuPath ?? (r.env.VMM_QEMU || undefined);
  const searchDirs = r.raw.qemuSearchDirs ?? defaultQemuSearchDirs(r.env);
  let found: Awaited<ReturnType<typeof findQemu>>;
  try {
    found = await findQemu({ arch, path: explicit, searchDirs });
  } catch (err) {
    if (!HostinfoError.is(err)) throw err;
    const searched = explicit === undefined ? searchDirs.map((d) => join(d, binary!)) : [explicit];
    return { ...none, searched, error: { code: err.code, message: err.message } };
  }
  try {
    const version = await readQemuVersion(found.path, {
      timeoutMs: r.raw.qemuTimeoutMs ?? DEFAULT_QEMU_VERSION_TIMEOUT_MS,
      signal: r.signal,
      env: r.env,
    });
    return { binary, path: found.path, version, searched: found.searched, error: null };
  } catch (err) {
    if (!HostinfoError.is(err) || err.code === 'HOSTINFO_ABORTED') throw err;
    return {
      binary,
      path: found.path,
      version: null,
      searched: found.searched,
      error: { code: err.code, message: err.message },
    };
  }
}

async function assertDir(path: string, option: string): Promise<void> {
  try {
    if ((await stat(path)).isDirectory()) return;
  } catch (err) {
    throw new HostinfoError('HOSTINFO_FILE_UNREADABLE', `${option} ${path} is not a readable directory`, {
      cause: err,
      path,
    });
  }
  throw new HostinfoError('HOSTINFO_FILE_UNREADABLE', `${option} ${path} is not a directory`, { path });
}

/**
 * Gather every host fact `vmm hostinfo` and `vmm check` report. Missing or unparseable files do not
 * throw: the affected fact is `null` (or `false`) and `warnings` says which file and why, so the
 * result is a documented partial one. Files are read with a byte cap (`maxFileBytes`), FIFOs fail
 * rather than block, and QEMU's `--version` runs with a timeout.
 *
 * @throws {HostinfoError} `HOSTINFO_INVALID_OPTIONS`; `HOSTINFO_FILE_UNREADABLE` when a root
 * directory itself is missing; `HOSTINFO_ABORTED`.
 */
export async function readHostInfo(options?: ReadHostInfoOptions): Promise<HostInfo> {
  const r = resolve(options);
  await Promise.all([
    assertDir(r.proc, 'procRoot'),
    assertDir(r.sys, 'sysRoot'),
    assertDir(r.dev, 'devRoot'),
  ]);
  const warnings: HostinfoWarning[] = [];
  const note = (err: unknown, into: HostinfoWarning[] = warnings): void => {
    if (HostinfoError.is(err) && err.code === 'HOSTINFO_ABORTED') throw err;
    if (HostinfoError.is(err)) into.push({ code: err.code, message: err.message });
    else throw err;
  };
  const soft = async <T>(p: Promise<T>, into: HostinfoWarning[]): Promise<T | undefined> => {
    try {
      return await p;
    } catch (err) {
      note(err, into);
      return undefined;
    }
  };
  const cpuinfoFile = join(r.proc, 'cpuinfo');
  const meminfoFile = join(r.proc, 'meminfo');

  const [machine, kernelText, cpuRead, memRead] = await allInOrder(warnings, [
    (w) => readMachine(r, w),
    (w) => readOptional(r, join(r.proc, 'sys/kernel/osrelease'), w),
    (w) => soft(readText(r, cpuinfoFile), w),
    (w) => soft(readText(r, meminfoFile), w),
  ]);
  const arch = toHostArch(machine);
  if (arch === null) {
    warnings.push({
      code: 'HOSTINFO_UNSUPPORTED_ARCH',
      message: `machine "${machine}" is not amd64, arm64, ppc64le or s390x`,
    });
  }

  let cpuinfo: CpuinfoInfo | undefined;
  let cpu: CpuFacts | null = null;
  if (cpuRead !== undefined) {
    if (cpuRead.truncated) {
      warnings.push({
        code: 'HOSTINFO_TRUNCATED',
        message: `${cpuinfoFile} exceeds ${r.max} bytes: read the first ${r.max}`,
      });
    }
    try {
      cpuinfo = parseCpuinfo(cpuRead.text, { file: cpuinfoFile });
      cpu = {
        count: cpuinfo.count,
        vendor: cpuinfo.vendor,
        modelName: cpuinfo.modelName,
        flags: cpuinfo.flags,
        format: cpuinfo.format,
        virtualization: virtualization(arch, cpuinfo),
        truncated: cpuRead.truncated,
      };
    } catch (err) {
      note(err);
    }
  }

  let memory: MemoryFacts | null = null;
  let defaultSizeKiB: number | null = null;
  if (memRead !== undefined) {
    if (memRead.truncated) {
      warnings.push({
        code: 'HOSTINFO_TRUNCATED',
        message: `${meminfoFile} exceeds ${r.max} bytes: read the first ${r.max}`,
      });
    }
    try {
      const mem = parseMeminfo(memRead.text, { file: meminfoFile });
      let totalKiB: number | null = null;
      try {
        const exact = parseMemTotalKiB(memRead.text, { file: meminfoFile });
        if (exact <= BigInt(Number.MAX_SAFE_INTEGER)) totalKiB = Number(exact);
        else
          warnings.push({
            code: 'HOSTINFO_PARSE',
            message: `${meminfoFile}: MemTotal ${exact} kB exceeds 2^53-1`,
          });
      } catch (err) {
        note(err);
      }
      memory = {
        totalKiB,
        availableKiB: mem.memAvailableKiB,
        freeKiB: mem.memFreeKiB,
        swapTotalKiB: mem.swapTotalKiB,
      };
      defaultSizeKiB = mem.hugePages?.sizeKiB ?? null;
    } catch (err) {
      note(err);
    }
  }

  const dmi = join(r.sys, 'class/dmi/id');
  const dt = join(r.sys, 'firmware/devicetree/base');
  const optional = (path: string) => (w: HostinfoWarning[]) => readOptional(r, path, w);
  const [sysinfo, hypervisorType, dmiSysVendor, dmiProductName, dtCompatible, dtHypervisor] =
    await allInOrder(warnings, [
      arch === 's390x' ? optional(join(r.proc, 'sysinfo')) : async () => undefined,
      optional(join(r.sys, 'hypervisor/type')),
      optional(join(dmi, 'sys_vendor')),
      optional(join(dmi, 'product_name')),
      optional(join(dt, 'compatible')),
      optional(join(dt, 'hypervisor/compatible')),
    ]);
  let nested: NestedInfo;
  if (arch === null) {
    nested = {
      nested: null,
      kataRunningOnVmm: null,
      method: 'none',
      evidence: `unsupported machine "${machine}"`,
    };
  } else {
    try {
      nested = detectNested(arch, {
        cpuinfoText: cpuinfo === undefined ? undefined : cpuRead?.text,
        cpuinfo,
        sysinfo,
        hypervisorType,
        dmiSysVendor,
        dmiProductName,
        deviceTreeCompatible: dtCompatible,
        deviceTreeHypervisor: dtHypervisor,
      });
    } catch (err) {
      note(err);
      nested = { nested: null, kataRunningOnVmm: null, method: 'none', evidence: (err as Error).message };
    }
  }

  const [kvmDevice, modules, vhostNet, vhostVsock, sizes, qemu] = await Promise.all([
    deviceNode(join(r.dev, 'kvm')),
    readModules(r),
    deviceNode(join(r.dev, 'vhost-net')),
    deviceNode(join(r.dev, 'vhost-vsock')),
    readHugepageSizes(r, warnings),
    gatherQemu(r, arch),
  ]);
  const accel = decideAccel(kvmDevice, modules, r.env.VMM_ACCEL);
  if (accel.invalidOverride !== null) {
    warnings.push({
      code: 'HOSTINFO_BAD_ACCEL',
      message: `VMM_ACCEL="${accel.invalidOverride}" is not kvm or tcg: ignored`,
    });
  }
  return {
    arch,
    machine,
    kernelRelease: kernelText?.trim() || null,
    cpu,
    memory,
    hugepages: { defaultSizeKiB, sizes },
    nested,
    kvm: { device: kvmDevice, modules },
    accel,
    vhostNet,
    vhostVsock,
    qemu,
    roots: { proc: r.proc, sys: r.sys, dev: r.dev },
    warnings,
  };
}
