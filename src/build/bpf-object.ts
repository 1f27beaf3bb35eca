import type { Btf } from '../btf/btf.js';
import { alignOf, sizeOf } from '../btf/query.js';
import { BtfError } from '../errors.js';
import { findSection, type ElfFile } from '../elf/elf.js';
import { readSymbols, SymbolBinding, SymbolType, type ElfSymbol } from '../elf/symbols.js';
import { Kind } from '../format/kinds.js';
import { Rec, encodeInfo, infoKind, infoVlen, intBits } from '../format/records.js';
import { TypeRewrite } from './rewrite.js';

/** The DATASEC clang puts `__kconfig` externs in. */
export const KCONFIG_SECTION = '.kconfig';
/** The DATASEC clang puts `__ksym` externs (kernel variables and kfuncs) in. */
export const KSYMS_SECTION = '.ksyms';
/** libbpf's VAR that stands in a `.ksyms` DATASEC for every extern function. */
export const DUMMY_KSYM = 'dummy_ksym';

const STV_INTERNAL = 1;
const STV_HIDDEN = 2;
const VAR_STATIC = 0;
const VAR_GLOBAL = 1;
const VAR_EXTERN = 2;
const LINKAGE_WORD = Rec.VAR_LINKAGE_OFF >>> 2;
const SECINFO_OFFSET_WORD = Rec.SECINFO_OFFSET_OFF >>> 2;
const SECINFO_SIZE_WORD = Rec.SECINFO_SIZE_OFF >>> 2;

/**
 * Does to a BPF object's BTF what libbpf does between opening the object and handing its BTF to
 * the kernel (libbpf 1.1 to 1.8: `bpf_object__collect_externs`, `btf_fixup_datasec`, and the
 * hidden-subprogram step of `bpf_object__sanitize_and_load_btf`), so that the result loads as
 * it is, or after {@link sanitizeBtf} on an older kernel. Every type id is kept.
 *
 * - `.ksyms`: each entry gets a 4-byte slot; a kernel variable's VAR becomes a global VAR of the
 *   first 32-bit INT, and a kfunc's entry points to one appended VAR `dummy_ksym` while its FUNC
 *   becomes global, unnamed parameters taking `dummy_ksym`'s name.
 * - `.kconfig`: VARs global, laid out by alignment (largest first), then size, then name.
 * - Other DATASECs (needs `elf`): a size of 0 becomes the ELF section's size and the offsets of
 *   global VARs their symbols' values; a VAR whose symbol is hidden (STV_HIDDEN/INTERNAL) becomes
 *   static. Unlike libbpf, a static VAR is placed too, by its local symbol in that section
 *   (libbpf leaves it at 0, which the kernel refuses as soon as two statics share a section).
 *   Entries are then sorted by offset.
 * - A global FUNC whose symbol in `.text` is hidden becomes static.
 *
 * Without `elf` (raw BTF), DATASECs of size 0 are an error naming the section. Throws a
 * {@link BtfError} where libbpf refuses the object: a section or variable symbol that is not
 * there, a FUNC in `.kconfig`.
 */
export function prepareObjectBtf(btf: Btf, elf?: ElfFile): Uint8Array {
  const rw = new TypeRewrite(btf);
  placeExterns(rw);
  if (elf) {
    const symbols = readSymbols(elf);
    placeSections(rw, elf, symbols);
    hideStaticSubprograms(rw, elf, symbols);
  } else {
    for (let id = btf.firstId; id < btf.endId; id++) {
      const r = rw.record(id);
      if (infoKind(r[Rec.INFO_WORD]!) === Kind.Datasec && r[Rec.SIZE_OR_TYPE_WORD] === 0 && !isExternSection(rw.name(r[Rec.NAME_WORD]!))) {
        throw new BtfError('bad-datasec', `DATASEC '${rw.name(r[Rec.NAME_WORD]!)}' has size 0: the compiler left its size and variable offsets to the loader, which reads them from the object file; give the .o, not its raw BTF`, { typeId: id, offset: btf.recordOffset(id) + Rec.SIZE_OR_TYPE_OFF });
      }
    }
  }
  return rw.encode();
}

function isExternSection(name: string): boolean {
  return name === KCONFIG_SECTION || name === KSYMS_SECTION;
}

/** True when `btf` holds what only a BPF object's BTF before libbpf's fix-ups holds (see {@link prepareObjectBtf}). */
export function needsObjectFixups(btf: Btf): boolean {
  for (let id = btf.firstId; id < btf.endId; id++) {
    const kind = btf.kind(id);
    if (kind === Kind.Datasec) {
      if (btf.sizeOrType(id) === 0) return true;
      const view = btf.type(id);
      if ('vars' in view && view.vars.some((v) => btf.kind(v.type) === Kind.Func)) return true;
    } else if (kind === Kind.Var) {
      const owner = btf.owner(id)!;
      if (owner.u32(owner.recordOffset(id) + Rec.VAR_LINKAGE_OFF) === VAR_EXTERN) return true;
    } else if (kind === Kind.Func && btf.vlen(id) === 2) {
      return true;
    }
  }
  return false;
}

function datasecs(rw: TypeRewrite): number[] {
  const out: number[] = [];
  for (let id = rw.btf.firstId; id < rw.endId; id++) if (rw.kind(id) === Kind.Datasec) out.push(id);
  return out;
}

function entryWord(i: number, word: number): number {
  return Rec.TYPE_HEADER_WORDS + i * Rec.SECINFO_WORDS + word;
}

/** libbpf's find_int_btf_id: the first INT of 32 bits. */
function first32BitInt(rw: TypeRewrite): number {
  for (let id = 1; id < rw.endId; id++) {
    if (rw.kind(id) === Kind.Int && intBits(rw.word(id, Rec.INT_DATA_OFF >>> 2)) === 32) return id;
  }
  return 0;
}

function placeExterns(rw: TypeRewrite): void {
  const secs = datasecs(rw);
  const ksyms = secs.find((id) => rw.name(rw.word(id, Rec.NAME_WORD)) === KSYMS_SECTION);
  if (ksyms !== undefined) placeKsyms(rw, ksyms);
  // libbpf lays out the externs of every .kconfig DATASEC as one.
  for (const id of secs) if (rw.name(rw.word(id, Rec.NAME_WORD)) === KCONFIG_SECTION) placeKconfig(rw, id);
}

function placeKsyms(rw: TypeRewrite, sec: number): void {
  const s = rw.record(sec);
  const vlen = infoVlen(s[Rec.INFO_WORD]!);
  const int32 = first32BitInt(rw);
  let dummy = 0;
  for (let i = 0; i < vlen; i++) {
    const type = s[entryWord(i, Rec.SECINFO_TYPE_WORD)]!;
    if (rw.kind(type) !== Kind.Func || !rw.isOwn(type)) continue;
    dummy = rw.append(Uint32Array.of(rw.strings.add(DUMMY_KSYM), encodeInfo(Kind.Var, 0, false), int32, VAR_GLOBAL));
    break;
  }
  for (let i = 0; i < vlen; i++) {
    const type = s[entryWord(i, Rec.SECINFO_TYPE_WORD)]!;
    if (!rw.isOwn(type)) continue;
    const t = rw.record(type);
    if (infoKind(t[Rec.INFO_WORD]!) === Kind.Func) {
      const proto = t[Rec.SIZE_OR_TYPE_WORD]!;
      if (rw.isOwn(proto) && rw.kind(proto) === Kind.FuncProto) {
        const p = rw.record(proto);
        const dummyName = rw.word(dummy, Rec.NAME_WORD);
        for (let j = 0, n = infoVlen(p[Rec.INFO_WORD]!); j < n; j++) {
          const e = Rec.TYPE_HEADER_WORDS + j * Rec.PARAM_WORDS;
          if (p[e + Rec.PARAM_TYPE_WORD] !== 0 && p[e + Rec.PARAM_NAME_WORD] === 0) p[e + Rec.PARAM_NAME_WORD] = dummyName;
        }
      }
      s[entryWord(i, Rec.SECINFO_TYPE_WORD)] = dummy;
      t[Rec.INFO_WORD] = encodeInfo(Kind.Func, 1, false);
    } else if (infoKind(t[Rec.INFO_WORD]!) === Kind.Var) {
      t[LINKAGE_WORD] = VAR_GLOBAL;
      t[Rec.SIZE_OR_TYPE_WORD] = int32;
    }
    s[entryWord(i, SECINFO_OFFSET_WORD)] = i * 4;
    s[entryWord(i, SECINFO_SIZE_WORD)] = 4;
  }
  s[Rec.SIZE_OR_TYPE_WORD] = vlen * 4;
}

const byteOrder = new TextEncoder();

/** strcmp's order: bytes, not UTF-16 units. */
function compareNames(a: string, b: string): number {
  const x = byteOrder.encode(a);
  const y = byteOrder.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function placeKconfig(rw: TypeRewrite, sec: number): void {
  const btf = rw.btf;
  const s = rw.record(sec);
  const vlen = infoVlen(s[Rec.INFO_WORD]!);
  const externs: { entry: number; name: string; size: number; align: number }[] = [];
  for (let i = 0; i < vlen; i++) {
    const type = s[entryWord(i, Rec.SECINFO_TYPE_WORD)]!;
    const name = rw.name(rw.word(type, Rec.NAME_WORD));
    if (rw.kind(type) !== Kind.Var) {
      throw new BtfError('unsupported', `${KCONFIG_SECTION} lists '${name}', which is not a variable (libbpf refuses extern functions there)`, { typeId: sec, member: i });
    }
    const valueType = rw.word(type, Rec.SIZE_OR_TYPE_WORD);
    const size = sizeOf(btf, valueType);
    const align = alignOf(btf, valueType);
    if (size <= 0 || align <= 0) {
      throw new BtfError('bad-size', `${KCONFIG_SECTION} variable '${name}' has ${size <= 0 ? 'no size' : 'no alignment'} (libbpf refuses it too)`, { typeId: type });
    }
    externs.push({ entry: i, name, size, align });
  }
  const order = [...externs].sort((a, b) => b.align - a.align || a.size - b.size || compareNames(a.name, b.name));
  let offset = 0;
  for (const e of order) {
    const at = Math.ceil(offset / e.align) * e.align;
    offset = at + e.size;
    s[entryWord(e.entry, SECINFO_OFFSET_WORD)] = at;
    rw.record(s[entryWord(e.entry, Rec.SECINFO_TYPE_WORD)]!)[LINKAGE_WORD] = VAR_GLOBAL;
  }
  s[Rec.SIZE_OR_TYPE_WORD] = offset;
  sortEntries(s, vlen);
}

function placeSections(rw: TypeRewrite, elf: ElfFile, symbols: ElfSymbol[]): void {
  for (const sec of datasecs(rw)) {
    const s = rw.record(sec);
    const name = rw.name(s[Rec.NAME_WORD]!);
    if (isExternSection(name)) continue;
    const vlen = infoVlen(s[Rec.INFO_WORD]!);
    const section = findSection(elf, name);
    const place = s[Rec.SIZE_OR_TYPE_WORD] === 0;
    if (place) {
      if (!section || section.size === 0) {
        throw new BtfError('bad-datasec', `DATASEC '${name}' has size 0 and the object has ${section ? 'an empty' : 'no'} section '${name}' to take it from`, { typeId: sec });
      }
      s[Rec.SIZE_OR_TYPE_WORD] = section.size;
    }
    for (let i = 0; i < vlen; i++) {
      const type = s[entryWord(i, Rec.SECINFO_TYPE_WORD)]!;
      if (!rw.isOwn(type) || rw.kind(type) !== Kind.Var) {
        throw new BtfError('bad-datasec', `DATASEC '${name}' entry ${i} is not a VAR`, { typeId: sec, member: i });
      }
      const v = rw.record(type);
      const linkage = v[LINKAGE_WORD]!;
      if (linkage === VAR_EXTERN) continue;
      const varName = rw.name(v[Rec.NAME_WORD]!);
      if (linkage === VAR_STATIC) {
        const local = section && symbols.find((y) => y.type === SymbolType.Object && y.bind === SymbolBinding.Local && y.section === section.index && y.name === varName);
        if (place && local) s[entryWord(i, SECINFO_OFFSET_WORD)] = Number(local.value);
        continue;
      }
      const sym = symbols.find((y) => y.type === SymbolType.Object && (y.bind === SymbolBinding.Global || y.bind === SymbolBinding.Weak) && y.name === varName);
      if (!sym) throw new BtfError('bad-datasec', `DATASEC '${name}': the object has no symbol for VAR '${varName}'`, { typeId: type });
      if (place) s[entryWord(i, SECINFO_OFFSET_WORD)] = Number(sym.value);
      if (sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL) v[LINKAGE_WORD] = VAR_STATIC;
    }
    sortEntries(s, vlen);
  }
}

/** Sorts a DATASEC's entries by offset (stable, so equal offsets keep their order). */
function sortEntries(s: Uint32Array, vlen: number): void {
  const entries: Uint32Array[] = [];
  for (let i = 0; i < vlen; i++) entries.push(s.slice(entryWord(i, 0), entryWord(i + 1, 0)));
  entries.sort((a, b) => a[SECINFO_OFFSET_WORD]! - b[SECINFO_OFFSET_WORD]!);
  entries.forEach((e, i) => s.set(e, entryWord(i, 0)));
}

function hideStaticSubprograms(rw: TypeRewrite, elf: ElfFile, symbols: ElfSymbol[]): void {
  const text = findSection(elf, '.text');
  if (!text) return;
  const hidden = new Set(symbols
    .filter((y) => y.type === SymbolType.Func && y.section === text.index && y.bind !== SymbolBinding.Local &&
      (y.visibility === STV_HIDDEN || y.visibility === STV_INTERNAL))
    .map((y) => y.name));
  if (hidden.size === 0) return;
  for (let id = rw.btf.firstId; id < rw.endId; id++) {
    const r = rw.record(id);
    if (infoKind(r[Rec.INFO_WORD]!) !== Kind.Func || infoVlen(r[Rec.INFO_WORD]!) !== 1) continue;
    if (!hidden.has(rw.name(r[Rec.NAME_WORD]!))) continue;
    r[Rec.INFO_WORD] = encodeInfo(Kind.Func, 0, false);
    // libbpf marks one FUNC per subprogram: the first of that name.
    hidden.delete(rw.name(r[Rec.NAME_WORD]!));
  }
}
