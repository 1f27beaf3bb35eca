/**
 * Seed-making and structure-aware helpers for the fuzzer, written independently of the decoder
 * under test: a tolerant scanner that finds type records and their fields, an extractor that
 * cuts small self-contained blobs out of a big one, an encoder (either byte order, optional
 * layout section, split BTF) and a minimal ELF wrapper. None of this is used to judge results;
 * it only shapes inputs.
 */
import { assemble } from '../helpers/assemble.js';

/** `{info_sz, elem_sz}` of the kinds BTF defines (from include/uapi/linux/btf.h). */
export const SPEC_LAYOUT: readonly (readonly [number, number])[] = [
  [0, 0], // UNKNOWN
  [4, 0], // INT: u32 encoding word
  [0, 0], // PTR
  [12, 0], // ARRAY: struct btf_array
  [0, 12], // STRUCT: struct btf_member
  [0, 12], // UNION
  [0, 8], // ENUM: struct btf_enum
  [0, 0], // FWD
  [0, 0], // TYPEDEF
  [0, 0], // VOLATILE
  [0, 0], // CONST
  [0, 0], // RESTRICT
  [0, 0], // FUNC
  [0, 8], // FUNC_PROTO: struct btf_param
  [4, 0], // VAR: struct btf_var
  [0, 12], // DATASEC: struct btf_var_secinfo
  [0, 0], // FLOAT
  [4, 0], // DECL_TAG: struct btf_decl_tag
  [0, 0], // TYPE_TAG
  [0, 12], // ENUM64: struct btf_enum64
];

/** Where in a record (as u32 word indexes) the string offsets and type ids sit. */
export interface RecordShape {
  kind: number;
  vlen: number;
  /** Record size in bytes. */
  size: number;
  nameWords: number[];
  refWords: number[];
  /** Word index of the size/type word's meaning: true when word 2 is a size rather than a type id. */
  hasSize: boolean;
}

/**
 * The shape of a record from its info word, or undefined when the kind cannot be sized.
 * `layout` holds `[info_sz, elem_sz]` per kind for kinds past ENUM64.
 */
export function recordShape(info: number, layout?: readonly (readonly [number, number])[], maxSize = Infinity): RecordShape | undefined {
  const kind = (info >>> 24) & 0x7f;
  const vlen = info & 0xffffff;
  // A corrupted vlen can claim 16M elements: give up before listing their fields.
  const elem = kind <= 19 ? SPEC_LAYOUT[kind]![1] : layout?.[kind]?.[1] ?? 0;
  if (12 + vlen * elem > maxSize) return undefined;
  const names = [0];
  const refs: number[] = [];
  let hasSize = false;
  let size: number;
  switch (kind) {
    case 1: size = 16; hasSize = true; break;
    case 2: case 8: case 9: case 10: case 11: case 12: case 18: size = 12; refs.push(2); break;
    case 3: size = 24; refs.push(3, 4); break;
    case 4: case 5:
      size = 12 + 12 * vlen; hasSize = true;
      for (let i = 0; i < vlen; i++) { names.push(3 + 3 * i); refs.push(4 + 3 * i); }
      break;
    case 6:
      size = 12 + 8 * vlen; hasSize = true;
      for (let i = 0; i < vlen; i++) names.push(3 + 2 * i);
      break;
    case 19:
      size = 12 + 12 * vlen; hasSize = true;
      for (let i = 0; i < vlen; i++) names.push(3 + 3 * i);
      break;
    case 7: size = 12; break;
    case 13:
      size = 12 + 8 * vlen; refs.push(2);
      for (let i = 0; i < vlen; i++) { names.push(3 + 2 * i); refs.push(4 + 2 * i); }
      break;
    case 14: case 17: size = 16; refs.push(2); break;
    case 15:
      size = 12 + 12 * vlen; hasSize = true;
      for (let i = 0; i < vlen; i++) refs.push(3 + 3 * i);
      break;
    case 16: size = 12; hasSize = true; break;
    default: {
      const l = layout?.[kind];
      if (!l || kind === 0) return undefined;
      size = 12 + l[0] + vlen * l[1];
    }
  }
  return { kind, vlen, size, nameWords: names, refWords: refs, hasSize };
}

/** What the tolerant scanner found in a raw BTF blob. */
export interface ScannedBtf {
  littleEndian: boolean;
  hdrLen: number;
  typeStart: number;
  typeEnd: number;
  strStart: number;
  strLen: number;
  layoutStart: number;
  layoutLen: number;
  layout: [number, number][] | undefined;
  /** Byte offsets of records that could be walked, with their shapes. */
  records: { off: number; shape: RecordShape }[];
}

/** Walks a raw blob without validating it; stops quietly where it stops making sense. */
export function scanBtf(bytes: Uint8Array): ScannedBtf | undefined {
  if (bytes.length < 24) return undefined;
  let le: boolean;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) le = true;
  else if (bytes[0] === 0xeb && bytes[1] === 0x9f) le = false;
  else return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = dv.getUint32(4, le);
  if (hdrLen < 24 || hdrLen > bytes.length) return undefined;
  const f = (o: number) => (o + 4 <= hdrLen ? dv.getUint32(o, le) : 0);
  const typeStart = Math.min(bytes.length, hdrLen + f(8));
  const typeEnd = Math.min(bytes.length, typeStart + f(12));
  const layoutLen = f(28);
  const layoutStart = hdrLen + f(24);
  let layout: [number, number][] | undefined;
  if (layoutLen && layoutStart + layoutLen <= bytes.length) {
    layout = [];
    for (let p = layoutStart; p + 4 <= layoutStart + layoutLen; p += 4) layout.push([bytes[p]!, bytes[p + 1]!]);
  }
  const records: { off: number; shape: RecordShape }[] = [];
  for (let p = typeStart; p + 12 <= typeEnd;) {
    const shape = recordShape(dv.getUint32(p + 4, le), layout, typeEnd - p);
    if (!shape || p + shape.size > typeEnd) break;
    records.push({ off: p, shape });
    p += shape.size;
  }
  return {
    littleEndian: le, hdrLen, typeStart, typeEnd, strStart: hdrLen + f(16), strLen: f(20),
    layoutStart, layoutLen, layout, records,
  };
}

/** A record lifted out of a blob: its words, with names as strings so it can be re-encoded anywhere. */
export interface LooseRecord {
  words: number[];
  names: Map<number, string>;
  refWords: number[];
}

function cString(bytes: Uint8Array, start: number, end: number): string {
  let e = bytes.indexOf(0, start);
  if (e < 0 || e > end) e = end;
  return latin1(bytes.subarray(start, e));
}

/** Strings are carried as latin1 so every byte survives the round trip unchanged. */
function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 4096)));
  return s;
}

const DATASEC_KEEP = 8;

/** A source blob ready for extraction. */
export class SourceBlob {
  readonly scan: ScannedBtf;
  private readonly dv: DataView;

  constructor(readonly bytes: Uint8Array) {
    const s = scanBtf(bytes);
    if (!s) throw new Error('seed blob is not BTF');
    this.scan = s;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get typeCount(): number {
    return this.scan.records.length;
  }

  word(id: number, w: number): number {
    return this.dv.getUint32(this.scan.records[id - 1]!.off + 4 * w, this.scan.littleEndian);
  }

  kind(id: number): number {
    return this.scan.records[id - 1]!.shape.kind;
  }

  record(id: number): LooseRecord {
    const r = this.scan.records[id - 1]!;
    const words: number[] = [];
    for (let i = 0; i < r.shape.size / 4; i++) words.push(this.word(id, i));
    const names = new Map<number, string>();
    const strEnd = this.scan.strStart + this.scan.strLen;
    for (const w of r.shape.nameWords) {
      const off = words[w]!;
      if (off !== 0 && off < this.scan.strLen) names.set(w, cString(this.bytes, this.scan.strStart + off, strEnd));
    }
    return { words, names, refWords: r.shape.refWords };
  }

  /** Ids a record refers to, split into pointer edges (which may be cut) and by-value edges. */
  edges(id: number): { ptr: number[]; value: number[] } {
    const r = this.scan.records[id - 1]!;
    // lift() keeps only the first DATASEC_KEEP entries of a DATASEC, so only those count.
    const refWords = r.shape.kind === 15 ? r.shape.refWords.slice(0, DATASEC_KEEP) : r.shape.refWords;
    const ids = refWords.map((w) => this.word(id, w)).filter((t) => t > 0 && t <= this.typeCount);
    return r.shape.kind === 2 ? { ptr: ids, value: [] } : { ptr: [], value: ids };
  }
}

/**
 * Collects `roots` and what they need. By-value references are always followed; pointer
 * targets only while the budget lasts, else the pointer becomes `void *`. Returns undefined
 * when the by-value closure alone is larger than `hardCap`.
 */
export function closure(src: SourceBlob, roots: number[], budget: number, hardCap: number): { ids: number[]; cutPointers: Set<number> } | undefined {
  const seen = new Set<number>();
  const cut = new Set<number>();
  const queue = [...roots];
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (seen.size > hardCap) return undefined;
    const { ptr, value } = src.edges(id);
    for (const t of value) if (!seen.has(t)) queue.push(t);
    for (const t of ptr) {
      if (seen.has(t)) continue;
      if (seen.size + queue.length < budget) queue.push(t);
      else cut.add(id);
    }
  }
  // A pointer cut early may have had its target pulled in by another path since.
  for (const id of [...cut]) if (src.edges(id).ptr.every((t) => seen.has(t))) cut.delete(id);
  return { ids: [...seen].sort((a, b) => a - b), cutPointers: cut };
}

/**
 * Lifts records `ids` out of `src`, renumbered `firstId, firstId+1, ...` in the given order;
 * references to ids in `known` are mapped, cut pointers become `void *`, references elsewhere
 * are kept as they are (dangling, which is what a fuzzer wants now and then).
 */
export function lift(src: SourceBlob, ids: number[], firstId: number, known: Map<number, number>, cutPointers: Set<number> = new Set()): LooseRecord[] {
  ids.forEach((id, i) => known.set(id, firstId + i));
  return ids.map((id) => {
    const r = src.record(id);
    for (const w of r.refWords) {
      const t = r.words[w]!;
      if (t === 0) continue;
      const mapped = known.get(t);
      if (mapped !== undefined) r.words[w] = mapped;
      else if (cutPointers.has(id)) r.words[w] = 0;
    }
    if (src.kind(id) === 15 && r.words.length > 3 + 3 * DATASEC_KEEP) {
      // Big DATASECs (.data..percpu has thousands of VARs) are cut down to their first entries.
      const keep = DATASEC_KEEP;
      r.words.length = 3 + 3 * keep;
      r.words[1] = (r.words[1]! & ~0xffffff) | keep;
      r.refWords = r.refWords.slice(0, keep);
    }
    return r;
  });
}

/** Options for {@link encodeBtf}. */
export interface EncodeOptions {
  littleEndian?: boolean;
  /** Emit a 32-byte header and this layout section (`[info_sz, elem_sz]` per kind). */
  layout?: readonly (readonly [number, number])[];
  /** For split BTF: the base's string section, whose strings are reused by offset. */
  baseStrings?: Uint8Array;
}

function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** Lays records and their strings out as a raw BTF blob. */
export function encodeBtf(records: LooseRecord[], opts: EncodeOptions = {}): Uint8Array {
  const le = opts.littleEndian ?? true;
  const baseLen = opts.baseStrings?.length ?? 0;
  const baseIndex = new Map<string, number>();
  if (opts.baseStrings) {
    const b = opts.baseStrings;
    for (let p = 0; p < b.length;) {
      let e = b.indexOf(0, p);
      if (e < 0) e = b.length;
      const s = latin1(b.subarray(p, e));
      if (!baseIndex.has(s)) baseIndex.set(s, p);
      p = e + 1;
    }
  }
  const own = new Map<string, number>();
  const chunks: Uint8Array[] = [];
  let strLen = 0;
  const addString = (s: string): number => {
    const inBase = baseIndex.get(s);
    if (inBase !== undefined) return inBase;
    let off = own.get(s);
    if (off === undefined) {
      off = baseLen + strLen;
      own.set(s, off);
      const b = latin1Bytes(s);
      chunks.push(b, new Uint8Array(1));
      strLen += b.length + 1;
    }
    return off;
  };
  if (!opts.baseStrings) addString('');
  const words: number[] = [];
  for (const r of records) {
    const w = r.words.slice();
    for (const [i, s] of r.names) w[i] = addString(s);
    words.push(...w);
  }
  const strings = new Uint8Array(strLen);
  let p = 0;
  for (const c of chunks) {
    strings.set(c, p);
    p += c.length;
  }
  return assemble({ words, strings, big: !le, layout: opts.layout?.map(([info, elem]) => [info, elem, 0] as const) });
}

/** The string section of a raw blob (for use as `baseStrings`). */
export function stringSection(bytes: Uint8Array): Uint8Array {
  const s = scanBtf(bytes)!;
  return bytes.subarray(s.strStart, s.strStart + s.strLen);
}

/** Where the fields of an ELF file sit, so the mutator can corrupt them precisely. */
export interface ElfFields {
  is64: boolean;
  littleEndian: boolean;
  /** `[offset, width]` of e_shoff, e_shentsize, e_shnum, e_shstrndx. */
  header: [number, number][];
  /** Per section header: `[offset, width]` of sh_name, sh_type, sh_offset, sh_size. */
  sections: [number, number][][];
  /** Index in {@link sections} of `.BTF`. */
  btfSection: number;
}

/**
 * Finds the header and section fields of a well-formed ELF file (a compiled BPF object), or
 * undefined when it is not one or has no `.BTF`.
 */
export function elfFieldsOf(bytes: Uint8Array): ElfFields | undefined {
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return undefined;
  const is64 = bytes[4] === 2;
  const le = bytes[5] === 1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = is64 ? Number(dv.getBigUint64(40, le)) : dv.getUint32(32, le);
  const shentsize = dv.getUint16(is64 ? 58 : 46, le);
  const shnum = dv.getUint16(is64 ? 60 : 48, le);
  const shstrndx = dv.getUint16(is64 ? 62 : 50, le);
  if (shoff + shnum * shentsize > bytes.length || shstrndx >= shnum) return undefined;
  const header: [number, number][] = is64 ? [[40, 8], [58, 2], [60, 2], [62, 2]] : [[32, 4], [46, 2], [48, 2], [50, 2]];
  const sections: [number, number][][] = [];
  const at = (i: number) => shoff + i * shentsize;
  const offOf = (o: number) => (is64 ? Number(dv.getBigUint64(o + 24, le)) : dv.getUint32(o + 16, le));
  const strtab = offOf(at(shstrndx));
  let btfSection = -1;
  for (let i = 0; i < shnum; i++) {
    const o = at(i);
    sections.push(is64 ? [[o, 4], [o + 4, 4], [o + 24, 8], [o + 32, 8]] : [[o, 4], [o + 4, 4], [o + 16, 4], [o + 20, 4]]);
    const name = strtab + dv.getUint32(o, le);
    if (name + 5 <= bytes.length && latin1(bytes.subarray(name, name + 5)) === '.BTF\0') btfSection = i;
  }
  return btfSection < 0 ? undefined : { is64, littleEndian: le, header, sections, btfSection };
}

/** The `[offset, size]` of the `.BTF` section named by `fields`. */
export function elfBtfRange(bytes: Uint8Array, fields: ElfFields): [number, number] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sec = fields.sections[fields.btfSection]!;
  const [offAt, w] = sec[2]!;
  const [sizeAt] = sec[3]!;
  const le = fields.littleEndian;
  const off = w === 8 ? Number(dv.getBigUint64(offAt, le)) : dv.getUint32(offAt, le);
  const size = w === 8 ? Number(dv.getBigUint64(sizeAt, le)) : dv.getUint32(sizeAt, le);
  return [off, size];
}

/**
 * Puts new `.BTF` contents into an ELF file: in place when the size is unchanged, else appended
 * at the end with the section header pointed there (every other section stays where it was).
 */
export function replaceElfBtf(bytes: Uint8Array, fields: ElfFields, btf: Uint8Array): Uint8Array {
  const [off, size] = elfBtfRange(bytes, fields);
  if (btf.length === size) {
    const out = bytes.slice();
    out.set(btf, off);
    return out;
  }
  const start = Math.ceil(bytes.length / 8) * 8;
  const out = new Uint8Array(start + btf.length);
  out.set(bytes, 0);
  out.set(btf, start);
  const dv = new DataView(out.buffer);
  const sec = fields.sections[fields.btfSection]!;
  const [offAt, w] = sec[2]!;
  const [sizeAt] = sec[3]!;
  if (w === 8) {
    dv.setBigUint64(offAt, BigInt(start), fields.littleEndian);
    dv.setBigUint64(sizeAt, BigInt(btf.length), fields.littleEndian);
  } else {
    dv.setUint32(offAt, start, fields.littleEndian);
    dv.setUint32(sizeAt, btf.length, fields.littleEndian);
  }
  return out;
}

/**
 * Wraps a BTF blob in a small relocatable ELF file (EM_BPF) with .text, .BTF, a NOBITS .bss and
 * .shstrtab, as a compiled BPF object would carry it.
 */
export function wrapElf(btf: Uint8Array, is64: boolean, littleEndian: boolean): { bytes: Uint8Array; fields: ElfFields } {
  const names = ['', '.text', '.BTF', '.bss', '.shstrtab'];
  const shstr: number[] = [];
  const nameOff = names.map((n) => {
    const o = shstr.length;
    for (const c of n) shstr.push(c.charCodeAt(0));
    shstr.push(0);
    return o;
  });
  const ehsize = is64 ? 64 : 52;
  const shentsize = is64 ? 64 : 40;
  const text = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
  const align = (n: number, a: number) => Math.ceil(n / a) * a;
  const textOff = ehsize;
  const btfOff = align(textOff + text.length, 8);
  const strOff = btfOff + btf.length;
  const shoff = align(strOff + shstr.length, 8);
  const total = shoff + shentsize * names.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const le = littleEndian;
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  dv.setUint16(16, 1, le); // ET_REL
  dv.setUint16(18, 247, le); // EM_BPF
  dv.setUint32(20, 1, le);
  const header: [number, number][] = [];
  if (is64) {
    dv.setBigUint64(40, BigInt(shoff), le);
    dv.setUint16(52, ehsize, le);
    dv.setUint16(58, shentsize, le);
    dv.setUint16(60, names.length, le);
    dv.setUint16(62, names.length - 1, le);
    header.push([40, 8], [58, 2], [60, 2], [62, 2]);
  } else {
    dv.setUint32(32, shoff, le);
    dv.setUint16(40, ehsize, le);
    dv.setUint16(46, shentsize, le);
    dv.setUint16(48, names.length, le);
    dv.setUint16(50, names.length - 1, le);
    header.push([32, 4], [46, 2], [48, 2], [50, 2]);
  }
  out.set(text, textOff);
  out.set(btf, btfOff);
  out.set(shstr, strOff);
  const secs: [number, number, number, number][] = [
    [0, 0, 0, 0],
    [1, textOff, text.length, 0x6], // PROGBITS, AX
    [1, btfOff, btf.length, 0],
    [8, strOff, 0, 0x3], // NOBITS .bss: its offset/size must never be read
    [3, strOff, shstr.length, 0], // STRTAB
  ];
  const sections: [number, number][][] = [];
  secs.forEach(([type, off, size, flags], i) => {
    const o = shoff + i * shentsize;
    dv.setUint32(o, nameOff[i]!, le);
    dv.setUint32(o + 4, type, le);
    if (is64) {
      dv.setBigUint64(o + 8, BigInt(flags), le);
      dv.setBigUint64(o + 24, BigInt(off), le);
      dv.setBigUint64(o + 32, BigInt(i === 3 ? 4096 : size), le);
      dv.setBigUint64(o + 48, 1n, le);
      sections.push([[o, 4], [o + 4, 4], [o + 24, 8], [o + 32, 8]]);
    } else {
      dv.setUint32(o + 8, flags, le);
      dv.setUint32(o + 16, off, le);
      dv.setUint32(o + 20, i === 3 ? 4096 : size, le);
      dv.setUint32(o + 32, 1, le);
      sections.push([[o, 4], [o + 4, 4], [o + 16, 4], [o + 20, 4]]);
    }
  });
  return { bytes: out, fields: { is64, littleEndian, header, sections, btfSection: 2 } };
}
