import type { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { HEADER_LEN_V1 } from '../format/header.js';
import { Kind, kindName } from '../format/kinds.js';
import {
  KERNEL_MAX_BTF_BYTES, KERNEL_MAX_VLEN, isIdentChar, kernelRules, nameProblem, recordProblem, unsupported,
  type KernelRules, type NameRule,
} from '../format/kernels.js';
import {
  Rec, encodeInfo, encodeIntData, infoKind, infoKindFlag, infoVlen, intEncoding, memberBitOffsetOf, memberBitfieldSizeOf,
} from '../format/records.js';
import { TypeRewrite } from './rewrite.js';

/** Options for {@link sanitizeBtf}. */
export interface SanitizeOptions {
  /**
   * The kernel to load on: a release (`'5.10'`, or what `uname -r` prints), or `true` for every
   * kernel btfkit knows (6.18's rules). Judged by the same table as
   * `checkBtf(btf, { kernelVersion })` (src/format/kernels.ts).
   */
  forKernel: string | true;
  /** Byte order of the output; default the input's. The kernel loads only its own. */
  endian?: 'little' | 'big';
}

/** What {@link sanitizeBtf} wrote, and what it changed to get there. */
export interface SanitizeResult {
  /** Raw BTF with a 24-byte header and no layout section. */
  bytes: Uint8Array;
  /**
   * Each kind of rewrite with how many records (or names) it touched, in the order first met,
   * e.g. `{ rewrite: 'FLOAT → STRUCT', count: 3 }`. Empty when the input needed nothing.
   */
  changes: { rewrite: string; count: number }[];
}

/** Name given to parameters and enumerators that must be named for the kernel but are not. */
export const UNNAMED_PLACEHOLDER = 'unnamed_arg';
/** libbpf's name for the 1-byte INT that the members of an ENUM64 rewritten as a UNION point to. */
export const ENUM64_PLACEHOLDER = 'enum64_placeholder';

const U8_INT_DATA = encodeIntData(0, 0, 8);

/**
 * Rewrites BTF so that one kernel release's `BPF_BTF_LOAD` takes it, the way libbpf sanitizes
 * an object's BTF before loading it (`bpf_object__sanitize_btf`), keeping every type id: what
 * the release lacks becomes something it has, of the same size where the type has one.
 *
 * - layout section (every kernel up to 6.18): dropped, with a 24-byte header;
 * - FUNC (before 5.0): a TYPEDEF of its prototype, which becomes an ENUM whose values are the
 *   parameters (value: the parameter's type id);
 * - global FUNC (before 5.6): static; extern FUNC (never loadable): global, or static;
 * - VAR (before 5.2) and DECL_TAG (before 5.16): a 1-byte INT of the same name;
 * - DATASEC (before 5.2): a STRUCT of the section's size whose members are its variables,
 *   named after the section with every character C does not allow replaced by `_`;
 * - FLOAT (before 5.13): an anonymous STRUCT of the same size, no members;
 * - TYPE_TAG (before 5.17): a CONST;
 * - ENUM64 (before 6.0): a UNION of the same size whose members, named after the values, all
 *   point to one INT `enum64_placeholder` appended after the last type (libbpf's placeholder);
 * - signed ENUM (before 6.0): kind_flag cleared;
 * - ENUM of 1, 2 or 8 bytes (before 5.4): an INT of that size and name;
 * - INT wider than 64 bits (before 5.1): an anonymous STRUCT of the same size;
 * - kind_flag STRUCT/UNION (before 5.0): bitfields described the old way, through INTs of the
 *   bitfield's width (appended, one per distinct width and type); FWD of a union: a FWD;
 * - DECL_TAG / TYPE_TAG with kind_flag (before 6.15): an INT / a CONST;
 * - extern VAR: global; unnamed parameters of a FUNC: named {@link UNNAMED_PLACEHOLDER};
 * - names the release refuses: `.` (before 6.4 outside VAR and DATASEC names) and, in section
 *   names before 6.9, characters outside identifiers become `_`; names longer than the
 *   release takes (128 bytes before 6.1) are cut. Renamed strings are added, never edited in
 *   place.
 *
 * What cannot be rewritten is a {@link BtfError}: records with more than 65,535 elements, kinds
 * btfkit does not know, a result over 16 MiB, and a BPF object's BTF before libbpf's load-time
 * fix-ups (DATASECs of size 0, FUNCs in a DATASEC): run {@link prepareObjectBtf} on the object
 * first. Split BTF is rewritten on its own; its base is left as it is (sanitize the base too).
 *
 * @example
 * ```ts
 * const { bytes, changes } = sanitizeBtf(Btf.parse(input), { forKernel: '5.10' });
 * checkBtf(Btf.parse(bytes), { kernelVersion: '5.10' }); // []
 * ```
 */
export function sanitizeBtf(btf: Btf, opts: SanitizeOptions): SanitizeResult {
  const rules = kernelRules(opts.forKernel);
  const s = new Sanitizer(btf, rules);
  s.run();
  const bytes = s.rw.encode(opts.endian);
  if (bytes.length > KERNEL_MAX_BTF_BYTES) {
    throw unsupported(`the sanitized BTF is ${bytes.length} bytes; BPF_BTF_LOAD in ${rules.name} takes at most 16 MiB (${KERNEL_MAX_BTF_BYTES} bytes)`);
  }
  return { bytes, changes: [...s.changes].map(([rewrite, count]) => ({ rewrite, count })) };
}

const IDENTIFIER_NAMED = new Set<number>([Kind.Struct, Kind.Union, Kind.Enum, Kind.Enum64, Kind.Fwd, Kind.Typedef, Kind.Func]);
const ELEMENTS_NAMED = new Set<number>([Kind.Struct, Kind.Union, Kind.Enum, Kind.Enum64, Kind.FuncProto]);
const PASS_THROUGH = new Set<number>([Kind.Typedef, Kind.Const, Kind.Volatile, Kind.Restrict, Kind.TypeTag]);

class Sanitizer {
  readonly rw: TypeRewrite;
  readonly changes = new Map<string, number>();
  private enum64Placeholder = 0;
  private readonly bitfieldInts = new Map<string, number>();
  private readonly renamed = new Map<string, number>();

  constructor(readonly btf: Btf, readonly rules: KernelRules) {
    this.rw = new TypeRewrite(btf);
  }

  private note(rewrite: string, n = 1): void {
    this.changes.set(rewrite, (this.changes.get(rewrite) ?? 0) + n);
  }

  run(): void {
    const { btf } = this;
    if (btf.layout || btf.header.hdrLen > HEADER_LEN_V1) this.note(btf.layout ? 'layout section dropped' : `${btf.header.hdrLen}-byte header written as 24 bytes`);
    const end = btf.endId;
    for (let id = btf.firstId; id < end; id++) this.rewriteRecord(id);
    for (let id = btf.firstId; id < this.rw.endId; id++) this.nameParams(id);
    for (let id = btf.firstId; id < this.rw.endId; id++) this.fixNames(id);
  }

  private rewriteRecord(id: number): void {
    const { rules, rw } = this;
    const r = rw.record(id);
    const info = r[Rec.INFO_WORD]!;
    const kind = infoKind(info);
    const vlen = infoVlen(info);
    const kflag = infoKindFlag(info);
    const offset = () => this.btf.recordOffset(id) + Rec.INFO_OFF;
    if (vlen > KERNEL_MAX_VLEN) {
      const problem = recordProblem(rules, kind, info, r[Rec.SIZE_OR_TYPE_WORD]!, 0, () => this.what(id, kind));
      throw unsupported(`${problem?.detail ?? `${kindName(kind)} has ${vlen} elements`}; it cannot be rewritten to fit`, id, offset());
    }
    const knows = (k: number) => rules.knowsKind(k);
    switch (kind) {
      case Kind.Var:
        if (!knows(Kind.Var)) return this.toByteInt(id, 'VAR → INT');
        if (r[Rec.VAR_LINKAGE_OFF >>> 2] === 2) {
          r[Rec.VAR_LINKAGE_OFF >>> 2] = 1;
          this.note('extern VAR → global');
        }
        return;
      case Kind.DeclTag:
        if (!knows(Kind.DeclTag)) return this.toByteInt(id, 'DECL_TAG → INT');
        if (kflag && !rules.has('tagKindFlag')) return this.toByteInt(id, 'DECL_TAG with kind_flag (attribute) → INT');
        return;
      case Kind.Datasec:
        this.checkPlaced(id, r);
        if (!knows(Kind.Datasec)) this.datasecToStruct(id, r);
        return;
      case Kind.FuncProto:
        if (!knows(Kind.FuncProto)) {
          r[Rec.INFO_WORD] = encodeInfo(Kind.Enum, vlen, false);
          r[Rec.SIZE_OR_TYPE_WORD] = 4;
          for (let i = 0; i < vlen; i++) {
            const nameWord = Rec.TYPE_HEADER_WORDS + i * Rec.PARAM_WORDS + Rec.PARAM_NAME_WORD;
            if (r[nameWord] === 0) r[nameWord] = this.rw.strings.add(UNNAMED_PLACEHOLDER);
          }
          this.note('FUNC_PROTO → ENUM');
        }
        return;
      case Kind.Func:
        if (!knows(Kind.Func)) {
          r[Rec.INFO_WORD] = encodeInfo(Kind.Typedef, 0, false);
          this.note('FUNC → TYPEDEF');
          return;
        }
        if (vlen === 2) {
          const linkage = rules.has('globalFuncs') ? 1 : 0;
          r[Rec.INFO_WORD] = encodeInfo(Kind.Func, linkage, false);
          this.note(`extern FUNC → ${linkage ? 'global' : 'static'}`);
        } else if (vlen === 1 && !rules.has('globalFuncs')) {
          r[Rec.INFO_WORD] = encodeInfo(Kind.Func, 0, false);
          this.note('global FUNC → static');
        }
        return;
      case Kind.Float:
        if (!knows(Kind.Float)) return this.toEmptyStruct(id, 'FLOAT → STRUCT');
        return;
      case Kind.TypeTag:
        if (!knows(Kind.TypeTag) || (kflag && !rules.has('tagKindFlag'))) {
          r[Rec.NAME_WORD] = 0;
          r[Rec.INFO_WORD] = encodeInfo(Kind.Const, 0, false);
          this.note(knows(Kind.TypeTag) ? 'TYPE_TAG with kind_flag (attribute) → CONST' : 'TYPE_TAG → CONST');
        }
        return;
      case Kind.Enum64:
        if (!knows(Kind.Enum64)) this.enum64ToUnion(id, r, vlen);
        return;
      case Kind.Enum:
        if (r[Rec.SIZE_OR_TYPE_WORD] !== 4 && !rules.has('enumSizes')) {
          const size = r[Rec.SIZE_OR_TYPE_WORD]!;
          rw.replace(id, Uint32Array.of(r[Rec.NAME_WORD]!, encodeInfo(Kind.Int, 0, false), size, encodeIntData(kflag ? 1 : 0, 0, size * 8)));
          this.note(`${size}-byte ENUM → INT`);
          return;
        }
        if (kflag && !rules.has('signedEnums')) {
          r[Rec.INFO_WORD] = encodeInfo(Kind.Enum, vlen, false);
          this.note('signed ENUM → unsigned');
        }
        return;
      case Kind.Int: {
        const data = r[Rec.INT_DATA_OFF >>> 2]!;
        if ((data & Rec.INT_BITS_MASK) + ((data >>> Rec.INT_OFFSET_SHIFT) & Rec.INT_OFFSET_MASK) > 64 && !rules.has('wideIntegers')) {
          this.toEmptyStruct(id, 'INT wider than 64 bits → STRUCT');
        }
        return;
      }
      case Kind.Struct: case Kind.Union:
        if (kflag && !rules.has('aggregateKindFlag')) this.oldBitfields(id, r, kind, vlen);
        return;
      case Kind.Fwd:
        if (kflag && !rules.has('aggregateKindFlag')) {
          r[Rec.INFO_WORD] = encodeInfo(Kind.Fwd, 0, false);
          this.note('FWD of a union → FWD');
        }
        return;
    }
  }

  private what(id: number, kind: number): string {
    const name = this.rw.name(this.rw.record(id)[Rec.NAME_WORD]!);
    return name ? `${kindName(kind)} '${name}'` : kindName(kind);
  }

  /** libbpf's stand-in for VAR and DECL_TAG: a 1-byte INT (4 bytes could outgrow what the variable took). */
  private toByteInt(id: number, rewrite: string): void {
    const r = this.rw.record(id);
    r[Rec.INFO_WORD] = encodeInfo(Kind.Int, 0, false);
    r[Rec.SIZE_OR_TYPE_WORD] = 1;
    r[Rec.INT_DATA_OFF >>> 2] = U8_INT_DATA;
    this.note(rewrite);
  }

  /** An anonymous STRUCT of the type's size: C compilers take no struct called `float`. */
  private toEmptyStruct(id: number, rewrite: string): void {
    const r = this.rw.record(id);
    this.rw.replace(id, Uint32Array.of(0, encodeInfo(Kind.Struct, 0, false), r[Rec.SIZE_OR_TYPE_WORD]!));
    this.note(rewrite);
  }

  /** A DATASEC no fix-up placed cannot be made loadable here: the sizes and offsets are in the ELF file. */
  private checkPlaced(id: number, r: Uint32Array): void {
    const vlen = infoVlen(r[Rec.INFO_WORD]!);
    const where = () => `DATASEC '${this.rw.name(r[Rec.NAME_WORD]!)}'`;
    const advice = 'a BPF object\'s BTF before libbpf\'s fix-ups: sanitize the object file (.o), whose sections and symbols give sizes and offsets, or run prepareObjectBtf on it first';
    if (r[Rec.SIZE_OR_TYPE_WORD] === 0) {
      throw new BtfError('bad-datasec', `${where()} has size 0, ${advice}`, { typeId: id, offset: this.btf.recordOffset(id) + Rec.SIZE_OR_TYPE_OFF });
    }
    for (let i = 0; i < vlen; i++) {
      const type = r[Rec.TYPE_HEADER_WORDS + i * Rec.SECINFO_WORDS + Rec.SECINFO_TYPE_WORD]!;
      if (this.rw.kind(type) === Kind.Func) {
        throw new BtfError('bad-datasec', `${where()} lists FUNC '${this.rw.name(this.rw.word(type, Rec.NAME_WORD))}' (an extern kfunc), ${advice}`, { typeId: id, member: i });
      }
    }
  }

  private datasecToStruct(id: number, r: Uint32Array): void {
    const vlen = infoVlen(r[Rec.INFO_WORD]!);
    const name = this.rw.nameBytes(r[Rec.NAME_WORD]!);
    const cName = new Uint8Array(name.length);
    for (let i = 0; i < name.length; i++) cName[i] = isIdentChar(name[i]!, i === 0) ? name[i]! : 0x5f;
    r[Rec.NAME_WORD] = this.rw.strings.addBytes(cName);
    r[Rec.INFO_WORD] = encodeInfo(Kind.Struct, vlen, false);
    for (let i = 0; i < vlen; i++) {
      const e = Rec.TYPE_HEADER_WORDS + i * Rec.SECINFO_WORDS;
      const type = r[e + Rec.SECINFO_TYPE_WORD]!;
      const offset = r[e + (Rec.SECINFO_OFFSET_OFF >>> 2)]!;
      // A member is {name, type, bit offset}; a secinfo {type, offset, size}: same size, other order.
      r[e + Rec.MEMBER_NAME_WORD] = this.rw.word(type, Rec.NAME_WORD);
      r[e + Rec.MEMBER_TYPE_WORD] = type;
      r[e + Rec.MEMBER_OFFSET_WORD] = (offset * 8) >>> 0;
    }
    this.note('DATASEC → STRUCT');
  }

  private enum64ToUnion(id: number, r: Uint32Array, vlen: number): void {
    if (this.enum64Placeholder === 0) {
      this.enum64Placeholder = this.rw.append(Uint32Array.of(this.rw.strings.add(ENUM64_PLACEHOLDER), encodeInfo(Kind.Int, 0, false), 1, U8_INT_DATA));
      this.note(`INT '${ENUM64_PLACEHOLDER}' added`);
    }
    r[Rec.INFO_WORD] = encodeInfo(Kind.Union, vlen, false);
    for (let i = 0; i < vlen; i++) {
      // An ENUM64 value is {name, lo, hi}, a member {name, type, offset}: the name stays.
      const e = Rec.TYPE_HEADER_WORDS + i * Rec.MEMBER_WORDS;
      r[e + Rec.MEMBER_TYPE_WORD] = this.enum64Placeholder;
      r[e + Rec.MEMBER_OFFSET_WORD] = 0;
    }
    this.note('ENUM64 → UNION');
  }

  /**
   * Before 5.0 a bitfield was a member whose type is an INT of the bitfield's width, at any bit
   * offset; kind_flag (the width in the offset word) came with 5.0.
   */
  private oldBitfields(id: number, r: Uint32Array, kind: number, vlen: number): void {
    for (let i = 0; i < vlen; i++) {
      const e = Rec.TYPE_HEADER_WORDS + i * Rec.MEMBER_WORDS;
      const word = r[e + Rec.MEMBER_OFFSET_WORD]!;
      const bits = memberBitfieldSizeOf(word, true);
      r[e + Rec.MEMBER_OFFSET_WORD] = memberBitOffsetOf(word, true);
      if (bits === 0) continue;
      const int = this.bitfieldInt(r[e + Rec.MEMBER_TYPE_WORD]!, bits);
      if (int === undefined) {
        throw unsupported(`${this.what(id, kind)} member ${i} is a bitfield of a type that is neither an integer nor an enum; before 5.0 bitfields are described through integers only`, id, this.btf.recordOffset(id) + (e + Rec.MEMBER_TYPE_WORD) * 4, i);
      }
      r[e + Rec.MEMBER_TYPE_WORD] = int;
    }
    r[Rec.INFO_WORD] = encodeInfo(kind, vlen, false);
    this.note(`${kindName(kind)} with kind_flag bitfields → INT bitfields`);
  }

  /** An INT of `bits` bits with the name, size and sign of the integer or enum `type` stands for (read as the input has it). */
  private bitfieldInt(type: number, bits: number): number | undefined {
    const btf = this.btf;
    let t = type;
    for (let depth = 0; depth < 32 && PASS_THROUGH.has(btf.kind(t)); depth++) t = btf.sizeOrType(t);
    const kind = btf.kind(t);
    let encoding: number;
    if (kind === Kind.Int) {
      const owner = btf.owner(t)!;
      encoding = intEncoding(owner.u32(owner.recordOffset(t) + Rec.INT_DATA_OFF));
    } else if (kind === Kind.Enum || kind === Kind.Enum64) {
      encoding = btf.kindFlag(t) ? 1 : 0;
    } else {
      return undefined;
    }
    const nameOff = btf.nameOffset(t);
    const size = btf.sizeOrType(t);
    const key = `${nameOff}:${size}:${encoding}:${bits}`;
    let id = this.bitfieldInts.get(key);
    if (id === undefined) {
      id = this.rw.append(Uint32Array.of(nameOff, encodeInfo(Kind.Int, 0, false), size, encodeIntData(encoding, 0, bits)));
      this.bitfieldInts.set(key, id);
      this.note('INT added for a bitfield');
    }
    return id;
  }

  /** The kernel refuses a FUNC whose prototype has an unnamed parameter (other than the varargs marker). */
  private nameParams(id: number): void {
    const rw = this.rw;
    if (rw.kind(id) !== Kind.Func) return;
    const proto = rw.word(id, Rec.SIZE_OR_TYPE_WORD);
    if (!rw.isOwn(proto) || rw.kind(proto) !== Kind.FuncProto) return;
    const p = rw.record(proto);
    const vlen = infoVlen(p[Rec.INFO_WORD]!);
    for (let i = 0; i < vlen; i++) {
      const e = Rec.TYPE_HEADER_WORDS + i * Rec.PARAM_WORDS;
      if (p[e + Rec.PARAM_NAME_WORD] === 0 && p[e + Rec.PARAM_TYPE_WORD] !== 0) {
        p[e + Rec.PARAM_NAME_WORD] = rw.strings.add(UNNAMED_PLACEHOLDER);
        this.note(`unnamed FUNC parameter named '${UNNAMED_PLACEHOLDER}'`);
      }
    }
  }

  private fixNames(id: number): void {
    const rw = this.rw;
    const r = rw.record(id);
    const kind = infoKind(r[Rec.INFO_WORD]!);
    const own: NameRule | undefined = kind === Kind.Datasec ? 'section' : kind === Kind.Var ? 'var' : IDENTIFIER_NAMED.has(kind) ? 'identifier' : undefined;
    const elements = ELEMENTS_NAMED.has(kind);
    if (!own && !elements) return;
    rw.forEachNameWord(id, (word, element) => {
      const off = r[word]!;
      if (off === 0) return;
      const rule = element < 0 ? own : elements ? 'identifier' : undefined;
      if (rule) r[word] = this.kernelName(off, rule);
    });
  }

  /** `off`, or the offset of a name the release takes in its place. */
  private kernelName(off: number, rule: NameRule): number {
    const key = `${rule}:${off}`;
    const known = this.renamed.get(key);
    if (known !== undefined) return known;
    const { rules } = this;
    const bytes = this.rw.nameBytes(off);
    let out = off;
    const problem = nameProblem(rules, bytes, 0, rule, '', () => '');
    if (problem !== undefined) {
      const dotsOk = rule !== 'identifier' || rules.has('dottedNames');
      const anyPrintable = rule === 'section' && rules.has('printableSectionNames');
      const fixed = bytes.slice(0, Math.min(bytes.length, rules.nameMax));
      for (let i = 0; i < fixed.length; i++) {
        const c = fixed[i]!;
        if (c === 0x2e) {
          if (!dotsOk) fixed[i] = 0x5f;
        } else if (rule === 'section' && !anyPrintable && !isIdentChar(c, i === 0)) {
          fixed[i] = 0x5f;
        }
      }
      out = this.rw.strings.addBytes(fixed);
      this.note(fixed.length < bytes.length ? `name cut to ${rules.nameMax} bytes` : `name with characters ${rules.name} refuses rewritten`);
    }
    this.renamed.set(key, out);
    return out;
  }
}
