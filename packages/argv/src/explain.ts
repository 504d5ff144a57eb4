/** Explain an argv option by option, using the option-string parser (for `vmm argv --explain`). */
import { OPTION_IMPLIED_KEYS, parseOptionPairs } from './option-string.js';

/** One option of an argv, with its value split into key/value pairs when it uses option syntax. */
export interface ExplainedOption {
  /** The option, e.g. `-device`; `''` for a stray positional word. */
  option: string;
  /** The raw value (`undefined` for a switch such as `-nodefaults`). */
  value: string | undefined;
  /** Key/value pairs of the value when QEMU reads it as an option string (implied key resolved). */
  pairs: Array<[key: string, value: string]> | undefined;
  /** One-line description of what the option does. */
  summary: string;
}

/** QEMU options that take no value. */
const SWITCHES = new Set([
  '-S',
  '-no-user-config',
  '-nodefaults',
  '-nographic',
  '--no-reboot',
  '-no-reboot',
  '--no-shutdown',
  '-no-shutdown',
  '-daemonize',
]);

/** Options whose value is a QEMU option string. */
const OPTION_STRING = new Set([
  '-device',
  '-drive',
  '-object',
  '-chardev',
  '-netdev',
  '-fsdev',
  '-machine',
  '-m',
  '-smp',
  '-numa',
  '-rtc',
  '-fw_cfg',
  '-sandbox',
  '-overcommit',
  '-name',
]);

const SUMMARY: Readonly<Record<string, string>> = {
  '-name': 'guest name',
  '-uuid': 'SMBIOS UUID',
  '-machine': 'machine type and options',
  '-cpu': 'CPU model and features',
  '-qmp': 'QMP monitor socket',
  '-qmp-pretty': 'QMP monitor socket (pretty-printed JSON)',
  '-monitor': 'human monitor (HMP) socket',
  '-m': 'guest RAM size and hotplug limits',
  '-device': 'a guest device',
  '-drive': 'a block backend',
  '-object': 'a backend object',
  '-chardev': 'a character device backend',
  '-netdev': 'a network backend',
  '-fsdev': 'a 9p filesystem backend',
  '-serial': 'legacy serial port',
  '-rtc': 'real-time clock',
  '-global': 'default property of a device type',
  '-pflash': 'flash image',
  '-vga': 'VGA card',
  '-no-user-config': 'do not load user config files',
  '-nodefaults': 'no default devices',
  '-nographic': 'no graphical output',
  '--no-reboot': 'exit instead of rebooting',
  '--no-shutdown': 'stop instead of exiting on guest shutdown',
  '-no-shutdown': 'stop instead of exiting on guest shutdown',
  '-daemonize': 'detach from the terminal',
  '-numa': 'NUMA node or distance',
  '-overcommit': 'memory locking / overcommit',
  '-S': 'start with the CPUs stopped',
  '-kernel': 'kernel image for direct boot',
  '-initrd': 'initial ramdisk',
  '-append': 'kernel command line',
  '-bios': 'firmware image',
  '-incoming': 'wait for an incoming migration',
  '-pidfile': 'write the PID to a file',
  '-D': 'debug log file',
  '-fw_cfg': 'firmware config item',
  '-sandbox': 'seccomp sandbox',
  '-smp': 'CPU topology',
};

/** Split an argv into options with their values, parsing option-string values into pairs. */
export function explainArgv(argv: readonly string[]): ExplainedOption[] {
  const out: ExplainedOption[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('-')) {
      out.push({ option: '', value: word, pairs: undefined, summary: 'positional argument' });
      continue;
    }
    if (SWITCHES.has(word) || i + 1 >= argv.length) {
      out.push({ option: word, value: undefined, pairs: undefined, summary: SUMMARY[word] ?? 'switch' });
      continue;
    }
    const value = argv[++i]!;
    const pairs = OPTION_STRING.has(word) ? parseOptionPairs(value, OPTION_IMPLIED_KEYS[word]) : undefined;
    out.push({ option: word, value, pairs, summary: SUMMARY[word] ?? 'option' });
  }
  return out;
}
