import type { Command } from '../command.js';

/**
 * Every `vmm` verb, loaded on demand so `vmm check` never pays for the QMP client or the sandbox.
 * One line per verb; keep the list sorted.
 */
export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  argv: () => import('./argv.js'),
  check: () => import('./check.js'),
  hostinfo: () => import('./hostinfo.js'),
  qmp: () => import('./qmp.js'),
  'qmp-shell': () => import('./qmp-shell.js'),
};
