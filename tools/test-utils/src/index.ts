/**
 * Private helpers for vmm's tests: temp dirs, real QEMU processes, leak probes.
 * Used straight from source (never built or published).
 */
export { type Accel, type AccelChoice, guestAccel, qmpAccel } from './accel.js';
export {
  type FakeQmpAnswer,
  type FakeQmpConnection,
  type FakeQmpOptions,
  type FakeQmpRequest,
  type FakeQmpServer,
  type FdReceiver,
  qemuGreeting,
  startFakeQmp,
} from './fake-qmp.js';
export { activeResources, childPids, isAlive, openFds, openSocketCount, resourcesAdded } from './leaks.js';
export { killAllQemus, liveQemus, type QemuProcess, type SpawnQemuOptions, spawnQemu } from './qemu.js';
export { connectTestQmp, type TestQmp, type TestQmpEvent } from './qmp-lite.js';
export { makeTempDir, type TempDir } from './tmp.js';
