import { describe, expect, it } from 'vitest';
import { GuestError } from './errors.js';
import { encodeGuestKnobs } from './knobs.js';

describe('encodeGuestKnobs', () => {
  it('encodes nothing by default', () => {
    expect(encodeGuestKnobs({})).toEqual([]);
    expect(encodeGuestKnobs({ modules: [], shell: false, clock: false })).toEqual([]);
  });

  it('encodes every knob', () => {
    expect(
      encodeGuestKnobs({ modules: ['virtio_rng', '9p'], pollSeconds: 0.2, shell: true, clock: true }),
    ).toEqual(['probe.modules=virtio_rng,9p', 'probe.poll=0.2', 'probe.shell=1', 'probe.clock=1']);
    expect(encodeGuestKnobs({ modules: ['none', 'virtio_pci', 'virtio_blk'] })).toEqual([
      'probe.modules=none,virtio_pci,virtio_blk',
    ]);
    expect(encodeGuestKnobs({ modules: ['all'] })).toEqual(['probe.modules=all']);
  });

  it.each<[object, string]>([
    [{ modules: ['virtio_gpu'] }, 'modules[0]: unknown module set "virtio_gpu"'],
    [{ modules: ['virtio_blk', 'a,b'] }, 'modules[1]: unknown module set "a,b"'],
    [{ pollSeconds: 0 }, 'pollSeconds: 0 is outside'],
    [{ pollSeconds: Number.NaN }, 'pollSeconds: NaN is outside'],
    [{ pollSeconds: 61 }, 'pollSeconds: 61 is outside'],
  ])('rejects %j', (knobs, message) => {
    expect(() => encodeGuestKnobs(knobs)).toThrow(message);
    try {
      encodeGuestKnobs(knobs);
    } catch (e) {
      expect(GuestError.is(e) && e.code).toBe('GUEST_INVALID_OPTIONS');
    }
  });
});
