import type { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { MAX_NAME_OFFSET } from '../format/kinds.js';

/** Options for {@link StringTable}. */
export interface StringTableOptions {
  /**
   * Base BTF for split BTF: offsets continue after the base's strings, and a string the base
   * already holds resolves to the base's offset instead of being stored again (as libbpf's
   * `btf__add_str` does on split BTF).
   */
  base?: Btf;
  /**
   * An existing string section to start from. It is kept byte for byte, and every NUL-terminated
   * string in it is found again by {@link StringTable.add}, so re-encoding a parsed blob keeps
   * every name offset as it was.
   */
  seed?: Uint8Array;
}

// windows-1252 as WHATWG defines it maps each of the 256 byte values to a distinct code point,
// so decoded text is a lossless map key for arbitrary (even non-UTF-8) name bytes.
const byteKeys = new TextDecoder('latin1');
const utf8 = new TextEncoder();

/** Per-Btf index of its own string section, shared by every builder that uses it as a base. */
const ownStringIndexes = new WeakMap<Btf, Map<string, number>>();

/**
 * Maps every NUL-terminated string of `section` to the offset of its first occurrence,
 * offsets counted from `firstOffset`.
 */
function indexSection(section: Uint8Array, firstOffset: number, into: Map<string, number>): void {
  const text = byteKeys.decode(section);
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\0', pos);
    if (end < 0) end = text.length;
    const key = text.slice(pos, end);
    if (!into.has(key)) into.set(key, firstOffset + pos);
    pos = end + 1;
  }
}

function ownIndex(btf: Btf): Map<string, number> {
  let index = ownStringIndexes.get(btf);
  if (!index) {
    index = new Map();
    const { stringStart, header } = btf;
    indexSection(btf.bytes.subarray(stringStart, stringStart + header.strLen), btf.firstStringOffset, index);
    ownStringIndexes.set(btf, index);
  }
  return index;
}

/** Looks a string up in a base chain, the innermost base first, as libbpf's `btf__find_str` does. */
function findInBase(base: Btf, key: string): number | undefined {
  if (base.base) {
    const deeper = findInBase(base.base, key);
    if (deeper !== undefined) return deeper;
  }
  return ownIndex(base).get(key);
}

/**
 * The string section of a BTF blob being written: deduplicated, append-only, with offsets
 * that never change once handed out.
 *
 * @example
 * ```ts
 * const strings = new StringTable();
 * const off = strings.add('task_struct');   // 1: offset 0 is the empty string
 * strings.add('task_struct') === off;       // true
 * ```
 */
export class StringTable {
  /** Offset of this table's first byte: 0, or the base's end offset for split BTF. */
  readonly firstOffset: number;
  private readonly base: Btf | undefined;
  private buf: Uint8Array;
  private len: number;
  /** Built on the first lookup, so copying a blob verbatim never pays for it. */
  private index: Map<string, number> | undefined;

  constructor(opts: StringTableOptions = {}) {
    this.base = opts.base;
    this.firstOffset = opts.base ? opts.base.endStringOffset : 0;
    const seed = opts.seed;
    if (seed && seed.length > 0) {
      if (seed[seed.length - 1] !== 0) {
        throw new BtfError('bad-strings', 'string section seed does not end with a NUL byte');
      }
      if (!opts.base && seed[0] !== 0) {
        throw new BtfError('bad-strings', 'string section seed of base BTF must start with the empty string (a NUL byte)');
      }
      if (this.firstOffset + seed.length - 1 > MAX_NAME_OFFSET) {
        throw new BtfError('bad-strings', `string section seed of ${seed.length} bytes ends past the largest name offset ${MAX_NAME_OFFSET}`);
      }
      this.buf = seed.slice();
      this.len = seed.length;
    } else {
      // Base BTF always holds the empty string at offset 0; split BTF reuses the base's.
      this.buf = new Uint8Array(256);
      this.len = opts.base ? 0 : 1;
    }
  }

  /** Bytes in this table (the `str_len` of the header). */
  get length(): number {
    return this.len;
  }

  /** One past the last offset this table covers. */
  get endOffset(): number {
    return this.firstOffset + this.len;
  }

  /** Offset of `s`, adding it if it is new. The empty string is always offset 0. */
  add(s: string): number {
    return this.addBytes(utf8.encode(s));
  }

  /** Like {@link add}, for names given as raw bytes (which need not be UTF-8). */
  addBytes(bytes: Uint8Array): number {
    if (bytes.length === 0) return 0;
    if (bytes.includes(0)) {
      throw new BtfError('bad-name', `string ${JSON.stringify(byteKeys.decode(bytes))} contains a NUL byte`);
    }
    const key = byteKeys.decode(bytes);
    const found = this.lookup(key);
    if (found !== undefined) return found;
    const off = this.firstOffset + this.len;
    if (off + bytes.length > MAX_NAME_OFFSET) {
      throw new BtfError('bad-name', `string table is full: adding ${bytes.length + 1} bytes would end past the largest name offset ${MAX_NAME_OFFSET}`);
    }
    this.reserve(bytes.length + 1);
    this.buf.set(bytes, this.len);
    this.buf[this.len + bytes.length] = 0;
    this.len += bytes.length + 1;
    this.index!.set(key, off);
    return off;
  }

  /** Offset of `s` if the table (or its base) holds it, without adding it. */
  find(s: string): number | undefined {
    if (s === '') return 0;
    return this.lookup(byteKeys.decode(utf8.encode(s)));
  }

  /** The section's bytes (a view; copy it before adding more strings). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private lookup(key: string): number | undefined {
    if (this.base) {
      const inBase = findInBase(this.base, key);
      if (inBase !== undefined) return inBase;
    }
    if (!this.index) {
      this.index = new Map();
      indexSection(this.buf.subarray(0, this.len), this.firstOffset, this.index);
    }
    return this.index.get(key);
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
}
