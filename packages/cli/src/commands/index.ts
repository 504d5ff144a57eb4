import type { Command } from '../command.js';

/**
 * Every `vmm` verb, loaded on demand so `vmm check` never pays for the QMP client or the sandbox.
 * One line per verb; keep the list sorted.
 */
export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  argv: () => import('./argv.js'),
  check: () => import('./check.js'),
  console: () => import('./console.js'),
  hostinfo: () => import('./hostinfo.js'),
  hotplug: () => import('./hotplug.js'),
  pause: () => import('./pause.js'),
  ps: () => import('./ps.js'),
  qmp: () => import('./qmp.js'),
  'qmp-shell': () => import('./qmp-shell.js'),
  resume: () => import('./resume.js'),
  run: () => import('./run.js'),
  stop: () => import('./stop.js'),
};
