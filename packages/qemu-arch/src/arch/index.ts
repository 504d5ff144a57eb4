/** The per-architecture rule tables, by architecture name. */
import { AMD64 } from './amd64.js';
import { ARM64 } from './arm64.js';
import { PPC64LE } from './ppc64le.js';
import type { ArchName, ArchRules } from './rules.js';
import { S390X } from './s390x.js';

/** Every architecture's rules. */
export const ARCH_RULES: Readonly<Record<ArchName, ArchRules>> = Object.freeze({
  amd64: AMD64,
  arm64: ARM64,
  ppc64le: PPC64LE,
  s390x: S390X,
});
