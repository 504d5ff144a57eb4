import type { z } from 'zod';
import type { QmpCommandDef } from './_define.js';
import { addFd } from './add-fd.js';
import { balloon } from './balloon.js';
import { blockdevAdd } from './blockdev-add.js';
import { blockdevDel } from './blockdev-del.js';
import { chardevAdd } from './chardev-add.js';
import { chardevRemove } from './chardev-remove.js';
import { closefd } from './closefd.js';
import { cont } from './cont.js';
import { deviceAdd } from './device_add.js';
import { deviceDel } from './device_del.js';
import { dumpGuestMemory } from './dump-guest-memory.js';
import { getfd } from './getfd.js';
import { humanMonitorCommand } from './human-monitor-command.js';
import { migrate } from './migrate.js';
import { migrateIncoming } from './migrate-incoming.js';
import { migrateSetCapabilities } from './migrate-set-capabilities.js';
import { netdevAdd } from './netdev_add.js';
import { netdevDel } from './netdev_del.js';
import { objectAdd } from './object-add.js';
import { objectDel } from './object-del.js';
import { qmpCapabilities } from './qmp_capabilities.js';
import { qomGet } from './qom-get.js';
import { qomList } from './qom-list.js';
import { qomSet } from './qom-set.js';
import { queryBalloon } from './query-balloon.js';
import { queryBlock } from './query-block.js';
import { queryChardev } from './query-chardev.js';
import { queryCommands } from './query-commands.js';
import { queryCpusFast } from './query-cpus-fast.js';
import { queryDump } from './query-dump.js';
import { queryFdsets } from './query-fdsets.js';
import { queryHotpluggableCpus } from './query-hotpluggable-cpus.js';
import { queryMemoryDevices } from './query-memory-devices.js';
import { queryMemorySizeSummary } from './query-memory-size-summary.js';
import { queryMigrate } from './query-migrate.js';
import { queryMigrateCapabilities } from './query-migrate-capabilities.js';
import { queryName } from './query-name.js';
import { queryNamedBlockNodes } from './query-named-block-nodes.js';
import { queryPci } from './query-pci.js';
import { queryQmpSchema } from './query-qmp-schema.js';
import { queryStatus } from './query-status.js';
import { queryVersion } from './query-version.js';
import { quit } from './quit.js';
import { removeFd } from './remove-fd.js';
import { stop } from './stop.js';
import { systemPowerdown } from './system_powerdown.js';
import { systemReset } from './system_reset.js';

/** Every typed command, by wire name: the registry behind `client.execute()`. */
export const QMP_COMMANDS = {
  'add-fd': addFd,
  balloon: balloon,
  'blockdev-add': blockdevAdd,
  'blockdev-del': blockdevDel,
  'chardev-add': chardevAdd,
  'chardev-remove': chardevRemove,
  closefd: closefd,
  cont: cont,
  device_add: deviceAdd,
  device_del: deviceDel,
  'dump-guest-memory': dumpGuestMemory,
  getfd: getfd,
  'human-monitor-command': humanMonitorCommand,
  migrate: migrate,
  'migrate-incoming': migrateIncoming,
  'migrate-set-capabilities': migrateSetCapabilities,
  netdev_add: netdevAdd,
  netdev_del: netdevDel,
  'object-add': objectAdd,
  'object-del': objectDel,
  qmp_capabilities: qmpCapabilities,
  'qom-get': qomGet,
  'qom-list': qomList,
  'qom-set': qomSet,
  'query-balloon': queryBalloon,
  'query-block': queryBlock,
  'query-chardev': queryChardev,
  'query-commands': queryCommands,
  'query-cpus-fast': queryCpusFast,
  'query-dump': queryDump,
  'query-fdsets': queryFdsets,
  'query-hotpluggable-cpus': queryHotpluggableCpus,
  'query-memory-devices': queryMemoryDevices,
  'query-memory-size-summary': queryMemorySizeSummary,
  'query-migrate': queryMigrate,
  'query-migrate-capabilities': queryMigrateCapabilities,
  'query-name': queryName,
  'query-named-block-nodes': queryNamedBlockNodes,
  'query-pci': queryPci,
  'query-qmp-schema': queryQmpSchema,
  'query-status': queryStatus,
  'query-version': queryVersion,
  quit: quit,
  'remove-fd': removeFd,
  stop: stop,
  system_powerdown: systemPowerdown,
  system_reset: systemReset,
} as const satisfies Record<string, QmpCommandDef>;

/** Wire name of a typed command. */
export type QmpCommandName = keyof typeof QMP_COMMANDS;

type Def<K extends QmpCommandName> = (typeof QMP_COMMANDS)[K];

/** Arguments of a typed command as the caller writes them (`undefined` for commands without). */
export type QmpArgs<K extends QmpCommandName> = Def<K>['args'] extends z.ZodType
  ? z.input<Def<K>['args']>
  : undefined;

/** Reply (`return` value) of a typed command, after validation. */
export type QmpReply<K extends QmpCommandName> = z.output<Def<K>['reply']>;

/** True when `name` is a typed command. */
export function isTypedCommand(name: string): name is QmpCommandName {
  return Object.hasOwn(QMP_COMMANDS, name);
}

export {
  addFd,
  balloon,
  blockdevAdd,
  blockdevDel,
  chardevAdd,
  chardevRemove,
  closefd,
  cont,
  deviceAdd,
  deviceDel,
  dumpGuestMemory,
  getfd,
  humanMonitorCommand,
  migrate,
  migrateIncoming,
  migrateSetCapabilities,
  netdevAdd,
  netdevDel,
  objectAdd,
  objectDel,
  qmpCapabilities,
  qomGet,
  qomList,
  qomSet,
  queryBalloon,
  queryBlock,
  queryChardev,
  queryCommands,
  queryCpusFast,
  queryDump,
  queryFdsets,
  queryHotpluggableCpus,
  queryMemoryDevices,
  queryMemorySizeSummary,
  queryMigrate,
  queryMigrateCapabilities,
  queryName,
  queryNamedBlockNodes,
  queryPci,
  queryQmpSchema,
  queryStatus,
  queryVersion,
  quit,
  removeFd,
  stop,
  systemPowerdown,
  systemReset,
};
