import { BtfError } from '../errors.js';
import { ElfType, parseElf, SectionFlag, SectionType, SHN_LORESERVE, type ElfFile, type ElfSection } from './elf.js';

/**
 * Rewriting sections of a relocatable ELF file (a `.ko` or a BPF `.o`): the way `objcopy
 * --update-section/--add-section/--remove-section` does it, for the BTF sections btfkit writes.
 * Every other section keeps its contents, header fields and order; only file offsets move,
 * since sections are laid out again back to back. Relocatable files have no program headers
 * and no load addresses tied to file offsets, which is what makes moving sections safe; linked
 * files (vmlinux, shared objects) are refused.
 */

/** What to change: sections to set (replaced when present, appended when not) and to remove. */
export interface SectionEdits {
  /** Section name to new contents. A new section is SHT_PROGBITS, no flags, 4-byte aligned. */
  set?: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;
  /** Names of sections to drop; a name the file does not have is ignored. */
  remove?: readonly string[];
}

/** The largest section alignment btfkit pads for (kernel modules use up to a page). */
const MAX_ALIGN = 1 << 16;

interface OutSection {
  header: ElfSection;
  data: Uint8Array | undefined;
  /** Set for appended sections: where their name lies in the new name table. */
  addedNameOffset?: number;
}

/**
 * A copy of the relocatable ELF file `bytes` with sections replaced, added or removed. The
 * whole file is needed (not an image with only the BTF sections read). A section can only be
 * removed when nothing refers to it: no symbol defined in it, no relocation section applying to
 * it, no section linking to it; otherwise the result is a {@link BtfError}, as is a linked file.
 */
export function editElfSections(bytes: Uint8Array, edits: SectionEdits): Uint8Array {
  const elf = parseElf(bytes);
  if (elf.type !== ElfType.Rel) {
    throw new BtfError('bad-argument', `btfkit rewrites sections of relocatable ELF files only (.ko, .o); this one has e_type ${elf.type}`);
  }
  if (elf.segments.length > 0) throw new BtfError('bad-argument', 'this relocatable ELF file has program headers; btfkit cannot move its sections');
  const set = edits.set instanceof Map ? edits.set as ReadonlyMap<string, Uint8Array> : new Map(Object.entries(edits.set ?? {}));
  const removeNames = new Set(edits.remove ?? []);
  for (const name of set.keys()) {
    if (removeNames.has(name)) throw new BtfError('bad-argument', `section ${name} is both set and removed`);
  }

  for (const s of elf.sections) {
    if (s.type === SectionType.Nobits && set.has(s.name)) throw new BtfError('bad-argument', `section ${s.name} has no contents in the file (SHT_NOBITS) to replace`);
  }
  const removed = new Set<number>();
  for (const s of elf.sections) if (s.index !== 0 && removeNames.has(s.name)) removed.add(s.index);
  if (removed.has(elf.shstrndx)) throw new BtfError('bad-argument', 'the section name table cannot be removed');
  for (const r of removed) refuseIfReferenced(elf, r);

  // Old index to new index: removal closes the gaps.
  const newIndex = new Int32Array(elf.sections.length).fill(-1);
  let next = 0;
  for (const s of elf.sections) if (!removed.has(s.index)) newIndex[s.index] = next++;

  const out: OutSection[] = [];
  const named = new Set<string>();
  for (const s of elf.sections) {
    if (removed.has(s.index)) continue;
    named.add(s.name);
    const data = s.type === SectionType.Nobits || s.index === 0 ? undefined
      : set.get(s.name) ?? bytes.subarray(s.offset, s.offset + s.size);
    out.push({ header: { ...s, size: data ? data.length : s.size }, data });
  }

  // New sections go last, so no index changes; their names are appended to the name table.
  const added = [...set.entries()].filter(([name]) => !named.has(name));
  const shstrOut = out[newIndex[elf.shstrndx]!]!;
  if (added.length > 0) {
    const enc = new TextEncoder();
    const names = added.map(([name]) => enc.encode(name));
    const extra = names.reduce((n, b) => n + b.length + 1, 0);
    const table = new Uint8Array(shstrOut.data!.length + extra);
    table.set(shstrOut.data!);
    let p = shstrOut.data!.length;
    added.forEach(([, data], i) => {
      const nameOff = p;
      table.set(names[i]!, p);
      p += names[i]!.length + 1;
      out.push({
        header: {
          index: out.length, name: added[i]![0], type: SectionType.Progbits, flags: 0, addr: 0n, offset: 0,
          size: data.length, link: 0, info: 0, addralign: 4, entsize: 0,
        },
        data,
        addedNameOffset: nameOff,
      });
    });
    shstrOut.data = table;
    shstrOut.header.size = table.length;
  }
  if (out.length >= SHN_LORESERVE) throw new BtfError('bad-argument', `the result would have ${out.length} sections; btfkit does not write extended section numbering`);

  // Lay the contents out in the order the input had them (new sections last), each at its alignment.
  const is64 = elf.is64;
  const ehdrSize = is64 ? 64 : 52;
  const shdrSize = is64 ? 64 : 40;
  const order = out.map((s, i) => i).filter((i) => i !== 0);
  order.sort((a, b) => {
    const aNew = out[a]!.addedNameOffset === undefined ? 0 : 1;
    const bNew = out[b]!.addedNameOffset === undefined ? 0 : 1;
    return aNew - bNew || out[a]!.header.offset - out[b]!.header.offset || a - b;
  });
  let pos = ehdrSize;
  const offsets = new Array<number>(out.length).fill(0);
  for (const i of order) {
    const s = out[i]!;
    const align = Math.max(1, s.header.addralign);
    // Padding is memory: an alignment no compiler asks for would make the output as large as it says.
    if (align > MAX_ALIGN) throw new BtfError('bad-elf', `section ${s.header.index} (${s.header.name}) asks for ${align}-byte alignment; btfkit lays out sections aligned to at most ${MAX_ALIGN} bytes`);
    pos = Math.ceil(pos / align) * align;
    offsets[i] = pos;
    if (s.data) pos += s.data.length;
  }
  const shoff = Math.ceil(pos / 8) * 8;
  const total = shoff + out.length * shdrSize;
  if (!is64 && total > 0xffffffff) throw new BtfError('limit', `the ELF32 result would be ${total} bytes, more than its offsets reach`);

  const result = new Uint8Array(total);
  result.set(bytes.subarray(0, ehdrSize));
  const dv = new DataView(result.buffer);
  const le = elf.littleEndian;
  for (let i = 0; i < out.length; i++) {
    const s = out[i]!;
    if (s.data) result.set(s.data, offsets[i]!);
  }

  const renumber = (old: number): number => (old > 0 && old < elf.sections.length && newIndex[old]! >= 0 ? newIndex[old]! : old);
  for (let i = 0; i < out.length; i++) {
    const { header: h } = out[i]!;
    const appended = out[i]!.addedNameOffset;
    const original = appended === undefined;
    const nameOff = original ? shstrNameOffset(elf, h.index) : appended;
    const linksSection = h.type === SectionType.Rel || h.type === SectionType.Rela || (h.flags & SectionFlag.InfoLink) !== 0;
    const link = original ? renumber(h.link) : h.link;
    const info = original && linksSection ? renumber(h.info) : h.info;
    const o = shoff + i * shdrSize;
    dv.setUint32(o, nameOff, le);
    dv.setUint32(o + 4, h.type, le);
    if (is64) {
      dv.setBigUint64(o + 8, BigInt(h.flags), le);
      dv.setBigUint64(o + 16, h.addr, le);
      dv.setBigUint64(o + 24, BigInt(i === 0 ? 0 : offsets[i]!), le);
      dv.setBigUint64(o + 32, BigInt(h.size), le);
      dv.setUint32(o + 40, link, le);
      dv.setUint32(o + 44, info, le);
      dv.setBigUint64(o + 48, BigInt(h.addralign), le);
      dv.setBigUint64(o + 56, BigInt(h.entsize), le);
    } else {
      dv.setUint32(o + 8, h.flags, le);
      dv.setUint32(o + 12, Number(h.addr), le);
      dv.setUint32(o + 16, i === 0 ? 0 : offsets[i]!, le);
      dv.setUint32(o + 20, h.size, le);
      dv.setUint32(o + 24, link, le);
      dv.setUint32(o + 28, info, le);
      dv.setUint32(o + 32, h.addralign, le);
      dv.setUint32(o + 36, h.entsize, le);
    }
    if (removed.size > 0 && (h.type === SectionType.Symtab || h.type === SectionType.Dynsym) && out[i]!.data) {
      renumberSymbols(result, offsets[i]!, h.size, is64, le, renumber);
    }
    if (removed.size > 0 && h.type === SectionType.Group && out[i]!.data) {
      for (let p = offsets[i]! + 4; p + 4 <= offsets[i]! + h.size; p += 4) dv.setUint32(p, renumber(dv.getUint32(p, le)), le);
    }
  }
  if (is64) {
    dv.setBigUint64(40, BigInt(shoff), le);
    dv.setUint16(58, shdrSize, le);
    dv.setUint16(60, out.length, le);
    dv.setUint16(62, newIndex[elf.shstrndx]!, le);
  } else {
    dv.setUint32(32, shoff, le);
    dv.setUint16(46, shdrSize, le);
    dv.setUint16(48, out.length, le);
    dv.setUint16(50, newIndex[elf.shstrndx]!, le);
  }
  return result;
}

function shstrNameOffset(elf: ElfFile, index: number): number {
  const dv = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  const shoff = Number(elf.is64 ? dv.getBigUint64(40, elf.littleEndian) : dv.getUint32(32, elf.littleEndian));
  const shentsize = dv.getUint16(elf.is64 ? 58 : 46, elf.littleEndian);
  return dv.getUint32(shoff + index * shentsize, elf.littleEndian);
}

function renumberSymbols(out: Uint8Array, at: number, size: number, is64: boolean, le: boolean, renumber: (i: number) => number): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const entSize = is64 ? 24 : 16;
  const shndxAt = is64 ? 6 : 14;
  for (let p = at; p + entSize <= at + size; p += entSize) {
    const shndx = dv.getUint16(p + shndxAt, le);
    if (shndx !== 0 && shndx < SHN_LORESERVE) dv.setUint16(p + shndxAt, renumber(shndx), le);
  }
}

/** Removing a section that something points at would leave a dangling index. */
function refuseIfReferenced(elf: ElfFile, index: number): void {
  const name = elf.sections[index]!.name;
  const fail = (why: string): never => { throw new BtfError('bad-argument', `section ${name} cannot be removed: ${why}`); };
  const dv = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  for (const s of elf.sections) {
    if (s.index === index || s.index === 0) continue;
    if (s.link === index) fail(`section ${s.name} links to it`);
    const infoLinks = s.type === SectionType.Rel || s.type === SectionType.Rela || (s.flags & SectionFlag.InfoLink) !== 0;
    if (infoLinks && s.info === index) fail(`relocation section ${s.name} applies to it`);
    if (s.type === SectionType.SymtabShndx) fail('the file has extended symbol section indices (SHT_SYMTAB_SHNDX)');
    if (s.type === SectionType.Symtab || s.type === SectionType.Dynsym) {
      const entSize = elf.is64 ? 24 : 16;
      const shndxAt = elf.is64 ? 6 : 14;
      for (let p = s.offset; p + entSize <= s.offset + s.size; p += entSize) {
        if (dv.getUint16(p + shndxAt, elf.littleEndian) === index) fail(`symbol ${(p - s.offset) / entSize} of ${s.name} is defined in it`);
      }
    }
  }
}
