import { BtfError } from '../errors.js';

/** One ELF section header, with its name resolved. */
export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

/** The parts of an ELF file btfkit needs: its class, byte order, machine and sections. */
export interface ElfFile {
  bytes: Uint8Array;
  is64: boolean;
  littleEndian: boolean;
  machine: number;
  type: number;
  sections: ElfSection[];
}

const SHT_NOBITS = 8;

/** True when the bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Parses ELF32 or ELF64 of either byte order, far enough to list sections. Malformed input gets a {@link BtfError}. */
export function parseElf(bytes: Uint8Array): ElfFile {
  const fail = (detail: string, offset?: number): never => {
    throw new BtfError('bad-elf', detail, offset === undefined ? {} : { offset });
  };
  if (!isElf(bytes)) fail('not an ELF file (no \\x7fELF magic)', 0);
  if (bytes.length < 52) fail(`ELF file is only ${bytes.length} bytes, shorter than its header`, 0);
  const cls = bytes[4];
  const data = bytes[5];
  if (cls !== 1 && cls !== 2) fail(`unknown ELF class ${cls}`, 4);
  if (data !== 1 && data !== 2) fail(`unknown ELF data encoding ${data}`, 5);
  const is64 = cls === 2;
  const le = data === 1;
  if (is64 && bytes.length < 64) fail(`ELF64 file is only ${bytes.length} bytes, shorter than its 64-byte header`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => dv.getUint16(o, le);
  const u32 = (o: number) => dv.getUint32(o, le);
  const word = (o: number) => {
    if (!is64) return u32(o);
    const v = dv.getBigUint64(o, le);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`64-bit field at byte ${o} is too large (${v})`, o);
    return Number(v);
  };
  const type = u16(16);
  const machine = u16(18);
  const shoff = is64 ? word(40) : u32(32);
  const shentsize = is64 ? u16(58) : u16(46);
  let shnum = is64 ? u16(60) : u16(48);
  let shstrndx = is64 ? u16(62) : u16(50);
  const minEnt = is64 ? 64 : 40;
  if (shoff === 0) return { bytes, is64, littleEndian: le, machine, type, sections: [] };
  if (shentsize < minEnt) fail(`section header entries are ${shentsize} bytes, expected at least ${minEnt}`, is64 ? 58 : 46);
  const readHeader = (i: number): ElfSection => {
    const o = shoff + i * shentsize;
    if (o + minEnt > bytes.length) fail(`section header ${i} at byte ${o} lies past the end of the file (${bytes.length} bytes)`, o);
    return is64
      ? { index: i, name: '', type: u32(o + 4), flags: word(o + 8), offset: word(o + 24), size: word(o + 32), link: u32(o + 40), info: u32(o + 44), entsize: word(o + 56), nameOff: u32(o) } as ElfSection & { nameOff: number }
      : { index: i, name: '', type: u32(o + 4), flags: u32(o + 8), offset: u32(o + 16), size: u32(o + 20), link: u32(o + 24), info: u32(o + 28), entsize: u32(o + 36), nameOff: u32(o) } as ElfSection & { nameOff: number };
  };
  // Extended numbering: counts that do not fit 16 bits live in section 0.
  if (shnum === 0 || shstrndx === 0xffff) {
    const s0 = readHeader(0);
    if (shnum === 0) shnum = s0.size;
    if (shstrndx === 0xffff) shstrndx = s0.link;
  }
  if (shoff + shnum * shentsize > bytes.length) fail(`${shnum} section headers at byte ${shoff} run past the end of the file (${bytes.length} bytes)`, shoff);
  const sections = Array.from({ length: shnum }, (_, i) => readHeader(i)) as (ElfSection & { nameOff: number })[];
  for (const s of sections) {
    if (s.type !== SHT_NOBITS && s.offset + s.size > bytes.length) {
      fail(`section ${s.index} (${s.offset}+${s.size}) lies past the end of the file (${bytes.length} bytes)`, s.offset);
    }
  }
  const strtab = sections[shstrndx];
  if (strtab) {
    const dec = new TextDecoder();
    for (const s of sections) {
      if (s.nameOff >= strtab.size) fail(`section ${s.index} name offset ${s.nameOff} lies outside the section name table`);
      const start = strtab.offset + s.nameOff;
      let end = bytes.indexOf(0, start);
      if (end < 0 || end > strtab.offset + strtab.size) end = strtab.offset + strtab.size;
      s.name = dec.decode(bytes.subarray(start, end));
    }
  }
  return { bytes, is64, littleEndian: le, machine, type, sections: sections.map(({ nameOff: _n, ...s }) => s) };
}

/** The contents of the named section, or undefined when the file has none. */
export function sectionData(elf: ElfFile, name: string): Uint8Array | undefined {
  const s = elf.sections.find((x) => x.name === name);
  if (!s || s.type === SHT_NOBITS) return undefined;
  return elf.bytes.subarray(s.offset, s.offset + s.size);
}

/** The `.BTF` section of an ELF file; a {@link BtfError} when there is none. */
export function elfBtfSection(bytes: Uint8Array): Uint8Array {
  const elf = parseElf(bytes);
  const btf = sectionData(elf, '.BTF');
  if (!btf) throw new BtfError('no-btf', 'ELF file has no .BTF section');
  return btf;
}
