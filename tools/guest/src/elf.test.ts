import { describe, expect, it } from 'vitest';
import { findXzStreams, hasPvhNote, readModInfo } from './elf.js';

/** A minimal ELF64 LE file with the given sections (plus a null section and .shstrtab). */
function elfWithSections(sections: Record<string, Buffer>): Buffer {
  const names = ['', ...Object.keys(sections), '.shstrtab'];
  const shstrtab = Buffer.from(`${names.join('\0')}\0`, 'latin1');
  const nameOffsets = names.map((_, i) => names.slice(0, i).reduce((n, s) => n + s.length + 1, 0));
  const bodies = [Buffer.alloc(0), ...Object.values(sections), shstrtab];
  let offset = 64;
  const offsets = bodies.map((b) => {
    const at = offset;
    offset += b.length;
    return at;
  });
  const shoff = offset;
  const header = Buffer.alloc(64);
  header.writeUInt32LE(0x464c457f, 0);
  header[4] = 2;
  header[5] = 1;
  header.writeBigUInt64LE(BigInt(shoff), 0x28);
  header.writeUInt16LE(64, 0x3a);
  header.writeUInt16LE(bodies.length, 0x3c);
  header.writeUInt16LE(bodies.length - 1, 0x3e);
  const shdrs = Buffer.alloc(64 * bodies.length);
  bodies.forEach((b, i) => {
    shdrs.writeUInt32LE(nameOffsets[i]!, i * 64);
    shdrs.writeBigUInt64LE(BigInt(offsets[i]!), i * 64 + 0x18);
    shdrs.writeBigUInt64LE(BigInt(b.length), i * 64 + 0x20);
  });
  return Buffer.concat([header, ...bodies, shdrs]);
}

function note(name: string, type: number, desc: Buffer): Buffer {
  const n = Buffer.from(`${name}\0`, 'latin1');
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(n.length, 0);
  head.writeUInt32LE(desc.length, 4);
  head.writeUInt32LE(type, 8);
  return Buffer.concat([head, pad(n), pad(desc)]);
}

/** A minimal ELF64 LE file with one PT_NOTE segment holding `notes`. */
function elfWithNotes(notes: Buffer): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt32LE(0x464c457f, 0);
  header[4] = 2;
  header[5] = 1;
  header.writeBigUInt64LE(64n, 0x20);
  header.writeUInt16LE(56, 0x36);
  header.writeUInt16LE(2, 0x38);
  const phdrs = Buffer.alloc(56 * 2);
  phdrs.writeUInt32LE(1, 0); // PT_LOAD, ignored
  phdrs.writeUInt32LE(4, 56); // PT_NOTE
  phdrs.writeBigUInt64LE(BigInt(64 + 112), 56 + 0x08);
  phdrs.writeBigUInt64LE(BigInt(notes.length), 56 + 0x20);
  return Buffer.concat([header, phdrs, notes]);
}

describe('readModInfo', () => {
  it('reads name, depends and softdep pre from .modinfo', () => {
    const modinfo = Buffer.from(
      [
        'license=GPL',
        'depends=scsi_mod,t10-pi',
        'softdep=pre: crc32c post: foo',
        'alias=pci:v00001AF4d00001004sv*sd*bc*sc*i*',
        'name=sd_mod',
        'vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions ',
        '',
      ].join('\0'),
      'latin1',
    );
    const elf = elfWithSections({ '.text': Buffer.alloc(16), '.modinfo': modinfo });
    expect(readModInfo(elf)).toEqual({
      name: 'sd_mod',
      depends: ['scsi_mod', 't10-pi'],
      softPre: ['crc32c'],
    });
  });

  it('treats an empty depends= as no dependencies', () => {
    const elf = elfWithSections({ '.modinfo': Buffer.from('depends=\0name=evdev\0', 'latin1') });
    expect(readModInfo(elf)).toEqual({ name: 'evdev', depends: [], softPre: [] });
  });

  it('returns undefined for non-ELF input, truncated headers and a missing .modinfo', () => {
    expect(
      readModInfo(
        Buffer.from('not an elf at all, just text that is long enough to pass the size check.....'),
      ),
    ).toBeUndefined();
    expect(readModInfo(elfWithSections({ '.text': Buffer.alloc(8) }))).toBeUndefined();
    const elf = elfWithSections({ '.modinfo': Buffer.from('name=x\0', 'latin1') });
    expect(readModInfo(elf.subarray(0, elf.length - 10))).toBeUndefined();
  });
});

describe('hasPvhNote', () => {
  it('finds the Xen PHYS32_ENTRY note among others', () => {
    const notes = Buffer.concat([
      note('Xen', 6, Buffer.from('linux\0')),
      note('GNU', 3, Buffer.alloc(20)),
      note('Xen', 18, Buffer.alloc(8)),
    ]);
    expect(hasPvhNote(elfWithNotes(notes))).toBe(true);
  });

  it('is false without the note, or for another owner with type 18', () => {
    expect(hasPvhNote(elfWithNotes(note('Xen', 6, Buffer.from('linux\0'))))).toBe(false);
    expect(hasPvhNote(elfWithNotes(note('GNU', 18, Buffer.alloc(8))))).toBe(false);
    expect(hasPvhNote(Buffer.from('MZ not an elf'))).toBe(false);
  });
});

describe('findXzStreams', () => {
  it('finds every XZ magic in order', () => {
    const magic = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
    const buf = Buffer.concat([Buffer.alloc(10), magic, Buffer.alloc(3), magic, Buffer.from([0xfd, 0x37])]);
    expect(findXzStreams(buf)).toEqual([10, 19]);
    expect(findXzStreams(Buffer.alloc(100))).toEqual([]);
  });
});
