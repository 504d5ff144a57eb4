/**
 * `@vmm/cli`: the `vmm` command. The programmatic entry runs it in-process (tests, embedding).
 */
export type { Command, CommandContext, CommandIo } from './command.js';
export { COMMANDS } from './commands/index.js';
export { CLI_ERROR_CODES, CliError, type CliErrorCode } from './errors.js';
export { describeError, main } from './main.js';
