import type { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { HEADER_LEN_LAYOUT, HEADER_LEN_V1, HOST_LITTLE_ENDIAN, writeHeader } from '../format/header.js';
import { Kind, KNOWN_LAYOUTS, MAX_KNOWN_KIND, MAX_VLEN, describeKind, kindName, type KindLayout } from '../format/kinds.js';
import {
  Rec, RECORD_SHAPES, encodeInfo, encodeIntData, encodeMemberOffset, enum64At, enumAt, infoKind, infoVlen, memberAt,
  paramAt, secinfoAt,
} from '../format/records.js';
import { KERNEL_MAX_BTF_BYTES, NEWEST_KNOWN_KERNEL, kernelRules, recordProblem, unsupported, type KernelRules } from '../format/kernels.js';
import { StringTable } from './strings.js';

/** Options for {@link BtfBuilder}. */
export interface BuilderOptions {
  /** Base BTF: the builder then writes split BTF whose ids and string offsets continue the base's. */
  base?: Btf;
  /**
   * An existing string section to start the string table from, kept byte for byte (see
   * {@link StringTable}). Seeding with a parsed blob's own string section is what lets
   * {@link BtfBuilder.addAll} copy its types verbatim.
   */
  strings?: Uint8Array;
  /**
   * Layout entries to write when encoding with a layout section, and to size records of kinds
   * above 19. Default: the base's layout, else the layout of the first blob copied from that
   * has one, else {@link KNOWN_LAYOUTS}.
   */
  layout?: readonly KindLayout[];
}

/** Options for {@link BtfBuilder.encode}. */
export interface EncodeOptions {
  /** Byte order of the output; default little-endian. The kernel only loads its native order. */
  endian?: 'little' | 'big';
  /**
   * Write the layout section (libbpf 1.8's format: a 32-byte header and one 4-byte
   * `{info_sz, elem_sz, flags}` entry per kind between the types and the strings). Default false,
   * which gives the classic 24-byte header every kernel and libbpf reads.
   */
  layout?: boolean;
  /**
   * Header length to write; default 24 without a layout section and 32 with one. Larger headers
   * are zero-padded (libbpf 1.8 writes 32 even without a layout section).
   */
  headerLength?: number;
  /**
   * The kernel the blob is for: `true` for every kernel btfkit knows (up to 6.18), or a release
   * (`'5.10'`, or what `uname -r` prints). Encoding then throws a {@link BtfError} with code
   * `unsupported`, naming the type and byte offset, rather than write what that kernel's
   * BPF_BTF_LOAD refuses: a layout section, vlen above 65535, a blob over 16 MiB, kinds above
   * ENUM64 or newer than the release, and the kind_flag uses, global FUNCs, 128-bit integers and
   * enum sizes the release lacks. Nothing is rewritten to fit, and names are not judged here
   * (`checkBtf` with `kernelVersion` gives the whole verdict). Default: no kernel, no refusal.
   */
  forKernel?: string | true;
}

/** A struct or union member. */
export interface MemberSpec {
  /** Member name; empty for anonymous members. */
  name: string;
  type: number;
  /** Offset from the start of the struct in bits. */
  bitOffset: number;
  /** Width of a bitfield in bits; absent or 0 for ordinary members. */
  bitfieldSize?: number;
}

export interface EnumValueSpec {
  name: string;
  value: number | bigint;
}

export interface ParamSpec {
  /** Parameter name; empty when unnamed. `{name: '', type: 0}` as the last parameter marks varargs. */
  name: string;
  type: number;
}

export interface VarSecinfoSpec {
  /** The VAR (or FUNC, for extern functions) placed in the section. */
  type: number;
  offset: number;
  size: number;
}

/** Options for copying types out of a parsed blob. */
export interface CopyOptions {
  /**
   * Re-add every name to this builder's string table instead of copying name offsets as they
   * are. Needed when the builder's strings are not a superset of the source's (it was not
   * seeded with them). Type ids are copied as they are either way.
   */
  remapStrings?: boolean;
}

const U32_MAX = 0xffffffff;
const HEADER_WORDS = Rec.TYPE_HEADER_SIZE / 4;
/** Word index, from a record's first word, of the field at byte `offset` of the record (src/format/records.ts). */
const wordAt = (offset: number) => offset >>> 2;

/** Where an unknown kind's payload came from: its field widths are unknown, so only the same order can be written. */
type PayloadOrder = 'little' | 'big' | 'words';

function swapWords(words: Uint32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const x = words[i]!;
    words[i] = ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
  }
}

function isU32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}

/** A builder argument that cannot be written as BTF. */
function bad(detail: string, member?: number): BtfError {
  return new BtfError('bad-argument', detail, member === undefined ? {} : { member });
}

function checkU32(what: string, n: unknown, member?: number): number {
  if (!isU32(n)) throw bad(`${what} must be an integer from 0 to ${U32_MAX}, got ${String(n)}`, member);
  return n;
}

/** Checks a type id argument; ids not added yet are allowed here and checked by {@link BtfBuilder.encode}. */
function checkRef(id: number, what: string, member?: number): void {
  if (!isU32(id)) throw bad(`${what} must be a type id (0 or more), got ${String(id)}`, member);
}

function checkCount(what: string, n: number): void {
  if (n > MAX_VLEN) throw bad(`${n} ${what} is more than the ${MAX_VLEN} a BTF type can hold`);
}

function firstLayout(btf: Btf | undefined): readonly KindLayout[] | undefined {
  for (let b = btf; b; b = b.base) if (b.layout) return b.layout;
  return undefined;
}

/**
 * Writes BTF: add types one by one (each `add*` returns the new type's id), then
 * {@link encode} the blob in either byte order, with or without the layout section.
 *
 * Arguments are checked as libbpf's `btf__add_*` functions check them, and bad ones throw a
 * {@link BtfError} with code `bad-input`. Type references may point forward (a struct member can
 * refer to a pointer added after the struct, which is how self-referencing types are built);
 * {@link encode} then checks that every referenced id exists.
 *
 * @example
 * ```ts
 * const b = new BtfBuilder();
 * const int = b.addInt('int', 4, IntEncoding.Signed);
 * const node = b.addStruct('node', 16, [
 *   { name: 'value', type: int, bitOffset: 0 },
 *   { name: 'next', type: b.nextId + 1, bitOffset: 64 },  // the pointer added next
 * ]);
 * b.addPtr(node);
 * const bytes = b.encode();            // little-endian, 24-byte header
 * Btf.parse(bytes).findOne('node');    // 2
 * ```
 */
export class BtfBuilder {
  /** Base BTF when building split BTF. */
  readonly base: Btf | undefined;
  /** The string table the encoded blob will carry. */
  readonly strings: StringTable;
  /** Id of the first type this builder adds: 1, or the base's end id. */
  readonly firstId: number;

  private words = new Uint32Array(1024);
  private wordLen = 0;
  private count = 0;
  private layoutEntries: readonly KindLayout[];
  private layoutChosen: boolean;
  /** Highest id referenced by a typed `add*`, and the type that referenced it; checked by {@link encode}. */
  private maxRef = 0;
  private maxRefFrom = 0;
  /** First record of an unknown kind per payload origin. */
  private readonly unknownKinds = new Map<PayloadOrder, { id: number; kind: number }>();

  constructor(opts: BuilderOptions = {}) {
    this.base = opts.base;
    this.firstId = opts.base ? opts.base.endId : 1;
    this.strings = new StringTable({ base: opts.base, seed: opts.strings });
    const inherited = opts.layout ?? firstLayout(opts.base);
    this.layoutEntries = inherited ?? KNOWN_LAYOUTS;
    this.layoutChosen = inherited !== undefined;
    if (opts.layout) this.checkLayoutEntries(opts.layout);
  }

  /** The id the next added type gets. */
  get nextId(): number {
    return this.firstId + this.count;
  }

  /** Number of types added so far. */
  get typeCount(): number {
    return this.count;
  }

  /** The layout entries an encode with `layout: true` writes. */
  get layout(): readonly KindLayout[] {
    return this.layoutEntries;
  }

  /** Offset of `s` in the string table, added if new. */
  addString(s: string): number {
    return this.strings.add(s);
  }

  // ---- typed records -------------------------------------------------------------------------

  /**
   * An INT. `encoding` is a mask of {@link IntEncoding} bits. `bits` defaults to the whole size;
   * `bitOffset` (legacy, always 0 in compiler output) defaults to 0.
   */
  addInt(name: string, size: number, encoding: number, opts: { bitOffset?: number; bits?: number } = {}): number {
    this.checkRequiredName('INT', name);
    if (!isU32(size) || size === 0 || size > 16 || (size & (size - 1)) !== 0) {
      throw bad(`INT size must be 1, 2, 4, 8 or 16 bytes, got ${String(size)}`);
    }
    if (!Number.isInteger(encoding) || encoding < 0 || encoding > 7) {
      throw bad(`INT encoding ${String(encoding)} is not a mask of SIGNED (1), CHAR (2) and BOOL (4)`);
    }
    const bits = opts.bits ?? size * 8;
    const bitOffset = opts.bitOffset ?? 0;
    if (!Number.isInteger(bits) || bits < 0 || bits > 128 || Math.ceil(bits / 8) > size) {
      throw bad(`INT bits ${String(bits)} does not fit in ${size} bytes (at most 128 bits)`);
    }
    if (!Number.isInteger(bitOffset) || bitOffset < 0 || bitOffset + bits > 128) {
      throw bad(`INT bit offset ${String(bitOffset)} plus ${bits} bits is more than 128`);
    }
    const r = this.begin(Kind.Int, this.strings.add(name), 0, false, size);
    this.words[r + wordAt(Rec.INT_DATA_OFF)] = encodeIntData(encoding, bitOffset, bits);
    return this.commit();
  }

  /** A FLOAT of 2, 4, 8, 12 or 16 bytes. */
  addFloat(name: string, size: number): number {
    this.checkRequiredName('FLOAT', name);
    if (size !== 2 && size !== 4 && size !== 8 && size !== 12 && size !== 16) {
      throw bad(`FLOAT size must be 2, 4, 8, 12 or 16 bytes, got ${String(size)}`);
    }
    this.begin(Kind.Float, this.strings.add(name), 0, false, size);
    return this.commit();
  }

  /** A pointer to `type` (0 for `void *`). */
  addPtr(type: number): number {
    return this.addRef(Kind.Ptr, '', type);
  }

  addTypedef(name: string, type: number): number {
    this.checkRequiredName('TYPEDEF', name);
    return this.addRef(Kind.Typedef, name, type);
  }

  addVolatile(type: number): number {
    return this.addRef(Kind.Volatile, '', type);
  }

  addConst(type: number): number {
    return this.addRef(Kind.Const, '', type);
  }

  addRestrict(type: number): number {
    return this.addRef(Kind.Restrict, '', type);
  }

  /**
   * A TYPE_TAG (`__attribute__((btf_type_tag(value)))`) on `type`; with `attribute` set, the
   * kind_flag marks it as a plain type attribute (libbpf's `btf__add_type_attr`).
   */
  addTypeTag(value: string, type: number, opts: { attribute?: boolean } = {}): number {
    this.checkRequiredName('TYPE_TAG', value);
    return this.addRef(Kind.TypeTag, value, type, opts.attribute === true);
  }

  /** An ARRAY of `length` elements of `elemType`, indexed by `indexType` (usually an INT). */
  addArray(elemType: number, indexType: number, length: number): number {
    checkRef(elemType, 'ARRAY element type');
    checkRef(indexType, 'ARRAY index type');
    checkU32('ARRAY length', length);
    const r = this.begin(Kind.Array, 0, 0, false, 0, Math.max(elemType, indexType));
    this.words[r + wordAt(Rec.ARRAY_TYPE_OFF)] = elemType;
    this.words[r + wordAt(Rec.ARRAY_INDEX_TYPE_OFF)] = indexType;
    this.words[r + wordAt(Rec.ARRAY_NELEMS_OFF)] = length;
    return this.commit();
  }

  /**
   * A STRUCT of `size` bytes. The kind_flag (bitfield sizes encoded in member offsets) is set
   * when any member is a bitfield, as libbpf does.
   */
  addStruct(name: string, size: number, members: readonly MemberSpec[]): number {
    return this.addComposite(Kind.Struct, name, size, members);
  }

  /** A UNION; every member sits at bit offset 0. */
  addUnion(name: string, size: number, members: readonly MemberSpec[]): number {
    return this.addComposite(Kind.Union, name, size, members);
  }

  /**
   * An ENUM of 1, 2, 4 or 8 bytes with 32-bit values. `signed` defaults to whether any value is
   * negative; values must fit a signed or unsigned 32-bit integer accordingly.
   */
  addEnum(name: string, size: number, values: readonly EnumValueSpec[], opts: { signed?: boolean } = {}): number {
    return this.addEnumCommon(Kind.Enum, name, size, values, opts.signed);
  }

  /** An ENUM64: like {@link addEnum} with 64-bit values (pass a `bigint` beyond 2^53). */
  addEnum64(name: string, size: number, values: readonly EnumValueSpec[], opts: { signed?: boolean } = {}): number {
    return this.addEnumCommon(Kind.Enum64, name, size, values, opts.signed);
  }

  /**
   * A forward declaration. Struct and union forwards are FWD (kind_flag set for unions); an
   * enum forward is an ENUM of 4 bytes with no values, as libbpf writes it.
   */
  addFwd(name: string, kind: 'struct' | 'union' | 'enum'): number {
    this.checkRequiredName('FWD', name);
    if (kind !== 'struct' && kind !== 'union' && kind !== 'enum') {
      throw bad(`forward declaration kind must be 'struct', 'union' or 'enum', got ${String(kind)}`);
    }
    const nameOff = this.strings.add(name);
    if (kind === 'enum') this.begin(Kind.Enum, nameOff, 0, false, 4);
    else this.begin(Kind.Fwd, nameOff, 0, kind === 'union', 0);
    return this.commit();
  }

  /** A FUNC of prototype `protoId` with {@link FuncLinkage} `linkage`. */
  addFunc(name: string, protoId: number, linkage: number): number {
    this.checkRequiredName('FUNC', name);
    if (linkage !== 0 && linkage !== 1 && linkage !== 2) {
      throw bad(`FUNC linkage must be 0 (static), 1 (global) or 2 (extern), got ${String(linkage)}`);
    }
    checkRef(protoId, 'FUNC prototype');
    this.begin(Kind.Func, this.strings.add(name), linkage, false, protoId, protoId);
    return this.commit();
  }

  /** A FUNC_PROTO returning `returnType` (0 for void). */
  addFuncProto(returnType: number, params: readonly ParamSpec[]): number {
    checkRef(returnType, 'FUNC_PROTO return type');
    checkCount('parameters', params.length);
    params.forEach((prm, i) => {
      checkRef(prm.type, 'parameter type', i);
      this.checkOptionalName(prm.name, i);
    });
    const names = params.map((prm) => this.strings.add(prm.name));
    const r = this.begin(Kind.FuncProto, 0, params.length, false, returnType, params.reduce((max, prm) => Math.max(max, prm.type), returnType));
    for (let i = 0; i < params.length; i++) {
      this.words[r + wordAt(paramAt(i) + Rec.PARAM_NAME_OFF)] = names[i]!;
      this.words[r + wordAt(paramAt(i) + Rec.PARAM_TYPE_OFF)] = params[i]!.type;
    }
    return this.commit();
  }

  /** A VAR of `type` with {@link VarLinkage} `linkage`. */
  addVar(name: string, type: number, linkage: number): number {
    this.checkRequiredName('VAR', name);
    if (linkage !== 0 && linkage !== 1 && linkage !== 2) {
      throw bad(`VAR linkage must be 0 (static), 1 (global) or 2 (extern), got ${String(linkage)}`);
    }
    checkRef(type, 'VAR type');
    const r = this.begin(Kind.Var, this.strings.add(name), 0, false, type, type);
    this.words[r + wordAt(Rec.VAR_LINKAGE_OFF)] = linkage;
    return this.commit();
  }

  /** A DATASEC (an ELF section such as `.data`) of `size` bytes holding `vars`. */
  addDatasec(name: string, size: number, vars: readonly VarSecinfoSpec[]): number {
    this.checkRequiredName('DATASEC', name);
    checkU32('DATASEC size', size);
    checkCount('variables', vars.length);
    vars.forEach((v, i) => {
      checkRef(v.type, 'DATASEC variable', i);
      checkU32('variable offset', v.offset, i);
      checkU32('variable size', v.size, i);
    });
    const r = this.begin(Kind.Datasec, this.strings.add(name), vars.length, false, size, vars.reduce((max, v) => Math.max(max, v.type), 0));
    for (let i = 0; i < vars.length; i++) {
      const v = vars[i]!;
      this.words[r + wordAt(secinfoAt(i) + Rec.SECINFO_TYPE_OFF)] = v.type;
      this.words[r + wordAt(secinfoAt(i) + Rec.SECINFO_OFFSET_OFF)] = v.offset;
      this.words[r + wordAt(secinfoAt(i) + Rec.SECINFO_SIZE_OFF)] = v.size;
    }
    return this.commit();
  }

  /**
   * A DECL_TAG (`btf_decl_tag(value)`) on `type`, or on its member / parameter number
   * `componentIndex` (-1 for the type itself). `attribute` sets the kind_flag (libbpf's
   * `btf__add_decl_attr`).
   */
  addDeclTag(value: string, type: number, componentIndex: number, opts: { attribute?: boolean } = {}): number {
    this.checkRequiredName('DECL_TAG', value);
    if (!Number.isInteger(componentIndex) || componentIndex < -1 || componentIndex > 0x7fffffff) {
      throw bad(`DECL_TAG component index must be -1 or a member/parameter index, got ${String(componentIndex)}`);
    }
    checkRef(type, 'DECL_TAG target');
    const r = this.begin(Kind.DeclTag, this.strings.add(value), 0, opts.attribute === true, type, type);
    this.words[r + wordAt(Rec.DECL_TAG_COMPONENT_IDX_OFF)] = componentIndex >>> 0;
    return this.commit();
  }

  // ---- raw records ---------------------------------------------------------------------------

  /**
   * Appends a record exactly as given: the three words of `struct btf_type` and `payload`, the
   * u32 words that follow it. Nothing but the field widths and the payload length is checked
   * (names and type ids are taken as they are), so this can also craft invalid BTF for tests.
   * The payload length must match the kind: {@link KNOWN_LAYOUTS} for kinds 1..19, the
   * builder's {@link layout} for any other kind.
   */
  addRecord(kind: number, nameOffset: number, vlen: number, kindFlag: boolean, sizeOrType: number, payload: ArrayLike<number> = []): number {
    if (!Number.isInteger(kind) || kind < 0 || kind > 0x7f) throw bad(`kind must be 0..127, got ${String(kind)}`);
    checkU32('name offset', nameOffset);
    if (!Number.isInteger(vlen) || vlen < 0 || vlen > MAX_VLEN) throw bad(`vlen must be 0..${MAX_VLEN}, got ${String(vlen)}`);
    checkU32('size/type', sizeOrType);
    const expected = this.recordBytes(kind, vlen) - Rec.TYPE_HEADER_SIZE;
    if (payload.length * 4 !== expected) {
      throw bad(`${describeKind(kind)} with vlen ${vlen} takes ${expected} bytes after the type header, got ${payload.length * 4}`);
    }
    for (let i = 0; i < payload.length; i++) checkU32('payload word', payload[i], i);
    const id = this.nextId;
    const r = this.begin(kind, nameOffset, vlen, kindFlag, sizeOrType);
    for (let i = 0; i < payload.length; i++) this.words[r + HEADER_WORDS + i] = payload[i]!;
    if (kind === 0 || kind > MAX_KNOWN_KIND) this.noteUnknown('words', id, kind);
    return this.commit();
  }

  /**
   * Copies type `id` of `btf` (its own or its base's) as it is. Type ids inside the record are
   * kept, so they must mean the same thing here; name offsets are kept too unless
   * `remapStrings` is set.
   */
  copyType(btf: Btf, id: number, opts: CopyOptions = {}): number {
    const owner = btf.owner(id);
    if (!owner) throw new BtfError('bad-type-id', `type ${id} does not exist in the source BTF (ids run from 1 to ${btf.endId - 1})`);
    if (!opts.remapStrings) this.checkVerbatimStrings(owner);
    this.adoptLayout(owner);
    const start = owner.recordOffset(id);
    const index = id - owner.firstId;
    const end = index + 1 < owner.typeOffsets.length ? owner.typeOffsets[index + 1]! : owner.typeStart + owner.header.typeLen;
    const info = owner.u32(start + Rec.INFO_OFF);
    const kind = infoKind(info);
    const payloadBytes = end - start - Rec.TYPE_HEADER_SIZE;
    const vlen = infoVlen(info);
    if (payloadBytes !== this.recordBytes(kind, vlen) - Rec.TYPE_HEADER_SIZE) {
      throw new BtfError('bad-layout', `${describeKind(kind)} records are sized differently in the source's layout and in this builder's`, { typeId: id });
    }
    const newId = this.nextId;
    this.reserve(payloadBytes / 4 + HEADER_WORDS);
    const p = this.wordLen;
    this.readWords(owner, start, end - start, p);
    this.wordLen += (end - start) / 4;
    if (opts.remapStrings) {
      try {
        this.remapRecordStrings(owner, p, kind, vlen);
      } catch (e) {
        this.wordLen = p;
        throw e;
      }
    }
    if (kind === 0 || kind > MAX_KNOWN_KIND) this.noteUnknown(owner.littleEndian ? 'little' : 'big', newId, kind);
    return this.commit();
  }

  /**
   * Copies every type of `btf` (its own types, not its base's) as they are: the fast path
   * behind {@link convertBtf}. Ids are kept, so the builder must be at the same id as the
   * blob's first type (for split BTF: built on the same base, and empty).
   */
  addAll(btf: Btf, opts: CopyOptions = {}): void {
    if (this.nextId !== btf.firstId) {
      throw bad(`copying types as they are needs the builder's next id (${this.nextId}) to equal the source's first id (${btf.firstId})`);
    }
    if (opts.remapStrings) {
      for (let id = btf.firstId; id < btf.endId; id++) this.copyType(btf, id, opts);
      return;
    }
    this.checkVerbatimStrings(btf);
    this.adoptLayout(btf);
    const bytes = btf.header.typeLen;
    this.reserve(bytes / 4);
    this.readWords(btf, btf.typeStart, bytes, this.wordLen);
    this.wordLen += bytes / 4;
    // Kind 0 and kinds above 19 can only be present when a layout section sizes them.
    if (firstLayout(btf)) {
      const order: PayloadOrder = btf.littleEndian ? 'little' : 'big';
      for (let i = 0; i < btf.typeOffsets.length; i++) {
        const kind = infoKind(btf.u32(btf.typeOffsets[i]! + Rec.INFO_OFF));
        if (kind === 0 || kind > MAX_KNOWN_KIND) this.noteUnknown(order, btf.firstId + i, kind);
      }
    }
    this.count += btf.ownTypeCount;
  }

  // ---- encoding ------------------------------------------------------------------------------

  /** The blob: header, types, the layout section if asked for, strings. */
  encode(opts: EncodeOptions = {}): Uint8Array {
    const endian = opts.endian ?? 'little';
    if (endian !== 'little' && endian !== 'big') throw bad(`endian must be 'little' or 'big', got ${String(endian)}`);
    const withLayout = opts.layout === true;
    const minHeader = withLayout ? HEADER_LEN_LAYOUT : HEADER_LEN_V1;
    const hdrLen = opts.headerLength ?? minHeader;
    if (!Number.isInteger(hdrLen) || hdrLen < minHeader || hdrLen % 4 !== 0 || hdrLen > 4096) {
      throw bad(`header length must be a multiple of 4 from ${minHeader} to 4096, got ${String(hdrLen)}`);
    }
    this.checkEncodable(endian, withLayout);
    const target = opts.forKernel === undefined ? undefined : kernelRules(opts.forKernel);
    if (target) this.checkForKernel(target, withLayout, hdrLen);

    const le = endian === 'little';
    const typeLen = this.wordLen * 4;
    const layoutLen = withLayout ? this.layoutEntries.length * 4 : 0;
    const strings = this.strings.bytes();
    if (target && hdrLen + typeLen + layoutLen + strings.length > KERNEL_MAX_BTF_BYTES) {
      throw unsupported(`the BTF would be ${hdrLen + typeLen + layoutLen + strings.length} bytes; BPF_BTF_LOAD in ${target.name} takes at most 16 MiB (${KERNEL_MAX_BTF_BYTES} bytes)`);
    }
    const out = new Uint8Array(hdrLen + typeLen + layoutLen + strings.length);
    const dv = new DataView(out.buffer);

    writeHeader(out, le, hdrLen, typeLen, layoutLen, strings.length);

    out.set(new Uint8Array(this.words.buffer, 0, typeLen), hdrLen);
    if (le !== HOST_LITTLE_ENDIAN) swapWords(new Uint32Array(out.buffer, hdrLen, this.wordLen), 0, this.wordLen);

    let p = hdrLen + typeLen;
    if (withLayout) {
      for (const l of this.layoutEntries) {
        out[p] = l.infoSize;
        out[p + 1] = l.elemSize;
        dv.setUint16(p + 2, l.flags, le);
        p += 4;
      }
    }
    out.set(strings, p);
    return out;
  }

  // ---- internals -----------------------------------------------------------------------------

  private addRef(kind: Kind, name: string, type: number, kindFlag = false): number {
    checkRef(type, 'referenced type');
    this.begin(kind, this.strings.add(name), 0, kindFlag, type, type);
    return this.commit();
  }

  private addComposite(kind: Kind.Struct | Kind.Union, name: string, size: number, members: readonly MemberSpec[]): number {
    const what = kind === Kind.Struct ? 'STRUCT' : 'UNION';
    this.checkOptionalName(name);
    checkU32(`${what} size`, size);
    checkCount('members', members.length);
    let kindFlag = false;
    members.forEach((m, i) => {
      checkRef(m.type, 'member type', i);
      checkU32('member bit offset', m.bitOffset, i);
      const bits = m.bitfieldSize ?? 0;
      if (!Number.isInteger(bits) || bits < 0 || bits > 255) throw bad(`bitfield size must be 0..255, got ${String(bits)}`, i);
      if (bits === 0 && m.bitOffset % 8 !== 0) throw bad(`member at bit offset ${m.bitOffset} is not byte-aligned, so it needs a bitfield size`, i);
      if (kind === Kind.Union && m.bitOffset !== 0) throw bad(`union members sit at bit offset 0, got ${m.bitOffset}`, i);
      this.checkOptionalName(m.name, i);
      if (bits > 0) kindFlag = true;
    });
    if (kindFlag) {
      members.forEach((m, i) => {
        if (m.bitOffset > 0xffffff) throw bad(`with bitfields, member bit offsets must be below 2^24, got ${m.bitOffset}`, i);
      });
    }
    const nameOff = this.strings.add(name);
    const names = members.map((m) => this.strings.add(m.name));
    const r = this.begin(kind, nameOff, members.length, kindFlag, size, members.reduce((max, m) => Math.max(max, m.type), 0));
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      this.words[r + wordAt(memberAt(i) + Rec.MEMBER_NAME_OFF)] = names[i]!;
      this.words[r + wordAt(memberAt(i) + Rec.MEMBER_TYPE_OFF)] = m.type;
      this.words[r + wordAt(memberAt(i) + Rec.MEMBER_OFFSET_OFF)] = encodeMemberOffset(m.bitOffset, m.bitfieldSize ?? 0, kindFlag);
    }
    return this.commit();
  }

  private addEnumCommon(kind: Kind.Enum | Kind.Enum64, name: string, size: number, values: readonly EnumValueSpec[], signedOpt: boolean | undefined): number {
    const what = kind === Kind.Enum ? 'ENUM' : 'ENUM64';
    this.checkOptionalName(name);
    if (!isU32(size) || size === 0 || size > 8 || (size & (size - 1)) !== 0) {
      throw bad(`${what} size must be 1, 2, 4 or 8 bytes, got ${String(size)}`);
    }
    checkCount('values', values.length);
    const big = values.map((v, i) => {
      if (typeof v.value === 'bigint') return v.value;
      if (typeof v.value === 'number' && Number.isInteger(v.value)) return BigInt(v.value);
      throw bad(`enum value must be an integer or a bigint, got ${String(v.value)}`, i);
    });
    const signed = signedOpt ?? big.some((v) => v < 0n);
    const width = kind === Kind.Enum ? 32 : 64;
    const [lo, hi] = signed ? [-(1n << BigInt(width - 1)), (1n << BigInt(width - 1)) - 1n] : [0n, (1n << BigInt(width)) - 1n];
    big.forEach((v, i) => {
      if (v < lo || v > hi) throw bad(`value ${v} of ${values[i]!.name} does not fit a ${signed ? 'signed' : 'unsigned'} ${width}-bit ${what}`, i);
    });
    values.forEach((v, i) => this.checkRequiredName('enum value', v.name, i));
    const nameOff = this.strings.add(name);
    const names = values.map((v) => this.strings.add(v.name));
    const r = this.begin(kind, nameOff, values.length, signed, size);
    for (let i = 0; i < values.length; i++) {
      const bits = BigInt.asUintN(64, big[i]!);
      if (kind === Kind.Enum) {
        this.words[r + wordAt(enumAt(i) + Rec.ENUM_NAME_OFF)] = names[i]!;
        this.words[r + wordAt(enumAt(i) + Rec.ENUM_VAL_OFF)] = Number(bits & 0xffffffffn);
      } else {
        this.words[r + wordAt(enum64At(i) + Rec.ENUM64_NAME_OFF)] = names[i]!;
        this.words[r + wordAt(enum64At(i) + Rec.ENUM64_VAL_LO_OFF)] = Number(bits & 0xffffffffn);
        this.words[r + wordAt(enum64At(i) + Rec.ENUM64_VAL_HI_OFF)] = Number(bits >> 32n);
      }
    }
    return this.commit();
  }

  // Names are checked before anything is added, so a rejected call leaves no stray strings.
  private checkRequiredName(what: string, name: string, member?: number): void {
    if (typeof name !== 'string' || name === '') throw bad(`${what} needs a non-empty name`, member);
    this.checkOptionalName(name, member);
  }

  private checkOptionalName(name: string, member?: number): void {
    if (typeof name !== 'string') throw bad(`name must be a string, got ${String(name)}`, member);
    if (name.includes('\0')) throw bad(`name ${JSON.stringify(name)} contains a NUL character`, member);
  }

  private noteUnknown(order: PayloadOrder, id: number, kind: number): void {
    if (!this.unknownKinds.has(order)) this.unknownKinds.set(order, { id, kind });
  }

  /**
   * Reserves a record and writes its header; returns the word index of its first word. Called
   * once every argument has been checked, so `maxRef` (the highest type id the record refers
   * to) is only remembered for records that are really added.
   */
  private begin(kind: number, nameOff: number, vlen: number, kindFlag: boolean, sizeOrType: number, maxRef = 0): number {
    const payloadWords = wordAt(this.recordBytes(kind, vlen) - Rec.TYPE_HEADER_SIZE);
    if (maxRef > this.maxRef) {
      this.maxRef = maxRef;
      this.maxRefFrom = this.nextId;
    }
    this.reserve(HEADER_WORDS + payloadWords);
    const p = this.wordLen;
    const w = this.words;
    w[p + wordAt(Rec.NAME_OFF)] = nameOff;
    w[p + wordAt(Rec.INFO_OFF)] = encodeInfo(kind, vlen, kindFlag);
    w[p + wordAt(Rec.SIZE_OR_TYPE_OFF)] = sizeOrType;
    w.fill(0, p + HEADER_WORDS, p + HEADER_WORDS + payloadWords);
    this.wordLen = p + HEADER_WORDS + payloadWords;
    return p;
  }

  private commit(): number {
    return this.firstId + this.count++;
  }

  private reserve(words: number): void {
    const need = this.wordLen + words;
    if (need <= this.words.length) return;
    if (need * 4 > U32_MAX) throw new BtfError('limit', 'type section would exceed 4 GiB');
    const grown = new Uint32Array(Math.max(need, this.words.length * 2));
    grown.set(this.words.subarray(0, this.wordLen));
    this.words = grown;
  }

  /** Copies `byteLen` bytes of type records from `btf` into the word buffer at word `at`, in host order. */
  private readWords(btf: Btf, start: number, byteLen: number, at: number): void {
    new Uint8Array(this.words.buffer, at * 4, byteLen).set(btf.bytes.subarray(start, start + byteLen));
    if (btf.littleEndian !== HOST_LITTLE_ENDIAN) swapWords(this.words, at, at + byteLen / 4);
  }

  /** Size of a whole record of `kind` with `vlen` elements; throws for kinds no layout describes. */
  private recordBytes(kind: number, vlen: number): number {
    const l = kind !== 0 && kind <= MAX_KNOWN_KIND ? KNOWN_LAYOUTS[kind]! : this.layoutEntries[kind];
    if (!l) {
      throw new BtfError('bad-kind', `the builder's layout describes only kinds 0..${this.layoutEntries.length - 1}, not ${describeKind(kind)}`);
    }
    return Rec.TYPE_HEADER_SIZE + l.infoSize + vlen * l.elemSize;
  }

  private checkVerbatimStrings(btf: Btf): void {
    if (btf.endStringOffset > this.strings.endOffset || btf.firstStringOffset !== this.strings.firstOffset) {
      throw bad(
        `the source's strings (offsets ${btf.firstStringOffset}..${btf.endStringOffset}) are not this builder's ` +
        `(${this.strings.firstOffset}..${this.strings.endOffset}): seed the builder with the source's string section, or copy with remapStrings`,
      );
    }
  }

  /** Takes the source's layout entries when the builder has none of its own yet. */
  private adoptLayout(btf: Btf): void {
    if (this.layoutChosen || !btf.layout) return;
    this.checkLayoutEntries(btf.layout);
    this.layoutEntries = btf.layout;
    this.layoutChosen = true;
  }

  private checkLayoutEntries(layout: readonly KindLayout[]): void {
    if (layout.length > 0x7f + 1) throw bad(`layout has ${layout.length} entries; kinds only go up to 127`);
    layout.forEach((l, kind) => {
      if (!Number.isInteger(l.infoSize) || l.infoSize < 0 || l.infoSize > 255 || l.infoSize % 4 !== 0 ||
          !Number.isInteger(l.elemSize) || l.elemSize < 0 || l.elemSize > 255 || l.elemSize % 4 !== 0 ||
          !Number.isInteger(l.flags) || l.flags < 0 || l.flags > 0xffff) {
        throw new BtfError('bad-layout', `the layout entry for ${describeKind(kind)} must have info_sz and elem_sz that are multiples of 4 below 256 and a 16-bit flags field`);
      }
    });
  }

  /** Rewrites every name offset of the record at word `r` (as the descriptor table places them) to this builder's strings. */
  private remapRecordStrings(src: Btf, r: number, kind: number, vlen: number): void {
    const w = this.words;
    const shape = RECORD_SHAPES[kind];
    const remap = (word: number) => { w[word] = this.remapString(src, w[word]!); };
    if (!shape) {
      remap(r + wordAt(Rec.NAME_OFF));
      return;
    }
    for (const f of shape.fixed) if (f.holds === 'name') remap(r + wordAt(f.at));
    const names = shape.element.filter((f) => f.holds === 'name');
    if (names.length === 0) return;
    for (let i = 0, e = Rec.TYPE_HEADER_SIZE + shape.infoSize; i < vlen; i++, e += shape.elemSize) {
      for (const f of names) remap(r + wordAt(e + f.at));
    }
  }

  private remapString(src: Btf, off: number): number {
    if (off === 0) return 0;
    const loc = src.locateString(off);
    if (!loc) throw new BtfError('bad-string-offset', `name offset ${off} is outside the source's string sections`);
    const bytes = loc.btf.bytes;
    return this.strings.addBytes(bytes.subarray(loc.pos, bytes.indexOf(0, loc.pos)));
  }

  /** Refuses what `target` cannot read; records are still in host order in `words`. */
  private checkForKernel(target: KernelRules, withLayout: boolean, hdrLen: number): void {
    if (withLayout) {
      throw unsupported(`a layout section was asked for, but ${target.name} read only the 24-byte header (E2BIG, "Unsupported btf_header"): encode without layout`, undefined, 24);
    }
    const w = this.words;
    for (let p = 0, id = this.firstId; p < this.wordLen; id++) {
      const info = w[p + wordAt(Rec.INFO_OFF)]!;
      const kind = infoKind(info);
      const vlen = infoVlen(info);
      if (kind === 0 || kind > MAX_KNOWN_KIND) {
        throw unsupported(`kind ${kind} is not a kind any kernel up to ${NEWEST_KNOWN_KERNEL} knows (the last is ${MAX_KNOWN_KIND}, ENUM64)`, id, hdrLen + p * 4 + Rec.INFO_OFF);
      }
      const problem = recordProblem(target, kind, info, w[p + wordAt(Rec.SIZE_OR_TYPE_OFF)]!, kind === Kind.Int ? w[p + wordAt(Rec.INT_DATA_OFF)]! : 0, () => kindName(kind));
      if (problem) throw unsupported(problem.detail, id, hdrLen + p * 4 + problem.field);
      p += this.recordBytes(kind, vlen) / 4;
    }
  }

  private checkEncodable(endian: 'little' | 'big', withLayout: boolean): void {
    if (this.maxRef >= this.nextId) {
      throw new BtfError('bad-type-id', `refers to type ${this.maxRef}, but the last type is ${this.nextId - 1}`, { typeId: this.maxRefFrom });
    }
    for (const [order, at] of this.unknownKinds) {
      if (order !== 'words' && order !== endian) {
        throw new BtfError('bad-kind', `the payload of a record of ${describeKind(at.kind)} cannot be converted from ${order}-endian to ${endian}-endian: its field widths are unknown`, { typeId: at.id });
      }
      if (!withLayout && !firstLayout(this.base)) {
        throw new BtfError('bad-kind', `no reader could size a record of ${describeKind(at.kind)} without a layout section (own or the base's): encode with layout: true`, { typeId: at.id });
      }
    }
  }
}
