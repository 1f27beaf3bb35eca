import { BtfError } from '../errors.js';

/**
 * ELF reader: ELF32 and ELF64 in either byte order, as found in vmlinux, kernel modules
 * (`.ko`) and BPF objects (`.o`). It reads the file header, section headers and program
 * headers eagerly (they are small) and leaves section contents as views into the input.
 * Symbols and relocations live in `symbols.ts` and `relocations.ts`.
 *
 * Every offset and count is checked against the input before use, so malformed or hostile
 * files end in a {@link BtfError} with code `bad-elf`, never a `RangeError`.
 */

/** One ELF section header, with its name resolved. */
export interface ElfSection {
  index: number;
  name: string;
  /** `sh_type`: see {@link SectionType}. */
  type: number;
  /** `sh_flags`: see {@link SectionFlag}. */
  flags: number;
  /** `sh_addr`: load address; 0 in relocatable files. A bigint because kernel addresses exceed 2^53. */
  addr: bigint;
  /** Byte offset of the contents in the file. */
  offset: number;
  /** Size in bytes (of the contents in the file, except for SHT_NOBITS). */
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

/** One program header (segment). */
export interface ElfSegment {
  index: number;
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  align: number;
}

/** A parsed ELF file: header fields btfkit cares about, sections and segments. */
export interface ElfFile {
  bytes: Uint8Array;
  is64: boolean;
  littleEndian: boolean;
  /** `e_machine`: see {@link Machine}. */
  machine: number;
  /** `e_type`: see {@link ElfType}. */
  type: number;
  /** `e_ident[EI_OSABI]`. */
  osabi: number;
  /** `e_flags`. */
  flags: number;
  entry: bigint;
  /** Index of the section holding section names, 0 when there is none. */
  shstrndx: number;
  sections: ElfSection[];
  segments: ElfSegment[];
}

/** `e_type` values. */
export const ElfType = { None: 0, Rel: 1, Exec: 2, Dyn: 3, Core: 4 } as const;

/** `e_machine` values btfkit names. */
export const Machine = {
  I386: 3, Mips: 8, PowerPC: 20, PowerPC64: 21, S390: 22, Arm: 40, X86_64: 62, AArch64: 183, RiscV: 243, Bpf: 247, LoongArch: 258,
} as const;

/** `sh_type` values. */
export const SectionType = {
  Null: 0, Progbits: 1, Symtab: 2, Strtab: 3, Rela: 4, Hash: 5, Dynamic: 6, Note: 7, Nobits: 8, Rel: 9,
  Dynsym: 11, InitArray: 14, FiniArray: 15, Group: 17, SymtabShndx: 18,
} as const;

/** `sh_flags` bits. */
export const SectionFlag = { Write: 0x1, Alloc: 0x2, Exec: 0x4, Merge: 0x10, Strings: 0x20, InfoLink: 0x40, Compressed: 0x800 } as const;

/** Special section indices. */
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

const ELF32_HEADER = 52;
const ELF64_HEADER = 64;
const ELF32_SHDR = 40;
const ELF64_SHDR = 64;
const ELF32_PHDR = 32;
const ELF64_PHDR = 56;
const PN_XNUM = 0xffff;

/** True when the bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** @internal Throws the `bad-elf` error every ELF problem becomes. */
export function elfFail(detail: string, offset?: number): never {
  throw new BtfError('bad-elf', detail, offset === undefined ? {} : { offset });
}

/**
 * Bounds-checked reads of ELF words in the file's class and byte order.
 * @internal
 */
export class ElfReader {
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, readonly is64: boolean, readonly le: boolean) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(off: number, n: number, what: string): void {
    if (off < 0 || off + n > this.bytes.length) elfFail(`${what} at byte ${off} lies past the end of the file (${this.bytes.length} bytes)`, off);
  }

  u8(off: number, what = 'field'): number { this.need(off, 1, what); return this.bytes[off]!; }
  u16(off: number, what = 'field'): number { this.need(off, 2, what); return this.dv.getUint16(off, this.le); }
  u32(off: number, what = 'field'): number { this.need(off, 4, what); return this.dv.getUint32(off, this.le); }
  i32(off: number, what = 'field'): number { this.need(off, 4, what); return this.dv.getInt32(off, this.le); }
  u64(off: number, what = 'field'): bigint { this.need(off, 8, what); return this.dv.getBigUint64(off, this.le); }
  i64(off: number, what = 'field'): bigint { this.need(off, 8, what); return this.dv.getBigInt64(off, this.le); }

  /** An address-sized word as a bigint. */
  addr(off: number, what = 'field'): bigint { return this.is64 ? this.u64(off, what) : BigInt(this.u32(off, what)); }

  /**
   * An address-sized word that must be a usable file offset or size. `what` names it in the
   * error; a function is called only then (section tables are read by the thousand).
   */
  offset(off: number, what: string | (() => string) = 'field'): number {
    const name = typeof what === 'string' ? what : undefined;
    if (!this.is64) return this.u32(off, name ?? 'field');
    if (off < 0 || off + 8 > this.bytes.length) this.u64(off, name ?? (what as () => string)());
    // Two 32-bit halves: no bigint for the common case of an offset that fits a double.
    const lo = this.dv.getUint32(off + (this.le ? 0 : 4), this.le);
    const hi = this.dv.getUint32(off + (this.le ? 4 : 0), this.le);
    if (hi > 0x1fffff) elfFail(`${name ?? (what as () => string)()} is ${this.u64(off)}, too large for any file`, off);
    return hi * 0x100000000 + lo;
  }
}

/**
 * Parses the ELF file header, section headers (with names) and program headers. Section and
 * segment contents are checked to lie inside the file but not read.
 */
export function parseElf(bytes: Uint8Array): ElfFile {
  if (!isElf(bytes)) elfFail('not an ELF file (no \\x7fELF magic)', 0);
  if (bytes.length < ELF32_HEADER) elfFail(`ELF file is only ${bytes.length} bytes, shorter than its header`, 0);
  const cls = bytes[4]!;
  const data = bytes[5]!;
  if (cls !== 1 && cls !== 2) elfFail(`unknown ELF class ${cls} (1 is ELF32, 2 is ELF64)`, 4);
  if (data !== 1 && data !== 2) elfFail(`unknown ELF data encoding ${data} (1 is little-endian, 2 big-endian)`, 5);
  if (bytes[6] !== 1) elfFail(`unknown ELF version ${bytes[6]} in e_ident`, 6);
  const is64 = cls === 2;
  const le = data === 1;
  if (is64 && bytes.length < ELF64_HEADER) elfFail(`ELF64 file is only ${bytes.length} bytes, shorter than its ${ELF64_HEADER}-byte header`, 0);
  const r = new ElfReader(bytes, is64, le);
  const type = r.u16(16);
  const machine = r.u16(18);
  const entry = r.addr(24);
  const phoff = r.offset(is64 ? 32 : 28, 'e_phoff');
  const shoff = r.offset(is64 ? 40 : 32, 'e_shoff');
  const flags = r.u32(is64 ? 48 : 36);
  const phentsize = r.u16(is64 ? 54 : 42);
  let phnum = r.u16(is64 ? 56 : 44);
  const shentsize = r.u16(is64 ? 58 : 46);
  let shnum = r.u16(is64 ? 60 : 48);
  let shstrndx = r.u16(is64 ? 62 : 50);
  const shdrSize = is64 ? ELF64_SHDR : ELF32_SHDR;

  const sections: ElfSection[] = [];
  const nameOffsets: number[] = [];
  if (shoff !== 0) {
    if (shentsize < shdrSize) elfFail(`section header entries are ${shentsize} bytes, expected at least ${shdrSize}`, is64 ? 58 : 46);
    const readSection = (i: number): ElfSection => {
      const o = shoff + i * shentsize;
      if (o + shdrSize > bytes.length) elfFail(`section header ${i} at byte ${o} lies past the end of the file (${bytes.length} bytes)`, o);
      nameOffsets[i] = r.u32(o);
      const field = (name: string) => () => `section header ${i} ${name}`;
      return is64
        ? {
          index: i, name: '', type: r.u32(o + 4), flags: r.offset(o + 8, field('sh_flags')), addr: r.u64(o + 16),
          offset: r.offset(o + 24, field('sh_offset')), size: r.offset(o + 32, field('sh_size')), link: r.u32(o + 40),
          info: r.u32(o + 44), addralign: r.offset(o + 48, field('sh_addralign')), entsize: r.offset(o + 56, field('sh_entsize')),
        }
        : {
          index: i, name: '', type: r.u32(o + 4), flags: r.u32(o + 8), addr: BigInt(r.u32(o + 12)), offset: r.u32(o + 16),
          size: r.u32(o + 20), link: r.u32(o + 24), info: r.u32(o + 28), addralign: r.u32(o + 32), entsize: r.u32(o + 36),
        };
    };
    // Extended numbering: counts that do not fit 16 bits live in section 0.
    const s0 = readSection(0);
    if (shnum === 0) shnum = s0.size;
    if (shstrndx === SHN_XINDEX) shstrndx = s0.link;
    if (phnum === PN_XNUM) phnum = s0.info;
    // Every header must fit in the file, which also bounds the count by the input size.
    if (shnum * shentsize > bytes.length - shoff) {
      elfFail(`${shnum} section headers of ${shentsize} bytes at byte ${shoff} run past the end of the file (${bytes.length} bytes)`, shoff);
    }
    sections.push(s0);
    for (let i = 1; i < shnum; i++) sections.push(readSection(i));
    for (const s of sections) {
      if (s.type !== SectionType.Nobits && s.type !== SectionType.Null && s.size > bytes.length - s.offset) {
        elfFail(`section ${s.index} contents (${s.size} bytes at byte ${s.offset}) lie past the end of the file (${bytes.length} bytes)`, s.offset);
      }
    }
    if (shstrndx !== SHN_UNDEF) {
      const strtab = sections[shstrndx];
      if (!strtab) elfFail(`section name table index ${shstrndx} is out of range (${shnum} sections)`, is64 ? 62 : 50);
      if (strtab.type === SectionType.Nobits) elfFail(`section name table ${shstrndx} has no contents (SHT_NOBITS)`);
      for (const s of sections) {
        s.name = readCString(bytes, strtab.offset, strtab.size, nameOffsets[s.index]!, () => `name of section ${s.index}`);
      }
    }
  } else {
    shstrndx = 0;
  }

  const segments: ElfSegment[] = [];
  if (phoff !== 0 && phnum !== 0) {
    const phdrSize = is64 ? ELF64_PHDR : ELF32_PHDR;
    if (phentsize < phdrSize) elfFail(`program header entries are ${phentsize} bytes, expected at least ${phdrSize}`, is64 ? 54 : 42);
    if (phnum * phentsize > bytes.length - phoff) {
      elfFail(`${phnum} program headers of ${phentsize} bytes at byte ${phoff} run past the end of the file (${bytes.length} bytes)`, phoff);
    }
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * phentsize;
      const field = (name: string) => () => `program header ${i} ${name}`;
      segments.push(is64
        ? {
          index: i, type: r.u32(o), flags: r.u32(o + 4), offset: r.offset(o + 8, field('p_offset')), vaddr: r.u64(o + 16),
          paddr: r.u64(o + 24), filesz: r.offset(o + 32, field('p_filesz')), memsz: r.offset(o + 40, field('p_memsz')),
          align: r.offset(o + 48, field('p_align')),
        }
        : {
          index: i, type: r.u32(o), offset: r.u32(o + 4), vaddr: BigInt(r.u32(o + 8)), paddr: BigInt(r.u32(o + 12)),
          filesz: r.u32(o + 16), memsz: r.u32(o + 20), flags: r.u32(o + 24), align: r.u32(o + 28),
        });
    }
  }
  return { bytes, is64, littleEndian: le, machine, type, osabi: bytes[7]!, flags, entry, shstrndx, sections, segments };
}

const latin1Safe = new TextDecoder('utf-8', { fatal: false });

/**
 * The NUL-terminated string at `off` inside a string table at [`start`, `start + size`).
 * @internal
 */
export function readCString(bytes: Uint8Array, start: number, size: number, off: number, what: string | (() => string)): string {
  if (off >= size) elfFail(`${typeof what === 'string' ? what : what()}: offset ${off} lies outside its string table (${size} bytes)`, start);
  const from = start + off;
  const limit = start + size;
  // Section and symbol names are short ASCII: built from char codes, which is several times
  // faster than a TextDecoder call per name; anything else goes through the decoder.
  let name = '';
  for (let p = from; p < limit; p++) {
    const c = bytes[p]!;
    if (c === 0) return name;
    if (c >= 0x80 || p - from >= 64) {
      let end = bytes.indexOf(0, from);
      if (end < 0 || end >= limit) end = limit;
      return latin1Safe.decode(bytes.subarray(from, end));
    }
    name += String.fromCharCode(c);
  }
  return name;
}

/** The first section with this name, or undefined. */
export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((x) => x.name === name);
}

/**
 * The contents of a section. Sections without file contents (SHT_NOBITS, SHT_NULL) are empty;
 * compressed sections (SHF_COMPRESSED) are refused with a {@link BtfError}, because reading
 * them as they are would yield garbage.
 */
export function sectionBytes(elf: ElfFile, section: ElfSection): Uint8Array {
  if (section.type === SectionType.Nobits || section.type === SectionType.Null) return new Uint8Array(0);
  if (section.flags & SectionFlag.Compressed) {
    elfFail(`section ${section.index} (${section.name}) is compressed (SHF_COMPRESSED); decompress the file with objcopy --decompress-debug-sections first`, section.offset);
  }
  return elf.bytes.subarray(section.offset, section.offset + section.size);
}

/** The contents of the named section, or undefined when the file has none (or it has no contents). */
export function sectionData(elf: ElfFile, name: string): Uint8Array | undefined {
  const s = findSection(elf, name);
  if (!s || s.type === SectionType.Nobits) return undefined;
  return sectionBytes(elf, s);
}

/** Names of the BTF-related sections btfkit knows. */
export const BTF_SECTION = '.BTF';
export const BTF_EXT_SECTION = '.BTF.ext';
/** The distilled base of a module built with `pahole --btf_features=distilled_base` (Linux 6.11+). */
export const BTF_BASE_SECTION = '.BTF.base';
/** Type ids patched in by resolve_btfids. */
export const BTF_IDS_SECTION = '.BTF_ids';

/**
 * Every section whose name starts with `.BTF` (`.BTF`, `.BTF.ext`, `.BTF.base`, `.BTF_ids`,
 * and any newer one), by name, in section order.
 */
export function btfSections(elf: ElfFile): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const s of elf.sections) {
    if (s.name.startsWith('.BTF') && !out.has(s.name) && s.type !== SectionType.Nobits) out.set(s.name, sectionBytes(elf, s));
  }
  return out;
}

/** The `.BTF` section of an ELF file; a {@link BtfError} when there is none. */
export function elfBtfSection(bytes: Uint8Array): Uint8Array {
  const elf = parseElf(bytes);
  const btf = sectionData(elf, BTF_SECTION);
  if (!btf) throw new BtfError('no-btf', 'ELF file has no .BTF section');
  return btf;
}

/**
 * What kind of file an ELF is, for BTF purposes: a kernel image, a kernel module, a BPF object,
 * or something else.
 */
export type ElfRole = 'vmlinux' | 'module' | 'bpf-object' | 'other';

/** Tells a kernel image from a module from a BPF object by the ELF type, machine and sections. */
export function elfRole(elf: ElfFile): ElfRole {
  if (elf.machine === Machine.Bpf) return 'bpf-object';
  if (elf.type === ElfType.Rel && elf.sections.some((s) => s.name === '.gnu.linkonce.this_module' || s.name === '.modinfo')) return 'module';
  if (elf.type === ElfType.Exec && elf.sections.some((s) => s.name === '.BTF')) return 'vmlinux';
  return 'other';
}
