import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Accel, qmpAccel } from './accel.js';

/** Options for {@link spawnQemu}. */
export interface SpawnQemuOptions {
  /** Extra QEMU arguments, appended after the defaults. */
  args?: readonly string[];
  /** QEMU binary. @default 'qemu-system-x86_64' */
  binary?: string;
  /** Accelerator. @default qmpAccel() (KVM when /dev/kvm is read/write, else TCG) */
  accel?: Accel;
  /** Machine type. `null` omits `-machine` (for args that set it). @default 'q35' */
  machine?: string | null;
  /** Start paused (`-S`). @default true */
  paused?: boolean;
  /** Add `-nodefaults -display none -no-user-config`. @default true */
  minimal?: boolean;
  /** How long to wait for the QMP socket. @default 20_000 */
  timeoutMs?: number;
}

/** A running QEMU with a QMP unix socket. Dispose (or `kill()`) to stop it and remove its directory. */
export interface QemuProcess extends AsyncDisposable {
  readonly pid: number;
  /** Path of the QMP unix socket (server, no wait). */
  readonly qmpPath: string;
  /** Private directory holding the socket; removed on kill. */
  readonly dir: string;
  readonly accel: Accel;
  readonly argv: readonly string[];
  readonly child: ChildProcess;
  /** QEMU's stderr so far. */
  stderr(): string;
  /** Resolves with the exit code/signal once QEMU has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL QEMU (if alive), wait for its exit and remove the directory. Idempotent. */
  kill(): Promise<void>;
}

const live = new Set<QemuProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const q of live) {
      try {
        process.kill(q.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(q.dir, { recursive: true, force: true });
    }
  });
}

/** Every QEMU started by {@link spawnQemu} in this process that has not been killed yet. */
export function liveQemus(): ReadonlySet<QemuProcess> {
  return live;
}

/** Kill every QEMU this process started through {@link spawnQemu}. Use in `afterAll`. */
export async function killAllQemus(): Promise<void> {
  await Promise.all([...live].map((q) => q.kill()));
}

/**
 * Start `qemu-system-x86_64` (by default paused, no devices, no display) with a QMP unix socket in a
 * private temp directory, and wait until the socket accepts connections. If QEMU exits first, the
 * promise rejects with its stderr. The process is killed when the handle is disposed, by
 * {@link killAllQemus}, or when this Node process exits, so tests never leak a QEMU.
 */
export async function spawnQemu(options: SpawnQemuOptions = {}): Promise<QemuProcess> {
  installExitHook();
  const accel = options.accel ?? qmpAccel().accel;
  const dir = mkdtempSync(join(tmpdir(), 'vmm-qemu-'));
  const qmpPath = join(dir, 'qmp.sock');
  const argv: string[] = [];
  if (options.machine !== null) argv.push('-machine', `${options.machine ?? 'q35'},accel=${accel}`);
  else argv.push('-accel', accel);
  if (options.minimal ?? true) argv.push('-nodefaults', '-no-user-config', '-display', 'none');
  if (options.paused ?? true) argv.push('-S');
  argv.push('-qmp', `unix:${qmpPath.replaceAll(',', ',,')},server=on,wait=off`);
  argv.push(...(options.args ?? []));

  const child = spawn(options.binary ?? 'qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-65536);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let killed: Promise<void> | undefined;
  const handle: QemuProcess = {
    pid: child.pid ?? -1,
    qmpPath,
    dir,
    accel,
    argv,
    child,
    exited,
    stderr: () => stderr,
    kill: () => {
      killed ??= (async () => {
        if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
          child.kill('SIGKILL');
        }
        await exited;
        child.stderr?.destroy();
        rmSync(dir, { recursive: true, force: true });
        live.delete(handle);
      })();
      return killed;
    },
    [Symbol.asyncDispose]: () => handle.kill(),
  };
  live.add(handle);

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (;;) {
    if (gone) {
      await handle.kill();
      throw new Error(`QEMU exited before its QMP socket was ready: ${argv.join(' ')}\n${stderr}`);
    }
    if (await answersQmp(qmpPath)) return handle;
    if (Date.now() > deadline) {
      await handle.kill();
      throw new Error(`QEMU's QMP socket did not appear within ${options.timeoutMs ?? 20_000} ms\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Ready means QEMU's main loop answers a command: the socket exists before machine and device init
 * finish (and before a bad `-device` makes QEMU exit), so a bare connect proves nothing. Negotiate,
 * run `query-status`, then leave; QEMU's QMP monitor serves the next client after this one.
 */
function answersQmp(path: string): Promise<boolean> {
  try {
    if (!statSync(path).isSocket()) return Promise.resolve(false);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const s = createConnection(path);
    let buf = '';
    let frames = 0;
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.includes('"event"')) continue;
        frames += 1;
        if (frames === 1) s.write('{"execute":"qmp_capabilities"}\n{"execute":"query-status"}\n');
        if (frames === 3) done(line.includes('"status"'));
      }
    });
    s.once('error', () => done(false));
    s.once('close', () => resolve(false));
  });
}
