import { WireKind as Kind } from '../../format/kinds.js';
import type { TypeTable } from './table.js';

/** libbpf formats a renamed type into a 256-byte buffer; longer names come out cut at 255 bytes. */
const MAX_RENAMED_LENGTH = 255;

/**
 * A name to write: a string offset into the BTF (written straight from the string section), or a
 * string (a `___N` rename, or a name given by the caller).
 */
export type DeclName = string | number;

/**
 * C's two namespaces as btf_dump sees them, with the `___N` renaming that keeps clashing names
 * apart: struct, union and enum tags in one; typedef names and enumerators in the other.
 *
 * A type's name is fixed the first time it is printed: the first type to print a name keeps
 * it, the n-th gets `name___n`. So the emit order decides who is renamed, and every caller must
 * ask for names in exactly the order it prints them.
 */
export class NameScope {
  private readonly tags: NameCounter;
  private readonly idents: NameCounter;
  /** 1 once a type's printed name is fixed. */
  private readonly settled: Uint8Array;
  private readonly renamed = new Map<number, string>();

  constructor(private readonly table: TypeTable) {
    this.settled = new Uint8Array(table.count);
    // Sized for the share of names a kernel has (about 1 tag in 10 types, 1 typedef or
    // enumerator in 6), so a kernel's dump need not regrow them, while the tables stay small
    // enough for the cache: looking names up is mostly waiting for memory.
    this.tags = new NameCounter(table.strBytes, table.count >>> 3);
    this.idents = new NameCounter(table.strBytes, table.count >>> 2);
  }

  /** The printed name of a struct, union, enum, forward declaration (or int, see writeIntAlias). */
  tagName(id: number): DeclName {
    return this.settle(id, this.tags);
  }

  /** The printed name of a typedef. */
  typedefName(id: number): DeclName {
    return this.settle(id, this.idents);
  }

  /**
   * How many enumerators named as the string at `off` have been printed, this one included.
   * Unlike types, enumerators are counted each time they are printed (an anonymous enum inlined
   * twice renames its values the second time), as libbpf does.
   */
  countEnumerator(off: number): number {
    return this.idents.bump(off);
  }

  private settle(id: number, counter: NameCounter): DeclName {
    const t = this.table;
    const off = t.nameOff[id]!;
    if (off === 0) return 0;
    if (this.settled[id]) return this.renamed.get(id) ?? off;
    this.settled[id] = 1;
    // A forward declaration or an enum without values declares a name without defining it,
    // so it never clashes with the definition.
    const kind = t.kind[id];
    if (kind === Kind.Fwd || (kind === Kind.Enum && t.vlen[id] === 0)) return off;
    const n = counter.bump(off);
    if (n === 1) return off;
    let renamed = `${t.str(off)}___${n}`;
    if (renamed.length > MAX_RENAMED_LENGTH) renamed = renamed.slice(0, MAX_RENAMED_LENGTH);
    this.renamed.set(id, renamed);
    return renamed;
  }
}

/**
 * Occurrence counts of names, keyed by the bytes of NUL-terminated strings in the string
 * section (two offsets holding the same bytes are the same name). An open-addressing table on
 * typed arrays: the dump counts some hundred thousand names, and making a JS string of each
 * just to look it up in a Map costs more than hashing the bytes where they are.
 */
class NameCounter {
  /** Slot i: `[2i]` the name's string offset + 1 (0: empty slot), `[2i + 1]` its count. */
  private slots: Int32Array;
  private used = 0;

  constructor(private readonly bytes: Uint8Array, expected: number) {
    let size = 1 << 10;
    while (size < expected * 2 && size < 1 << 22) size *= 2;
    this.slots = new Int32Array(2 * size);
  }

  /** Counts one more occurrence of the name at `off` and returns the count. */
  bump(off: number): number {
    const bytes = this.bytes;
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let slot = hashAt(bytes, off) & mask;
    for (;;) {
      const key = slots[2 * slot]!;
      if (key === 0) {
        slots[2 * slot] = off + 1;
        slots[2 * slot + 1] = 1;
        if (++this.used * 2 > mask + 1) this.grow();
        return 1;
      }
      if (key - 1 === off || sameString(bytes, key - 1, off)) return ++slots[2 * slot + 1]!;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = (slots.length >> 1) - 1;
    for (let i = 0; i < old.length; i += 2) {
      const key = old[i]!;
      if (key === 0) continue;
      let slot = hashAt(this.bytes, key - 1) & mask;
      while (slots[2 * slot] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = key;
      slots[2 * slot + 1] = old[i + 1]!;
    }
    this.slots = slots;
  }
}

/** FNV-1a over the NUL-terminated bytes at `off`. */
function hashAt(bytes: Uint8Array, off: number): number {
  let h = 0x811c9dc5;
  for (let p = off; p < bytes.length; p++) {
    const c = bytes[p]!;
    if (c === 0) break;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

function sameString(bytes: Uint8Array, a: number, b: number): boolean {
  for (;;) {
    const x = bytes[a++];
    if (x !== bytes[b++]) return false;
    if (x === 0 || x === undefined) return true;
  }
}
