import type { ModInfo } from './elf.js';
import { GuestError } from './errors.js';
import { moduleName } from './module-sets.js';

/**
 * Load order for `roots`: every module's `depends=` (and the `softdep=pre:` modules the package
 * has) before the module itself, each once. Pure; `lookup` returns the modinfo of a module by its
 * normalised name, or `undefined` if the package does not ship it.
 * @throws {GuestError} `GUEST_MODULE_MISSING` for a root or hard dependency the package lacks,
 * naming the chain that needed it.
 */
export function resolveLoadOrder(
  roots: readonly string[],
  lookup: (name: string) => ModInfo | undefined,
): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (raw: string, chain: readonly string[], soft: boolean): void => {
    const name = moduleName(raw);
    if (done.has(name) || visiting.has(name)) return;
    const info = lookup(name);
    if (info === undefined) {
      if (soft) return;
      const via = chain.length === 0 ? '' : ` (needed by ${chain.join(' <- ')})`;
      throw new GuestError('GUEST_MODULE_MISSING', `module ${name} is not in the kernel package${via}`);
    }
    visiting.add(name);
    const next = [name, ...chain];
    for (const dep of info.softPre) visit(dep, next, true);
    for (const dep of info.depends) visit(dep, next, false);
    visiting.delete(name);
    done.add(name);
    order.push(name);
  };
  for (const root of roots) visit(root, [], false);
  return order;
}
