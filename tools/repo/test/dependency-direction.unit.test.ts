import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The allowed @vmm/* runtime dependencies of each workspace package, from ../shared/DESIGN.md:
 * edges point down only, siblings never import each other, leaves have no @vmm deps.
 * `@vmm/fdpass` is @vmm/qmp's optional native addon (a leaf below qmp); `@vmm/guest` builds the
 * default guest for `vmm run` and is a leaf the CLI uses. `@vmm/test-utils` is dev-only everywhere.
 */
export const ALLOWED: Record<string, readonly string[]> = {
  '@vmm/argv': [],
  '@vmm/hostinfo': [],
  '@vmm/fdpass': [],
  '@vmm/guest': [],
  '@vmm/qmp': ['@vmm/fdpass'],
  '@vmm/qemu-arch': ['@vmm/argv', '@vmm/hostinfo'],
  '@vmm/acrn': ['@vmm/hostinfo'],
  '@vmm/sandbox': ['@vmm/qemu-arch', '@vmm/acrn', '@vmm/qmp', '@vmm/argv', '@vmm/hostinfo', '@vmm/fdpass'],
  '@vmm/cli': [
    '@vmm/sandbox',
    '@vmm/qemu-arch',
    '@vmm/acrn',
    '@vmm/qmp',
    '@vmm/argv',
    '@vmm/hostinfo',
    '@vmm/guest',
    '@vmm/fdpass',
  ],
  '@vmm/test-utils': [],
  '@vmm/repo': [],
  '@vmm/bench': ['*'],
};

/** Dev-only helpers any package's tests may use: test utilities and the default guest. */
const DEV_ANYWHERE = ['@vmm/test-utils', '@vmm/guest'];

interface Manifest {
  name: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const root = join(import.meta.dirname, '..', '..', '..');

function manifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const group of ['packages', 'tools', '.']) {
    const dirs = group === '.' ? ['bench'] : readdirSync(join(root, group));
    for (const d of dirs) {
      const file = join(root, group, d, 'package.json');
      if (existsSync(file)) out.push(JSON.parse(readFileSync(file, 'utf8')) as Manifest);
    }
  }
  return out;
}

/** Every @vmm/* edge of a manifest that the table forbids, as readable strings. */
export function violations(m: Manifest, allowed: Record<string, readonly string[]> = ALLOWED): string[] {
  const rule = allowed[m.name];
  if (rule === undefined) return [`${m.name}: not in the dependency table (add it to DESIGN's table first)`];
  const bad: string[] = [];
  const runtime = { ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies };
  for (const dep of Object.keys(runtime)) {
    if (!dep.startsWith('@vmm/')) continue;
    if (dep === '@vmm/test-utils' && !m.private) bad.push(`${m.name} -> ${dep}: test-utils is dev-only`);
    else if (!rule.includes('*') && !rule.includes(dep)) bad.push(`${m.name} -> ${dep}: forbidden edge`);
    else if (!m.private && !runtime[dep]?.startsWith('workspace:^'))
      bad.push(`${m.name} -> ${dep}: internal deps use "workspace:^"`);
  }
  for (const dep of Object.keys(m.devDependencies ?? {})) {
    if (dep.startsWith('@vmm/') && !DEV_ANYWHERE.includes(dep) && !rule.includes('*') && !rule.includes(dep))
      bad.push(`${m.name} -> ${dep} (dev): forbidden edge`);
  }
  return bad;
}

describe('dependency direction (DESIGN.md)', () => {
  const all = manifests();

  it('finds every workspace package', () => {
    expect(all.map((m) => m.name)).toEqual(expect.arrayContaining(['@vmm/argv', '@vmm/qmp', '@vmm/cli']));
  });

  it.each(all.map((m) => [m.name, m] as const))('%s only depends downward', (_name, m) => {
    expect(violations(m)).toEqual([]);
  });

  it('the check itself catches sibling and upward edges', () => {
    expect(violations({ name: '@vmm/qmp', dependencies: { '@vmm/argv': 'workspace:^' } })).toEqual([
      '@vmm/qmp -> @vmm/argv: forbidden edge',
    ]);
    expect(violations({ name: '@vmm/argv', dependencies: { '@vmm/sandbox': 'workspace:^' } })).toHaveLength(
      1,
    );
    expect(violations({ name: '@vmm/qemu-arch', dependencies: { '@vmm/acrn': 'workspace:^' } })).toHaveLength(
      1,
    );
    expect(violations({ name: '@vmm/new-thing' })).toHaveLength(1);
    expect(
      violations({ name: '@vmm/acrn', dependencies: { '@vmm/test-utils': 'workspace:*' } }),
    ).toHaveLength(1);
  });

  it('public packages are ESM with an exports map, engines and files', () => {
    for (const m of all) {
      if (m.private) continue;
      const raw = m as Manifest & {
        type?: string;
        exports?: unknown;
        engines?: { node?: string };
        files?: string[];
      };
      expect(raw.type, m.name).toBe('module');
      expect(raw.exports, m.name).toBeTypeOf('object');
      expect(raw.engines?.node, m.name).toBe('>=20.19');
      expect(raw.files, m.name).toContain('dist');
    }
  });
});
