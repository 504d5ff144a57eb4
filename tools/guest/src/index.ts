/**
 * @vmm/guest: builds and caches vmm's default test guest (a Debian kernel booted through PVH plus a
 * busybox initramfs whose /init reports on the console), and parses that report.
 */
export {
  createGuestConsoleParser,
  type GuestConsoleLine,
  type GuestConsoleParser,
  type GuestConsoleParserOptions,
} from './console-parser.js';
export { defaultGuestCacheDir, ensureGuest, findGuest, GUEST_DEFAULT_APPEND, verifyGuest } from './ensure.js';
export { GUEST_ERROR_CODES, GuestError, type GuestErrorCode, type GuestErrorOptions } from './errors.js';
export { encodeGuestKnobs, GUEST_KNOBS } from './knobs.js';
export {
  BUILDER_VERSION,
  computeStamp,
  type DebPackage,
  type GuestFileInfo,
  type GuestManifest,
  guestManifestSchema,
  parseManifest,
  type StampInputs,
} from './manifest.js';
export {
  formatGuestEvent,
  GUEST_MARKERS,
  type GuestEvent,
  type GuestMarker,
  type GuestMarkerKind,
  parseGuestLine,
} from './markers.js';
export {
  GUEST_BOOT_SETS,
  GUEST_MODULE_PARAMS,
  GUEST_MODULE_SETS,
  type GuestModuleSet,
} from './module-sets.js';
export {
  type EnsureGuestOptions,
  type FindGuestOptions,
  GUEST_BUILD_STEPS,
  type GuestBuildStep,
  type GuestImage,
  type GuestKnobs,
  type GuestProgress,
} from './types.js';
