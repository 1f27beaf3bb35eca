import type { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';

/*
 * The string half of dedup (libbpf's btf_dedup_strings): every name the deduplicated types
 * use, once, in the order the types first use them; names the base already holds keep the
 * base's offset. Flat tables keyed by hashes of the name bytes; no JS string is made.
 */

/** Hash of `len` bytes of `bytes` from `pos` (FNV-1a, 32-bit). */
function hashBytes(bytes: Uint8Array, pos: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ bytes[pos + i]!, 0x01000193);
  return h | 0;
}

function nextPow2(n: number): number {
  let c = 16;
  while (c < n) c *= 2;
  return c;
}

/**
 * A set of NUL-terminated strings held in one growable buffer, found by content: the first
 * string added with given bytes keeps its offset.
 */
class ByteStrings {
  buf: Uint8Array;
  len = 0;
  /** Offset + 1 of each string in the slot, 0: empty slot. */
  private slots: Int32Array;
  private hashes: Int32Array;
  private mask: number;
  private count = 0;

  /** `capacityBytes`: a first size for the buffer; `expected`: how many strings it may hold. */
  constructor(capacityBytes: number, expected = 32) {
    this.buf = new Uint8Array(Math.max(capacityBytes, 16));
    const cap = nextPow2(expected * 2);
    this.slots = new Int32Array(cap);
    this.hashes = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** Offset of the string with the bytes `src[pos..pos+len)`, or -1. */
  find(src: Uint8Array, pos: number, len: number, h: number): number {
    const { slots, hashes, buf } = this;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const s = slots[i]!;
      if (s === 0) return -1;
      if (hashes[i] === h) {
        const at = s - 1;
        if (buf[at + len] === 0) {
          let j = 0;
          while (j < len && buf[at + j] === src[pos + j]) j++;
          if (j === len) return at;
        }
      }
    }
  }

  /** Appends the string (which {@link find} did not find) and returns its offset. */
  append(src: Uint8Array, pos: number, len: number, h: number): number {
    if (this.len + len + 1 > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + len + 1));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    const at = this.len;
    // Names are short: a loop beats making a subarray for set() (a third of this phase's time).
    const buf = this.buf;
    for (let i = 0; i < len; i++) buf[at + i] = src[pos + i]!;
    buf[at + len] = 0;
    this.len += len + 1;
    this.index(at, h);
    return at;
  }

  /** Indexes a string already in the buffer at `at` (the caller knows no equal one is indexed). */
  index(at: number, h: number): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const { slots, hashes } = this;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      if (slots[i] === 0) { slots[i] = at + 1; hashes[i] = h; this.count++; return; }
    }
  }

  /**
   * Indexes the string at `at`, `len` bytes, in the buffer unless an equal one is indexed
   * already (the first keeps its place): {@link find} and {@link index} in one probe.
   */
  indexFirst(at: number, len: number, h: number): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const { slots, hashes, buf } = this;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const s = slots[i]!;
      if (s === 0) { slots[i] = at + 1; hashes[i] = h; this.count++; return; }
      if (hashes[i] === h && buf[s - 1 + len] === 0) {
        let j = 0;
        while (j < len && buf[s - 1 + j] === buf[at + j]) j++;
        if (j === len) return;
      }
    }
  }

  private grow(): void {
    const { slots, hashes } = this;
    const cap = slots.length * 2;
    this.slots = new Int32Array(cap);
    this.hashes = new Int32Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) this.index(slots[i]! - 1, hashes[i]!);
  }
}

/**
 * Indexes every string of `section`, which is `set`'s buffer, in one pass: each name hashed as
 * it is scanned (hashBytes' steps), indexed at its NUL. A function of its own so that V8's
 * compiled loop has nothing after it that had not run yet (which would send the rest back to
 * the interpreter).
 */
function indexSection(set: ByteStrings, section: Uint8Array): void {
  const n = section.length;
  let start = 0;
  let h = 0x811c9dc5;
  for (let i = 0; i <= n && n > 0; i++) {
    const c = i < n ? section[i]! : 0;
    if (c !== 0) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    set.indexFirst(start, i - start, h | 0);
    start = i + 1;
    h = 0x811c9dc5;
    if (i + 1 === n) break;
  }
}

/** The base chain's strings by content: the offset libbpf's `btf__find_str` gives (innermost base first, first occurrence). */
class BaseStrings {
  private readonly sets: { set: ByteStrings; first: number }[] = [];

  constructor(base: Btf) {
    const chain: Btf[] = [];
    for (let b: Btf | undefined = base; b; b = b.base) chain.unshift(b);
    for (const b of chain) {
      const section = b.bytes.subarray(b.stringStart, b.stringStart + b.header.strLen);
      // Sized for names of 16 bytes on average (vmlinux: 18): a growth at most.
      const set = new ByteStrings(0, section.length >>> 4);
      set.buf = section;
      set.len = section.length;
      indexSection(set, section);
      this.sets.push({ set, first: b.firstStringOffset });
    }
  }

  find(src: Uint8Array, pos: number, len: number, h: number): number {
    for (const { set, first } of this.sets) {
      const at = set.find(src, pos, len, h);
      if (at >= 0) return first + at;
    }
    return -1;
  }
}

/**
 * Assigns the new string offsets of a blob being deduplicated: {@link remap} takes a name
 * offset of the input and gives the offset it has in the output.
 * @internal
 */
export class DedupStrings {
  private readonly out: ByteStrings;
  /**
   * Output offset + 1 per own string offset of the current source (0: not seen yet), valid
   * below the source's string length; the remapping loop reads it before calling {@link remap}.
   */
  memo = new Uint32Array(0);
  private readonly baseStrings: BaseStrings | undefined;
  /** Where own names start: offsets below it are the base's and stay. */
  readonly firstOffset: number;
  /** The blob whose names {@link remap} reads now. */
  private src: Btf | undefined;

  /**
   * `base`: the base chain of the input, whose names keep their offsets; `capacity`: a guess
   * at the output's length in bytes.
   */
  constructor(base: Btf | undefined, capacity: number) {
    this.firstOffset = base ? base.endStringOffset : 0;
    // Module names average some 15 bytes; about half of the input's are repeats.
    this.out = new ByteStrings(capacity, capacity >>> 5);
    if (base) {
      this.baseStrings = new BaseStrings(base);
    } else {
      // The empty string first, as in every base blob.
      this.out.append(new Uint8Array(0), 0, 0, hashBytes(new Uint8Array(0), 0, 0));
    }
  }

  /**
   * Takes the names {@link remap} is given from here on as offsets into `src`'s chain: the
   * input, or one module of several merged (each on the same base).
   */
  readFrom(src: Btf): void {
    if (src.firstStringOffset !== this.firstOffset) {
      throw new BtfError('bad-base', `names of a blob whose strings start at ${src.firstStringOffset} cannot be read on a base whose strings end at ${this.firstOffset}`);
    }
    if (this.src === src) return;
    const len = src.header.strLen;
    if (this.memo.length < len) this.memo = new Uint32Array(Math.max(len, this.memo.length * 2));
    else this.memo.fill(0, 0, len);
    this.src = src;
  }

  /** The output offset of input name offset `off`, named by type `id` if it is bad. */
  remap(off: number, id: number): number {
    if (off === 0 || off < this.firstOffset) return off;
    const btf = this.src!;
    if (off >= btf.endStringOffset) {
      throw new BtfError('bad-string-offset', `name offset ${off} lies outside the string section (which ends at ${btf.endStringOffset})`, { typeId: id });
    }
    const known = this.memo[off - this.firstOffset]!;
    if (known !== 0) return known - 1;
    const pos = btf.stringStart + (off - this.firstOffset);
    const end = btf.stringStart + btf.header.strLen;
    const bytes = btf.bytes;
    // The name's end and its hash (hashBytes' steps) in one pass.
    let h = 0x811c9dc5;
    let stop = pos;
    for (let c = 0; stop < end && (c = bytes[stop]!) !== 0; stop++) h = Math.imul(h ^ c, 0x01000193);
    h |= 0;
    const len = stop - pos;
    let to: number;
    if (len === 0) {
      to = 0;
    } else {
      // The output holds only names the base lacks, so a name found there needs no base lookup
      // (modules share most of their names: most lookups end here).
      const at = this.out.find(bytes, pos, len, h);
      if (at >= 0) {
        to = this.firstOffset + at;
      } else {
        to = this.baseStrings ? this.baseStrings.find(bytes, pos, len, h) : -1;
        if (to < 0) to = this.firstOffset + this.out.append(bytes, pos, len, h);
      }
    }
    this.memo[off - this.firstOffset] = to + 1;
    return to;
  }

  /** The output's string section. */
  section(): Uint8Array {
    return this.out.buf.subarray(0, this.out.len);
  }
}
