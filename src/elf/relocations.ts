import { elfFail, ElfReader, SectionFlag, SectionType, type ElfFile, type ElfSection } from './elf.js';

/** One relocation entry (from SHT_REL or SHT_RELA). */
export interface ElfRelocation {
  /** `r_offset`: offset into the target section (relocatable files) or an address. */
  offset: bigint;
  /** Machine-specific relocation type (`R_BPF_64_64`, `R_X86_64_PC32`, ...). */
  type: number;
  /** Index of the symbol in the linked symbol table; 0 for none. */
  symbol: number;
  /** `r_addend`; 0n for SHT_REL entries, whose addend sits in the relocated bytes. */
  addend: bigint;
}

/** A relocation section together with what it relocates. */
export interface RelocationSection {
  section: ElfSection;
  /** True for SHT_RELA (explicit addends). */
  rela: boolean;
  /** The section the entries apply to (`sh_info`), when the section names one. */
  target: ElfSection | undefined;
  /** The symbol table the entries index (`sh_link`). */
  symbolTable: ElfSection | undefined;
}

/** Every SHT_REL and SHT_RELA section of a file, with its target and symbol table. */
export function relocationSections(elf: ElfFile): RelocationSection[] {
  const out: RelocationSection[] = [];
  for (const s of elf.sections) {
    if (s.type !== SectionType.Rel && s.type !== SectionType.Rela) continue;
    // sh_info names the target section in relocatable files (SHF_INFO_LINK says so explicitly);
    // dynamic relocation sections have 0 there.
    const target = s.info !== 0 || s.flags & SectionFlag.InfoLink ? elf.sections[s.info] : undefined;
    if (s.info !== 0 && !target) elfFail(`relocation section ${s.index} (${s.name}) targets section ${s.info}, which does not exist`, s.offset);
    const symbolTable = s.link !== 0 ? elf.sections[s.link] : undefined;
    if (s.link !== 0 && !symbolTable) elfFail(`relocation section ${s.index} (${s.name}) links to section ${s.link}, which does not exist`, s.offset);
    out.push({ section: s, rela: s.type === SectionType.Rela, target, symbolTable });
  }
  return out;
}

/** The relocation sections that apply to the named section (e.g. `.rel.BTF.ext` for `.BTF.ext`). */
export function relocationsFor(elf: ElfFile, sectionName: string): RelocationSection[] {
  return relocationSections(elf).filter((r) => r.target?.name === sectionName);
}

/**
 * Reads the entries of a relocation section. `r_info` is split the standard way
 * (ELF64: symbol in the high 32 bits; ELF32: symbol in the high 24 bits).
 */
export function readRelocations(elf: ElfFile, section: ElfSection): ElfRelocation[] {
  const rela = section.type === SectionType.Rela;
  if (!rela && section.type !== SectionType.Rel) {
    elfFail(`section ${section.index} (${section.name}) is not a relocation section (sh_type ${section.type})`, section.offset);
  }
  const word = elf.is64 ? 8 : 4;
  const entSize = rela ? 3 * word : 2 * word;
  if (section.entsize !== 0 && section.entsize < entSize) {
    elfFail(`relocation section ${section.name} has ${section.entsize}-byte entries, expected ${entSize}`, section.offset);
  }
  const stride = section.entsize || entSize;
  if (section.size % stride !== 0) elfFail(`relocation section ${section.name} is ${section.size} bytes, not a multiple of its ${stride}-byte entries`, section.offset);
  const r = new ElfReader(elf.bytes, elf.is64, elf.littleEndian);
  const count = section.size / stride;
  const out: ElfRelocation[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const o = section.offset + i * stride;
    if (elf.is64) {
      const info = r.u64(o + 8);
      out[i] = { offset: r.u64(o), symbol: Number(info >> 32n), type: Number(info & 0xffffffffn), addend: rela ? r.i64(o + 16) : 0n };
    } else {
      const info = r.u32(o + 4);
      out[i] = { offset: BigInt(r.u32(o)), symbol: info >>> 8, type: info & 0xff, addend: rela ? BigInt(r.i32(o + 8)) : 0n };
    }
  }
  return out;
}
