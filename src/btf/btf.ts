import { BtfError } from '../errors.js';
import { HOST_LITTLE_ENDIAN, parseHeader, type BtfHeader } from '../format/header.js';
import { Kind, KNOWN_LAYOUTS, MAX_KNOWN_KIND, MAX_NAME_OFFSET, describeKind, type KindLayout } from '../format/kinds.js';
import { parseLayoutSection } from '../format/layout.js';
import { Rec } from '../format/records.js';
import { alignOf, pointerSize, sizeOf, skipModsAndTypedefs } from './query.js';
import { readType, type BtfType } from './types.js';
import { locateField, type FieldLocation } from './fields.js';
import { findEnumerators, type EnumeratorMatch } from './enumerators.js';

/** Options for {@link Btf.types}. */
export interface TypesOptions {
  /**
   * For split BTF: start at id 1 and include the base chain's types before this blob's own,
   * so the iteration covers every id the blob can refer to. Without it, only this blob's own
   * types (from {@link Btf.firstId}) are visited.
   */
  withBase?: boolean;
}

/** Options for {@link Btf.parse}. */
export interface ParseOptions {
  /** Base BTF for split BTF (a module's `.BTF`): ids and string offsets continue the base's. */
  base?: Btf;
  /** Where the bytes came from, for error messages. */
  file?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

interface NameIndex {
  /** First index (id - firstId) of each hash bucket, -1 when empty. */
  head: Int32Array;
  /** Next index in the same bucket, -1 at the end. */
  next: Int32Array;
  mask: number;
}

/** FNV-1a over `b[start, end)`. */
function hashBytes(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function equalBytes(b: Uint8Array, pos: number, key: Uint8Array): boolean {
  for (let i = 0; i < key.length; i++) if (b[pos + i] !== key[i]) return false;
  return true;
}

export { MAX_RESOLVE_DEPTH } from './query.js';

/**
 * A parsed BTF blob. The raw bytes stay as they are; an index of type offsets (a `Uint32Array`)
 * gives O(1) access to each type record, and strings are decoded only when asked for.
 *
 * Ids are global: in split BTF, ids below {@link firstId} and string offsets below
 * {@link firstStringOffset} belong to the base, and every accessor follows them there.
 *
 * @example
 * ```ts
 * const btf = Btf.parse(bytes);
 * const task = btf.findOne('task_struct', Kind.Struct);
 * console.log(btf.sizeof(task));
 * ```
 */
export class Btf {
  /** The blob, header included. */
  readonly bytes: Uint8Array;
  readonly header: BtfHeader;
  readonly littleEndian: boolean;
  readonly base: Btf | undefined;
  /** First type id held by this blob: 1 for base BTF, the base's {@link endId} for split BTF. */
  readonly firstId: number;
  /** One past the last visible type id (libbpf's `btf__type_cnt`). */
  readonly endId: number;
  /** First string offset held by this blob (0 for base BTF). */
  readonly firstStringOffset: number;
  /** One past the last visible string offset. */
  readonly endStringOffset: number;
  /** Absolute byte offset of the type section and string section in {@link bytes}. */
  readonly typeStart: number;
  readonly stringStart: number;
  /** The layout section, when the blob has one. */
  readonly layout: readonly KindLayout[] | undefined;
  /** Offsets into {@link bytes} of this blob's own type records, index `id - firstId`. */
  readonly typeOffsets: Uint32Array;
  readonly file: string | undefined;
  /** @internal */ readonly dv: DataView;

  private nameIndex: NameIndex | undefined;
  private stringCache = new Map<number, string>();

  private constructor(bytes: Uint8Array, opts: ParseOptions) {
    try {
      this.bytes = bytes;
      this.file = opts.file;
      this.base = opts.base;
      const { header, littleEndian } = parseHeader(bytes);
      this.header = header;
      this.littleEndian = littleEndian;
      this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.typeStart = header.hdrLen + header.typeOff;
      this.stringStart = header.hdrLen + header.strOff;
      this.layout = header.layoutLen
        ? parseLayoutSection(this.dv, header.hdrLen + header.layoutOff, header.layoutLen, littleEndian)
        : undefined;
      this.firstId = opts.base ? opts.base.endId : 1;
      this.firstStringOffset = opts.base ? opts.base.endStringOffset : 0;
      this.endStringOffset = this.firstStringOffset + header.strLen;
      this.checkStrings();
      this.typeOffsets = this.indexTypes();
      this.endId = this.firstId + this.typeOffsets.length;
    } catch (e) {
      if (e instanceof BtfError && opts.file !== undefined && e.file === undefined) throw e.inFile(opts.file);
      throw e;
    }
  }

  /**
   * Parses a blob: header, sections, string section framing and the type index. Throws a
   * {@link BtfError} for anything that would make reading unsafe; deeper semantic checks are
   * {@link checkBtf}'s job.
   */
  static parse(bytes: Uint8Array, opts: ParseOptions = {}): Btf {
    return new Btf(bytes, opts);
  }

  private checkStrings(): void {
    const { strLen } = this.header;
    const s = this.stringStart;
    if (strLen === 0) {
      if (this.base) return;
      throw new BtfError('bad-strings', 'string section is empty; base BTF needs at least the empty string at offset 0', { offset: 16 });
    }
    if (strLen - 1 > MAX_NAME_OFFSET) {
      throw new BtfError('bad-strings', `string section is ${strLen} bytes, over the ${MAX_NAME_OFFSET + 1}-byte limit`, { offset: 20 });
    }
    if (this.bytes[s + strLen - 1] !== 0) {
      throw new BtfError('bad-strings', 'string section does not end with a NUL byte', { offset: s + strLen - 1 });
    }
    if (!this.base && this.bytes[s] !== 0) {
      throw new BtfError('bad-strings', 'string section does not start with the empty string: this looks like split BTF (a module\'s), which must be read on its base (the `base` option)', { offset: s });
    }
  }

  private indexTypes(): Uint32Array {
    const { typeLen } = this.header;
    const le = this.littleEndian;
    const dv = this.dv;
    const start = this.typeStart;
    const end = start + typeLen;
    // Every record is at least 12 bytes, so this bounds the index by the input size.
    const offsets = new Uint32Array(Math.floor(typeLen / Rec.TYPE_HEADER_SIZE));
    const n = this.recordStarts(offsets, dv, le, start, end);
    return offsets.slice(0, n);
  }

  /**
   * Fills `offsets` with where each record starts; returns how many. Its own function, with
   * nothing after the loop: V8 compiles the loop while parsing the first (large) blob, and code
   * after it that had not run yet then sent every later parse back to the interpreter.
   */
  private recordStarts(offsets: Uint32Array, dv: DataView, le: boolean, start: number, end: number): number {
    let n = 0;
    let p = start;
    while (p < end) {
      const id = this.firstId + n;
      if (p + Rec.TYPE_HEADER_SIZE > end) {
        throw new BtfError('truncated', `type record needs ${Rec.TYPE_HEADER_SIZE} bytes but the type section has ${end - p} left`, { typeId: id, offset: p });
      }
      // Decoded inline, as every accessor here: these run for every record (see records.ts).
      const info = dv.getUint32(p + Rec.INFO_OFF, le);
      const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
      const vlen = info & Rec.INFO_VLEN_MASK;
      let size: number;
      if (kind !== 0 && kind <= MAX_KNOWN_KIND) {
        const l = KNOWN_LAYOUTS[kind]!;
        size = Rec.TYPE_HEADER_SIZE + l.infoSize + vlen * l.elemSize;
      } else {
        size = this.unknownKindSize(kind, vlen, id, p);
      }
      if (size > end - p) {
        throw new BtfError('truncated', `${describeKind(kind)} record with vlen ${vlen} needs ${size} bytes but the type section has ${end - p} left`, { typeId: id, offset: p });
      }
      offsets[n++] = p;
      p += size;
    }
    return n;
  }

  private unknownKindSize(kind: number, vlen: number, id: number, at: number): number {
    const layout = this.layout ?? this.baseLayout();
    if (!layout) {
      throw new BtfError('bad-kind', `no layout section to size a record of ${describeKind(kind)}`, { typeId: id, offset: at });
    }
    const l = layout[kind];
    if (!l) {
      throw new BtfError('bad-kind', `the layout section describes only kinds 0..${layout.length - 1}, not ${describeKind(kind)}`, { typeId: id, offset: at });
    }
    if (l.infoSize % 4 !== 0 || l.elemSize % 4 !== 0) {
      throw new BtfError('bad-layout', `the layout entry for ${describeKind(kind)} has info_sz ${l.infoSize} / elem_sz ${l.elemSize}, which must be multiples of 4`, { typeId: id, offset: at });
    }
    return Rec.TYPE_HEADER_SIZE + l.infoSize + vlen * l.elemSize;
  }

  private baseLayout(): readonly KindLayout[] | undefined {
    for (let b = this.base; b; b = b.base) if (b.layout) return b.layout;
    return undefined;
  }

  /** Number of types this blob holds itself (not counting its base). */
  get ownTypeCount(): number {
    return this.typeOffsets.length;
  }

  /** True when this is split BTF on a base. */
  get isSplit(): boolean {
    return this.base !== undefined;
  }

  /** The blob that holds type `id` (this one or a base); undefined for void and out-of-range ids. */
  owner(id: number): Btf | undefined {
    if (id >= this.firstId) return id < this.endId ? this : undefined;
    return id > 0 ? this.base?.owner(id) : undefined;
  }

  /** True when `id` names a real type (void, id 0, is not one). */
  has(id: number): boolean {
    return id > 0 && id < this.endId;
  }

  /**
   * Absolute offset of type `id`'s record in its owner's bytes. Throws for ids that do not exist.
   * @internal
   */
  recordOffset(id: number): number {
    if (id >= this.firstId) {
      const off = this.typeOffsets[id - this.firstId];
      if (off === undefined) throw new BtfError('bad-type-id', `type id ${id} is out of range (last id is ${this.endId - 1})`);
      return off;
    }
    if (this.base && id > 0) return this.base.recordOffset(id);
    throw new BtfError('bad-type-id', `type id ${id} is out of range`);
  }

  /** @internal Reads a u32 from this blob's own bytes in its byte order. */
  u32(off: number): number {
    return this.dv.getUint32(off, this.littleEndian);
  }

  /** @internal Reads an i32. */
  i32(off: number): number {
    return this.dv.getInt32(off, this.littleEndian);
  }

  private own(id: number): Btf {
    const o = this.owner(id);
    if (!o) throw new BtfError('bad-type-id', `type id ${id} does not exist (ids run from 1 to ${this.endId - 1})`);
    return o;
  }

  /** The `info` word of type `id`. Void (id 0) has info 0. */
  info(id: number): number {
    if (id === 0) return 0;
    const o = this.own(id);
    return o.u32(o.recordOffset(id) + Rec.INFO_OFF);
  }

  /**
   * Kind of type `id` as the record's wire number: {@link Kind.Void} (0) for void, and the raw
   * number for kinds btfkit does not know (typed views report those as {@link Kind.Unknown}).
   */
  kind(id: number): Kind {
    return ((this.info(id) >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK) as Kind;
  }

  /** Element count of type `id` (members, values, parameters, variables). */
  vlen(id: number): number {
    return this.info(id) & Rec.INFO_VLEN_MASK;
  }

  /** The kind_flag bit of type `id`. */
  kindFlag(id: number): boolean {
    return this.info(id) >>> Rec.INFO_KIND_FLAG_SHIFT === 1;
  }

  /** The `name_off` of type `id`. */
  nameOffset(id: number): number {
    if (id === 0) return 0;
    const o = this.own(id);
    return o.u32(o.recordOffset(id) + Rec.NAME_OFF);
  }

  /** The `size`/`type` word of type `id`. */
  sizeOrType(id: number): number {
    if (id === 0) return 0;
    const o = this.own(id);
    return o.u32(o.recordOffset(id) + Rec.SIZE_OR_TYPE_OFF);
  }

  /** Name of type `id`; empty for anonymous types and void. */
  name(id: number): string {
    return this.str(this.nameOffset(id)) ?? '';
  }

  /**
   * Where string `off` starts: the blob that holds it and the absolute byte position in its
   * bytes, or undefined when the offset is outside every string section.
   */
  locateString(off: number): { btf: Btf; pos: number } | undefined {
    if (off >= this.firstStringOffset) {
      if (off >= this.endStringOffset) return undefined;
      return { btf: this, pos: this.stringStart + off - this.firstStringOffset };
    }
    return this.base?.locateString(off);
  }

  /** The string at offset `off`, or undefined when the offset lies outside the string sections. */
  str(off: number): string | undefined {
    if (off === 0) return '';
    if (off < this.firstStringOffset) return this.base?.str(off);
    if (off >= this.endStringOffset) return undefined;
    let s = this.stringCache.get(off);
    if (s === undefined) {
      s = this.decodeAt(this.stringStart + off - this.firstStringOffset);
      this.stringCache.set(off, s);
    }
    return s;
  }

  /** Decodes the NUL-terminated string at absolute position `start`; ASCII (nearly every BTF name) skips TextDecoder. */
  private decodeAt(start: number): string {
    const b = this.bytes;
    let s = '';
    for (let i = start; ; i++) {
      const c = b[i]!;
      if (c === 0) return s;
      if (c >= 0x80 || i - start > 256) return utf8.decode(b.subarray(start, b.indexOf(0, start)));
      s += String.fromCharCode(c);
    }
  }

  /** A typed view of type `id`. Views are plain objects, made on each call. */
  type(id: number): BtfType {
    if (id !== 0 && !this.has(id)) {
      throw new BtfError('bad-type-id', `type id ${id} does not exist (ids run from 1 to ${this.endId - 1})`);
    }
    return readType(this, id);
  }

  /**
   * Typed views in id order: this blob's own types, or with `withBase` those of its base chain
   * first (split BTF). Void (id 0) is never included.
   *
   * @example
   * ```ts
   * const mod = Btf.parse(moduleBytes, { base: vmlinux });
   * for (const t of mod.types({ withBase: true })) if (t.kind === Kind.Struct) count++;
   * ```
   */
  *types(opts: TypesOptions = {}): IterableIterator<BtfType> {
    for (let id = opts.withBase ? 1 : this.firstId; id < this.endId; id++) yield readType(this, id);
  }

  /** All ids whose name is `name` (in the base too, for split BTF), optionally of one kind, in id order. */
  find(name: string, kind?: Kind): number[] {
    const ids = this.base ? this.base.find(name, kind) : [];
    if (name === '') return ids;
    const index = (this.nameIndex ??= this.buildNameIndex());
    const key = utf8Encoder.encode(name);
    const own: number[] = [];
    for (let i = index.head[hashBytes(key, 0, key.length) & index.mask]!; i >= 0; i = index.next[i]!) {
      const id = this.firstId + i;
      const at = this.locateString(this.u32(this.typeOffsets[i]! + Rec.NAME_OFF))!;
      if (at.btf.bytes[at.pos + key.length] === 0 && equalBytes(at.btf.bytes, at.pos, key)) {
        if (kind === undefined || this.kind(id) === kind) own.push(id);
      }
    }
    // Chains are built newest first; ids come out in ascending order after the reverse.
    return ids.concat(own.reverse());
  }

  /** The one type named `name` (of `kind`, if given); throws when there is none or more than one. */
  findOne(name: string, kind?: Kind): number {
    const ids = this.find(name, kind);
    if (ids.length === 0) throw new BtfError('not-found', `no type named '${name}'`);
    if (ids.length > 1) {
      throw new BtfError('ambiguous', `${ids.length} types are named '${name}' (ids ${ids.slice(0, 8).join(', ')}${ids.length > 8 ? ', …' : ''})`);
    }
    return ids[0]!;
  }

  /**
   * A hash table over the raw name bytes of this blob's own named types: chained through typed
   * arrays, so indexing vmlinux decodes no string and allocates no per-name object. A split
   * blob's type may name itself with a string of its base (pahole reuses the base's offset when
   * vmlinux has the same name), so every offset is looked up along the whole chain.
   */
  private buildNameIndex(): NameIndex {
    const n = this.typeOffsets.length;
    let size = 1;
    while (size < n * 2) size <<= 1;
    const head = new Int32Array(size).fill(-1);
    const next = new Int32Array(n).fill(-1);
    const mask = size - 1;
    for (let i = 0; i < n; i++) {
      const off = this.u32(this.typeOffsets[i]! + Rec.NAME_OFF);
      if (off === 0) continue;
      const at = this.locateString(off);
      if (!at) continue;
      const bytes = at.btf.bytes;
      const end = bytes.indexOf(0, at.pos);
      if (end === at.pos) continue;
      const h = hashBytes(bytes, at.pos, end) & mask;
      next[i] = head[h]!;
      head[h] = i;
    }
    return { head, next, mask };
  }

  /**
   * Follows typedefs, qualifiers (const, volatile, restrict) and type tags to the type under
   * them (libbpf's `skip_mods_and_typedefs`); `type-loop` after {@link MAX_RESOLVE_DEPTH} steps.
   */
  resolve(id: number): number {
    return skipModsAndTypedefs(this, id);
  }

  /**
   * Pointer size in bytes, as libbpf's `determine_ptr_size` finds it: the size of the first INT,
   * in id order (the base's first), of 4 or 8 bytes spelled as a `long` (`long`, `long int`,
   * `unsigned long`, `long unsigned int`...); 8 when there is none, as libbpf sizes pointers then.
   */
  get pointerSize(): number {
    return pointerSize(this);
  }

  /**
   * Size in bytes of type `id` as libbpf's `btf__resolve_size`: following typedefs, modifiers,
   * VARs and DECL_TAGs, multiplying out arrays, pointers of {@link pointerSize}. Throws
   * `bad-size` for kinds without a size and sizes of 4 GiB or more, `type-loop` after
   * {@link MAX_RESOLVE_DEPTH} steps.
   */
  sizeof(id: number): number {
    return sizeOf(this, id);
  }

  /** Alignment in bytes of type `id`, as the C compiler would choose it (libbpf's `btf__align_of`). */
  alignof(id: number): number {
    return alignOf(this, id);
  }

  /**
   * Where a field lies inside type `id` (a STRUCT or UNION, or a typedef of one), given by a C
   * member path: `se.vruntime`, `sched_info.pcount`, `thread.fsbase`, `pids[1].pid`. As in C,
   * a name is also looked for inside anonymous struct and union members, which are crossed
   * transparently and still listed in the result's `path` (with name ''). Subscripts multiply
   * the element size; a zero-length (flexible) array accepts any. Pointers are not followed:
   * the offset is always within the one object.
   *
   * Throws a {@link BtfError} (`bad-input`) naming the outer type, the path so far and the
   * member when a name is missing, a subscript is out of range or a step goes into something
   * that is not a struct, union or array.
   *
   * @example
   * ```ts
   * const task = vmlinux.findOne('task_struct', Kind.Struct);
   * const { bitOffset } = vmlinux.fieldOffset(task, 'se.vruntime');
   * console.log(bitOffset / 8); // byte offset, as offsetof(struct task_struct, se.vruntime)
   * ```
   */
  fieldOffset(id: number, path: string): FieldLocation {
    return locateField(this, id, path);
  }

  /**
   * Every enumerator named `name` across the ENUM and ENUM64 types, in id order; for split BTF
   * the base chain's come first. Each match carries the value as the enum views do (`value`
   * and the exact `bigValue`), the declaring type and the index in it. Empty when there is none.
   *
   * @example
   * ```ts
   * const [hash] = vmlinux.findEnumerator('BPF_MAP_TYPE_HASH');
   * console.log(hash.value, vmlinux.name(hash.type)); // 1 'bpf_map_type'
   * ```
   */
  findEnumerator(name: string): EnumeratorMatch[] {
    return findEnumerators(this, name);
  }
}


/**
 * The type section of `btf` (its own types) as 32-bit words in host order, for loops that read
 * every word: a view of the bytes when their order and alignment allow it (a kernel's and its
 * modules' BTF, on a little-endian host), else a copy.
 * @internal
 */
export function typeSectionWords(btf: Btf): Uint32Array {
  const start = btf.bytes.byteOffset + btf.typeStart;
  const n = btf.header.typeLen >>> 2;
  if (btf.littleEndian === HOST_LITTLE_ENDIAN && start % 4 === 0) return new Uint32Array(btf.bytes.buffer, start, n);
  const words = new Uint32Array(n);
  for (let i = 0; i < n; i++) words[i] = btf.u32(btf.typeStart + i * 4);
  return words;
}
