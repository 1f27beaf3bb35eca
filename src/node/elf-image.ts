import { BtfError } from '../errors.js';
import { BTF_IDS_SECTION, Machine, parseElf, SectionFlag, SectionType, SHN_XINDEX, type ElfFile, type ElfSection } from '../elf/elf.js';
import { limitError, type InputFile, type InputLimit } from './input.js';

/**
 * The largest ELF file btfkit maps: Node's typed arrays end at 4 GiB. A vmlinux with DWARF is
 * a few hundred MB.
 */
const MAX_ELF_FILE = 2 ** 32 - 1;

/**
 * An ELF file as btfkit needs it, read section by section. The image is as long as the file and
 * keeps every offset, but only the parts btfkit reads are filled in: the ELF header, the section
 * and program header tables, the section names, every `.BTF*` section and what reading them
 * takes (symbol tables with their string and extended-index tables where `.BTF_ids` needs them,
 * relocations that apply to `.BTF*`), and of a BPF object what its loader reads (programs, maps
 * and data, their relocations, symbols; not DWARF). Everything else reads as zeros and costs no
 * memory: the pages of an untouched zero-filled allocation are never backed, so a vmlinux with
 * 400 MB of DWARF costs the 20 MB btfkit reads. Everything read counts against `limit`.
 *
 * A file whose headers do not parse comes back with the headers read: {@link parseElf} on the
 * image fails as it would on the whole file, with the same message. One whose headers parse
 * comes back with them parsed, so that readers of many modules parse each once.
 */
export function readElfImage(input: InputFile, probe: Uint8Array, limit: InputLimit): { image: Uint8Array; elf?: ElfFile } {
  const size = input.size;
  if (size > MAX_ELF_FILE) {
    throw new BtfError('limit', `ELF file of ${size} bytes; btfkit reads ELF files up to 4 GiB`, { file: input.path });
  }
  let image: Uint8Array;
  try {
    image = zeroedImage(size);
  } catch (e) {
    throw new BtfError('limit', `cannot map an ELF file of ${size} bytes`, { file: input.path }, { cause: e });
  }
  let budget = limit.bytes;
  const fill = (offset: number, length: number): void => {
    if (offset >= size || length <= 0) return;
    const n = Math.min(length, size - offset);
    budget -= n;
    if (budget < 0) {
      throw limitError(input.path, limit, 'the ELF headers and sections btfkit reads (.BTF*, symbol tables) add up to more than');
    }
    input.readInto(image, offset, n, offset);
  };
  image.set(probe.subarray(0, Math.min(probe.length, size)));
  fill(probe.length, 64 - probe.length);

  // Enough of the header to find the tables; parseElf checks it all afterwards.
  const is64 = image[4] === 2;
  const le = image[5] === 1;
  if ((image[4] !== 1 && !is64) || (image[5] !== 2 && !le) || size < (is64 ? 64 : 52)) return { image };
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const u16 = (o: number) => dv.getUint16(o, le);
  const u32 = (o: number) => dv.getUint32(o, le);
  const word = (o: number) => (is64 ? Number(dv.getBigUint64(o, le)) : u32(o));
  const shoff = word(is64 ? 40 : 32);
  const shentsize = u16(is64 ? 58 : 46);
  let shnum = u16(is64 ? 60 : 48);
  let shstrndx = u16(is64 ? 62 : 50);
  const phoff = word(is64 ? 32 : 28);
  const phentsize = u16(is64 ? 54 : 42);
  let phnum = u16(is64 ? 56 : 44);
  const shdrSize = is64 ? 64 : 40;
  // Section header fields, once the table is in the image.
  const shOffset = (i: number) => word(shoff + i * shentsize + (is64 ? 24 : 16));
  const shSize = (i: number) => word(shoff + i * shentsize + (is64 ? 32 : 20));
  const fits = (offset: number, length: number) => offset <= size && length <= size - offset;

  if (shoff !== 0 && shentsize >= shdrSize && fits(shoff, shentsize)) {
    if (shnum === 0 || shstrndx === SHN_XINDEX || phnum === 0xffff) {
      // Extended numbering: the counts that do not fit the header live in section 0.
      fill(shoff, shentsize);
      if (shnum === 0) shnum = shSize(0);
      if (shstrndx === SHN_XINDEX) shstrndx = u32(shoff + (is64 ? 40 : 24));
      if (phnum === 0xffff) phnum = u32(shoff + (is64 ? 44 : 28));
    }
    if (fits(shoff, shnum * shentsize)) {
      fill(shoff, shnum * shentsize);
      const typeOf = (i: number) => u32(shoff + i * shentsize + 4);
      if (shstrndx < shnum && typeOf(shstrndx) !== SectionType.Nobits && fits(shOffset(shstrndx), shSize(shstrndx))) {
        fill(shOffset(shstrndx), shSize(shstrndx));
      }
    }
  }
  if (phoff !== 0 && phnum !== 0 && fits(phoff, phnum * phentsize)) fill(phoff, phnum * phentsize);

  let elf: ElfFile;
  try {
    elf = parseElf(image);
  } catch (e) {
    if (e instanceof BtfError) return { image };
    throw e;
  }
  for (const s of sectionsBtfkitReads(elf)) {
    if (s.type !== SectionType.Nobits && s.type !== SectionType.Null) fill(s.offset, s.size);
  }
  // The headers parsed here describe the filled image too (contents are read through offsets).
  return { image, elf };
}

/**
 * Images of files up to {@link SMALL_IMAGE} bytes are cut from shared zeroed blocks: `btfkit
 * merge` reads a thousand modules, and a zeroed allocation each, counted by the garbage
 * collector as external memory, cost more than reading them (25 ms of 150 for 1,121 modules).
 * A block lives as long as any image cut from it; its pages never written stay unbacked, as
 * those of a file-sized image do.
 */
const BLOCK_SIZE = 16 << 20;
const SMALL_IMAGE = 1 << 20;
let block: Uint8Array | undefined;
let blockUsed = 0;

function zeroedImage(size: number): Uint8Array {
  if (size > SMALL_IMAGE) return new Uint8Array(size);
  if (!block || blockUsed + size > block.length) {
    block = new Uint8Array(BLOCK_SIZE);
    blockUsed = 0;
  }
  const image = block.subarray(blockUsed, blockUsed + size);
  // Eight-byte alignment keeps each file's word alignment (BTF is read in 32-bit words).
  blockUsed += (size + 7) & ~7;
  return image;
}

/** The sections reading `.BTF*` takes, or a BPF object's programs (see {@link readElfImage}). */
function sectionsBtfkitReads(elf: ElfFile): Set<ElfSection> {
  const isBtf = (s: ElfSection | undefined) => s !== undefined && s.name.startsWith('.BTF');
  // A BPF object's loader reads what is loaded (programs, maps, data: the SHF_ALLOC and
  // SHF_EXECINSTR sections), their relocations and its symbols; not its DWARF.
  const bpf = elf.machine === Machine.Bpf;
  const loaded = (s: ElfSection | undefined) => s !== undefined && (isBtf(s) || (bpf && (s.flags & (SectionFlag.Alloc | SectionFlag.Exec)) !== 0));
  // Symbols name what `.BTF_ids` holds and what a BPF object's relocations refer to; a module
  // without `.BTF_ids` needs none (its symbol tables are as large as its BTF).
  const symbolsUsed = bpf || elf.sections.some((s) => s.name === BTF_IDS_SECTION);
  const wanted = new Set<ElfSection>();
  for (const s of elf.sections) {
    if (loaded(s)) wanted.add(s);
    if (symbolsUsed && (s.type === SectionType.Symtab || s.type === SectionType.Dynsym)) {
      wanted.add(s);
      const strings = elf.sections[s.link];
      if (strings) wanted.add(strings);
    }
    if (symbolsUsed && s.type === SectionType.SymtabShndx) wanted.add(s);
    if ((s.type === SectionType.Rel || s.type === SectionType.Rela) && loaded(elf.sections[s.info])) wanted.add(s);
  }
  return wanted;
}
