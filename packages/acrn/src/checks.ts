import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostCheck } from '@vmm/hostinfo';
import { z } from 'zod';
import { abortError, parseWith } from './errors.js';
import { ACRN_DM_PATH, ACRNCTL_PATH } from './lifecycle.js';
import { plainString } from './schema.js';

/** The device node Kata opens to decide whether ACRN can run VMs (`/dev/acrn_vhm`). */
export const ACRN_DEVICE_NODE = 'acrn_vhm';
/** The node of the upstream-kernel ACRN driver (HSM), used by newer ACRN releases. */
export const ACRN_HSM_DEVICE_NODE = 'acrn_hsm';

const optionsSchema = z.strictObject({
  devRoot: plainString.default('/dev'),
  procRoot: plainString.default('/proc'),
  acrnDmPath: plainString.default(ACRN_DM_PATH),
  acrnctlPath: plainString.default(ACRNCTL_PATH),
  signal: z.instanceof(AbortSignal).optional(),
});

/** Options of {@link checkAcrnHost}. */
export interface AcrnHostCheckOptions {
  /** Where device nodes live (tests point this at a temp dir). @default '/dev' */
  devRoot?: string;
  /** Where /proc is (for `cpuinfo`). @default '/proc' */
  procRoot?: string;
  /** The acrn-dm binary to look for. @default '/usr/bin/acrn-dm' */
  acrnDmPath?: string;
  /** The acrnctl binary to look for. @default '/usr/bin/acrnctl' */
  acrnctlPath?: string;
  /** Abandons the checks (`ACRN_ABORTED`). */
  signal?: AbortSignal;
}

type Found =
  | { kind: 'missing' }
  | { kind: 'error'; code: string }
  | { kind: 'found'; char: boolean; file: boolean };

async function probe(path: string): Promise<Found> {
  try {
    const s = await stat(path);
    return { kind: 'found', char: s.isCharacterDevice(), file: s.isFile() };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'missing' } : { kind: 'error', code };
  }
}

async function can(path: string, mode: number): Promise<boolean> {
  try {
    await access(path, mode);
    return true;
  } catch {
    return false;
  }
}

async function deviceCheck(devRoot: string): Promise<HostCheck> {
  const id = 'acrn-device';
  const title = 'ACRN hypervisor device';
  const vhm = join(devRoot, ACRN_DEVICE_NODE);
  const found = await probe(vhm);
  const boot =
    'Boot this host as the ACRN Service VM (the ACRN hypervisor with a Service VM kernel that has the VHM/HSM driver)';
  if (found.kind === 'found') {
    if (!found.char) {
      return { id, title, status: 'fail', detail: `${vhm} exists but is not a character device`, fix: boot };
    }
    if (!(await can(vhm, constants.R_OK | constants.W_OK))) {
      return {
        id,
        title,
        status: 'fail',
        detail: `${vhm} exists but this process cannot open it read-write`,
        fix: `Run as root, or grant this user read-write access to ${vhm}`,
      };
    }
    return {
      id,
      title,
      status: 'pass',
      detail: `${vhm} is a character device this process can open read-write`,
    };
  }
  if (found.kind === 'error') {
    return { id, title, status: 'fail', detail: `cannot inspect ${vhm}: ${found.code}`, fix: boot };
  }
  const hsm = join(devRoot, ACRN_HSM_DEVICE_NODE);
  const hsmFound = await probe(hsm);
  if (hsmFound.kind === 'found' && hsmFound.char) {
    return {
      id,
      title,
      status: 'warn',
      detail: `${vhm} is missing but ${hsm} (the upstream-kernel ACRN driver) exists; Kata's ACRN support and the acrn-dm it drives expect ${ACRN_DEVICE_NODE}`,
      fix: 'Use an acrn-dm built for the HSM driver, or a Service VM kernel with the VHM driver',
    };
  }
  return {
    id,
    title,
    status: 'fail',
    detail: `${vhm} does not exist: this host is not an ACRN Service VM`,
    fix: boot,
  };
}

async function binaryCheck(id: string, title: string, path: string, purpose: string): Promise<HostCheck> {
  const found = await probe(path);
  const fix = `Install ACRN's ${title} (from the ACRN release or your distribution), or pass its path`;
  if (found.kind !== 'found') {
    const why = found.kind === 'missing' ? 'does not exist' : `cannot be inspected (${found.code})`;
    return { id, title, status: 'fail', detail: `${path} ${why}; it is needed to ${purpose}`, fix };
  }
  if (!found.file) return { id, title, status: 'fail', detail: `${path} is not a regular file`, fix };
  if (!(await can(path, constants.X_OK))) {
    return {
      id,
      title,
      status: 'fail',
      detail: `${path} is not executable by this process`,
      fix: `chmod +x ${path}`,
    };
  }
  return { id, title, status: 'pass', detail: `${path} is an executable file` };
}

async function cpuCheck(procRoot: string): Promise<HostCheck> {
  const id = 'acrn-intel-cpu';
  const title = 'Intel CPU';
  const path = join(procRoot, 'cpuinfo');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return {
      id,
      title,
      status: 'warn',
      detail: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    };
  }
  const vendor = /^vendor_id\s*:\s*(\S+)/m.exec(text)?.[1];
  if (vendor === 'GenuineIntel')
    return { id, title, status: 'pass', detail: 'the CPU vendor is GenuineIntel' };
  return {
    id,
    title,
    status: 'fail',
    detail: `the CPU vendor is ${vendor ?? 'unknown (no vendor_id in cpuinfo)'}; ACRN runs on Intel x86-64 only`,
    fix: 'Use an Intel x86-64 host for ACRN, or the QEMU/KVM hypervisor here',
  };
}

/**
 * Can this host run ACRN VMs? Checks, in order: `acrn-device` (the `/dev/acrn_vhm` node Kata
 * probes: a character device openable read-write; `warn` when only the newer `/dev/acrn_hsm`
 * exists), `acrn-intel-cpu` (Kata's `kata-check` requires GenuineIntel for ACRN),
 * `acrn-dm-binary` and `acrnctl-binary` (present, regular, executable). Returns the same
 * {@link HostCheck} objects `vmm check` prints. Reads only; never opens the device.
 * @throws {AcrnError} `ACRN_INVALID_CONFIG` for invalid options, `ACRN_ABORTED`.
 */
export async function checkAcrnHost(options: AcrnHostCheckOptions = {}): Promise<HostCheck[]> {
  const o = parseWith(optionsSchema, options, 'checkAcrnHost');
  if (o.signal?.aborted) throw abortError(o.signal, 'checkAcrnHost');
  const checks = await Promise.all([
    deviceCheck(o.devRoot),
    cpuCheck(o.procRoot),
    binaryCheck('acrn-dm-binary', 'acrn-dm', o.acrnDmPath, 'start ACRN VMs'),
    binaryCheck('acrnctl-binary', 'acrnctl', o.acrnctlPath, 'hotplug block devices (blkrescan)'),
  ]);
  if (o.signal?.aborted) throw abortError(o.signal, 'checkAcrnHost');
  return checks;
}
