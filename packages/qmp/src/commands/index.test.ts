import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { QMP_COMMANDS } from './index.js';

/** Like node-redis's check-command-jsdoc: every registry entry is complete and in its own file. */
describe('QMP_COMMANDS registry', () => {
  it.each(Object.entries(QMP_COMMANDS))('%s: name, file, summary, schemas', (key, def) => {
    expect(def.name).toBe(key);
    expect(existsSync(new URL(`./${key}.ts`, import.meta.url))).toBe(true);
    expect(def.summary.length).toBeGreaterThan(10);
    expect(typeof def.reply.safeParse).toBe('function');
    if (def.args !== undefined) expect(typeof def.args.safeParse).toBe('function');
  });

  it('covers every govmm Execute* wire command (reference section 1b)', () => {
    const govmm = [
      'qmp_capabilities',
      'stop',
      'cont',
      'quit',
      'system_powerdown',
      'blockdev-add',
      'blockdev-del',
      'chardev-remove',
      'netdev_add',
      'netdev_del',
      'device_add',
      'device_del',
      'query-hotpluggable-cpus',
      'migrate-set-capabilities',
      'migrate',
      'query-memory-devices',
      'query-cpus-fast',
      'object-add',
      'object-del',
      'balloon',
      'getfd',
      'chardev-add',
      'query-migrate',
      'migrate-incoming',
      'query-qmp-schema',
      'query-status',
      'qom-set',
      'qom-get',
      'dump-guest-memory',
    ];
    for (const c of govmm) expect(Object.keys(QMP_COMMANDS)).toContain(c);
  });
});
