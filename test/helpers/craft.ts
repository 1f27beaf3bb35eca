/**
 * A tiny raw-BTF assembler for tests. It writes the header, type records and string section
 * word by word, in either byte order, and does no validation at all: that is the point, tests
 * use it to build blobs that break one rule at a time. It deliberately shares no code with the
 * library's own writer so that a bug there cannot hide the same bug in a test's input.
 */

export type Endian = 'little' | 'big';

/** BTF kinds, numbered as in include/uapi/linux/btf.h (repeated here so tests do not lean on src/). */
export const K = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9,
  CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16,
  DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;

/** A name: a string (UTF-8 encoded), raw bytes (to craft names no string could), or a ready offset. */
export type NameRef = string | Uint8Array | { off: number };

export interface CraftMember {
  name?: NameRef;
  type: number;
  /** The raw `offset` word; use {@link bitfield} to pack a kind_flag bitfield. */
  offset: number;
}

export interface CraftParam { name?: NameRef; type: number }
export interface CraftSecinfo { type: number; offset: number; size: number }

/** Packs a kind_flag member offset: bitfield size in the top 8 bits, bit offset in the low 24. */
export function bitfield(bitOffset: number, bitSize: number): number {
  return ((bitSize << 24) | bitOffset) >>> 0;
}

/** Header fields as written; any left out are computed from the sections. */
export interface HeaderOverrides {
  magic?: number;
  version?: number;
  flags?: number;
  hdrLen?: number;
  typeOff?: number;
  typeLen?: number;
  strOff?: number;
  strLen?: number;
  layoutOff?: number;
  layoutLen?: number;
}

export interface BuildOptions {
  endian?: Endian;
  /** 24 (classic) or 32 (with layout_off/layout_len); defaults to 32 when a layout is written, else 24. */
  hdrLen?: number;
  /** Writes a layout section between types and strings: `true` for the 20 standard entries, or explicit entries. */
  layout?: boolean | { infoSize: number; elemSize: number; flags?: number }[];
  /** Bytes of zeros inserted between the type section and what follows it (a gap the header does not describe). */
  gapAfterTypes?: number;
  /** Bytes appended after the last section. */
  trailing?: number;
  /** Header fields to force, after everything else is computed. */
  header?: HeaderOverrides;
}

/** What {@link Crafter.build} returns: the bytes plus where things landed in them. */
export interface Built {
  bytes: Uint8Array;
  hdrLen: number;
  /** Absolute offset of the type section and of the string section. */
  typeStart: number;
  stringStart: number;
  /** Absolute offset of type `id`'s record. */
  offsetOf(id: number): number;
  /** Absolute offset of member/param/value/var `index` of type `id` (first element after the fixed part). */
  elemOffset(id: number, index: number): number;
}

const STANDARD_LAYOUT: readonly [number, number][] = [
  [0, 0], [4, 0], [0, 0], [12, 0], [0, 12], [0, 12], [0, 8], [0, 0], [0, 0], [0, 0], [0, 0],
  [0, 0], [0, 0], [0, 8], [4, 0], [0, 12], [0, 0], [4, 0], [0, 0], [0, 12],
];

const utf8 = new TextEncoder();

interface Rec {
  words: number[];
  /** Size of the fixed part after the 12-byte header (for elemOffset). */
  fixed: number;
  /** Size of each element. */
  elem: number;
}

/**
 * Builds one BTF blob. Ids start at `firstId` (1 for base BTF, the base's type count for split
 * BTF) and string offsets at `firstStringOffset`.
 */
export class Crafter {
  private readonly recs: Rec[] = [];
  private readonly strBytes: number[] = [];
  private readonly strIndex = new Map<string, number>();
  readonly firstId: number;
  readonly firstStringOffset: number;

  /**
   * @param split for split BTF: `{ firstId, firstStringOffset }` of the base; the string
   *   section then starts without the leading empty string.
   */
  constructor(split?: { firstId: number; firstStringOffset: number }) {
    this.firstId = split ? split.firstId : 1;
    this.firstStringOffset = split ? split.firstStringOffset : 0;
    if (!split) this.strBytes.push(0);
  }

  /** Id the next added type gets. */
  get nextId(): number {
    return this.firstId + this.recs.length;
  }

  /** Adds a string (deduplicated) and returns its offset; '' is offset 0 in base BTF. */
  str(name: NameRef | undefined): number {
    if (name === undefined) return 0;
    if (typeof name === 'object' && !(name instanceof Uint8Array)) return name.off;
    // Text and raw bytes key apart: 'é' (UTF-8 c3 a9) is not the byte e9.
    const key = typeof name === 'string' ? `s${name}` : `b${Array.from(name, (b) => String.fromCharCode(b)).join('')}`;
    const known = this.strIndex.get(key);
    if (known !== undefined) return known;
    const bytes = typeof name === 'string' ? utf8.encode(name) : name;
    if (bytes.length === 0 && this.firstStringOffset === 0) return 0;
    const off = this.firstStringOffset + this.strBytes.length;
    for (const b of bytes) this.strBytes.push(b);
    this.strBytes.push(0);
    this.strIndex.set(key, off);
    return off;
  }

  /** Appends raw bytes to the string section (no NUL added) and returns their offset. */
  rawStrings(bytes: number[]): number {
    const off = this.firstStringOffset + this.strBytes.length;
    for (const b of bytes) this.strBytes.push(b);
    return off;
  }

  /** Adds a record from raw words: name_off, info, size/type, then the rest. Returns its id. */
  raw(words: number[], fixed = 0, elem = 0): number {
    this.recs.push({ words: words.map((w) => w >>> 0), fixed, elem });
    return this.nextId - 1;
  }

  /** Adds a record from its parts; `info` is assembled from kind, vlen and kind_flag. */
  type(kind: number, name: NameRef | undefined, vlen: number, kflag: boolean, sizeOrType: number, rest: number[] = [], fixed = 0, elem = 0): number {
    const info = ((kflag ? 0x80000000 : 0) | ((kind & 0x7f) << 24) | (vlen & 0xffffff)) >>> 0;
    return this.raw([this.str(name), info, sizeOrType, ...rest], fixed, elem);
  }

  int(name: NameRef | undefined, size: number, bits = size * 8, encoding = 0, bitOffset = 0): number {
    return this.type(K.INT, name, 0, false, size, [((encoding << 24) | (bitOffset << 16) | bits) >>> 0], 4);
  }
  ptr(type: number): number { return this.type(K.PTR, undefined, 0, false, type); }
  array(elem: number, index: number, nelems: number): number {
    return this.type(K.ARRAY, undefined, 0, false, 0, [elem, index, nelems], 12);
  }
  struct(name: NameRef | undefined, size: number, members: CraftMember[], kflag = false, kind: number = K.STRUCT): number {
    const rest: number[] = [];
    for (const m of members) rest.push(this.str(m.name), m.type, m.offset);
    return this.type(kind, name, members.length, kflag, size, rest, 0, 12);
  }
  union(name: NameRef | undefined, size: number, members: CraftMember[], kflag = false): number {
    return this.struct(name, size, members, kflag, K.UNION);
  }
  enum(name: NameRef | undefined, size: number, values: { name?: NameRef; value: number }[], signed = false): number {
    const rest: number[] = [];
    for (const v of values) rest.push(this.str(v.name), v.value);
    return this.type(K.ENUM, name, values.length, signed, size, rest, 0, 8);
  }
  enum64(name: NameRef | undefined, size: number, values: { name?: NameRef; value: bigint }[], signed = false): number {
    const rest: number[] = [];
    for (const v of values) {
      const u = BigInt.asUintN(64, v.value);
      rest.push(this.str(v.name), Number(u & 0xffffffffn), Number(u >> 32n));
    }
    return this.type(K.ENUM64, name, values.length, signed, size, rest, 0, 12);
  }
  fwd(name: NameRef | undefined, isUnion = false): number { return this.type(K.FWD, name, 0, isUnion, 0); }
  typedef(name: NameRef | undefined, type: number): number { return this.type(K.TYPEDEF, name, 0, false, type); }
  volatile(type: number): number { return this.type(K.VOLATILE, undefined, 0, false, type); }
  const(type: number): number { return this.type(K.CONST, undefined, 0, false, type); }
  restrict(type: number): number { return this.type(K.RESTRICT, undefined, 0, false, type); }
  func(name: NameRef | undefined, proto: number, linkage = 0): number { return this.type(K.FUNC, name, linkage, false, proto); }
  proto(ret: number, params: CraftParam[]): number {
    const rest: number[] = [];
    for (const p of params) rest.push(this.str(p.name), p.type);
    return this.type(K.FUNC_PROTO, undefined, params.length, false, ret, rest, 0, 8);
  }
  var(name: NameRef | undefined, type: number, linkage = 0): number {
    return this.type(K.VAR, name, 0, false, type, [linkage], 4);
  }
  datasec(name: NameRef | undefined, size: number, vars: CraftSecinfo[]): number {
    const rest: number[] = [];
    for (const v of vars) rest.push(v.type, v.offset, v.size);
    return this.type(K.DATASEC, name, vars.length, false, size, rest, 0, 12);
  }
  float(name: NameRef | undefined, size: number): number { return this.type(K.FLOAT, name, 0, false, size); }
  declTag(value: NameRef | undefined, target: number, componentIdx = -1, attr = false): number {
    return this.type(K.DECL_TAG, value, 0, attr, target, [componentIdx >>> 0], 4);
  }
  typeTag(value: NameRef | undefined, type: number, attr = false): number {
    return this.type(K.TYPE_TAG, value, 0, attr, type);
  }

  /** Serializes everything. Sections go header, types, [gap], [layout], strings, [trailing]. */
  build(opts: BuildOptions = {}): Built {
    const le = (opts.endian ?? 'little') === 'little';
    const layoutEntries = opts.layout === true
      ? STANDARD_LAYOUT.map(([infoSize, elemSize]) => ({ infoSize, elemSize, flags: 0 }))
      : opts.layout || [];
    const hdrLen = opts.hdrLen ?? (layoutEntries.length ? 32 : 24);
    const recOffsets: number[] = [];
    let typeLen = 0;
    for (const r of this.recs) {
      recOffsets.push(typeLen);
      typeLen += r.words.length * 4;
    }
    const gap = opts.gapAfterTypes ?? 0;
    const layoutOff = typeLen + gap;
    const layoutLen = layoutEntries.length * 4;
    const strOff = layoutOff + layoutLen;
    const strLen = this.strBytes.length;
    const total = hdrLen + strOff + strLen + (opts.trailing ?? 0);
    const bytes = new Uint8Array(total);
    const dv = new DataView(bytes.buffer);
    const h: Required<HeaderOverrides> = {
      magic: 0xeb9f, version: 1, flags: 0, hdrLen,
      typeOff: 0, typeLen, strOff, strLen,
      layoutOff: layoutLen ? layoutOff : 0, layoutLen,
      ...opts.header,
    };
    dv.setUint16(0, h.magic, le);
    bytes[2] = h.version;
    bytes[3] = h.flags;
    dv.setUint32(4, h.hdrLen, le);
    dv.setUint32(8, h.typeOff, le);
    dv.setUint32(12, h.typeLen, le);
    dv.setUint32(16, h.strOff, le);
    dv.setUint32(20, h.strLen, le);
    if (hdrLen >= 32) {
      dv.setUint32(24, h.layoutOff, le);
      dv.setUint32(28, h.layoutLen, le);
    }
    this.recs.forEach((r, i) => {
      r.words.forEach((w, j) => dv.setUint32(hdrLen + recOffsets[i]! + j * 4, w, le));
    });
    layoutEntries.forEach((l, i) => {
      const p = hdrLen + layoutOff + i * 4;
      bytes[p] = l.infoSize;
      bytes[p + 1] = l.elemSize;
      dv.setUint16(p + 2, l.flags ?? 0, le);
    });
    bytes.set(this.strBytes, hdrLen + strOff);
    const firstId = this.firstId;
    const recs = this.recs;
    return {
      bytes,
      hdrLen,
      typeStart: hdrLen,
      stringStart: hdrLen + strOff,
      offsetOf(id: number): number {
        const o = recOffsets[id - firstId];
        if (o === undefined) throw new Error(`craft: no type ${id}`);
        return hdrLen + o;
      },
      elemOffset(id: number, index: number): number {
        const r = recs[id - firstId];
        if (!r) throw new Error(`craft: no type ${id}`);
        return hdrLen + recOffsets[id - firstId]! + 12 + r.fixed + index * r.elem;
      },
    };
  }
}
