// A managing process that dies while starting a sandbox, for sandbox-verbs.integration.test.ts. It
// does what `Sandbox.start()` does up to the moment a crash leaves an orphan: takes the sandbox's
// lock, then launches the sandbox's recorded QEMU command line (in its own session, as a detached
// sandbox's QEMU is), and never records the pid. It prints `ORPHAN <qemu pid>` and waits for the
// test to kill -9 it, which leaves the lock held by a dead process and a QEMU the state does not know.
//
//   node orphan-driver.mjs <stateDir> <id>
import { acquireLock, readStateFile, sandboxPaths, spawnQemu } from '@vmm/sandbox';

const [stateDir, id] = process.argv.slice(2);
const paths = sandboxPaths(stateDir, id);
await acquireLock(paths.lock, { timeoutMs: 10_000 });
const state = await readStateFile(paths.state, id);
const { qemuPath, argv } = state.hypervisor;
const qemu = await spawnQemu(qemuPath, argv, [], { stderrPath: paths.stderr, detached: true });
qemu.unref();
process.stdout.write(`ORPHAN ${qemu.pid}\n`);
setInterval(() => undefined, 1 << 30);
