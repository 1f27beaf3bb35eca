import { elfFail, ElfReader, readCString, SectionType, SHN_XINDEX, type ElfFile, type ElfSection } from './elf.js';

/** One ELF symbol. */
export interface ElfSymbol {
  /** Index in its symbol table. */
  index: number;
  name: string;
  /** `st_value`: an address in executables, an offset into its section in relocatable files. */
  value: bigint;
  size: number;
  /** `STT_*`: see {@link SymbolType}. */
  type: number;
  /** `STB_*`: see {@link SymbolBinding}. */
  bind: number;
  /** `STV_*` (the low two bits of `st_other`). */
  visibility: number;
  /** Section index the symbol is defined in, with SHN_XINDEX already resolved; 0 for undefined symbols. */
  section: number;
}

export const SymbolType = { NoType: 0, Object: 1, Func: 2, Section: 3, File: 4, Common: 5, Tls: 6 } as const;
export const SymbolBinding = { Local: 0, Global: 1, Weak: 2 } as const;

const ELF32_SYM = 16;
const ELF64_SYM = 24;

/** The symbol table sections of a file (`.symtab` first, then `.dynsym`). */
export function symbolTables(elf: ElfFile): ElfSection[] {
  const tabs = elf.sections.filter((s) => s.type === SectionType.Symtab || s.type === SectionType.Dynsym);
  return tabs.sort((a, b) => (a.type === b.type ? a.index - b.index : a.type === SectionType.Symtab ? -1 : 1));
}

/**
 * Reads the symbols of one symbol table section (by default the file's `.symtab`, else its
 * `.dynsym`). Index 0, the null symbol, is included so that indices match relocation entries.
 * Returns an empty list when the file has no symbol table.
 */
export function readSymbols(elf: ElfFile, table?: ElfSection): ElfSymbol[] {
  const tab = table ?? symbolTables(elf)[0];
  if (!tab) return [];
  if (tab.type !== SectionType.Symtab && tab.type !== SectionType.Dynsym) {
    elfFail(`section ${tab.index} (${tab.name}) is not a symbol table (sh_type ${tab.type})`, tab.offset);
  }
  const entSize = elf.is64 ? ELF64_SYM : ELF32_SYM;
  if (tab.entsize !== 0 && tab.entsize < entSize) {
    elfFail(`symbol table ${tab.name} has ${tab.entsize}-byte entries, expected ${entSize}`, tab.offset);
  }
  const stride = tab.entsize || entSize;
  if (tab.size % stride !== 0) elfFail(`symbol table ${tab.name} is ${tab.size} bytes, not a multiple of its ${stride}-byte entries`, tab.offset);
  const strtab = elf.sections[tab.link];
  if (!strtab || strtab.type !== SectionType.Strtab) {
    elfFail(`symbol table ${tab.name} links to section ${tab.link}, which is not a string table`, tab.offset);
  }
  const shndxTable = elf.sections.find((s) => s.type === SectionType.SymtabShndx && s.link === tab.index);
  const count = tab.size / stride;
  if (shndxTable && shndxTable.size < count * 4) {
    elfFail(`extended section index table ${shndxTable.name} has ${shndxTable.size / 4} entries for ${count} symbols`, shndxTable.offset);
  }
  const r = new ElfReader(elf.bytes, elf.is64, elf.littleEndian);
  const out: ElfSymbol[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const o = tab.offset + i * stride;
    let nameOff: number, value: bigint, size: number, info: number, other: number, shndx: number;
    if (elf.is64) {
      nameOff = r.u32(o); info = r.u8(o + 4); other = r.u8(o + 5); shndx = r.u16(o + 6);
      value = r.u64(o + 8); size = r.offset(o + 16, () => `symbol ${i} st_size`);
    } else {
      nameOff = r.u32(o); value = BigInt(r.u32(o + 4)); size = r.u32(o + 8);
      info = r.u8(o + 12); other = r.u8(o + 13); shndx = r.u16(o + 14);
    }
    if (shndx === SHN_XINDEX) {
      if (!shndxTable) elfFail(`symbol ${i} uses SHN_XINDEX but the file has no SHT_SYMTAB_SHNDX section`, o);
      shndx = r.u32(shndxTable.offset + i * 4);
    }
    const name = nameOff === 0 ? '' : readCString(elf.bytes, strtab.offset, strtab.size, nameOff, () => `name of symbol ${i}`);
    out[i] = { index: i, name, value, size, type: info & 0xf, bind: info >>> 4, visibility: other & 3, section: shndx };
  }
  return out;
}

/** Symbols defined in the given section, in table order. */
export function symbolsInSection(elf: ElfFile, section: ElfSection, symbols = readSymbols(elf)): ElfSymbol[] {
  return symbols.filter((s) => s.section === section.index && s.index !== 0);
}
