/**
 * The state one encoding run threads through the device encoders: transport defaults, fd numbering,
 * firmware chosen by confidential-computing objects, and error reporting with the device's path.
 */
import { ArgvError, type ArgvErrorCode } from './errors.js';
import { type Arch, defaultTransport, type Transport } from './transport.js';

/** A file descriptor QEMU will inherit: hand `hostFd` to the child as descriptor `childFd`. */
export interface FdSpec {
  /** The descriptor number QEMU sees (3, 4, ...), as written in the argv. */
  childFd: number;
  /** The descriptor in the launching process, as given in the config. */
  hostFd: number;
  /** Config path that asked for it, e.g. `devices[2].vhostFds[0]`. */
  path: string;
}

/** Context handed to every device encoder. */
export interface EncodeContext {
  /** Target architecture. */
  readonly arch: Arch;
  /** `machine.type` ('' when unset). */
  readonly machineType: string;
  /** Transport for devices that do not name one. */
  readonly defaultTransport: Transport;
  /** `knobs.iommuPlatform`: CCW devices get `iommu_platform=on`. */
  readonly iommuPlatform: boolean;
  /**
   * Register host fds (in call order); returns the numbers QEMU will see. `field` names the config field
   * (an array field gets `[i]` appended per fd unless `single`).
   */
  allocFds(hostFds: readonly number[], field: string, single?: boolean): number[];
  /** A device chose the firmware (`-bios`), as govmm MAIN's TDX/SNP objects do. */
  setFirmware(file: string, field: string): void;
  /** Throw an {@link ArgvError} for `field` of the current device. */
  fail(field: string, message: string, code?: ArgvErrorCode): never;
}

/** Options shared by {@link createContext} callers. */
export interface ContextOptions {
  arch: Arch;
  machineType: string;
  iommuPlatform: boolean;
  /** First fd number QEMU sees. @default 3 */
  firstFd?: number;
}

/** Mutable state behind an {@link EncodeContext}. */
export interface ContextState {
  fds: FdSpec[];
  firmware: { file: string; path: string } | undefined;
  /** Path prefix of the current device, e.g. `devices[3]`. */
  prefix: string;
  deviceIndex: number | undefined;
  kind: string | undefined;
}

/** Create a context and the state it writes into. */
export function createContext(options: ContextOptions): { ctx: EncodeContext; state: ContextState } {
  const state: ContextState = {
    fds: [],
    firmware: undefined,
    prefix: '',
    deviceIndex: undefined,
    kind: undefined,
  };
  const firstFd = options.firstFd ?? 3;
  const at = (field: string): string => (state.prefix === '' ? field : `${state.prefix}.${field}`);
  const ctx: EncodeContext = {
    arch: options.arch,
    machineType: options.machineType,
    defaultTransport: defaultTransport(options.arch, options.machineType),
    iommuPlatform: options.iommuPlatform,
    allocFds(hostFds, field, single = false) {
      return hostFds.map((hostFd, i) => {
        const childFd = firstFd + state.fds.length;
        state.fds.push({ childFd, hostFd, path: single ? at(field) : `${at(field)}[${i}]` });
        return childFd;
      });
    },
    setFirmware(file, field) {
      const prev = state.firmware;
      if (prev !== undefined && prev.file !== file) {
        ctx.fail(
          field,
          `firmware ${JSON.stringify(file)} conflicts with ${JSON.stringify(prev.file)} from ${prev.path}`,
          'ARGV_CONFLICT',
        );
      }
      state.firmware = { file, path: at(field) };
    },
    fail(field, message, code) {
      const path = at(field);
      const where = state.kind === undefined ? path : `${path} (${state.kind})`;
      throw new ArgvError(
        code ?? (state.deviceIndex === undefined ? 'ARGV_INVALID_CONFIG' : 'ARGV_INVALID_DEVICE'),
        `${where}: ${message}`,
        {
          path,
          ...(state.deviceIndex === undefined ? {} : { deviceIndex: state.deviceIndex }),
          ...(state.kind === undefined ? {} : { kind: state.kind }),
        },
      );
    },
  };
  return { ctx, state };
}
