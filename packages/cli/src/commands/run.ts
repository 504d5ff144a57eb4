import { readFile } from 'node:fs/promises';
import { ensureGuest, type GuestImage, parseGuestLine } from '@vmm/guest';
import { type HypervisorConfig, type QemuHypervisor, Sandbox, SandboxError } from '@vmm/sandbox';
import { type Command, type CommandContext, printJson } from '../command.js';
import { CliError } from '../errors.js';
import {
  intFlag,
  Progress,
  STATE_DIR_FLAG,
  STATE_DIR_USAGE,
  stateDirOf,
  stringFlag,
} from '../sandbox-common.js';

/** What `vmm run` prints once the sandbox is up (also its `--json` output). */
export interface RunSummary {
  id: string;
  pid: number | null;
  accel: 'kvm' | 'tcg';
  qmp: string;
  console: string;
  consoleLog: string;
  stateDir: string;
  /** Seconds from `vmm run` to QMP answering. */
  qmpReadySeconds: number;
  /** Seconds from `vmm run` to the guest's GUEST-READY (default guest only). */
  guestReadySeconds: number | null;
}

/** The sandbox `vmm run` boots without --kernel/--config: the default guest on q35. */
export function defaultGuestConfig(guest: GuestImage): HypervisorConfig {
  return {
    kernelPath: guest.kernel,
    initrdPath: guest.initrd,
    kernelParams: guest.defaultAppend.join(' '),
    hypervisorMachineType: 'q35',
    memorySize: 512,
    defaultMaxVcpus: 4,
    pcieRootPort: 2,
  };
}

async function loadConfig(
  ctx: CommandContext,
  progress: Progress,
): Promise<{ config: HypervisorConfig; defaultGuest: boolean }> {
  const file = stringFlag(ctx, 'config');
  const kernel = stringFlag(ctx, 'kernel');
  let config: Record<string, unknown>;
  let defaultGuest = false;
  if (file !== undefined) {
    try {
      config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new CliError('CLI_INPUT', `vmm run: cannot read --config ${file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new CliError(
        'CLI_INPUT',
        `vmm run: --config ${file} must hold a JSON object (a HypervisorConfig)`,
      );
    }
  } else if (kernel !== undefined) {
    config = {};
  } else {
    progress.step('default guest: looking up (builds it from Debian packages on first use)');
    const guest = await ensureGuest({
      signal: ctx.signal,
      onProgress: (p) => {
        if (p.step !== 'done') progress.step(`default guest: ${p.step} ${p.message}`);
      },
    });
    progress.step(`default guest: ${guest.release} (${guest.kernel})`);
    config = { ...defaultGuestConfig(guest) };
    defaultGuest = true;
  }
  const set = (flag: string, key: string): void => {
    const v = stringFlag(ctx, flag);
    if (v !== undefined) config[key] = v;
  };
  set('kernel', 'kernelPath');
  set('initrd', 'initrdPath');
  set('image', 'imagePath');
  set('machine', 'hypervisorMachineType');
  const append = stringFlag(ctx, 'append');
  if (append !== undefined) {
    // Appended to the default guest's command line or the config's (a string or a Param list).
    const prev = config.kernelParams;
    const prevText = Array.isArray(prev)
      ? (prev as { key: string; value?: string }[])
          .map((p) => (p.value ? `${p.key}=${p.value}` : p.key))
          .join(' ')
      : typeof prev === 'string'
        ? prev
        : '';
    config.kernelParams = `${prevText} ${append}`.trim();
  }
  const cpus = intFlag(ctx, 'run', 'cpus', 1, 240);
  if (cpus !== undefined) config.numVcpus = cpus;
  const maxCpus = intFlag(ctx, 'run', 'max-cpus', 1, 248);
  if (maxCpus !== undefined) config.defaultMaxVcpus = maxCpus;
  const memory = intFlag(ctx, 'run', 'memory', 1, 0xffff_ffff);
  if (memory !== undefined) config.memorySize = memory;
  const accel = stringFlag(ctx, 'accel');
  if (accel !== undefined) {
    if (accel !== 'kvm' && accel !== 'tcg')
      throw new CliError('CLI_USAGE', `vmm run: --accel must be kvm or tcg, got "${accel}"`);
    config.accel = accel;
  } else if (ctx.io.env.VMM_ACCEL === 'kvm' || ctx.io.env.VMM_ACCEL === 'tcg') {
    config.accel = ctx.io.env.VMM_ACCEL;
  }
  return { config: config as HypervisorConfig, defaultGuest };
}

function summaryText(s: RunSummary): string {
  return [
    `sandbox ${s.id} is running (${s.accel}, pid ${s.pid ?? '?'})`,
    `  qmp:         ${s.qmp}`,
    `  console:     ${s.console}`,
    `  console log: ${s.consoleLog}`,
    `  state dir:   ${s.stateDir}`,
    '',
  ].join('\n');
}

/** `vmm run`: boot a sandbox (the default guest unless told otherwise). */
export const command: Command = {
  name: 'run',
  summary: 'boot a sandbox (the default guest, or --kernel/--initrd/--config) and keep it running',
  usage: `[--detach | --stop-when-ready] [--kernel <path> (--initrd <path> | --image <path>)] [--config <file.json>]
        [--machine <type>] [--cpus <n>] [--max-cpus <n>] [--memory <MiB>] [--append <params>] [--accel kvm|tcg]
        [--id <id>] [--console] [--json] [--timeout <s>] [--state-dir <dir>]

  With no --kernel or --config, boots vmm's default guest (built from Debian packages on first use,
  then cached): q35, 512 MiB, 1 vCPU (4 max), 2 PCIe root ports, and waits for its GUEST-READY.
  --config <file>     a HypervisorConfig as JSON (flags given as well override it)
  --detach            leave the VM running and return (stop it with vmm stop <id>)
  --stop-when-ready   boot, wait until ready, print the summary, stop cleanly, exit 0
  --console           copy the guest console to stdout while running in the foreground
  --timeout <s>       how long to wait for the VM (and the guest) to be ready (default 120)
  --json              print the summary as JSON
${STATE_DIR_USAGE}

In the foreground, Ctrl-C stops the VM cleanly (QMP quit, then signals).`,
  options: {
    ...STATE_DIR_FLAG,
    detach: { type: 'boolean', short: 'd' },
    'stop-when-ready': { type: 'boolean' },
    kernel: { type: 'string' },
    initrd: { type: 'string' },
    image: { type: 'string' },
    config: { type: 'string' },
    machine: { type: 'string' },
    cpus: { type: 'string' },
    'max-cpus': { type: 'string' },
    memory: { type: 'string' },
    append: { type: 'string' },
    accel: { type: 'string' },
    id: { type: 'string' },
    console: { type: 'boolean' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
  },
  async run(ctx) {
    const detach = ctx.values.detach === true;
    const stopWhenReady = ctx.values['stop-when-ready'] === true;
    if (detach && stopWhenReady)
      throw new CliError('CLI_USAGE', 'vmm run: --detach and --stop-when-ready exclude each other');
    const timeoutMs = (intFlag(ctx, 'run', 'timeout', 1, 3600) ?? 120) * 1000;
    const json = ctx.values.json === true;
    const progress = new Progress(ctx.io);
    const { config, defaultGuest } = await loadConfig(ctx, progress);
    const stateDir = stateDirOf(ctx);
    const id = stringFlag(ctx, 'id');

    const sb = await Sandbox.create(config, {
      stateDir,
      detached: detach,
      ...(id === undefined ? {} : { id }),
    });
    const hv = sb.hypervisor as QemuHypervisor;
    progress.step(`sandbox ${sb.id} created (${hv.accel}, ${hv.qemuPath})`);
    const stopOnAbort = (): void => {
      progress.step('interrupted: stopping the VM');
    };
    ctx.signal.addEventListener('abort', stopOnAbort, { once: true });
    try {
      await sb.start({ timeoutMs, signal: ctx.signal });
      const info = sb.info();
      progress.step(`QEMU started (pid ${info.pid}); QMP ready`);
      const qmpReadySeconds = progress.seconds;
      let guestReadySeconds: number | null = null;
      if (defaultGuest) {
        const ready = await sb.console().waitFor(
          (l) => {
            const e = parseGuestLine(l);
            return e?.kind === 'ready' ? e : undefined;
          },
          { timeoutMs, signal: ctx.signal, exited: sb.exited },
        );
        guestReadySeconds = progress.seconds;
        progress.step(`guest ready: ${ready.line.slice(ready.line.indexOf('GUEST-READY'))}`);
      }
      const summary: RunSummary = {
        id: sb.id,
        pid: info.pid,
        accel: hv.accel,
        qmp: info.qmp,
        console: info.console,
        consoleLog: info.consoleLog,
        stateDir,
        qmpReadySeconds: Number(qmpReadySeconds.toFixed(3)),
        guestReadySeconds: guestReadySeconds === null ? null : Number(guestReadySeconds.toFixed(3)),
      };
      if (json) printJson(ctx.io, summary);
      else ctx.io.stdout.write(summaryText(summary));
      if (detach) return 0;
      if (stopWhenReady) {
        const r = await sb.stop();
        progress.step(`stopped (${r.method})`);
        return 0;
      }
      progress.step('running; Ctrl-C stops it');
      const copy = ctx.values.console === true ? copyConsole(sb, ctx) : undefined;
      const aborted = new Promise<'abort'>((resolve) => {
        if (ctx.signal.aborted) resolve('abort');
        ctx.signal.addEventListener('abort', () => resolve('abort'), { once: true });
      });
      const outcome = await Promise.race([sb.exited.then((e) => ({ exit: e })), aborted]);
      if (outcome === 'abort') {
        const r = await sb.stop();
        await copy;
        progress.step(`stopped (${r.method})`);
        return 0;
      }
      await copy;
      await sb.stop();
      const e = outcome.exit;
      progress.step(`the VM exited (${e.signal !== null ? `signal ${e.signal}` : `code ${e.code}`})`);
      return e.code === 0 ? 0 : 1;
    } catch (err) {
      await sb.stop({ graceMs: 1_000 }).catch(() => undefined);
      if (ctx.signal.aborted && SandboxError.is(err) && err.code === 'SANDBOX_ABORTED') {
        progress.step('interrupted before the VM was ready; stopped');
        return 130;
      }
      throw err;
    } finally {
      ctx.signal.removeEventListener('abort', stopOnAbort);
    }
  },
};

async function copyConsole(sb: Sandbox, ctx: CommandContext): Promise<void> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  ctx.signal.addEventListener('abort', stop, { once: true });
  void sb.exited.then(stop);
  try {
    for await (const line of sb.console().lines({ signal: ac.signal })) ctx.io.stdout.write(`${line}\n`);
  } finally {
    ctx.signal.removeEventListener('abort', stop);
  }
}
