import { GuestError } from './errors.js';
import { GUEST_MODULE_SETS } from './module-sets.js';
import type { GuestKnobs } from './types.js';

/** The kernel parameters the guest's /init reads. */
export const GUEST_KNOBS = {
  modules: 'probe.modules',
  poll: 'probe.poll',
  shell: 'probe.shell',
  clock: 'probe.clock',
} as const;

/**
 * Turn {@link GuestKnobs} into kernel parameters to append after `defaultAppend`. Pure.
 * @throws {GuestError} `GUEST_INVALID_OPTIONS` for an unknown module set or a poll interval outside 0.01–60 s.
 * @example encodeGuestKnobs({ modules: ['virtio_rng'], clock: true }) // ['probe.modules=virtio_rng', 'probe.clock=1']
 */
export function encodeGuestKnobs(knobs: GuestKnobs): string[] {
  const out: string[] = [];
  if (knobs.modules !== undefined) {
    knobs.modules.forEach((m, i) => {
      if (m !== 'all' && m !== 'none' && !Object.hasOwn(GUEST_MODULE_SETS, m)) {
        throw new GuestError(
          'GUEST_INVALID_OPTIONS',
          `modules[${i}]: unknown module set ${JSON.stringify(m)} (known: all, none, ${Object.keys(GUEST_MODULE_SETS).join(', ')})`,
        );
      }
    });
    if (knobs.modules.length > 0) out.push(`${GUEST_KNOBS.modules}=${knobs.modules.join(',')}`);
  }
  if (knobs.pollSeconds !== undefined) {
    const s = knobs.pollSeconds;
    if (!Number.isFinite(s) || s < 0.01 || s > 60) {
      throw new GuestError('GUEST_INVALID_OPTIONS', `pollSeconds: ${s} is outside 0.01–60`);
    }
    out.push(`${GUEST_KNOBS.poll}=${Number(s.toFixed(3))}`);
  }
  if (knobs.shell === true) out.push(`${GUEST_KNOBS.shell}=1`);
  if (knobs.clock === true) out.push(`${GUEST_KNOBS.clock}=1`);
  return out;
}
