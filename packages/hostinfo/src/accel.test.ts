import { describe, expect, it } from 'vitest';
import { type DeviceNodeInfo, decideAccel, type KvmModules, kvmModuleHint } from './accel.js';

const dev = (over: Partial<DeviceNodeInfo> = {}): DeviceNodeInfo => ({
  path: '/dev/kvm',
  present: true,
  charDevice: true,
  readable: true,
  writable: true,
  mode: '0660',
  ...over,
});
const mods = (over: Partial<KvmModules> = {}): KvmModules => ({
  kvm: true,
  kvm_intel: true,
  kvm_amd: false,
  kvm_hv: false,
  kvm_pr: false,
  kvm_pvm: false,
  ...over,
});

describe('decideAccel', () => {
  it('KVM when /dev/kvm is read/write and not from kvm_pvm', () => {
    expect(decideAccel(dev(), mods(), undefined)).toEqual({
      accel: 'kvm',
      kvmUsable: true,
      reason: '/dev/kvm is read/write',
      override: null,
      invalidOverride: null,
    });
  });
  it.each([
    [
      'missing',
      dev({ present: false, readable: false, writable: false, mode: null }),
      mods(),
      '/dev/kvm is missing',
    ],
    ['read-only', dev({ writable: false }), mods(), 'not read/write'],
    ['kvm_pvm', dev(), mods({ kvm_pvm: true }), 'kvm_pvm'],
  ])('TCG when %s', (_n, d, m, why) => {
    const a = decideAccel(d, m, undefined);
    expect(a.accel).toBe('tcg');
    expect(a.kvmUsable).toBe(false);
    expect(a.reason).toContain(why);
  });
  it('VMM_ACCEL overrides both ways and is reported', () => {
    expect(decideAccel(dev(), mods({ kvm_pvm: true }), 'kvm')).toMatchObject({
      accel: 'kvm',
      kvmUsable: false,
      override: 'kvm',
    });
    expect(decideAccel(dev(), mods(), 'tcg')).toMatchObject({
      accel: 'tcg',
      kvmUsable: true,
      override: 'tcg',
    });
    expect(decideAccel(dev(), mods(), 'tcg').reason).toBe('VMM_ACCEL=tcg (/dev/kvm is read/write)');
  });
  it('an invalid VMM_ACCEL is ignored and reported; empty counts as unset', () => {
    expect(decideAccel(dev(), mods(), 'KVM')).toMatchObject({
      accel: 'kvm',
      override: null,
      invalidOverride: 'KVM',
    });
    expect(decideAccel(dev(), mods(), '')).toMatchObject({ override: null, invalidOverride: null });
  });
});

describe('kvmModuleHint', () => {
  it('names the module for the CPU', () => {
    expect(kvmModuleHint('amd64', 'GenuineIntel')).toBe('modprobe kvm_intel');
    expect(kvmModuleHint('amd64', 'AuthenticAMD')).toBe('modprobe kvm_amd');
    expect(kvmModuleHint('s390x', null)).toBe('modprobe kvm');
    expect(kvmModuleHint('ppc64le', null)).toContain('kvm_hv');
  });
});
