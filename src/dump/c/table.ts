import type { Btf } from '../../btf/btf.js';
import { BtfError } from '../../errors.js';
import { TYPE_HEADER_SIZE } from '../../format/kinds.js';
import { WireKind as Kind } from '../../format/kinds.js';

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
   * 1 for the types some other type refers to (libbpf's mark of referenced types: an anonymous
   * enum nobody refers to is a top-level bag of constants). Marked while the records are read.
   */
  readonly referenced: Uint8Array;

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
    this.referenced = new Uint8Array(count);

    const words = chain.map(typeWords);
    // Every element takes at least 8 bytes of a record beyond its 12-byte header, which bounds
    // their number without a pass over the records just to count them (real BTF: about 1.2x).
    let elements = 0;
    for (const b of chain) elements += Math.max(0, Math.floor((b.header.typeLen - TYPE_HEADER_SIZE * b.ownTypeCount) / 8));
    this.elName = new Uint32Array(elements);
    this.elType = new Uint32Array(elements);
    this.elAux = new Uint32Array(elements);
    this.elAux2 = new Uint32Array(elements);

    let el = 0;
    for (let c = 0; c < chain.length; c++) el = readRecords(this, chain[c]!, words[c]!, el);
    if (el > elements) {
      // Cannot happen while records are sized by KNOWN_LAYOUTS; stop rather than read past the columns.
      throw new BtfError('truncated', `records hold ${el} members, values and parameters, more than the type section has room for (${elements})`);
    }
    this.first[count] = el;
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
  const { count, kind, ref, first, elType } = t;
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
      const target = k === Kind.Array ? elType[first[start]!]! : ref[start]!;
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
 * elements from index `el` on, and makes the checks libbpf makes when it loads BTF (names
 * inside the string section, referenced types in range) plus the one btf_dump makes when it
 * starts: every kind must be one it knows. Returns the next free element index.
 *
 * Checking while copying saves a second pass over every type; the check that a function is
 * typed by a prototype needs the target's kind, which may come later, so it waits for
 * {@link checkReferences}. A separate function with the columns in locals, which the JIT
 * compiles far better than the constructor. (One loop per kind was tried: each loop then
 * waits for its own compilation, which costs more than the recompilations this one meets.)
 */
function readRecords(t: TypeTable, b: Btf, w: Uint32Array, el: number): number {
  const { kind: kinds, kflag, nameOff, ref, vlen: vlens, first, extra, elName, elType, elAux, elAux2, referenced } = t;
  const count = t.count;
  const strEnd = t.stringEnd;
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
    const name = w[rec]!;
    const sizeOrType = w[rec + 2]!;
    if (name >= strEnd) badString(t, id, 'name', name);
    kinds[id] = kind;
    kflag[id] = info >>> 31;
    nameOff[id] = name;
    ref[id] = sizeOrType;
    vlens[id] = vlen;
    first[id] = el;
    const p = rec + 3;
    switch (kind) {
      case Kind.Int:
        extra[id] = w[p]!;
        break;
      case Kind.Fwd: case Kind.Float:
        break;
      case Kind.Var: case Kind.DeclTag:
        extra[id] = w[p]!;
        if (sizeOrType >= count) badId(t, id, 'type', sizeOrType);
        referenced[sizeOrType] = 1;
        break;
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
        const type = w[p]!;
        const index = w[p + 1]!;
        if (type >= count) badId(t, id, 'array element type', type);
        if (index >= count) badId(t, id, 'array index type', index);
        referenced[type] = 1;
        referenced[index] = 1;
        elType[el] = type;
        elAux2[el] = index;
        elAux[el] = w[p + 2]!;
        el++;
        break;
      }
      case Kind.Struct: case Kind.Union:
        for (let j = 0; j < vlen; j++, el++) {
          const m = p + j * 3;
          const memberName = w[m]!;
          const type = w[m + 1]!;
          if (memberName >= strEnd) badString(t, id, 'member name', memberName, j);
          if (type >= count) badId(t, id, 'member', type, j);
          referenced[type] = 1;
          elName[el] = memberName;
          elType[el] = type;
          elAux[el] = w[m + 2]!;
        }
        break;
      case Kind.Enum:
        for (let j = 0; j < vlen; j++, el++) {
          const valueName = w[p + j * 2]!;
          if (valueName >= strEnd) badString(t, id, 'enumerator name', valueName, j);
          elName[el] = valueName;
          elAux[el] = w[p + j * 2 + 1]!;
        }
        break;
      case Kind.Enum64:
        for (let j = 0; j < vlen; j++, el++) {
          const m = p + j * 3;
          const valueName = w[m]!;
          if (valueName >= strEnd) badString(t, id, 'enumerator name', valueName, j);
          elName[el] = valueName;
          elAux[el] = w[m + 1]!;
          elAux2[el] = w[m + 2]!;
        }
        break;
      case Kind.FuncProto:
        if (sizeOrType >= count) badId(t, id, 'return type', sizeOrType);
        for (let j = 0; j < vlen; j++, el++) {
          const paramName = w[p + j * 2]!;
          const type = w[p + j * 2 + 1]!;
          if (paramName >= strEnd) badString(t, id, 'parameter name', paramName, j);
          if (type >= count) badId(t, id, 'parameter', type, j);
          // The return type is not marked: libbpf marks only what parameters refer to.
          referenced[type] = 1;
          elName[el] = paramName;
          elType[el] = type;
        }
        break;
      case Kind.Datasec:
        for (let j = 0; j < vlen; j++, el++) {
          const type = w[p + j * 3]!;
          if (type >= count) badId(t, id, 'section variable', type, j);
          referenced[type] = 1;
          elType[el] = type;
        }
        break;
      default:
        // libbpf's btf_dump refuses to start on a kind it cannot place in C.
        throw new BtfError('bad-kind', `kind ${kind} has no C form (the C dump knows kinds 1 to 19)`, { typeId: id });
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

/** 1 for the kinds that only lead to other types; a cycle made of these alone is no C type. */
const IS_LINK = new Uint8Array(256);
for (const k of [Kind.Ptr, Kind.Typedef, Kind.Volatile, Kind.Const, Kind.Restrict, Kind.TypeTag, Kind.DeclTag, Kind.Array, Kind.FuncProto]) {
  IS_LINK[k] = 1;
}
