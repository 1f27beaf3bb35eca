/**
 * `btfkit/elf`: reading ELF files (ELF32/ELF64, either byte order): sections, symbols,
 * relocations, the `.BTF*` sections, and the compression kernel modules ship in; rewriting
 * sections of relocatable files (`editElfSections`). Browser-safe.
 * (`loadBtf` in `btfkit` takes the `.BTF` of an ELF file without any of this.)
 *
 * Every name is listed: what this file does not name is not public (test/exports.test.ts).
 */

// src/elf/elf.ts
export {
  parseElf,
  isElf,
  findSection,
  sectionBytes,
  sectionData,
  btfSections,
  elfBtfSection,
  elfRole,
  BTF_SECTION,
  BTF_EXT_SECTION,
  BTF_BASE_SECTION,
  BTF_IDS_SECTION,
  ElfType,
  Machine,
  SectionType,
  SectionFlag,
  type ElfFile,
  type ElfSection,
  type ElfSegment,
  type ElfRole,
} from '../elf/elf.js';

// src/elf/write.ts
export {
  editElfSections,
  type SectionEdits,
} from '../elf/write.js';

// src/elf/symbols.ts
export {
  readSymbols,
  symbolTables,
  symbolsInSection,
  SymbolType,
  SymbolBinding,
  type ElfSymbol,
} from '../elf/symbols.js';

// src/elf/relocations.ts
export {
  relocationSections,
  relocationsFor,
  readRelocations,
  type ElfRelocation,
  type RelocationSection,
} from '../elf/relocations.js';

// src/elf/compress.ts
export {
  detectCompression,
  COMPRESSION_SUFFIX,
  moduleNameOf,
  type Compression,
} from '../elf/compress.js';
