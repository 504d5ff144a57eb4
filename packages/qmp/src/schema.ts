/**
 * Feature detection on `query-qmp-schema` output (QAPI introspection), modelled on libvirt's
 * schema-path queries. Type names in the schema are meaningless numbers; only command, event and
 * member names are ABI, so everything here navigates from a command or event by member name.
 */

/** One `SchemaInfo` entry (other members are kept as QEMU sent them). */
export interface SchemaInfo {
  name: string;
  'meta-type': string;
  [key: string]: unknown;
}

interface Member {
  name?: string;
  type: string;
  features?: string[];
}

const asMembers = (v: unknown): Member[] => (Array.isArray(v) ? (v as Member[]) : []);

/**
 * A parsed, indexed QAPI schema. Build it from `query-qmp-schema`'s reply (the client caches one per
 * connection: `client.schema()`).
 */
export class QmpSchema {
  readonly #byName = new Map<string, SchemaInfo>();
  readonly #commands = new Map<string, SchemaInfo>();
  readonly #events = new Map<string, SchemaInfo>();
  /** Number of entries. */
  readonly size: number;

  constructor(entries: readonly SchemaInfo[]) {
    for (const e of entries) {
      if (e['meta-type'] === 'command') this.#commands.set(e.name, e);
      else if (e['meta-type'] === 'event') this.#events.set(e.name, e);
      else this.#byName.set(e.name, e);
    }
    this.size = entries.length;
  }

  /** Every command name. */
  commandNames(): string[] {
    return [...this.#commands.keys()];
  }

  /** Every event name. */
  eventNames(): string[] {
    return [...this.#events.keys()];
  }

  /** True when this QEMU has command `name`. */
  hasCommand(name: string): boolean {
    return this.#commands.has(name);
  }

  /** True when this QEMU can emit event `name`. */
  hasEvent(name: string): boolean {
    return this.#events.has(name);
  }

  /** True when command `name` has `"allow-oob": true` (may be sent with `exec-oob`). */
  allowsOob(name: string): boolean {
    return this.#commands.get(name)?.['allow-oob'] === true;
  }

  /** The entry of a command or event, by name. */
  entity(name: string): SchemaInfo | undefined {
    return this.#commands.get(name) ?? this.#events.get(name);
  }

  /** The entry of a (meaningless-named) type. */
  type(name: string): SchemaInfo | undefined {
    return this.#byName.get(name);
  }

  /**
   * Resolve a libvirt-style schema path and return the entry it reaches, or `undefined`.
   *
   * The first segment is a command or event name. Then: `arg-type` / `ret-type` follow a command's
   * (or `arg-type` an event's) type; a plain name follows an object member of that name (searching
   * union variants when the base lacks it); `+value` selects the union variant whose tag is
   * `value`; `^value` requires an enum value; `$feature` requires a feature on the entry reached.
   * Arrays are followed to their element type, alternates to the first branch that matches.
   *
   * @example schema.query('blockdev-add/arg-type/+file/filename')
   * @example schema.has('device_add/arg-type/$json-cli')
   * @example schema.has('query-status/ret-type/status/^running')
   */
  query(path: string): SchemaInfo | undefined {
    const segments = path.split('/').filter((s) => s.length > 0);
    const first = segments.shift();
    if (first === undefined) return undefined;
    let cur = this.entity(first);
    for (const seg of segments) {
      if (cur === undefined) return undefined;
      cur = this.#step(cur, seg);
    }
    return cur;
  }

  /** True when {@link query} resolves `path`. */
  has(path: string): boolean {
    return this.query(path) !== undefined;
  }

  #resolve(typeName: unknown): SchemaInfo | undefined {
    if (typeof typeName !== 'string') return undefined;
    let t = this.#byName.get(typeName);
    for (let guard = 0; t?.['meta-type'] === 'array' && guard < 8; guard++) {
      t = this.#byName.get(String(t['element-type']));
    }
    return t;
  }

  #step(cur: SchemaInfo, seg: string): SchemaInfo | undefined {
    if (seg === 'arg-type' || seg === 'ret-type') return this.#resolve(cur[seg]);
    if (seg.startsWith('$')) {
      const features = Array.isArray(cur.features) ? (cur.features as string[]) : [];
      return features.includes(seg.slice(1)) ? cur : undefined;
    }
    if (seg.startsWith('^')) {
      if (cur['meta-type'] !== 'enum') return undefined;
      const value = seg.slice(1);
      const values = Array.isArray(cur.values) ? (cur.values as string[]) : [];
      const members = asMembers(cur.members).map((m) => m.name);
      return values.includes(value) || members.includes(value) ? cur : undefined;
    }
    if (cur['meta-type'] === 'alternate') {
      for (const m of asMembers(cur.members)) {
        const t = this.#resolve(m.type);
        const r = t === undefined ? undefined : this.#step(t, seg);
        if (r !== undefined) return r;
      }
      return undefined;
    }
    if (cur['meta-type'] !== 'object') return undefined;
    if (seg.startsWith('+')) {
      const variants = Array.isArray(cur.variants)
        ? (cur.variants as Array<{ case: string; type: string }>)
        : [];
      const v = variants.find((x) => x.case === seg.slice(1));
      return v === undefined ? undefined : this.#resolve(v.type);
    }
    const member = asMembers(cur.members).find((m) => m.name === seg);
    if (member !== undefined)
      return this.#resolve(member.type) ?? { name: member.type, 'meta-type': 'builtin' };
    const variants = Array.isArray(cur.variants) ? (cur.variants as Array<{ type: string }>) : [];
    for (const v of variants) {
      const t = this.#resolve(v.type);
      const r = t === undefined ? undefined : this.#step(t, seg);
      if (r !== undefined) return r;
    }
    return undefined;
  }
}
