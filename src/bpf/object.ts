import { Btf } from '../btf/btf.js';
import type { CoreRelocationRecord } from '../core/decision.js';
import { BTF_EXT_SECTION, BTF_SECTION, ElfType, findSection, Machine, parseElf, SectionFlag, sectionBytes, SectionType, SHN_LORESERVE, type ElfFile, type ElfSection } from '../elf/elf.js';
import { readRelocations, relocationSections } from '../elf/relocations.js';
import { readSymbols, SymbolBinding, SymbolType, type ElfSymbol } from '../elf/symbols.js';
import { BtfError } from '../errors.js';
import { parseBtfExt, type BtfExt, type FuncInfoRecord, type LineInfoRecord } from '../ext/btf-ext.js';
import { CallKind, decodeInsn, INSN_SIZE, InsnClass, JmpOp, LD_IMM64, type BpfInsn } from './insn.js';

/**
 * A BPF object file (`clang -target bpf -c`): its program sections, the functions in them,
 * the ELF relocations against their instructions, its `.BTF` and its `.BTF.ext` records grouped
 * by section. Read-only: every view points into the input bytes.
 */

/** BPF relocation types (`R_BPF_*`, the kernel's Documentation/bpf/llvm_reloc.rst). */
export const BpfRelocationType = { None: 0, Abs64_64: 1, Abs64: 2, Abs32: 3, NoDyld32: 4, Abs64_32: 10 } as const;

/**
 * What a relocation against an instruction refers to, in libbpf's terms:
 * - `map`: `ld_imm64` of a map defined in `.maps` (or the legacy `maps`);
 * - `global-data`: `ld_imm64` of a variable in `.data`, `.rodata`, `.bss` (or `.data.*`...);
 * - `extern`: an undefined symbol, a `__ksym` or `__kconfig` extern (`ld_imm64`), or a kfunc (call);
 * - `subprogram-call`: a call to a BPF subprogram (`call` with src = 1);
 * - `subprogram-address`: `ld_imm64` of a function's address (a callback, as for `bpf_loop`);
 * - `other`: an `ld_imm64` of a symbol in a section libbpf does not relocate against.
 */
export type BpfReferenceKind = 'map' | 'global-data' | 'extern' | 'subprogram-call' | 'subprogram-address' | 'other';

/** One ELF relocation against an instruction of a program section. */
export interface BpfRelocation {
  /** Byte offset of the instruction in its section. */
  offset: number;
  /** `offset / 8`. */
  insnIndex: number;
  /** `R_BPF_*`, see {@link BpfRelocationType}. */
  type: number;
  kind: BpfReferenceKind;
  /** The symbol's name; a section symbol (calls and addresses of static functions) has its section's name. */
  symbol: string;
  /** The symbol's value (its offset in its section) and type (`STT_*`). */
  symbolValue: bigint;
  symbolType: number;
  /** The section the symbol is defined in; undefined for externs. */
  symbolSection: string | undefined;
}

/** A function (`STT_FUNC` symbol) in a program section: a program, or a subprogram in `.text`. */
export interface BpfFunction {
  name: string;
  /** Byte offset of its first instruction in the section. */
  offset: number;
  /** Size in bytes. */
  size: number;
  /** False for `static` functions (STB_LOCAL). */
  global: boolean;
}

/** An executable section: its SEC name, instructions and functions. */
export interface BpfProgramSection {
  /** The ELF section's name: the `SEC("...")` of its programs (`kprobe/x`), `.text` for subprograms. */
  name: string;
  /** ELF section index. */
  index: number;
  /** The instructions (a view into the file). */
  bytes: Uint8Array;
  /** Instruction slots (`bytes.length / 8`). */
  slots: number;
  /** Functions in offset order. */
  functions: BpfFunction[];
  /** Relocations against its instructions, in offset order. */
  relocations: BpfRelocation[];
  /** `.BTF.ext` records for this section (empty arrays when there are none). */
  funcInfo: FuncInfoRecord[];
  lineInfo: LineInfoRecord[];
  coreRelocations: CoreRelocationRecord[];
}

/** A parsed BPF object. */
export interface BpfObject {
  elf: ElfFile;
  littleEndian: boolean;
  /** The object's `.BTF`; undefined when it has none. */
  btf: Btf | undefined;
  /** The decoded `.BTF.ext`; undefined when it has none. */
  ext: BtfExt | undefined;
  /** Executable sections with contents, in section order. */
  programs: BpfProgramSection[];
}

/** Options of {@link parseBpfObject}. */
export interface ParseBpfObjectOptions {
  /** Named in error messages. */
  file?: string;
}

/** The program section of `object` named `name`, or undefined. */
export function programSection(object: BpfObject, name: string): BpfProgramSection | undefined {
  return object.programs.find((p) => p.name === name);
}

function objFail(detail: string, offset: number | undefined, file: string | undefined, code: 'bad-elf' | 'bad-input' = 'bad-elf'): never {
  throw new BtfError(code, detail, { offset, file });
}

const DATA_SECTION = /^\.(data|rodata|bss)(\..*)?$/;

/**
 * Reads a BPF object: checks it is a relocatable ELF64 file for EM_BPF (247), then collects
 * its executable sections, their functions and relocations, and decodes `.BTF` and
 * `.BTF.ext`. Malformed input (a relocation off an instruction boundary or on an instruction
 * it cannot apply to, a function outside its section, `.BTF.ext` records naming a section the
 * object lacks or an offset outside or inside an instruction of it) ends in a {@link BtfError}.
 */
export function parseBpfObject(bytes: Uint8Array, opts: ParseBpfObjectOptions = {}): BpfObject {
  const file = opts.file;
  let elf: ElfFile;
  try {
    elf = parseElf(bytes);
  } catch (e) {
    if (e instanceof BtfError && file !== undefined && e.file === undefined) throw e.inFile(file);
    throw e;
  }
  if (elf.machine !== Machine.Bpf) objFail(`not a BPF object: e_machine is ${elf.machine}, BPF is ${Machine.Bpf}`, 18, file);
  if (!elf.is64) objFail('not a BPF object: BPF objects are ELF64, this file is ELF32', 4, file);
  if (elf.type !== ElfType.Rel) objFail(`not a BPF object file: e_type is ${elf.type}, a compiled object is relocatable (${ElfType.Rel})`, 16, file);
  const le = elf.littleEndian;

  const withFile = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof BtfError && file !== undefined && e.file === undefined) throw e.inFile(file);
      throw e;
    }
  };

  const btfSection = findSection(elf, BTF_SECTION);
  const btf = btfSection && btfSection.type !== SectionType.Nobits
    ? withFile(() => Btf.parse(sectionBytes(elf, btfSection), { file }))
    : undefined;
  const extSection = findSection(elf, BTF_EXT_SECTION);
  let ext: BtfExt | undefined;
  if (extSection && extSection.type !== SectionType.Nobits) {
    if (!btf) throw new BtfError('no-btf', `${BTF_EXT_SECTION} without a ${BTF_SECTION} section to read its names from`, { file });
    ext = withFile(() => parseBtfExt(sectionBytes(elf, extSection), btf, { littleEndian: le, file }));
  }

  const symbols = withFile(() => readSymbols(elf));
  const programs: BpfProgramSection[] = [];
  const byIndex = new Map<number, BpfProgramSection>();
  for (const s of elf.sections) {
    if (!(s.flags & SectionFlag.Exec) || s.type !== SectionType.Progbits || s.size === 0) continue;
    if (s.size % INSN_SIZE !== 0) objFail(`program section ${s.name} is ${s.size} bytes, not a whole number of 8-byte instructions`, s.offset, file);
    const p: BpfProgramSection = {
      name: s.name, index: s.index, bytes: sectionBytes(elf, s), slots: s.size / INSN_SIZE,
      functions: [], relocations: [], funcInfo: [], lineInfo: [], coreRelocations: [],
    };
    programs.push(p);
    byIndex.set(s.index, p);
  }

  for (const sym of symbols) {
    if (sym.type !== SymbolType.Func) continue;
    const p = byIndex.get(sym.section);
    if (!p) continue;
    const where = elf.sections[p.index]!;
    if (sym.value % BigInt(INSN_SIZE) !== 0n || sym.value >= BigInt(where.size) || sym.size % INSN_SIZE !== 0 || BigInt(sym.size) > BigInt(where.size) - sym.value) {
      objFail(`function ${sym.name} (${sym.size} bytes at ${sym.value}) does not lie on whole instructions of section ${p.name} (${where.size} bytes)`, where.offset, file);
    }
    p.functions.push({ name: sym.name, offset: Number(sym.value), size: sym.size, global: sym.bind !== SymbolBinding.Local });
  }
  for (const p of programs) p.functions.sort((a, b) => a.offset - b.offset);

  for (const rs of withFile(() => relocationSections(elf))) {
    const p = rs.target ? byIndex.get(rs.target.index) : undefined;
    if (!p) continue;
    const target = rs.target!;
    const table = rs.symbolTable ? withFile(() => readSymbols(elf, rs.symbolTable)) : symbols;
    for (const r of withFile(() => readRelocations(elf, rs.section))) {
      p.relocations.push(classifyRelocation(elf, p, target, r.offset, r.type, r.symbol, table, file));
    }
  }
  for (const p of programs) p.relocations.sort((a, b) => a.offset - b.offset);

  if (ext) {
    const byName = new Map(programs.map((p) => [p.name, p]));
    const attach = (info: string, blocks: readonly { section: string; records: readonly { insnOffset: number }[] }[], add: (p: BpfProgramSection, index: number) => void) => {
      for (const b of blocks) {
        const p = byName.get(b.section);
        if (!p) objFail(`${BTF_EXT_SECTION}: ${info} names section '${b.section}', which is not a program section of this object`, undefined, file, 'bad-input');
        const starts = instructionStarts(p);
        b.records.forEach((rec, i) => {
          if (rec.insnOffset % INSN_SIZE !== 0 || rec.insnOffset >= p.bytes.length || !starts[rec.insnOffset / INSN_SIZE]) {
            objFail(`${BTF_EXT_SECTION}: ${info} record for section ${p.name} has insn_off ${rec.insnOffset}, not the start of one of its ${p.slots} instruction slots`, undefined, file, 'bad-input');
          }
          add(p, i);
        });
      }
    };
    for (const b of ext.funcInfo.blocks) attach('func_info', [b], (p, i) => p.funcInfo.push(b.records[i]!));
    for (const b of ext.lineInfo.blocks) attach('line_info', [b], (p, i) => p.lineInfo.push(b.records[i]!));
    for (const b of ext.coreRelo.blocks) attach('core_relo', [b], (p, i) => p.coreRelocations.push(b.records[i]!));
  }
  return { elf, littleEndian: le, btf, ext, programs };
}

const startsCache = new WeakMap<BpfProgramSection, Uint8Array>();

/** Per slot, 1 when an instruction starts there (0 for the second slot of ld_imm64). */
function instructionStarts(p: BpfProgramSection): Uint8Array {
  let starts = startsCache.get(p);
  if (starts) return starts;
  starts = new Uint8Array(p.slots);
  for (let i = 0; i < p.slots; i++) {
    starts[i] = 1;
    if (p.bytes[i * INSN_SIZE] === LD_IMM64 && i + 1 < p.slots) i++;
  }
  startsCache.set(p, starts);
  return starts;
}

function classifyRelocation(
  elf: ElfFile, p: BpfProgramSection, target: ElfSection, offset64: bigint, type: number, symbolIndex: number,
  symbols: ElfSymbol[], file: string | undefined,
): BpfRelocation {
  const at = target.offset + Number(offset64 > BigInt(target.size) ? BigInt(target.size) : offset64);
  if (offset64 % BigInt(INSN_SIZE) !== 0n || offset64 >= BigInt(p.bytes.length)) {
    objFail(`relocation against ${p.name} at offset ${offset64} is not on an instruction of the section (${p.bytes.length} bytes)`, at, file);
  }
  const offset = Number(offset64);
  const sym = symbols[symbolIndex];
  if (!sym || symbolIndex === 0) objFail(`relocation against ${p.name} at offset ${offset} names symbol ${symbolIndex}, which does not exist`, at, file);
  const insn: BpfInsn = decodeInsn(p.bytes, offset, elf.littleEndian);
  const isCall = insn.code === (InsnClass.Jmp | JmpOp.Call);
  const isLd = insn.code === LD_IMM64;
  if (!isCall && !isLd) {
    objFail(`relocation against ${p.name} at instruction ${offset / INSN_SIZE} (symbol ${sym.name}) is on opcode 0x${insn.code.toString(16)}, neither a call nor ld_imm64`, at, file);
  }
  if (isLd && offset + 2 * INSN_SIZE > p.bytes.length) objFail(`ld_imm64 at the end of ${p.name} has no second slot`, at, file);
  const defined = sym.section !== 0 && sym.section < SHN_LORESERVE ? elf.sections[sym.section] : undefined;
  let kind: BpfReferenceKind;
  // An undefined symbol is an extern whatever the instruction: clang marks kfunc calls as
  // pseudo calls (src 1) like calls to subprograms, and libbpf tells them apart by the symbol.
  if (sym.section === 0) {
    kind = 'extern';
  } else if (isCall) {
    if (insn.src !== CallKind.Subprogram || !defined || !(defined.flags & SectionFlag.Exec)) {
      objFail(`call at ${p.name} instruction ${offset / INSN_SIZE} is relocated against ${sym.name}, which is not a subprogram (src ${insn.src}, symbol in ${defined?.name ?? `section ${sym.section}`})`, at, file);
    }
    kind = 'subprogram-call';
  } else if (defined && defined.flags & SectionFlag.Exec) {
    kind = 'subprogram-address';
  } else if (defined && (defined.name === '.maps' || defined.name === 'maps')) {
    kind = 'map';
  } else if (defined && DATA_SECTION.test(defined.name)) {
    kind = 'global-data';
  } else {
    kind = 'other';
  }
  return {
    offset, insnIndex: offset / INSN_SIZE, type, kind, symbol: sym.name === '' && sym.type === SymbolType.Section && defined ? defined.name : sym.name, symbolValue: sym.value, symbolType: sym.type,
    symbolSection: defined?.name,
  };
}
