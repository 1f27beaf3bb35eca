import { typeSectionWords, type Btf } from '../../btf/btf.js';
import { BtfError } from '../../errors.js';
import { WireKind as Kind, describeKind } from '../../format/kinds.js';
import { pointerSize } from '../../btf/query.js';
import { Rec } from '../../format/records.js';

/**
 * Every type of a BTF (its base's too, for split BTF) flattened into typed arrays indexed by
 * global type id, checked once so the C emitter can index freely afterwards.
 *
 * The C dump touches each type many times (ordering, emission, alignment, sorting); going through
 * {@link Btf.type} would build an object per visit. Here a type is a handful of array reads.
 *
 * What follows a record's 12-byte header (members, enumerators, parameters, section variables,
 * the array descriptor, the extra word of INT, VAR and DECL_TAG) is read where it lies, in
 * {@link words}, from {@link first}`[id]` on, never copied: copying it cost more than all the
 * reads of it (the memory alone: on a slow-faulting VM a fresh megabyte costs 3 ms).
 * - struct/union member, 3 words: name offset, type, offset word (bit offset, plus the
 *   bitfield size in the top byte when kind_flag is set);
 * - enumerator, 2 words: name offset, value; ENUM64 value, 3: name offset, low and high half;
 * - func_proto parameter, 2 words: name offset, type;
 * - datasec variable, 3 words: type, offset, size;
 * - array, 3 words: element type, index type, element count;
 * - INT encoding, VAR linkage, DECL_TAG component index: 1 word.
 */
export class TypeTable {
  /** One past the last type id (libbpf's `btf__type_cnt`). */
  readonly count: number;
  /** One past the last string offset. */
  readonly stringEnd: number;
  readonly kind: Uint8Array;
  readonly kflag: Uint8Array;
  readonly nameOff: Uint32Array;
  /** `size` or `type`, depending on the kind. */
  readonly ref: Uint32Array;
  readonly vlen: Uint32Array;
  /** Index in {@link words} of the word after the type's 12-byte header. */
  readonly first: Uint32Array;
  /**
   * The type sections as 32-bit words in host order: a view of the BTF's own bytes when it
   * stands alone, native-endian and aligned; else a copy (split BTF gets its chain's sections
   * back to back, base first).
   */
  readonly words: Uint32Array;
  /**
   * 1 for the types some other type refers to (libbpf's mark of referenced types: an anonymous
   * enum nobody refers to is a top-level bag of constants). Marked while the records are read.
   */
  readonly referenced: Uint8Array;

  /**
   * Every string section back to back, base first, so that a global string offset indexes it
   * directly.
   */
  readonly strBytes: Uint8Array;

  constructor(private readonly btf: Btf) {
    const chain: Btf[] = [];
    for (let b: Btf | undefined = btf; b; b = b.base) chain.unshift(b);
    const count = btf.endId;
    this.count = count;
    this.stringEnd = btf.endStringOffset;
    this.kind = new Uint8Array(count);
    this.kflag = new Uint8Array(count);
    this.nameOff = new Uint32Array(count);
    this.ref = new Uint32Array(count);
    this.vlen = new Uint32Array(count);
    this.first = new Uint32Array(count);
    this.referenced = new Uint8Array(count);

    this.words = chain.length === 1 ? typeSectionWords(chain[0]!) : chainWords(chain);
    let wordBase = 0;
    for (const b of chain) {
      readRecords(this, b, wordBase);
      wordBase += b.header.typeLen >>> 2;
    }
    checkReferences(this);
    if (chain.length === 1) {
      // One string section already is the whole table: a view spares copying megabytes.
      this.strBytes = btf.bytes.subarray(btf.stringStart, btf.stringStart + btf.header.strLen);
    } else {
      this.strBytes = new Uint8Array(btf.endStringOffset);
      for (const b of chain) {
        this.strBytes.set(b.bytes.subarray(b.stringStart, b.stringStart + b.header.strLen), b.firstStringOffset);
      }
    }
  }

  /**
   * The string at `off`, one character per byte (Latin-1), so that JS string order is byte
   * order (as `strcmp`) and writing it back with {@link ByteSink.ascii} reproduces the bytes.
   */
  str(off: number): string {
    const b = this.strBytes;
    if (off === 0 || off >= b.length) return '';
    let end = b.indexOf(0, off);
    if (end < 0) end = b.length;
    let s = '';
    for (let i = off; i < end; i += 4096) {
      s += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
    }
    return s;
  }

  /**
   * Whether the string at `off` is `literal` (ASCII), or with `prefix` only starts with it.
   */
  equalsAt(off: number, literal: string, prefix = false): boolean {
    const b = this.strBytes;
    for (let i = 0; i < literal.length; i++) if (b[off + i] !== literal.charCodeAt(i)) return false;
    return prefix || b[off + literal.length] === 0;
  }

  /** Pointer size in bytes, as btf_dump takes it from libbpf (src/btf/query.ts). */
  get pointerSize(): number {
    return pointerSize(this.btf);
  }

  /** Name of type `id` (empty for anonymous types). */
  name(id: number): string {
    return this.str(this.nameOff[id]!);
  }
}

function badString(t: TypeTable, id: number, what: string, off: number, member?: number): never {
  throw new BtfError('bad-string-offset', `${what} at string offset ${off} lies outside the string section (${t.stringEnd} bytes)`, { typeId: id, member });
}

function badId(t: TypeTable, id: number, what: string, target: number, member?: number): never {
  throw new BtfError('bad-type-id', `${what} refers to type ${target}, but the last type id is ${t.count - 1}`, { typeId: id, member });
}

/**
 * The checks that need the whole table: a function must be typed by a prototype, and no cycle
 * may avoid struct, union, enum and forward declaration: a pointer, modifier, typedef, array,
 * tag or prototype that (eventually) refers to itself describes no C type, and libbpf would
 * recurse on it forever. Depth-first, on typed arrays.
 */
function checkReferences(t: TypeTable): void {
  const { count, kind, ref, first, words } = t;
  // 0 unvisited, 1 on the current path, 2 done.
  const state = new Uint8Array(count);
  let stackId: Int32Array | undefined;
  let stackNext: Int32Array | undefined;
  for (let start = 1; start < count; start++) {
    const k = kind[start]!;
    if (k === Kind.Func && kind[ref[start]!] !== Kind.FuncProto) {
      throw new BtfError('bad-func', `function refers to type ${ref[start]}, which is not a FUNC_PROTO`, { typeId: start });
    }
    if (state[start] !== 0 || IS_LINK[k] !== 1) continue;
    // Most links lead straight to a record, a base type or a link already checked: no walk.
    if (k !== Kind.FuncProto) {
      const target = k === Kind.Array ? words[first[start]! + Rec.ARRAY_TYPE_WORD]! : ref[start]!;
      if (target !== start && (target === 0 || state[target] === 2 || IS_LINK[kind[target]!] !== 1)) {
        state[start] = 2;
        continue;
      }
    }
    // Allocated on first need: most BTF never gets here after its first few types.
    stackId ??= new Int32Array(count);
    stackNext ??= new Int32Array(count);
    state[start] = 1;
    let depth = 0;
    stackId[0] = start;
    stackNext[0] = 0;
    while (depth >= 0) {
      const id = stackId[depth]!;
      const i = stackNext[depth]!;
      const target = linkTarget(t, id, i);
      if (target < 0) {
        state[id] = 2;
        depth--;
        continue;
      }
      stackNext[depth] = i + 1;
      if (target === 0 || IS_LINK[kind[target]!] !== 1) continue;
      const s = state[target]!;
      if (s === 1) {
        throw new BtfError('type-loop', `type ${target} refers back to itself through pointers, modifiers, typedefs, arrays or prototypes only`, { typeId: target });
      }
      if (s === 0) {
        state[target] = 1;
        depth++;
        stackId[depth] = target;
        stackNext[depth] = 0;
      }
    }
  }
}

/** The `i`-th outgoing reference of a link kind, or -1 past the last. */
function linkTarget(t: TypeTable, id: number, i: number): number {
  switch (t.kind[id]) {
    case Kind.Array:
      return i === 0 ? t.words[t.first[id]! + Rec.ARRAY_TYPE_WORD]! : -1;
    case Kind.FuncProto:
      if (i === 0) return t.ref[id]!;
      return i <= t.vlen[id]! ? t.words[t.first[id]! + (i - 1) * Rec.PARAM_WORDS + Rec.PARAM_TYPE_WORD]! : -1;
    default:
      return i === 0 ? t.ref[id]! : -1;
  }
}

/**
 * Fills the table's columns for the records of blob `b`, whose type section starts at word
 * `wordBase` of the table's words, and makes the checks libbpf makes when it loads BTF (names
 * inside the string section, referenced types in range) plus the one btf_dump makes when it
 * starts: every kind must be one it knows.
 *
 * Checking while reading saves a second pass over every type; the check that a function is
 * typed by a prototype needs the target's kind, which may come later, so it waits for
 * {@link checkReferences}. A separate function with the columns in locals, which the JIT
 * compiles far better than the constructor. (One loop per kind was tried: each loop then
 * waits for its own compilation, which costs more than the recompilations this one meets.)
 */
function readRecords(t: TypeTable, b: Btf, wordBase: number): void {
  const { kind: kinds, kflag, nameOff, ref, vlen: vlens, first, referenced, words: w } = t;
  const count = t.count;
  const strEnd = t.stringEnd;
  const offsets = b.typeOffsets;
  const start = b.typeStart;
  const firstId = b.firstId;
  for (let i = 0; i < offsets.length; i++) {
    const id = firstId + i;
    // Word index of the record. Fields are read inline with Rec's word constants, not through
    // records.ts's readers: a call per field costs ~8% with TurboFan inlining off (the CLI).
    const rec = wordBase + ((offsets[i]! - start) >>> 2);
    const info = w[rec + Rec.INFO_WORD]!;
    const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    const vlen = info & Rec.INFO_VLEN_MASK;
    const name = w[rec + Rec.NAME_WORD]!;
    const sizeOrType = w[rec + Rec.SIZE_OR_TYPE_WORD]!;
    if (name >= strEnd) badString(t, id, 'name', name);
    kinds[id] = kind;
    kflag[id] = info >>> Rec.INFO_KIND_FLAG_SHIFT;
    nameOff[id] = name;
    ref[id] = sizeOrType;
    vlens[id] = vlen;
    const p = rec + Rec.TYPE_HEADER_WORDS;
    first[id] = p;
    switch (kind) {
      case Kind.Int: case Kind.Fwd: case Kind.Float:
        break;
      case Kind.Var: case Kind.DeclTag:
      case Kind.Ptr: case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
      case Kind.TypeTag:
        if (sizeOrType >= count) badId(t, id, 'type', sizeOrType);
        referenced[sizeOrType] = 1;
        break;
      case Kind.Func:
        if (sizeOrType >= count) badId(t, id, 'function', sizeOrType);
        referenced[sizeOrType] = 1;
        break;
      case Kind.Array: {
        const type = w[p + Rec.ARRAY_TYPE_WORD]!;
        const index = w[p + Rec.ARRAY_INDEX_TYPE_WORD]!;
        if (type >= count) badId(t, id, 'array element type', type);
        if (index >= count) badId(t, id, 'array index type', index);
        referenced[type] = 1;
        referenced[index] = 1;
        break;
      }
      case Kind.Struct: case Kind.Union:
        for (let j = 0, m = p; j < vlen; j++, m += Rec.MEMBER_WORDS) {
          const memberName = w[m + Rec.MEMBER_NAME_WORD]!;
          const type = w[m + Rec.MEMBER_TYPE_WORD]!;
          if (memberName >= strEnd) badString(t, id, 'member name', memberName, j);
          if (type >= count) badId(t, id, 'member', type, j);
          referenced[type] = 1;
        }
        break;
      case Kind.Enum: case Kind.Enum64: {
        // ENUM_NAME_WORD and ENUM64_NAME_WORD are both 0: one loop reads either.
        const stride = kind === Kind.Enum ? Rec.ENUM_WORDS : Rec.ENUM64_WORDS;
        for (let j = 0, m = p; j < vlen; j++, m += stride) {
          const valueName = w[m + Rec.ENUM_NAME_WORD]!;
          if (valueName >= strEnd) badString(t, id, 'enumerator name', valueName, j);
        }
        break;
      }
      case Kind.FuncProto:
        if (sizeOrType >= count) badId(t, id, 'return type', sizeOrType);
        for (let j = 0, m = p; j < vlen; j++, m += Rec.PARAM_WORDS) {
          const paramName = w[m + Rec.PARAM_NAME_WORD]!;
          const type = w[m + Rec.PARAM_TYPE_WORD]!;
          if (paramName >= strEnd) badString(t, id, 'parameter name', paramName, j);
          if (type >= count) badId(t, id, 'parameter', type, j);
          // The return type is not marked: libbpf marks only what parameters refer to.
          referenced[type] = 1;
        }
        break;
      case Kind.Datasec:
        for (let j = 0, m = p; j < vlen; j++, m += Rec.SECINFO_WORDS) {
          const type = w[m + Rec.SECINFO_TYPE_WORD]!;
          if (type >= count) badId(t, id, 'section variable', type, j);
          referenced[type] = 1;
        }
        break;
      default:
        // libbpf's btf_dump refuses to start on a kind it cannot place in C.
        throw new BtfError('bad-kind', `${describeKind(kind)} has no C form (the C dump knows kinds 1 to 19)`, { typeId: id });
    }
  }
}

/** The type sections of a split chain as one run of host-order words, base first. */
function chainWords(chain: readonly Btf[]): Uint32Array {
  let n = 0;
  for (const b of chain) n += b.header.typeLen >>> 2;
  const words = new Uint32Array(n);
  let at = 0;
  for (const b of chain) {
    const own = typeSectionWords(b);
    words.set(own, at);
    at += own.length;
  }
  return words;
}

/** 1 for the kinds that only lead to other types; a cycle made of these alone is no C type. */
const IS_LINK = new Uint8Array(256);
for (const k of [Kind.Ptr, Kind.Typedef, Kind.Volatile, Kind.Const, Kind.Restrict, Kind.TypeTag, Kind.DeclTag, Kind.Array, Kind.FuncProto]) {
  IS_LINK[k] = 1;
}
