import { Kind } from '../../format/kinds.js';
import type { TypeTable } from './table.js';

/** Rank of types that sort last: anonymous records and prototypes, pointers, functions, variables. */
const LAST_RANK = 10;

/**
 * The order bpftool dumps types in by default, so that the header stays put when unrelated
 * types are added or ids shift. Types sort by
 * 1. rank: anonymous enums, named enums, ints and floats, named records, named prototypes,
 *    everything else (typedefs, arrays and modifiers rank as what they name);
 * 2. sort name: the type's own name, or for references the name of what they refer to (an
 *    anonymous enum sorts by its first enumerator);
 * 3. own name;
 * 4. a hash of the names inside (members, enumerators, and what members and references refer
 *    to), which separates same-named types of different shapes;
 * 5. type id, for types equal in all of the above.
 *
 * Returns every id from 0 (void) up, in that order.
 */
export function sortedTypeIds(t: TypeTable): Int32Array {
  const order = sortByNames(t);
  const hasher = new DisambiguationHash(t);
  for (let i = 0; i < order.ids.length;) {
    const end = order.runEnd(i);
    order.sortRun(i, end, hasher);
    i = end;
  }
  return order.ids;
}

/**
 * Type ids sorted by the first three keys (rank, sort name, own name) and by id within runs
 * equal in those: {@link sortedTypeIds} without the hashes, which only runs of ties need.
 */
export class NameOrder {
  constructor(
    readonly ids: Int32Array,
    private readonly rank: Uint32Array,
    private readonly sortOrd: Uint32Array,
    private readonly ownOrd: Uint32Array,
  ) {}

  /** One past the end of the run of ties starting at position `i`. */
  runEnd(i: number): number {
    const { ids, rank, sortOrd, ownOrd } = this;
    const a = ids[i]!;
    let j = i + 1;
    while (j < ids.length && rank[ids[j]!] === rank[a] && sortOrd[ids[j]!] === sortOrd[a] && ownOrd[ids[j]!] === ownOrd[a]) j++;
    return j;
  }

  /** Puts positions `[i, end)`, a run of ties, in their final order: by hash, then id. */
  sortRun(i: number, end: number, hasher: DisambiguationHash): void {
    if (end - i < 2) return;
    const ids = this.ids;
    const byHashThenId = (a: number, b: number) => hasher.compare(a, b) || a - b;
    if (end - i === 2) {
      const a = ids[i]!;
      const b = ids[i + 1]!;
      if (byHashThenId(a, b) > 0) {
        ids[i] = b;
        ids[i + 1] = a;
      }
      return;
    }
    ids.set(Array.from(ids.subarray(i, end)).sort(byHashThenId), i);
  }
}

/** Sorts every type id by rank, sort name and own name (stable, so ties stay in id order). */
export function sortByNames(t: TypeTable): NameOrder {
  const n = t.count;
  // Each loop sits in a function of its own: V8 optimises a long loop while it runs, and a
  // function holding several loops is deoptimised again at each loop it has not seen run.
  const rank = new Uint32Array(n);
  const sortOff = new Uint32Array(n);
  fillRankAndSortName(t, rank, sortOff);
  const { sortOrd, ownOrd, count: names } = nameOrdinals(t, sortOff);

  // Least significant key first, each pass a stable counting sort: ids start in id order, so
  // equal keys stay in id order.
  let ids = identity(n);
  ids = countingSort(ids, ownOrd, names);
  ids = countingSort(ids, sortOrd, names);
  ids = countingSort(ids, rank, LAST_RANK + 1);
  return new NameOrder(ids, rank, sortOrd, ownOrd);
}

function fillRankAndSortName(t: TypeTable, rank: Uint32Array, sortOff: Uint32Array): void {
  for (let id = 0; id < t.count; id++) {
    rank[id] = typeRank(t, id);
    sortOff[id] = sortNameOffset(t, id);
  }
}

function identity(n: number): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  return ids;
}

/** Stable counting sort of `ids` by `key[id]`, keys below `range`. */
function countingSort(ids: Int32Array, key: Uint32Array, range: number): Int32Array {
  const start = new Uint32Array(range + 1);
  countKeys(ids, key, start);
  prefixSums(start);
  const out = new Int32Array(ids.length);
  scatter(ids, key, start, out);
  return out;
}

function countKeys(ids: Int32Array, key: Uint32Array, start: Uint32Array): void {
  for (let i = 0; i < ids.length; i++) start[key[ids[i]!]! + 1]!++;
}

function prefixSums(a: Uint32Array): void {
  for (let k = 1; k < a.length; k++) a[k]! += a[k - 1]!;
}

function scatter(ids: Int32Array, key: Uint32Array, start: Uint32Array, out: Int32Array): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    out[start[key[id]!]!++] = id;
  }
}

/**
 * Numbers the strings at the given offsets and at every type's name offset in byte order
 * (equal strings at different offsets get the same number), so names compare as integers.
 * Returns the numbers of `sortOff[id]` and of `nameOff[id]` for every id.
 */
function nameOrdinals(t: TypeTable, sortOff: Uint32Array): { sortOrd: Uint32Array; ownOrd: Uint32Array; count: number } {
  const offsets = distinctOffsets(sortOff, t.nameOff);
  const strings = stringsAt(t, offsets);
  const order = identityArray(offsets.length);
  order.sort((a, b) => (strings[a]! < strings[b]! ? -1 : strings[a]! > strings[b]! ? 1 : 0));
  const ordinalAt = new Uint32Array(offsets.length);
  const count = numberRuns(order, strings, ordinalAt);
  const sortOrd = new Uint32Array(t.count);
  const ownOrd = new Uint32Array(t.count);
  lookUpOrdinals(offsets, ordinalAt, sortOff, sortOrd);
  lookUpOrdinals(offsets, ordinalAt, t.nameOff, ownOrd);
  return { sortOrd, ownOrd, count };
}

/** The distinct values of two arrays, ascending. */
function distinctOffsets(a: Uint32Array, b: Uint32Array): Uint32Array {
  const all = new Uint32Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  all.sort();
  let distinct = 0;
  for (let i = 0; i < all.length; i++) {
    if (i === 0 || all[i] !== all[i - 1]) all[distinct++] = all[i]!;
  }
  return all.subarray(0, distinct);
}

function stringsAt(t: TypeTable, offsets: Uint32Array): string[] {
  const strings = new Array<string>(offsets.length);
  for (let i = 0; i < offsets.length; i++) strings[i] = t.str(offsets[i]!);
  return strings;
}

function identityArray(n: number): number[] {
  const a = new Array<number>(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Gives `ordinalAt[order[i]]` the rank of its string among the distinct strings; returns their count. */
function numberRuns(order: number[], strings: string[], ordinalAt: Uint32Array): number {
  let count = 0;
  for (let i = 0; i < order.length; i++) {
    if (i > 0 && strings[order[i]!] !== strings[order[i - 1]!]) count++;
    ordinalAt[order[i]!] = count;
  }
  return count + 1;
}

/** For each `keys[i]` (one of the sorted `offsets`), its ordinal, found by binary search. */
function lookUpOrdinals(offsets: Uint32Array, ordinalAt: Uint32Array, keys: Uint32Array, out: Uint32Array): void {
  const last = offsets.length - 1;
  for (let i = 0; i < keys.length; i++) {
    const off = keys[i]!;
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offsets[mid]! < off) lo = mid + 1;
      else hi = mid;
    }
    out[i] = ordinalAt[lo]!;
  }
}

/** The rank of type `id`; `named` is whether a referring type had a name. */
export function typeRank(t: TypeTable, id: number, named = false): number {
  for (;;) {
    if (t.nameOff[id] !== 0) named = true;
    switch (t.kind[id]) {
      case Kind.Enum: case Kind.Enum64:
        return named ? 1 : 0;
      case Kind.Int: case Kind.Float:
        return 2;
      case Kind.Struct: case Kind.Union:
        return named ? 3 : LAST_RANK;
      case Kind.FuncProto:
        return named ? 4 : LAST_RANK;
      case Kind.Array:
        if (!named) return LAST_RANK;
        id = t.elType[t.first[id]!]!;
        break;
      case Kind.TypeTag: case Kind.Const: case Kind.Ptr: case Kind.Volatile: case Kind.Restrict:
      case Kind.Typedef: case Kind.DeclTag:
        if (!named) return LAST_RANK;
        id = t.ref[id]!;
        break;
      default:
        return LAST_RANK;
    }
  }
}

/** String offset of the name type `id` sorts by. */
export function sortNameOffset(t: TypeTable, id: number): number {
  let fromRef = false;
  for (;;) {
    switch (t.kind[id]) {
      case Kind.Enum: case Kind.Enum64:
        // An anonymous enum on its own goes by its first enumerator.
        if (!fromRef && t.nameOff[id] === 0 && t.vlen[id]! > 0) return t.elName[t.first[id]!]!;
        return t.nameOff[id]!;
      case Kind.Array:
        id = t.elType[t.first[id]!]!;
        break;
      case Kind.TypeTag: case Kind.Const: case Kind.Ptr: case Kind.Volatile: case Kind.Restrict:
      case Kind.Typedef: case Kind.DeclTag:
        id = t.ref[id]!;
        break;
      default:
        return t.nameOff[id]!;
    }
    fromRef = true;
  }
}

const TWO_32 = 4294967296;

const FULL = 1;
const SHALLOW = 2;

/**
 * bpftool's 64-bit disambiguation hash (`h * 31 + v` over names and array lengths), kept as
 * two 32-bit halves. The full hash of a record covers its members' names and the shallow hash
 * of each member's type (names and array lengths down to the next named type, not its members).
 * Names hash as libbpf's str_hash does on x86, where `char` is signed.
 */
export class DisambiguationHash {
  private readonly fullHi: Uint32Array;
  private readonly fullLo: Uint32Array;
  private readonly shallowHi: Uint32Array;
  private readonly shallowLo: Uint32Array;
  private readonly known: Uint8Array;
  /** The running hash of the computation in progress, and the result of the last one. */
  private hi = 0;
  private lo = 0;

  constructor(private readonly t: TypeTable) {
    const n = t.count;
    this.fullHi = new Uint32Array(n);
    this.fullLo = new Uint32Array(n);
    this.shallowHi = new Uint32Array(n);
    this.shallowLo = new Uint32Array(n);
    this.known = new Uint8Array(n);
  }

  /** Compares the full hashes of two types as unsigned 64-bit numbers. */
  compare(a: number, b: number): number {
    if (!(this.known[a]! & FULL)) this.compute(a, true);
    if (!(this.known[b]! & FULL)) this.compute(b, true);
    return this.fullHi[a]! - this.fullHi[b]! || this.fullLo[a]! - this.fullLo[b]!;
  }

  /** The full hash of type `id` as an unsigned 64-bit number. */
  hash(id: number): bigint {
    if (!(this.known[id]! & FULL)) this.compute(id, true);
    return (BigInt(this.fullHi[id]!) << 32n) | BigInt(this.fullLo[id]!);
  }

  /** `h = h * 31 + v` modulo 2^64 (every intermediate stays an exact double). */
  private mix(vHi: number, vLo: number): void {
    const lo = this.lo * 31 + vLo;
    const carry = Math.floor(lo / TWO_32);
    this.lo = lo - carry * TWO_32;
    this.hi = (this.hi * 31 + vHi + carry) >>> 0;
  }

  /** Mixes in str_hash of the string at `off`, unless `off` is 0 (no name). */
  private mixName(off: number): void {
    if (off === 0) return;
    const bytes = this.t.strBytes;
    let hi = 0;
    let lo = 0;
    for (let p = off; p < bytes.length; p++) {
      const c = bytes[p]!;
      if (c === 0) break;
      // A signed char above 0x7f adds a negative number; the carry goes negative with it.
      const l = lo * 31 + (c < 0x80 ? c : c - 256);
      const carry = Math.floor(l / TWO_32);
      lo = l - carry * TWO_32;
      hi = (hi * 31 + carry) >>> 0;
    }
    this.mix(hi, lo);
  }

  /** Computes and memoises the hash of `id`, leaving it in hi:lo. */
  private compute(id: number, full: boolean): void {
    const flag = full ? FULL : SHALLOW;
    const hiArr = full ? this.fullHi : this.shallowHi;
    const loArr = full ? this.fullLo : this.shallowLo;
    if (this.known[id]! & flag) {
      this.hi = hiArr[id]!;
      this.lo = loArr[id]!;
      return;
    }
    const t = this.t;
    this.hi = 0;
    this.lo = 0;
    this.mixName(t.nameOff[id]!);
    const f = t.first[id]!;
    switch (t.kind[id]) {
      case Kind.Enum: case Kind.Enum64:
        for (let e = f; e < f + t.vlen[id]!; e++) this.mixName(t.elName[e]!);
        break;
      case Kind.Struct: case Kind.Union:
        if (!full) break;
        for (let e = f; e < f + t.vlen[id]!; e++) {
          this.mixName(t.elName[e]!);
          this.mixSub(t.elType[e]!, false);
        }
        break;
      case Kind.TypeTag: case Kind.Const: case Kind.Ptr: case Kind.Volatile: case Kind.Restrict:
      case Kind.Typedef: case Kind.DeclTag:
        this.mixSub(t.ref[id]!, full);
        break;
      case Kind.Array:
        this.mix(0, t.elAux[f]!);
        this.mixSub(t.elType[f]!, full);
        break;
      default:
        break;
    }
    hiArr[id] = this.hi;
    loArr[id] = this.lo;
    this.known[id]! |= flag;
  }

  /** Mixes in the hash of another type, computed on the side. */
  private mixSub(id: number, full: boolean): void {
    const hi = this.hi;
    const lo = this.lo;
    this.compute(id, full);
    const subHi = this.hi;
    const subLo = this.lo;
    this.hi = hi;
    this.lo = lo;
    this.mix(subHi, subLo);
  }
}
