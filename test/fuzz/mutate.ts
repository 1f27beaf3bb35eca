/**
 * Mutations over real BTF: blind ones (bit flips, byte and u32 extremes, truncation) and
 * structure-aware ones that know where the header fields, records, names, type ids, vlen,
 * kind and the layout section are, so that corruptions reach past the first sanity check.
 */
import { parseElf, SectionFlag, SectionType } from '../../src/elf/elf.js';
import { elfBtfRange, replaceElfBtf, scanBtf, type ElfFields, type ScannedBtf } from './encode.js';
import type { Corpus, Seed } from './corpus.js';
import { pickSeed } from './corpus.js';
import { Rng } from './rng.js';
import { mutateCoreRecords } from './core.js';

/** One fuzz input: the bytes to parse and, for split BTF, the base (fixed or mutable bytes). */
export interface FuzzInput {
  seed: Seed;
  bytes: Uint8Array;
  /** A mutated copy of a small base, when the seed has one. */
  baseBytes?: Uint8Array;
  /** What was done, in order, for crash reports. */
  steps: string[];
}

const EXTREMES = [0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0xfffff, 0x100000, 0xffffff, 0x1000000, 0x7ffffffc, 0x7fffffff, 0x80000000, 0xfffffff0, 0xfffffffc, 0xfffffffe, 0xffffffff];
const BYTE_EXTREMES = [0, 0xff, 0x7f, 0x80];

/** Header fields: [byte offset, name]. */
const HEADER_FIELDS: readonly [number, string][] = [
  [4, 'hdr_len'], [8, 'type_off'], [12, 'type_len'], [16, 'str_off'], [20, 'str_len'], [24, 'layout_off'], [28, 'layout_len'],
];

class Blob {
  scanCache: ScannedBtf | undefined | null = null;
  constructor(public bytes: Uint8Array, private readonly fallbackScan?: ScannedBtf) {}

  /** The blob's structure; large seeds reuse the seed's scan (it may be stale, which is fine for shaping inputs). */
  get scan(): ScannedBtf | undefined {
    if (this.fallbackScan) return this.fallbackScan;
    if (this.scanCache === null) this.scanCache = scanBtf(this.bytes);
    return this.scanCache;
  }

  get le(): boolean {
    return this.bytes[0] !== 0xeb;
  }

  replace(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.scanCache = null;
  }

  touched(): void {
    this.scanCache = null;
  }

  dv(): DataView {
    return new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  getU32(off: number): number {
    return off + 4 <= this.bytes.length ? this.dv().getUint32(off, this.le) : 0;
  }

  setU32(off: number, v: number): boolean {
    if (off < 0 || off + 4 > this.bytes.length) return false;
    this.dv().setUint32(off, v >>> 0, this.le);
    this.touched();
    return true;
  }
}

interface MutationContext {
  corpus: Corpus;
  large: boolean;
  /** Id of the blob's first type: 1, or one past the base's last for split BTF. */
  firstId: number;
}

type Mutator = (b: Blob, rng: Rng, ctx: MutationContext) => string | undefined;

function extreme(rng: Rng, around: number[]): number {
  if (around.length && rng.chance(0.4)) {
    const base = rng.pick(around);
    return (base + rng.pick([-12, -8, -4, -3, -2, -1, 1, 2, 3, 4, 8, 12])) >>> 0;
  }
  return rng.pick(EXTREMES);
}

function randomRecord(b: Blob, rng: Rng) {
  const s = b.scan;
  if (!s || s.records.length === 0) return undefined;
  const i = rng.below(s.records.length);
  return { s, i, rec: s.records[i]! };
}

const bitFlip: Mutator = (b, rng) => {
  const n = rng.range(1, 8);
  const where: number[] = [];
  const s = b.scan;
  for (let k = 0; k < n; k++) {
    const hot = s && rng.chance(0.6) ? rng.below(Math.min(b.bytes.length, s.typeEnd)) : rng.below(b.bytes.length);
    b.bytes[hot]! ^= 1 << rng.below(8);
    where.push(hot);
  }
  b.touched();
  return `bitflip@${where.join(',')}`;
};

const byteSet: Mutator = (b, rng) => {
  const n = rng.range(1, 4);
  const where: string[] = [];
  for (let k = 0; k < n; k++) {
    const at = rng.below(b.bytes.length);
    const v = rng.chance(0.8) ? rng.pick(BYTE_EXTREMES) : rng.below(256);
    b.bytes[at] = v;
    where.push(`${at}=${v}`);
  }
  b.touched();
  return `byteset ${where.join(',')}`;
};

const u32Extreme: Mutator = (b, rng) => {
  const s = b.scan;
  let off: number;
  if (s && s.typeEnd > s.typeStart + 4 && rng.chance(0.8)) {
    off = s.typeStart + 4 * rng.below(Math.floor((s.typeEnd - s.typeStart) / 4));
  } else {
    off = rng.below(Math.max(1, b.bytes.length - 3));
  }
  const v = extreme(rng, s ? [b.getU32(off), s.typeEnd - s.typeStart, s.strLen, s.records.length, b.bytes.length] : [b.getU32(off)]);
  return b.setU32(off, v) ? `u32@${off}=${v}` : undefined;
};

const headerField: Mutator = (b, rng) => {
  if (b.bytes.length < 8) return undefined;
  const r = rng.below(10);
  if (r === 0) {
    const at = rng.range(0, 3);
    const v = rng.chance(0.5) ? rng.pick(BYTE_EXTREMES) : rng.below(4);
    b.bytes[at] = v;
    b.touched();
    return `header byte ${at}=${v}`;
  }
  if (r === 1) {
    // The other byte order: every field is now read byte-swapped.
    const t = b.bytes[0]!;
    b.bytes[0] = b.bytes[1]!;
    b.bytes[1] = t;
    b.touched();
    return 'magic byte-swapped';
  }
  const hdrLen = b.getU32(4);
  const fields = HEADER_FIELDS.filter(([o]) => o === 4 || o + 4 <= Math.max(24, Math.min(hdrLen, 32)));
  const [off, name] = rng.pick(fields);
  const values = HEADER_FIELDS.map(([o]) => b.getU32(o));
  const v = rng.chance(0.2) ? rng.pick(values) : extreme(rng, [b.getU32(off), b.bytes.length, b.bytes.length - hdrLen]);
  return b.setU32(off, v) ? `header ${name}=${v}` : undefined;
};

const growHeader: Mutator = (b, rng) => {
  const s = b.scan;
  // The scanner trusts hdr_len as far as it can: it may claim more than the blob holds.
  if (!s || s.hdrLen > b.bytes.length) return undefined;
  const add = rng.pick([4, 8, 12, 16, 64]);
  const out = new Uint8Array(b.bytes.length + add);
  out.set(b.bytes.subarray(0, s.hdrLen), 0);
  out.set(b.bytes.subarray(s.hdrLen), s.hdrLen + add);
  const junk = rng.chance(0.3);
  if (junk) out[s.hdrLen + rng.below(add)] = rng.range(1, 255);
  b.replace(out);
  b.setU32(4, s.hdrLen + add);
  return `hdr_len ${s.hdrLen}->${s.hdrLen + add}${junk ? ' with junk' : ''}`;
};

const truncate: Mutator = (b, rng) => {
  const s = b.scan;
  let at: number;
  if (s && rng.chance(0.6)) {
    const marks = [s.hdrLen, s.typeStart, s.typeEnd, s.strStart, s.strStart + s.strLen, b.bytes.length, s.layoutStart];
    if (s.records.length) marks.push(rng.pick(s.records).off);
    at = rng.pick(marks) + rng.range(-13, 13);
  } else {
    at = rng.below(b.bytes.length);
  }
  at = Math.max(0, Math.min(b.bytes.length - 1, at));
  b.replace(b.bytes.slice(0, at));
  return `truncate@${at}`;
};

function rebuild(b: Blob, s: ScannedBtf, typeBytes: Uint8Array, note: string): string {
  // Re-lays the blob: header, new type section, then everything that followed the old one.
  const before = b.bytes.subarray(0, s.typeStart);
  const after = b.bytes.subarray(Math.min(b.bytes.length, s.typeEnd));
  const out = new Uint8Array(before.length + typeBytes.length + after.length);
  out.set(before, 0);
  out.set(typeBytes, before.length);
  out.set(after, before.length + typeBytes.length);
  const delta = typeBytes.length - (s.typeEnd - s.typeStart);
  b.replace(out);
  b.setU32(12, b.getU32(12) + delta);
  if (b.getU32(16) >= s.typeEnd - s.hdrLen) b.setU32(16, b.getU32(16) + delta);
  if (s.hdrLen >= 32 && s.layoutLen && b.getU32(24) >= s.typeEnd - s.hdrLen) b.setU32(24, b.getU32(24) + delta);
  return note;
}

const dupRecord: Mutator = (b, rng, ctx) => {
  if (ctx.large) return undefined;
  const r = randomRecord(b, rng);
  if (!r) return undefined;
  const { s, i, rec } = r;
  const copy = b.bytes.slice(rec.off, rec.off + rec.shape.size);
  const types = b.bytes.subarray(s.typeStart, s.typeEnd);
  const at = rng.chance(0.5) ? rec.off + rec.shape.size - s.typeStart : types.length;
  const out = new Uint8Array(types.length + copy.length);
  out.set(types.subarray(0, at), 0);
  out.set(copy, at);
  out.set(types.subarray(at), at + copy.length);
  return rebuild(b, s, out, `dup record ${i + 1}`);
};

const removeRecord: Mutator = (b, rng, ctx) => {
  if (ctx.large) return undefined;
  const r = randomRecord(b, rng);
  if (!r) return undefined;
  const { s, i, rec } = r;
  const types = b.bytes.subarray(s.typeStart, s.typeEnd);
  const from = rec.off - s.typeStart;
  const out = new Uint8Array(types.length - rec.shape.size);
  out.set(types.subarray(0, from), 0);
  out.set(types.subarray(from + rec.shape.size), from);
  return rebuild(b, s, out, `remove record ${i + 1}`);
};

const swapRecords: Mutator = (b, rng, ctx) => {
  if (ctx.large) return undefined;
  const s = b.scan;
  if (!s || s.records.length < 2) return undefined;
  const i = rng.below(s.records.length - 1);
  const a = s.records[i]!;
  const c = s.records[i + 1]!;
  const types = b.bytes.slice(s.typeStart, s.typeEnd);
  const ra = types.slice(a.off - s.typeStart, a.off - s.typeStart + a.shape.size);
  const rc = types.slice(c.off - s.typeStart, c.off - s.typeStart + c.shape.size);
  types.set(rc, a.off - s.typeStart);
  types.set(ra, a.off - s.typeStart + rc.length);
  return rebuild(b, s, types, `swap records ${i + 1},${i + 2}`);
};

const setVlen: Mutator = (b, rng) => {
  const r = randomRecord(b, rng);
  if (!r) return undefined;
  const info = b.getU32(r.rec.off + 4);
  const vlen = info & 0xffffff;
  const left = Math.floor((r.s.typeEnd - r.rec.off) / 4);
  const nv = rng.pick([0xffffff, 0x800000, 0x10000, vlen + 1, vlen + 2, vlen + rng.range(3, 64), Math.max(0, vlen - 1), 0, left, left + 1, left / 2 | 0]) & 0xffffff;
  b.setU32(r.rec.off + 4, (info & 0xff000000) | nv);
  return `vlen of record ${r.i + 1}: ${vlen}->${nv}`;
};

/** A layout section for kinds 0..n-1: the standard entries, then made-up ones. */
function layoutBytes(n: number, rng: Rng, le: boolean): Uint8Array {
  const std = [[0, 0], [4, 0], [0, 0], [12, 0], [0, 12], [0, 12], [0, 8], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 8], [4, 0], [0, 12], [0, 0], [4, 0], [0, 0], [0, 12]];
  const out = new Uint8Array(4 * n);
  const dv = new DataView(out.buffer);
  for (let k = 0; k < n; k++) {
    const [info, elem] = std[k] ?? [rng.chance(0.8) ? 4 * rng.below(4) : rng.below(256), rng.chance(0.8) ? 4 * rng.below(4) : rng.below(256)];
    out[4 * k] = info!;
    out[4 * k + 1] = elem!;
    dv.setUint16(4 * k + 2, rng.chance(0.9) ? 0 : rng.below(0x10000), le);
  }
  return out;
}

const unknownKind: Mutator = (b, rng) => {
  const r = randomRecord(b, rng);
  if (!r) return undefined;
  const kind = rng.chance(0.1) ? 0 : rng.chance(0.6) ? rng.range(20, 24) : rng.range(20, 127);
  const info = b.getU32(r.rec.off + 4);
  b.setU32(r.rec.off + 4, ((info & 0x80ffffff) | (kind << 24)) >>> 0);
  let note = `kind of record ${r.i + 1} -> ${kind}`;
  const s = r.s;
  // (A large seed's scan may be stale after an earlier truncation: check it still fits.)
  if (kind >= 20 && !s.layoutLen && s.hdrLen === 24 && s.typeEnd <= b.bytes.length && rng.chance(0.5)) {
    // Give the blob a layout section that may (or may not) cover the new kind.
    const n = rng.chance(0.7) ? kind + 1 : rng.range(1, kind);
    const layout = layoutBytes(n, rng, b.le);
    const typeEndRel = s.typeEnd - s.hdrLen;
    const out = new Uint8Array(b.bytes.length + 8 + layout.length);
    out.set(b.bytes.subarray(0, 24), 0);
    out.set(b.bytes.subarray(24, s.typeEnd), 32);
    out.set(layout, 32 + typeEndRel);
    out.set(b.bytes.subarray(s.typeEnd), 32 + typeEndRel + layout.length);
    b.replace(out);
    b.setU32(4, 32);
    b.setU32(16, b.getU32(16) + layout.length);
    b.setU32(24, typeEndRel);
    b.setU32(28, layout.length);
    note += `, layout section of ${n} kinds added`;
  }
  return note;
};

const retarget: Mutator = (b, rng, ctx) => {
  const s = b.scan;
  if (!s) return undefined;
  const withRefs = s.records.map((r, i) => [r, i] as const).filter(([r]) => r.shape.refWords.length);
  if (!withRefs.length) return undefined;
  const [rec, i] = rng.pick(withRefs);
  const w = rng.pick(rec.shape.refWords);
  const id = ctx.firstId + i;
  const n = ctx.firstId - 1 + s.records.length;
  const v = rng.pick([id, id, id - 1, id + 1, 0, n, n + 1, n + 2, 0xffffffff, 0x7fffffff, 0xfffff, 0x100000, rng.range(1, n)]);
  b.setU32(rec.off + 4 * w, v);
  return `ref word ${w} of record ${id} -> ${v}`;
};

const nameOffset: Mutator = (b, rng) => {
  const r = randomRecord(b, rng);
  if (!r) return undefined;
  const w = rng.pick(r.rec.shape.nameWords);
  const L = r.s.strLen;
  const v = rng.pick([L - 1, L, L + 1, L + 4096, 0xffffff, 0x1000000, 0xffffffff, rng.below(L + 1), 1, 0]);
  b.setU32(r.rec.off + 4 * w, v);
  return `name word ${w} of record ${r.i + 1} -> ${v}`;
};

const recordWord: Mutator = (b, rng) => {
  // Any word of a record past its header: member offsets and bitfields, array lengths, int
  // encodings, enum values, linkage, component_idx, secinfo offset/size.
  const r = randomRecord(b, rng);
  if (!r) return undefined;
  const words = r.rec.shape.size / 4;
  const w = words > 2 && rng.chance(0.8) ? rng.range(2, words - 1) : rng.range(0, words - 1);
  const old = b.getU32(r.rec.off + 4 * w);
  const v = rng.chance(0.3) ? (old ^ (1 << rng.below(32))) >>> 0 : rng.chance(0.3) ? ((old & 0xffffff) | (rng.below(256) << 24)) >>> 0 : extreme(rng, [old]);
  b.setU32(r.rec.off + 4 * w, v);
  return `word ${w} of record ${r.i + 1}: ${old}->${v}`;
};

const kindFlag: Mutator = (b, rng) => {
  const r = randomRecord(b, rng);
  if (!r) return undefined;
  const info = b.getU32(r.rec.off + 4);
  b.setU32(r.rec.off + 4, (info ^ 0x80000000) >>> 0);
  if (rng.chance(0.2)) b.setU32(r.rec.off + 4, (b.getU32(r.rec.off + 4) ^ (1 << rng.range(24, 30))) >>> 0);
  return `kind_flag of record ${r.i + 1} flipped`;
};

const strings: Mutator = (b, rng) => {
  const s = b.scan;
  if (!s || s.strLen === 0 || s.strStart + s.strLen > b.bytes.length) return undefined;
  const start = s.strStart;
  const end = s.strStart + s.strLen;
  switch (rng.below(4)) {
    case 0: b.bytes[end - 1] = 0x41; b.touched(); return 'last string byte not NUL';
    case 1: b.bytes[start] = rng.pick([0x41, 0xff]); b.touched(); return 'first string byte not NUL';
    case 2: {
      const at = rng.range(start, end - 1);
      b.bytes[at] = rng.range(0x80, 0xff);
      b.touched();
      return `non-UTF-8 byte in strings @${at}`;
    }
    default: {
      // A long name: NULs removed over a stretch.
      const at = rng.range(start, end - 1);
      const n = Math.min(end - 1 - at, rng.range(1, 4096));
      for (let k = at; k < at + n; k++) if (b.bytes[k] === 0) b.bytes[k] = 0x5f;
      b.touched();
      return `NULs removed ${at}+${n}`;
    }
  }
};

const layout: Mutator = (b, rng) => {
  const s = b.scan;
  if (!s || !s.layoutLen) return undefined;
  switch (rng.below(3)) {
    case 0: {
      const k = rng.below(s.layoutLen / 4);
      const p = s.layoutStart + 4 * k + rng.below(2);
      if (p >= b.bytes.length) return undefined;
      b.bytes[p] = rng.pick([0, 1, 2, 3, 4, 8, 12, 16, 0xfc, 0xff, rng.below(256)]);
      b.touched();
      return `layout entry ${k} byte ${p - s.layoutStart - 4 * k} = ${b.bytes[p]}`;
    }
    case 1: {
      const v = rng.pick([0, 4, 8, 40, 76, 80, s.layoutLen - 4, s.layoutLen + 4, s.layoutLen - 1, s.layoutLen + 1]);
      b.setU32(28, v);
      return `layout_len=${v}`;
    }
    default: {
      const v = extreme(rng, [b.getU32(24), s.typeEnd - s.hdrLen, s.strStart - s.hdrLen]);
      b.setU32(24, v);
      return `layout_off=${v}`;
    }
  }
};

const splice: Mutator = (b, rng, ctx) => {
  const s = b.scan;
  if (!s) return undefined;
  let other = pickSeed(ctx.corpus, rng);
  for (let k = 0; k < 4 && (other.elf || other.large); k++) other = pickSeed(ctx.corpus, rng);
  if (other.elf) return undefined;
  const o = scanBtf(other.bytes);
  if (!o) return undefined;
  const fixHeader = rng.chance(0.7);
  if (rng.chance(0.5)) {
    // Replace the strings with the other blob's: names now point at the wrong text or nowhere.
    const strs = other.bytes.subarray(o.strStart, Math.min(other.bytes.length, o.strStart + o.strLen));
    const head = b.bytes.subarray(0, Math.min(b.bytes.length, s.strStart));
    const out = new Uint8Array(head.length + strs.length);
    out.set(head, 0);
    out.set(strs, head.length);
    b.replace(out);
    if (fixHeader) b.setU32(20, strs.length);
    return `strings spliced from ${other.name}${fixHeader ? '' : ' (header kept)'}`;
  }
  // Replace the types (all, or a run of records) with the other blob's.
  let types = other.bytes.subarray(o.typeStart, o.typeEnd);
  if (o.records.length > 4 && rng.chance(0.6)) {
    const from = rng.below(o.records.length);
    const to = Math.min(o.records.length, from + rng.range(1, 16));
    const a = o.records[from]!.off;
    const z = to < o.records.length ? o.records[to]!.off : o.typeEnd;
    types = other.bytes.subarray(a, z);
  }
  if (o.littleEndian !== s.littleEndian && rng.chance(0.7)) return undefined;
  if (!fixHeader) {
    if (s.typeStart >= b.bytes.length) return undefined;
    const out = b.bytes.slice();
    out.set(types.subarray(0, Math.max(0, Math.min(types.length, out.length - s.typeStart))), s.typeStart);
    b.replace(out);
    return `types overwritten from ${other.name}`;
  }
  return rebuild(b, s, types.slice(), `types spliced from ${other.name}`);
};

/**
 * Appends a hostile but compact shape that random bit flips would hardly ever produce: long
 * chains (deeper than any resolve limit), fan-out (a walk that does not remember what it has seen
 * grows exponentially), by-value cycles and self-references.
 */
const hostileShape: Mutator = (b, rng, ctx) => {
  if (ctx.large) return undefined;
  const s = b.scan;
  if (!s || s.typeEnd > b.bytes.length) return undefined;
  const n = ctx.firstId - 1 + s.records.length;
  const first = n + 1;
  const words: number[] = [];
  const info = (kind: number, vlen: number, kflag = false) => ((kflag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;
  const someName = () => (rng.chance(0.5) ? 0 : rng.below(Math.max(1, s.strLen)));
  const len = rng.range(20, 48);
  const tail = rng.pick([0, first, rng.range(1, Math.max(1, n)), first + len, 0xffffffff]);
  let note: string;
  switch (rng.below(6)) {
    case 0: {
      const k = rng.range(2, 4);
      for (let i = 0; i < len; i++) {
        const next = i + 1 < len ? first + i + 1 : tail;
        words.push(someName(), info(rng.chance(0.8) ? 4 : 5, k), 4 * k);
        for (let m = 0; m < k; m++) words.push(0, next, rng.chance(0.8) ? 0 : 32 * m);
      }
      note = `fan-out chain of ${len} structs x${k}`;
      break;
    }
    case 1: {
      const kinds = [8, 9, 10, 11, 18];
      for (let i = 0; i < len; i++) words.push(someName(), info(rng.pick(kinds), 0), i + 1 < len ? first + i + 1 : tail);
      note = `modifier chain of ${len}`;
      break;
    }
    case 2: {
      for (let i = 0; i < len; i++) words.push(0, info(3, 0), 0, i + 1 < len ? first + i + 1 : tail, rng.range(1, Math.max(1, n)), rng.pick([0xffffffff, 2, 0x10000, 0]));
      note = `array chain of ${len}`;
      break;
    }
    case 3: {
      const k = rng.range(2, 4);
      for (let i = 0; i < len; i++) {
        const next = i + 1 < len ? first + i + 1 : tail;
        words.push(0, info(13, k), next);
        for (let m = 0; m < k; m++) words.push(someName(), next);
      }
      note = `fan-out chain of ${len} func protos x${k}`;
      break;
    }
    case 4: {
      // By-value cycle through a struct, a typedef and an array.
      words.push(someName(), info(4, 1), 8, 0, first + 1, 0);
      words.push(someName(), info(8, 0), first + 2);
      words.push(0, info(3, 0), 0, first, rng.range(1, Math.max(1, n)), 2);
      note = 'by-value cycle struct -> typedef -> array -> struct';
      break;
    }
    default: {
      const kind = rng.pick([2, 8, 9, 10, 11, 12, 18, 14, 17]);
      words.push(someName(), info(kind, 0), first);
      if (kind === 14 || kind === 17) words.push(rng.pick([0, 1, 0xffffffff]));
      note = `kind ${kind} referring to itself`;
    }
  }
  const add = new Uint8Array(words.length * 4);
  const dv = new DataView(add.buffer);
  words.forEach((w, i) => dv.setUint32(4 * i, w >>> 0, b.le));
  const types = b.bytes.subarray(s.typeStart, s.typeEnd);
  const out = new Uint8Array(types.length + add.length);
  out.set(types, 0);
  out.set(add, types.length);
  return rebuild(b, s, out, `${note} appended at id ${first}`);
};

const RAW_MUTATORS: readonly (readonly [number, Mutator])[] = [
  [4, hostileShape],
  [8, bitFlip], [6, byteSet], [10, u32Extreme], [10, headerField], [2, growHeader], [6, truncate],
  [4, dupRecord], [4, removeRecord], [2, swapRecords], [6, setVlen], [5, unknownKind],
  [8, retarget], [5, nameOffset], [10, recordWord], [3, kindFlag], [3, strings], [4, layout], [4, splice],
];

/** Corrupts an ELF wrapper: section offsets and sizes, the section header table, class and data bytes. */
function mutateElf(bytes: Uint8Array, fields: ElfFields, rng: Rng): string {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = fields.littleEndian;
  const put = (off: number, width: number, v: number | bigint) => {
    if (off + width > bytes.length) return;
    if (width === 8) dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), le);
    else if (width === 4) dv.setUint32(off, Number(BigInt.asUintN(32, BigInt(v))), le);
    else dv.setUint16(off, Number(BigInt.asUintN(16, BigInt(v))), le);
  };
  const r = rng.below(6);
  if (r === 0) {
    const at = rng.pick([4, 5, 6]);
    bytes[at] = rng.pick([0, 1, 2, 3, 0xff]);
    return `ELF ident byte ${at}=${bytes[at]}`;
  }
  if (r <= 2) {
    const [off, width] = rng.pick(fields.header);
    const v = rng.pick<number | bigint>([0, 1, 2, 0xffff, 0xfffe, 0x7fff, bytes.length, bytes.length - 1, 0xffffffff, 40, 64, 39, 63, 2n ** 53n, 2n ** 64n - 1n]);
    put(off, width, v);
    return `ELF header field @${off}=${v}`;
  }
  const sec = rng.pick(fields.sections);
  const [off, width] = rng.pick(sec);
  const v = rng.pick<number | bigint>([0, 1, bytes.length, bytes.length - 1, bytes.length + 1, 0xffffffff, 0x7fffffff, 2n ** 53n, 2n ** 53n - 1n, 2n ** 63n, 2n ** 64n - 1n, 3, 8, 1000]);
  put(off, width, v);
  return `ELF section field @${off}=${v}`;
}

/** Applies a stack of mutations to `seed`; every choice comes from `rng`. */
export function mutate(seed: Seed, corpus: Corpus, rng: Rng, seedScan?: ScannedBtf): FuzzInput {
  const steps: string[] = [];
  const input: FuzzInput = { seed, bytes: seed.bytes, steps };
  if (rng.chance(0.01)) {
    steps.push('unmutated');
    input.bytes = seed.bytes.slice();
    if (seed.base?.kind === 'bytes') input.baseBytes = seed.base.bytes.slice();
    return input;
  }
  const count = Math.min(6, 1 + (rng.chance(0.5) ? 0 : rng.chance(0.5) ? 1 : rng.range(2, 5)));
  const ctx: MutationContext = { corpus, large: seed.large === true, firstId: 1 };
  if (seed.base?.kind === 'fixture') ctx.firstId = seed.base.btf.endId;
  else if (seed.base?.kind === 'bytes') ctx.firstId = (scanBtf(seed.base.bytes)?.records.length ?? 0) + 1;

  const mutateRaw = (bytes: Uint8Array, scan: ScannedBtf | undefined, n: number, label: string): Uint8Array => {
    const blob = new Blob(bytes.slice(), scan);
    for (let k = 0; k < n; k++) {
      if (blob.bytes.length === 0) break;
      for (let attempt = 0; attempt < 4; attempt++) {
        const m = rng.weighted(RAW_MUTATORS);
        const note = m(blob, rng, ctx);
        if (note !== undefined) {
          steps.push(label + note);
          break;
        }
      }
    }
    return blob.bytes;
  };

  if (seed.elf) {
    const [off, size] = elfBtfRange(seed.bytes, seed.elf);
    let bytes: Uint8Array = seed.bytes.slice();
    const fields = seed.elf;
    if (rng.chance(0.3)) {
      // CO-RE records rewritten through encodeBtfExt; mostly alone, so the object still parses
      // and the engine sees them.
      const core = mutateCoreRecords(seed.bytes, rng);
      if (core) {
        steps.push(...core.steps);
        bytes = core.bytes;
        if (rng.chance(0.2)) steps.push(mutateObjectSection(bytes, rng));
        input.bytes = bytes;
        return input;
      }
    }
    if (rng.chance(0.75)) {
      // Mutate the embedded BTF and put it back so the ELF itself stays well-formed.
      const btf = mutateRaw(seed.bytes.subarray(off, off + size), undefined, count, 'BTF: ');
      bytes = replaceElfBtf(seed.bytes, fields, btf);
    }
    if (steps.length === 0 || rng.chance(0.25)) {
      for (let k = rng.range(1, 2); k > 0; k--) steps.push(mutateElf(bytes, fields, rng));
    }
    if (rng.chance(0.35)) {
      for (let k = rng.range(1, 3); k > 0; k--) steps.push(mutateObjectSection(bytes, rng));
    }
    if (rng.chance(0.1)) {
      const at = rng.below(bytes.length);
      bytes = bytes.slice(0, at);
      steps.push(`ELF truncated@${at}`);
    }
    input.bytes = bytes;
    return input;
  }

  if (seed.base?.kind === 'bytes' && rng.chance(0.25)) {
    ctx.firstId = 1;
    input.baseBytes = mutateRaw(seed.base.bytes, undefined, count, 'base: ');
    input.bytes = seed.bytes.slice();
    return input;
  }
  if (seed.base?.kind === 'bytes') input.baseBytes = seed.base.bytes;
  input.bytes = mutateRaw(seed.bytes, seed.large ? seedScan : undefined, count, '');
  return input;
}

/**
 * Changes one u32 (or one byte) of what a BPF object carries besides .BTF: `.BTF.ext`, a program
 * section's instructions, or a relocation section, in place. Returns the step's description.
 */
function mutateObjectSection(bytes: Uint8Array, rng: Rng): string {
  let sections;
  try {
    sections = parseElf(bytes).sections.filter((x) => x.size >= 4 && x.type !== SectionType.Nobits && x.offset + x.size <= bytes.length &&
      (x.name === '.BTF.ext' || x.flags & SectionFlag.Exec || x.type === SectionType.Rel));
  } catch {
    return 'object section: ELF unreadable, left alone';
  }
  if (sections.length === 0) return 'object section: none';
  const sec = rng.pick(sections);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = sec.offset + 4 * rng.below(Math.floor(sec.size / 4));
  if (rng.chance(0.3)) {
    const old = bytes[at]!;
    bytes[at] = rng.below(256);
    return `${sec.name}+${at - sec.offset}: byte ${old}->${bytes[at]}`;
  }
  const le = bytes[5] === 1;
  const old = dv.getUint32(at, le);
  const value = rng.pick([0, 1, 3, 4, 7, 8, 0x7fffffff, 0xffffffff, 0x10000001, (old + 4) >>> 0, (old + 8) >>> 0, (old - 1) >>> 0, (old * 2) >>> 0, rng.u32()]);
  dv.setUint32(at, value, le);
  return `${sec.name}+${at - sec.offset}: u32 ${old}->${value}`;
}
