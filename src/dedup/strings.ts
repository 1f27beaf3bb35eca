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
 * Open-addressing map from a u32 key (a string offset) to a u32 value: one probe sequence,
 * no objects per entry, grows by doubling.
 * @internal
 */
export class U32Map {
  private keys: Int32Array;
  private values: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 16) {
    const cap = nextPow2(expected * 2);
    this.keys = new Int32Array(cap).fill(-1);
    this.values = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  /** The value of `key`, or -1 when absent. */
  get(key: number): number {
    const keys = this.keys;
    for (let i = Math.imul(key, 0x9e3779b1) >>> 0 & this.mask; ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) return this.values[i]!;
      if (k === -1) return -1;
    }
  }

  set(key: number, value: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const keys = this.keys;
    for (let i = Math.imul(key, 0x9e3779b1) >>> 0 & this.mask; ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) { this.values[i] = value; return; }
      if (k === -1) { keys[i] = key; this.values[i] = value; this.count++; return; }
    }
  }

  private grow(): void {
    const { keys, values } = this;
    const cap = keys.length * 2;
    this.keys = new Int32Array(cap).fill(-1);
    this.values = new Uint32Array(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== -1) this.set(keys[i]!, values[i]!);
  }
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

  constructor(capacityBytes: number) {
    this.buf = new Uint8Array(Math.max(capacityBytes, 16));
    const cap = nextPow2(64);
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
    this.buf.set(src.subarray(pos, pos + len), at);
    this.buf[at + len] = 0;
    this.len += len + 1;
    this.index(at, h);
    return at;
  }

  /** Indexes a string already in the buffer at `at` (unless an equal one is indexed). */
  index(at: number, h: number): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const { slots, hashes } = this;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      if (slots[i] === 0) { slots[i] = at + 1; hashes[i] = h; this.count++; return; }
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

/** The base chain's strings by content: the offset libbpf's `btf__find_str` gives (innermost base first, first occurrence). */
class BaseStrings {
  private readonly sets: { set: ByteStrings; first: number }[] = [];

  constructor(base: Btf) {
    const chain: Btf[] = [];
    for (let b: Btf | undefined = base; b; b = b.base) chain.unshift(b);
    for (const b of chain) {
      const section = b.bytes.subarray(b.stringStart, b.stringStart + b.header.strLen);
      const set = new ByteStrings(0);
      set.buf = section;
      set.len = section.length;
      for (let pos = 0; pos < section.length;) {
        let end = section.indexOf(0, pos);
        if (end < 0) end = section.length;
        const h = hashBytes(section, pos, end - pos);
        if (set.find(section, pos, end - pos, h) < 0) set.index(pos, h);
        pos = end + 1;
      }
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
  private readonly memo = new U32Map(1024);
  private readonly baseStrings: BaseStrings | undefined;
  private readonly firstOffset: number;

  constructor(private readonly btf: Btf) {
    this.firstOffset = btf.firstStringOffset;
    this.out = new ByteStrings(btf.header.strLen);
    if (btf.base) {
      this.baseStrings = new BaseStrings(btf.base);
    } else {
      // The empty string first, as in every base blob.
      this.out.append(btf.bytes, 0, 0, hashBytes(btf.bytes, 0, 0));
    }
  }

  /** The output offset of input name offset `off`, named by type `id` if it is bad. */
  remap(off: number, id: number): number {
    if (off === 0 || off < this.firstOffset) return off;
    const known = this.memo.get(off);
    if (known >= 0) return known;
    const btf = this.btf;
    const pos = btf.stringStart + (off - this.firstOffset);
    const end = btf.stringStart + btf.header.strLen;
    if (off >= btf.endStringOffset) {
      throw new BtfError('bad-string-offset', `name offset ${off} lies outside the string section (which ends at ${btf.endStringOffset})`, { typeId: id });
    }
    const bytes = btf.bytes;
    let stop = bytes.indexOf(0, pos);
    if (stop < 0 || stop >= end) stop = end;
    const len = stop - pos;
    let to: number;
    if (len === 0) {
      to = 0;
    } else {
      const h = hashBytes(bytes, pos, len);
      to = this.baseStrings ? this.baseStrings.find(bytes, pos, len, h) : -1;
      if (to < 0) {
        const at = this.out.find(bytes, pos, len, h);
        to = this.firstOffset + (at >= 0 ? at : this.out.append(bytes, pos, len, h));
      }
    }
    this.memo.set(off, to);
    return to;
  }

  /** The output's string section. */
  section(): Uint8Array {
    return this.out.buf.subarray(0, this.out.len);
  }
}
