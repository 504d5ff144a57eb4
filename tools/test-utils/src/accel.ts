import { accessSync, constants, existsSync } from 'node:fs';

/** Accelerator a test QEMU uses. */
export type Accel = 'kvm' | 'tcg';

/** Why the accelerator was chosen, for test output ("say which ran with KVM"). */
export interface AccelChoice {
  accel: Accel;
  reason: string;
}

/**
 * Accelerator for QEMU processes that only need to answer QMP (no guest boot): KVM when /dev/kvm
 * opens read/write, else TCG. `VMM_ACCEL=kvm|tcg` overrides.
 */
export function qmpAccel(): AccelChoice {
  const forced = process.env.VMM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return { accel: forced, reason: `VMM_ACCEL=${forced}` };
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return { accel: 'kvm', reason: '/dev/kvm is read/write' };
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is missing or not read/write' };
  }
}

/**
 * Accelerator for booting a real Linux guest: KVM only when it is usable for a stock kernel. A KVM
 * from the nested `kvm_pvm` module is present but too slow for a stock guest to boot, so TCG is
 * chosen there. `VMM_ACCEL=kvm|tcg` overrides.
 */
export function guestAccel(): AccelChoice {
  const forced = process.env.VMM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return { accel: forced, reason: `VMM_ACCEL=${forced}` };
  const q = qmpAccel();
  if (q.accel === 'tcg') return q;
  if (existsSync('/sys/module/kvm_pvm')) {
    return { accel: 'tcg', reason: '/dev/kvm comes from kvm_pvm (PVM nested KVM): stock guests crawl' };
  }
  return q;
}
