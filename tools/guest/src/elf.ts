/**
 * Just enough ELF64 (little-endian) reading for the builder: a kernel module's `.modinfo` section
 * and the PVH entry note of a vmlinux. Pure functions over a Buffer; they return `undefined` for
 * input that is not what they expect instead of throwing.
 */

const ELF_MAGIC = 0x464c457f; // "\x7fELF" read as a little-endian uint32

/** Modinfo of one kernel module, from its `.modinfo` section. */
export interface ModInfo {
  /** `name=`, if present. */
  name: string | undefined;
  /** `depends=`, split on commas (may contain dashes, e.g. `t10-pi`). */
  depends: string[];
  /** Modules from `softdep=pre: ...`. */
  softPre: string[];
}

function isElf64Le(buf: Buffer): boolean {
  return buf.length >= 64 && buf.readUInt32LE(0) === ELF_MAGIC && buf[4] === 2 && buf[5] === 1;
}

function section(buf: Buffer, wanted: string): Buffer | undefined {
  if (!isElf64Le(buf)) return undefined;
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  if (shentsize < 64 || shstrndx >= shnum || shoff + shnum * shentsize > buf.length) return undefined;
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: buf.readUInt32LE(at),
      offset: Number(buf.readBigUInt64LE(at + 0x18)),
      size: Number(buf.readBigUInt64LE(at + 0x20)),
    };
  };
  const strtab = header(shstrndx);
  if (strtab.offset + strtab.size > buf.length) return undefined;
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const start = strtab.offset + h.name;
    const end = buf.indexOf(0, start);
    if (end < 0 || end > strtab.offset + strtab.size) continue;
    if (buf.toString('latin1', start, end) !== wanted) continue;
    if (h.offset + h.size > buf.length) return undefined;
    return buf.subarray(h.offset, h.offset + h.size);
  }
  return undefined;
}

/**
 * Read `name=`, `depends=` and `softdep=` from a module's `.modinfo` section. Returns `undefined`
 * when the buffer is not an ELF64 LE file with a `.modinfo` section.
 */
export function readModInfo(buf: Buffer): ModInfo | undefined {
  const sec = section(buf, '.modinfo');
  if (sec === undefined) return undefined;
  const info: ModInfo = { name: undefined, depends: [], softPre: [] };
  for (const entry of sec.toString('latin1').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (key === 'name') info.name = value;
    else if (key === 'depends') info.depends.push(...value.split(',').filter((d) => d !== ''));
    else if (key === 'softdep') info.softPre.push(...parseSoftdepPre(value));
  }
  return info;
}

/** `pre: a b post: c` → `['a', 'b']`. */
function parseSoftdepPre(value: string): string[] {
  const out: string[] = [];
  let mode: 'pre' | 'post' | undefined;
  for (const word of value.split(/\s+/)) {
    if (word === 'pre:') mode = 'pre';
    else if (word === 'post:') mode = 'post';
    else if (word !== '' && mode === 'pre') out.push(word);
  }
  return out;
}

const PT_NOTE = 4;
const XEN_ELFNOTE_PHYS32_ENTRY = 18;

/**
 * True when an ELF64 kernel image carries the Xen `PHYS32_ENTRY` note that QEMU needs to boot it
 * through PVH (`-kernel vmlinux`). Checks PT_NOTE program headers.
 */
export function hasPvhNote(buf: Buffer): boolean {
  if (!isElf64Le(buf)) return false;
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > buf.length || buf.readUInt32LE(at) !== PT_NOTE) continue;
    const offset = Number(buf.readBigUInt64LE(at + 0x08));
    const size = Number(buf.readBigUInt64LE(at + 0x20));
    let p = offset;
    const end = Math.min(offset + size, buf.length);
    while (p + 12 <= end) {
      const namesz = buf.readUInt32LE(p);
      const descsz = buf.readUInt32LE(p + 4);
      const type = buf.readUInt32LE(p + 8);
      const name = buf.toString('latin1', p + 12, p + 12 + Math.max(0, namesz - 1));
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      p += 12 + align4(namesz) + align4(descsz);
    }
  }
  return false;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The offsets of every XZ stream magic (`FD 37 7A 58 5A 00`) in a buffer, in order. */
export function findXzStreams(buf: Buffer): number[] {
  const magic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  const out: number[] = [];
  for (let at = buf.indexOf(magic); at >= 0; at = buf.indexOf(magic, at + 1)) out.push(at);
  return out;
}
