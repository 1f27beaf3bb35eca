import type { Btf } from '../../btf/btf.js';
import { BtfError } from '../../errors.js';
import { Kind } from '../../format/kinds.js';

/**
 * Every type of a BTF (its base's too, for split BTF) flattened into typed arrays indexed by
 * global type id, checked once so the C emitter can index freely afterwards.
 *
 * The C dump touches each type many times (ordering, emission, alignment, sorting); going through
 * {@link Btf.type} would build an object per visit. Here a type is a handful of array reads.
 *
 * Elements (members, enumerators, parameters, section variables, and the one array descriptor)
 * live in shared element arrays starting at {@link first}`[id]`:
 * - struct/union member: `elName` name offset, `elType` type, `elAux` the raw offset word
 *   (bit offset, plus bitfield size in the top byte when kind_flag is set);
 * - enum value: `elName`, `elAux` the value (low 32 bits), `elAux2` the high 32 bits (ENUM64);
 * - func_proto parameter: `elName`, `elType`;
 * - datasec variable: `elType`;
 * - array: `elType` the element type, `elAux` the element count, `elAux2` the index type.
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
  /** Index of the type's first element. */
  readonly first: Uint32Array;
  /** The 4-byte word after the header for INT, VAR and DECL_TAG (encoding, linkage, component index). */
  readonly extra: Uint32Array;
  readonly elName: Uint32Array;
  readonly elType: Uint32Array;
  readonly elAux: Uint32Array;
  readonly elAux2: Uint32Array;

  /**
   * Every string section back to back, base first, so that a global string offset indexes it
   * directly.
   */
  readonly strBytes: Uint8Array;
  private ptrSize = 0;

  constructor(btf: Btf) {
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
    this.first = new Uint32Array(count + 1);
    this.extra = new Uint32Array(count);

    const words = chain.map(typeWords);
    let elements = 0;
    for (let c = 0; c < chain.length; c++) elements += countElements(chain[c]!, words[c]!);
    this.elName = new Uint32Array(elements);
    this.elType = new Uint32Array(elements);
    this.elAux = new Uint32Array(elements);
    this.elAux2 = new Uint32Array(elements);

    let el = 0;
    for (let c = 0; c < chain.length; c++) el = readRecords(this, chain[c]!, words[c]!, el);
    this.first[count] = el;
    validateTypes(this);
    checkReferenceLoops(this);
    this.strBytes = new Uint8Array(btf.endStringOffset);
    for (const b of chain) {
      this.strBytes.set(b.bytes.subarray(b.stringStart, b.stringStart + b.header.strLen), b.firstStringOffset);
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

  /**
   * Pointer size in bytes as libbpf guesses it: the size of the first 4- or 8-byte integer
   * spelled as some `long`; 8 when there is none.
   */
  get pointerSize(): number {
    if (this.ptrSize === 0) {
      this.ptrSize = 8;
      for (let id = 1; id < this.count; id++) {
        if (this.kind[id] !== Kind.Int) continue;
        const size = this.ref[id]!;
        if ((size === 4 || size === 8) && LONG_NAMES.has(this.name(id))) {
          this.ptrSize = size;
          break;
        }
      }
    }
    return this.ptrSize;
  }

  /** Name of type `id` (empty for anonymous types). */
  name(id: number): string {
    return this.str(this.nameOff[id]!);
  }
}

/**
 * The checks libbpf makes when it loads BTF (names inside the string section, referenced types
 * in range, functions typed by prototypes), plus the one btf_dump makes when it starts: every
 * kind must be one it knows.
 */
function validateTypes(t: TypeTable): void {
  const { count, kind, nameOff, ref, vlen, first, elName, elType, elAux2 } = t;
  const strEnd = t.stringEnd;
  for (let id = 1; id < count; id++) {
    const k = kind[id]!;
    if (nameOff[id]! >= strEnd) badString(t, id, 'name', nameOff[id]!);
    const f = first[id]!;
    const end = f + vlen[id]!;
    switch (k) {
      case Kind.Int: case Kind.Fwd: case Kind.Float:
        break;
      case Kind.Ptr: case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
      case Kind.Var: case Kind.DeclTag: case Kind.TypeTag:
        if (ref[id]! >= count) badId(t, id, 'type', ref[id]!);
        break;
      case Kind.Array:
        if (elType[f]! >= count) badId(t, id, 'array element type', elType[f]!);
        if (elAux2[f]! >= count) badId(t, id, 'array index type', elAux2[f]!);
        break;
      case Kind.Struct: case Kind.Union:
        for (let e = f; e < end; e++) {
          if (elName[e]! >= strEnd) badString(t, id, 'member name', elName[e]!, e - f);
          if (elType[e]! >= count) badId(t, id, 'member', elType[e]!, e - f);
        }
        break;
      case Kind.Enum: case Kind.Enum64:
        for (let e = f; e < end; e++) {
          if (elName[e]! >= strEnd) badString(t, id, 'enumerator name', elName[e]!, e - f);
        }
        break;
      case Kind.Func:
        if (ref[id]! >= count) badId(t, id, 'function', ref[id]!);
        if (kind[ref[id]!] !== Kind.FuncProto) {
          throw new BtfError('bad-func', `function refers to type ${ref[id]}, which is not a FUNC_PROTO`, { typeId: id });
        }
        break;
      case Kind.FuncProto:
        if (ref[id]! >= count) badId(t, id, 'return type', ref[id]!);
        for (let e = f; e < end; e++) {
          if (elName[e]! >= strEnd) badString(t, id, 'parameter name', elName[e]!, e - f);
          if (elType[e]! >= count) badId(t, id, 'parameter', elType[e]!, e - f);
        }
        break;
      case Kind.Datasec:
        for (let e = f; e < end; e++) {
          if (elType[e]! >= count) badId(t, id, 'section variable', elType[e]!, e - f);
        }
        break;
      default:
        // libbpf's btf_dump refuses to start on a kind it cannot place in C.
        throw new BtfError('bad-kind', `kind ${k} has no C form (the C dump knows kinds 1 to 19)`, { typeId: id });
    }
  }
}

function badString(t: TypeTable, id: number, what: string, off: number, member?: number): never {
  throw new BtfError('bad-string-offset', `${what} at string offset ${off} lies outside the string section (${t.stringEnd} bytes)`, { typeId: id, member });
}

function badId(t: TypeTable, id: number, what: string, target: number, member?: number): never {
  throw new BtfError('bad-type-id', `${what} refers to type ${target}, but the last type id is ${t.count - 1}`, { typeId: id, member });
}

/**
 * Rejects cycles that do not pass through a struct, union, enum or forward declaration: a
 * pointer, modifier, typedef, array, tag or prototype that (eventually) refers to itself
 * describes no C type, and libbpf would recurse on it forever. Depth-first, on typed arrays.
 */
function checkReferenceLoops(t: TypeTable): void {
  const { count, kind } = t;
  // 0 unvisited, 1 on the current path, 2 done.
  const state = new Uint8Array(count);
  const stackId = new Int32Array(count);
  const stackNext = new Int32Array(count);
  for (let start = 1; start < count; start++) {
    if (state[start] !== 0 || !isLink(kind[start]!)) continue;
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
      if (target === 0 || !isLink(kind[target]!)) continue;
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
      return i === 0 ? t.elType[t.first[id]!]! : -1;
    case Kind.FuncProto:
      if (i === 0) return t.ref[id]!;
      return i <= t.vlen[id]! ? t.elType[t.first[id]! + i - 1]! : -1;
    default:
      return i === 0 ? t.ref[id]! : -1;
  }
}

/**
 * Copies the records of blob `b` (its type section as words `w`) into the table's columns,
 * elements from index `el` on; returns the next free element index. A separate function with
 * the columns in locals, which the JIT compiles far better than the constructor.
 */
function readRecords(t: TypeTable, b: Btf, w: Uint32Array, el: number): number {
  const { kind: kinds, kflag, nameOff, ref, vlen: vlens, first, extra, elName, elType, elAux, elAux2 } = t;
  const offsets = b.typeOffsets;
  const start = b.typeStart;
  const firstId = b.firstId;
  for (let i = 0; i < offsets.length; i++) {
    const id = firstId + i;
    // Word index of the record in the type section.
    const rec = (offsets[i]! - start) >>> 2;
    const info = w[rec + 1]!;
    const kind = (info >>> 24) & 0x7f;
    const vlen = info & 0xffffff;
    kinds[id] = kind;
    kflag[id] = info >>> 31;
    nameOff[id] = w[rec]!;
    ref[id] = w[rec + 2]!;
    vlens[id] = vlen;
    first[id] = el;
    const p = rec + 3;
    switch (kind) {
      case Kind.Int: case Kind.Var: case Kind.DeclTag:
        extra[id] = w[p]!;
        break;
      case Kind.Array:
        elType[el] = w[p]!;
        elAux2[el] = w[p + 1]!;
        elAux[el] = w[p + 2]!;
        el++;
        break;
      case Kind.Struct: case Kind.Union:
        for (let j = 0; j < vlen; j++, el++) {
          const m = p + j * 3;
          elName[el] = w[m]!;
          elType[el] = w[m + 1]!;
          elAux[el] = w[m + 2]!;
        }
        break;
      case Kind.Enum:
        for (let j = 0; j < vlen; j++, el++) {
          elName[el] = w[p + j * 2]!;
          elAux[el] = w[p + j * 2 + 1]!;
        }
        break;
      case Kind.Enum64:
        for (let j = 0; j < vlen; j++, el++) {
          const m = p + j * 3;
          elName[el] = w[m]!;
          elAux[el] = w[m + 1]!;
          elAux2[el] = w[m + 2]!;
        }
        break;
      case Kind.FuncProto:
        for (let j = 0; j < vlen; j++, el++) {
          elName[el] = w[p + j * 2]!;
          elType[el] = w[p + j * 2 + 1]!;
        }
        break;
      case Kind.Datasec:
        for (let j = 0; j < vlen; j++, el++) elType[el] = w[p + j * 3]!;
        break;
      default:
        break;
    }
  }
  return el;
}

/**
 * The type section as 32-bit words in host order: a view when the bytes allow it, else a copy
 * (unaligned blobs, or the other byte order).
 */
function typeWords(b: Btf): Uint32Array {
  const start = b.bytes.byteOffset + b.typeStart;
  const n = b.header.typeLen >>> 2;
  if (b.littleEndian === HOST_LITTLE_ENDIAN && start % 4 === 0) return new Uint32Array(b.bytes.buffer, start, n);
  const words = new Uint32Array(n);
  for (let i = 0; i < n; i++) words[i] = b.u32(b.typeStart + i * 4);
  return words;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;


const LONG_NAMES = new Set([
  'long', 'long int', 'int long', 'unsigned long', 'long unsigned', 'unsigned long int',
  'unsigned int long', 'long unsigned int', 'long int unsigned', 'int unsigned long', 'int long unsigned',
]);

/** How many elements the records of blob `b` hold (an array's descriptor counts as one). */
function countElements(b: Btf, w: Uint32Array): number {
  const offsets = b.typeOffsets;
  const start = b.typeStart;
  let elements = 0;
  for (let i = 0; i < offsets.length; i++) {
    const info = w[((offsets[i]! - start) >>> 2) + 1]!;
    const kind = (info >>> 24) & 0x7f;
    if (kind === Kind.Array) elements += 1;
    else if (hasElements(kind)) elements += info & 0xffffff;
  }
  return elements;
}

function hasElements(kind: number): boolean {
  return kind === Kind.Struct || kind === Kind.Union || kind === Kind.Enum || kind === Kind.Enum64
    || kind === Kind.FuncProto || kind === Kind.Datasec;
}

/** Kinds that only lead to other types; a cycle made of these alone is no C type. */
function isLink(kind: number): boolean {
  switch (kind) {
    case Kind.Ptr: case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
    case Kind.TypeTag: case Kind.DeclTag: case Kind.Array: case Kind.FuncProto:
      return true;
    default:
      return false;
  }
}
