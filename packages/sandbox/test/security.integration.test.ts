/**
 * Security (issue 8): private state whatever the umask (dirs 0700; every file vmm or QEMU creates in
 * them 0600: state, lock, temp files, console log, pid file, stderr, sockets), sockets and files unreachable by
 * another user (checked as `nobody` through setpriv), no shell anywhere in the spawn path (source
 * scan and a runtime spy on child_process.spawn), no `exec:` migration URI (QEMU runs those through
 * /bin/sh; source scan and a spy on every QMP frame written during save and restore), validated ids,
 * and no file opened outside the state directory through a planted symlink.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, type PathLike, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { Socket } from 'node:net';
import { basename, join } from 'node:path';
import { makeTempDir, type TempDir } from '@vmm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, type HypervisorConfig, type MockHypervisor, Sandbox } from '../src/index.js';
import { accel } from './helpers.js';
import { lightConfig } from './i8-util.js';

const srcDir = new URL('../src/', import.meta.url).pathname;
let tmp: TempDir;
let config: HypervisorConfig;
let hostAccel: 'kvm' | 'tcg';

beforeAll(async () => {
  tmp = await makeTempDir('vmm-i8s-');
  config = await lightConfig();
  hostAccel = accel();
});

afterAll(async () => {
  await tmp?.remove();
});

const mode = (p: string): number => statSync(p).mode & 0o777;

/** A file or directory vmm moved into place (`rename`, `link`), with its mode just before. */
interface Staged {
  path: string;
  mode: number;
  dir: boolean;
}

/**
 * Record, in `seen`, the mode of every file or directory under `root` that is renamed or linked
 * somewhere through `node:fs/promises` (how vmm puts temp files into place), just before the move.
 * Returns the function that removes the spy.
 */
function spyStaging(root: string, seen: Staged[]): () => void {
  const require = createRequire(import.meta.url);
  const fsp = require('node:fs/promises') as typeof import('node:fs/promises');
  const { rename, link } = fsp;
  const record = async (from: PathLike): Promise<void> => {
    const path = String(from);
    if (!path.startsWith(`${root}/`)) return;
    const st = await lstat(path).catch(() => undefined);
    if (st !== undefined) seen.push({ path, mode: st.mode & 0o777, dir: st.isDirectory() });
  };
  fsp.rename = (async (from: PathLike, to: PathLike) => {
    await record(from);
    return rename(from, to);
  }) as typeof fsp.rename;
  fsp.link = (async (from: PathLike, to: PathLike) => {
    await record(from);
    return link(from, to);
  }) as typeof fsp.link;
  syncBuiltinESMExports();
  return () => {
    fsp.rename = rename;
    fsp.link = link;
    syncBuiltinESMExports();
  };
}

describe('permissions', () => {
  // A world-traversable parent, so that only vmm's own modes stand between `nobody` and the files.
  let open: string;
  let sb: Sandbox;
  let mock: Sandbox;
  let savedUmask: number;
  const staged: Staged[] = [];
  let unspy: () => void = () => undefined;

  beforeAll(async () => {
    open = await mkdtemp('/tmp/vmm-i8s-open-');
    await chmod(open, 0o755);
    // The most permissive umask a caller can have (QEMU inherits it): every mode checked below is
    // set by vmm itself, not by a friendly umask.
    savedUmask = process.umask(0);
    unspy = spyStaging(open, staged);
    sb = await Sandbox.create(config, { stateDir: join(open, 'state'), host: { accel: hostAccel } });
    await sb.start();
    await sb.pause();
    await sb.resume();
    mock = await Sandbox.create(config, { stateDir: join(open, 'mock'), hypervisor: 'mock' });
    await mock.start();
    await (mock.hypervisor as MockHypervisor).emitConsole('hello from the mock');
  });

  afterAll(async () => {
    unspy();
    if (savedUmask !== undefined) process.umask(savedUmask);
    await sb?.stop({ graceMs: 1_000 }).catch(() => undefined);
    await mock?.stop().catch(() => undefined);
    await rm(open, { recursive: true, force: true });
  });

  it('the state, run and socket directories are 0700', () => {
    expect(process.umask()).toBe(0);
    expect(mode(sb.stateDir)).toBe(0o700);
    expect(mode(sb.paths.runDir)).toBe(0o700);
    expect(mode(sb.paths.socketDir)).toBe(0o700);
    expect(mode(mock.paths.runDir)).toBe(0o700);
  });

  it('every file in the run directory is 0600: state, console log, pid file, QEMU stderr, sockets', () => {
    const entries = readdirSync(sb.paths.runDir);
    expect(entries).toEqual(
      expect.arrayContaining(['state.json', 'console.log', 'pid', 'qemu.stderr', 'qmp.sock', 'console.sock']),
    );
    // QEMU creates the console log (chardev logfile) with 0666 & ~umask and binds its sockets with
    // 0777 & ~umask; the pid file it makes 0600 itself.
    const modes = Object.fromEntries(
      entries.map((e) => {
        const st = lstatSync(join(sb.paths.runDir, e));
        const type = st.isSocket() ? 'socket' : st.isFile() ? 'file' : 'other';
        return [e, { type, mode: (st.mode & 0o777).toString(8) }];
      }),
    );
    for (const e of entries) expect({ e, ...modes[e] }).toEqual({ e, type: modes[e]?.type, mode: '600' });
    expect(Object.values(modes).filter((m) => m.type === 'other')).toEqual([]);
  });

  it("the mock's console log is 0600 too", () => {
    expect(readdirSync(mock.paths.runDir)).toEqual(expect.arrayContaining(['state.json', 'console.log']));
    expect(mode(mock.paths.consoleLog)).toBe(0o600);
    expect(mode(mock.paths.state)).toBe(0o600);
  });

  it("the lock file is 0600 while an operation holds it, and so is a waiting locker's temp file", async () => {
    const isLockTemp = (e: string): boolean => /^lock\.[0-9a-f]{16}\.tmp$/.test(e);
    const seen = await sb.withQmpSocket(async () => {
      const lockMode = mode(sb.paths.lock);
      // A second locker writes its temp file, finds the lock held and waits for it.
      const waiting = acquireLock(sb.paths.lock, { timeoutMs: 1_000, pollMs: 10 });
      let temp: string | undefined;
      for (let i = 0; i < 200 && temp === undefined; i++) {
        temp = readdirSync(sb.paths.runDir).find(isLockTemp);
        if (temp === undefined) await new Promise((r) => setTimeout(r, 5));
      }
      const tempMode = temp === undefined ? undefined : mode(join(sb.paths.runDir, temp));
      await expect(waiting).rejects.toMatchObject({ code: 'SANDBOX_LOCK_TIMEOUT' });
      return { lockMode, temp, tempMode };
    });
    expect(seen).toEqual({ lockMode: 0o600, temp: expect.stringMatching(/^lock\./), tempMode: 0o600 });
    // Released: neither the lock nor the temp file is left.
    expect(readdirSync(sb.paths.runDir).filter((e) => e === 'lock' || isLockTemp(e))).toEqual([]);
    // And the exported lock API on its own.
    const dir = join(open, 'lockapi');
    await mkdir(dir, { mode: 0o700 });
    const lock = await acquireLock(join(dir, 'lock'));
    try {
      expect(mode(join(dir, 'lock'))).toBe(0o600);
      expect(readdirSync(dir)).toEqual(['lock']);
    } finally {
      await lock.release();
    }
  });

  it('every temp file vmm writes and then renames or links into place is 0600, every temp dir 0700', () => {
    const files = staged.filter((x) => !x.dir);
    const dirs = staged.filter((x) => x.dir);
    // The state file's temp copies, the lock's temp files and the new sandbox's temp directory.
    expect(files.map((x) => basename(x.path))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\.[0-9a-f]{12}\.tmp$/),
        expect.stringMatching(/^lock\..*\.tmp$/),
      ]),
    );
    expect(dirs.map((x) => basename(x.path))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\..+\.new$/)]),
    );
    for (const x of files)
      expect({ path: x.path, mode: x.mode.toString(8) }).toEqual({ path: x.path, mode: '600' });
    for (const x of dirs)
      expect({ path: x.path, mode: x.mode.toString(8) }).toEqual({ path: x.path, mode: '700' });
  });

  it('another user (nobody) can neither connect to the sockets nor read the state or console', ({ skip }) => {
    if (process.getuid?.() !== 0) skip('not root: cannot switch to nobody with setpriv');
    const probe = `
      const net = require('node:net'); const fs = require('node:fs');
      const out = {};
      const tryRead = (k, p) => { try { fs.readFileSync(p); out[k] = 'READ'; } catch (e) { out[k] = e.code; } };
      tryRead('state', ${JSON.stringify(sb.paths.state)});
      tryRead('console', ${JSON.stringify(sb.paths.consoleLog)});
      tryRead('list', ${JSON.stringify(sb.stateDir)} + '/');
      try { fs.readdirSync(${JSON.stringify(sb.stateDir)}); out.readdir = 'LISTED'; } catch (e) { out.readdir = e.code; }
      const s = net.createConnection(${JSON.stringify(sb.paths.qmp)});
      s.on('connect', () => { out.qmp = 'CONNECTED'; s.destroy(); done(); });
      s.on('error', (e) => { out.qmp = e.code; done(); });
      function done() { process.stdout.write(JSON.stringify(out)); }
    `;
    const run = (): Record<string, string> => {
      const r = spawnSync(
        'setpriv',
        ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', probe],
        { encoding: 'utf8', timeout: 20_000 },
      );
      if (r.status !== 0) throw new Error(`setpriv probe failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as Record<string, string>;
    };
    expect(run()).toEqual({
      state: 'EACCES',
      console: 'EACCES',
      list: 'EACCES',
      readdir: 'EACCES',
      qmp: 'EACCES',
    });
    // Even if an admin opens the state directory up, each run directory still keeps others out.
    execFileSync('chmod', ['0755', sb.stateDir]);
    try {
      expect(run()).toMatchObject({ state: 'EACCES', console: 'EACCES', readdir: 'LISTED', qmp: 'EACCES' });
    } finally {
      execFileSync('chmod', ['0700', sb.stateDir]);
    }
  });
});

describe('no shell', () => {
  it('no source file spawns through a shell (shell option, exec/execSync, sh -c)', () => {
    const offenders: string[] = [];
    for (const f of readdirSync(srcDir)) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
      const text = readFileSync(join(srcDir, f), 'utf8');
      const lines = text.split('\n');
      lines.forEach((l, i) => {
        if (/\bshell\s*:\s*(true|['"])/.test(l)) offenders.push(`${f}:${i + 1}: ${l.trim()}`);
        if (
          /\b(exec|execSync)\s*\(/.test(l) &&
          /child_process|execa/.test(text) &&
          !/execute|\.exec\(/.test(l)
        )
          offenders.push(`${f}:${i + 1}: ${l.trim()}`);
        if (/['"](\/bin\/)?(ba)?sh['"]\s*,\s*\[?\s*['"]-c['"]/.test(l))
          offenders.push(`${f}:${i + 1}: ${l.trim()}`);
        if (/\$\(|execaCommand|\$`/.test(l) && !/^\s*(\*|\/\/)/.test(l))
          offenders.push(`${f}:${i + 1}: ${l.trim()}`);
        // QEMU hands `exec:` migration URIs to /bin/sh -c; comments included, so none can creep back.
        if (/\bexec:/.test(l)) offenders.push(`${f}:${i + 1}: ${l.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });

  it('at run time every process vmm spawns is execve()d directly, never through a shell', async () => {
    const require = createRequire(import.meta.url);
    const cp = require('node:child_process') as typeof import('node:child_process');
    const original = cp.spawn;
    const calls: { file: string; shell: unknown }[] = [];
    cp.spawn = ((file: string, args: unknown, options: { shell?: unknown } | undefined) => {
      calls.push({ file, shell: options?.shell });
      return original(file, args as string[], options as object);
    }) as typeof cp.spawn;
    syncBuiltinESMExports();
    const sb = await Sandbox.create(config, { stateDir: tmp.join('noshell'), host: { accel: hostAccel } });
    try {
      await sb.start();
      await sb.pause();
    } finally {
      await sb.stop({ graceMs: 1_000 });
      cp.spawn = original;
      syncBuiltinESMExports();
    }
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) {
      expect(c.shell === undefined || c.shell === false).toBe(true);
      expect(c.file).not.toMatch(/(^|\/)(ba|da)?sh$/);
    }
    expect(calls.map((c) => c.file)).toContain('/usr/bin/qemu-system-x86_64');
  });

  it('save and restore send QEMU an fd: migration URI, never exec:, and the state file is 0600', async () => {
    const frames: string[] = [];
    const write = Socket.prototype.write;
    Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) frames.push(chunk.toString());
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof Socket.prototype.write;
    const file = tmp.join('noshell.state');
    const sb = await Sandbox.create(config, {
      stateDir: tmp.join('noshell-save'),
      host: { accel: hostAccel },
    });
    let restored: Sandbox | undefined;
    try {
      await sb.start();
      await sb.save(file);
      expect(mode(file)).toBe(0o600);
      expect(statSync(file).size).toBeGreaterThan(0);
      await sb.stop({ graceMs: 1_000 });
      restored = await Sandbox.create(config, {
        stateDir: tmp.join('noshell-restore'),
        host: { accel: hostAccel },
        restoreFrom: file,
      });
      await restored.start({ timeoutMs: 60_000 });
      expect(restored.status).toBe('running');
    } finally {
      Socket.prototype.write = write;
      await sb.stop({ graceMs: 1_000 });
      await restored?.stop({ graceMs: 1_000 });
    }
    const qmp = frames.filter((f) => f.includes('"execute"'));
    const migrations = qmp.filter((f) => /"migrate(-incoming)?"/.test(f));
    expect(migrations).toHaveLength(2);
    for (const m of migrations) expect(m).toMatch(/"uri":"fd:vmm-migrate-[0-9a-f]+"/);
    expect(qmp.filter((f) => f.includes('exec:'))).toEqual([]);
  });
});

describe('paths and ids', () => {
  it.each(['../x', '..', '.', 'a/b', '/etc', '', 'x\0y', '-rf', `a${'b'.repeat(64)}`])(
    'the id %j is refused before any file is touched',
    async (id) => {
      const stateDir = tmp.join('ids');
      await expect(
        Sandbox.create(config, { stateDir, id, host: { accel: hostAccel } }),
      ).rejects.toMatchObject({
        code: 'SANDBOX_INVALID_CONFIG',
        path: 'id',
      });
      await expect(Sandbox.attach(id, { stateDir })).rejects.toMatchObject({
        code: 'SANDBOX_INVALID_CONFIG',
      });
      expect(existsSync(stateDir)).toBe(false);
    },
  );

  it('a symlink planted as a sandbox directory is neither written through nor read through', async () => {
    const stateDir = tmp.join('planted');
    const victim = tmp.join('victim');
    await mkdir(stateDir, { mode: 0o700 });
    await mkdir(victim, { mode: 0o700 });
    await writeFile(join(victim, 'keep'), 'precious');
    await symlink(victim, join(stateDir, 'evil'));
    // create: the name is taken by something that is not a sandbox, and nothing lands in the target.
    const made = await Sandbox.create(config, { stateDir, id: 'evil', host: { accel: hostAccel } }).then(
      (s) => s,
      (err: unknown) => err,
    );
    expect(readdirSync(victim)).toEqual(['keep']);
    if (made instanceof Sandbox) {
      // The symlink was replaced by a real directory: still nothing outside the state dir.
      expect(statSync(join(stateDir, 'evil')).isDirectory()).toBe(true);
      await made.stop();
    } else {
      expect(made).toMatchObject({ code: expect.stringMatching(/^SANDBOX_(EXISTS|STATE_IO)$/) });
    }
    // attach/list: a state file reached through a symlinked directory is refused.
    await rm(join(stateDir, 'evil'), { recursive: true, force: true });
    const outside = tmp.join('outside');
    await mkdir(outside, { mode: 0o700 });
    const real = await Sandbox.create(config, {
      stateDir: tmp.join('realstate'),
      id: 'evil',
      host: { accel: hostAccel },
    });
    execFileSync('cp', [real.paths.state, join(outside, 'state.json')]);
    await real.stop();
    await symlink(outside, join(stateDir, 'evil'));
    await expect(Sandbox.attach('evil', { stateDir })).rejects.toMatchObject({
      code: 'SANDBOX_STATE_INVALID',
    });
    expect(await Sandbox.list({ stateDir })).toEqual([]);
  });
});
