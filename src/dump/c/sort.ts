import { WireKind as Kind } from '../../format/kinds.js';
import { Rec } from '../../format/records.js';
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
  /** For a position that starts a run of two or more ties, one past its end; else 0. */
  private readonly tieEnd: Int32Array;

  /**
   * @param lastRankStart where the types of the last rank begin in `ids`; when
   * {@link sortByNames} was asked to leave them, they stay in id order from there on, unsorted.
   */
  constructor(readonly ids: Int32Array, ties: readonly number[], readonly lastRankStart = ids.length,
    private readonly keys?: { table: TypeTable; rank: Uint8Array; sortOff: Uint32Array }) {
    this.tieEnd = new Int32Array(ids.length);
    for (let k = 0; k < ties.length; k += 2) this.tieEnd[ties[k]!] = ties[k + 1]!;
  }

  /**
   * The order of the first three keys (rank, sort name, own name) between types `a` and `b`, as
   * strcmp would give it: negative when `a` sorts first, 0 when they tie.
   */
  compareNames(a: number, b: number): number {
    const keys = this.keys!;
    const bytes = keys.table.strBytes;
    return keys.rank[a]! - keys.rank[b]!
      || compareFrom(bytes, keys.sortOff[a]!, keys.sortOff[b]!)
      || compareFrom(bytes, keys.table.nameOff[a]!, keys.table.nameOff[b]!);
  }

  /** One past the end of the run of ties starting at position `i` (a run start). */
  runEnd(i: number): number {
    return this.tieEnd[i] || i + 1;
  }

  /** Puts positions `[i, end)`, a run of ties, in their final order: by hash, then id. */
  sortRun(i: number, end: number, hasher: DisambiguationHash): void {
    const n = end - i;
    if (n < 2) return;
    const ids = this.ids;
    if (n <= 16) {
      const run = Array.from(ids.subarray(i, end)).sort((a, b) => hasher.compare(a, b) || a - b);
      ids.set(run, i);
      return;
    }
    // Long runs (tens of thousands of anonymous prototypes and pointers) are sorted natively:
    // first by the high half of the hash, then groups equal in it by the low half. The run is
    // in id order, so a type's position in it breaks the remaining ties by id.
    const run = Int32Array.from(ids.subarray(i, end));
    const key = new Float64Array(n);
    for (let k = 0; k < n; k++) key[k] = hasher.high(run[k]!) * RUN_SLOTS + k;
    key.sort();
    const order = new Int32Array(n);
    for (let k = 0; k < n; k++) order[k] = key[k]! % RUN_SLOTS;
    for (let g = 0; g < n;) {
      const high = hasher.high(run[order[g]!]!);
      let h = g + 1;
      while (h < n && hasher.high(run[order[h]!]!) === high) h++;
      if (h - g > 1) {
        const sub = new Float64Array(h - g);
        for (let k = g; k < h; k++) sub[k - g] = hasher.low(run[order[k]!]!) * RUN_SLOTS + order[k]!;
        sub.sort();
        for (let k = g; k < h; k++) order[k] = sub[k - g]! % RUN_SLOTS;
      }
      g = h;
    }
    for (let k = 0; k < n; k++) ids[i + k] = run[order[k]!]!;
  }
}

/** Positions within a run fit below this; with a 32-bit hash half above them, keys stay exact doubles. */
const RUN_SLOTS = 1 << 21;

/**
 * Sorts every type id by rank, sort name and own name, ties staying in id order: a counting
 * sort by rank, then within each rank a radix sort by the sort name's bytes, then within each
 * group of equal sort names one by the own name's bytes. Stable throughout, and no JS string
 * is made: names are compared where they lie in the string section.
 *
 * With `leaveLastRank`, the types of the last rank (nine in ten in a kernel: functions,
 * pointers, anonymous prototypes and records) are left in id order, for a caller that can tell
 * that most of them will not matter (see dumpC).
 */
export function sortByNames(t: TypeTable, leaveLastRank = false): NameOrder {
  const n = t.count;
  // Each loop sits in a function of its own: V8 optimises a long loop while it runs, and a
  // function holding several loops is deoptimised again at each loop it has not seen run.
  const rank = new Uint8Array(n);
  const sortOff = new Uint32Array(n);
  // Counting sort by rank, the counts taken while the ranks are worked out.
  const rankStart = new Uint32Array(LAST_RANK + 2);
  fillRankAndSortName(t, rank, sortOff, rankStart);
  const ids = idsByRank(rank, rankStart);
  const sorter = new StringRadix(t.strBytes, ids);
  const sameSortName: number[] = [];
  // Counting left rankStart[r] at the end of rank r's stretch.
  const lastRankStart = rankStart[LAST_RANK - 1]!;
  for (let r = 0, lo = 0; r <= LAST_RANK; r++) {
    const hi = rankStart[r]!;
    if (r < LAST_RANK || !leaveLastRank) sorter.sort(lo, hi, sortOff, sameSortName);
    lo = hi;
  }
  const ties: number[] = [];
  for (let k = 0; k < sameSortName.length; k += 2) sorter.sort(sameSortName[k]!, sameSortName[k + 1]!, t.nameOff, ties);
  return new NameOrder(ids, ties, lastRankStart, { table: t, rank, sortOff });
}

/**
 * {@link typeRank} and {@link sortNameOffset} of every type, in one walk down each reference
 * chain: the rank is settled on the way (an anonymous link settles it at once) and the walk
 * goes on to the sort name. Inlined by hand because this loop runs once per type in a process
 * that is over before the JIT would have compiled the two functions it used to call.
 */
function fillRankAndSortName(t: TypeTable, rankOut: Uint8Array, sortOffOut: Uint32Array, rankCount: Uint32Array): void {
  const { kind, nameOff, ref, vlen, first, words } = t;
  const ends = new ChainEnds(t);
  for (let id = 0; id < t.count; id++) {
    let cur = id;
    let rank = -1;
    let named = false;
    let hops = 0;
    for (;;) {
      const name = nameOff[cur]!;
      if (name !== 0) named = true;
      const k = kind[cur]!;
      if (k === Kind.Array || k === Kind.TypeTag || k === Kind.Const || k === Kind.Ptr || k === Kind.Volatile
        || k === Kind.Restrict || k === Kind.Typedef || k === Kind.DeclTag) {
        if (rank < 0 && !named) rank = LAST_RANK;
        // Past the first links `named` no longer matters (the rank is settled, or a name was
        // seen), so a long chain can jump to its end: walking each of n links to the end of
        // their chain would take n^2/2 steps.
        cur = ++hops === SHORT_CHAIN ? ends.of(cur) : k === Kind.Array ? words[first[cur]! + Rec.ARRAY_TYPE_WORD]! : ref[cur]!;
        continue;
      }
      let off = name;
      if (k === Kind.Enum || k === Kind.Enum64) {
        if (rank < 0) rank = named ? 1 : 0;
        // An anonymous enum on its own goes by its first enumerator.
        if (cur === id && name === 0 && vlen[cur]! > 0) off = words[first[cur]! + Rec.ENUM_NAME_WORD]!;
      } else if (rank < 0) {
        if (k === Kind.Int || k === Kind.Float) rank = 2;
        else if (k === Kind.Struct || k === Kind.Union) rank = named ? 3 : LAST_RANK;
        else if (k === Kind.FuncProto) rank = named ? 4 : LAST_RANK;
        else rank = LAST_RANK;
      }
      rankOut[id] = rank;
      rankCount[rank + 1]!++;
      sortOffOut[id] = off;
      break;
    }
  }
}

/** Links down a reference chain {@link fillRankAndSortName} follows one by one. */
const SHORT_CHAIN = 64;

/** Whether kind `k` only leads to another type (for ranks, sort names and hashes). */
function isLink(k: number): boolean {
  return k === Kind.Array || k === Kind.TypeTag || k === Kind.Const || k === Kind.Ptr || k === Kind.Volatile
    || k === Kind.Restrict || k === Kind.Typedef || k === Kind.DeclTag;
}

/**
 * Where reference chains end (the first type down a chain that is not an array, pointer,
 * qualifier, typedef or tag), memoised for every link on the way: for the rare chains too long
 * to follow from each of their links. The table is made on first use.
 */
class ChainEnds {
  /** End + 1 of the chain through each link (0: not known yet). */
  private ends: Int32Array | undefined;
  private readonly path: number[] = [];

  constructor(private readonly t: TypeTable) {}

  of(id: number): number {
    const t = this.t;
    const ends = (this.ends ??= new Int32Array(t.count));
    const path = this.path;
    path.length = 0;
    // The table refused cycles of links alone, so this ends.
    while (isLink(t.kind[id]!) && ends[id] === 0) {
      path.push(id);
      id = t.kind[id] === Kind.Array ? t.words[t.first[id]! + Rec.ARRAY_TYPE_WORD]! : t.ref[id]!;
    }
    const end = isLink(t.kind[id]!) ? ends[id]! - 1 : id;
    for (const link of path) ends[link] = end + 1;
    return end;
  }
}

/**
 * Every id below `key.length`, stably counting-sorted by `key[id]`; `start[k + 1]` holds how many
 * ids have key `k` on entry, and `start[k]` where their stretch ends on return.
 */
function idsByRank(key: Uint8Array, start: Uint32Array): Int32Array {
  // After this loop start[k] is where key k's ids begin; placing them moves it to their end.
  const n = key.length;
  for (let k = 1; k < start.length; k++) start[k]! += start[k - 1]!;
  const out = new Int32Array(n);
  for (let id = 0; id < n; id++) out[start[key[id]!]!++] = id;
  return out;
}

/** Groups at most this large are finished by insertion sort rather than split by byte. */
const SMALL_GROUP = 16;

/**
 * Stable most-significant-byte-first radix sort of stretches of `ids` by the NUL-terminated
 * string each id has at `keyOff[id]` in `bytes` (strcmp's order), reporting the runs of equal
 * strings.
 */
class StringRadix {
  private readonly tmp: Int32Array;
  /** The byte each position is bucketed by in the current pass, read once from the strings. */
  private readonly cur: Uint8Array;
  private readonly counts = new Int32Array(256);
  private readonly stack: number[] = [];

  constructor(private readonly bytes: Uint8Array, private readonly ids: Int32Array) {
    this.tmp = new Int32Array(ids.length);
    this.cur = new Uint8Array(ids.length);
  }

  /** Sorts positions `[lo, hi)`; appends `start, end` of each run of two or more equal strings to `equal`. */
  sort(lo: number, hi: number, keyOff: Uint32Array, equal: number[]): void {
    const { bytes, ids, tmp, cur, counts, stack } = this;
    stack.push(lo, hi, 0);
    while (stack.length) {
      const depth = stack.pop()!;
      const end = stack.pop()!;
      const start = stack.pop()!;
      const size = end - start;
      if (size < 2) continue;
      if (size <= SMALL_GROUP) {
        insertionSort(bytes, ids, keyOff, start, end, depth, equal);
        continue;
      }
      // Bucket by the byte at `depth`; names use few byte values, so only [low, high] is walked.
      const firstOff = keyOff[ids[start]!]!;
      let sameOffset = true;
      let low = 255;
      let high = 0;
      for (let k = start; k < end; k++) {
        const off = keyOff[ids[k]!]!;
        if (off !== firstOff) sameOffset = false;
        const c = bytes[off + depth]!;
        cur[k] = c;
        counts[c]!++;
        if (c < low) low = c;
        if (c > high) high = c;
      }
      if (sameOffset || (low === 0 && high === 0)) {
        // One string (pointers to one struct share its name's offset), or all ended here.
        for (let c = low; c <= high; c++) counts[c] = 0;
        equal.push(start, end);
        continue;
      }
      if (low === high) {
        // A shared prefix byte: nothing moves, look one byte further.
        counts[low] = 0;
        stack.push(start, end, depth + 1);
        continue;
      }
      let at = start;
      for (let c = low; c <= high; c++) {
        const n = counts[c]!;
        counts[c] = at;
        at += n;
      }
      for (let k = start; k < end; k++) tmp[counts[cur[k]!]!++] = ids[k]!;
      ids.set(tmp.subarray(start, end), start);
      // counts[c] is now the end of bucket c; bucket 0 holds the strings that end here.
      let from = start;
      for (let c = low; c <= high; c++) {
        const to = counts[c]!;
        counts[c] = 0;
        if (c === 0) {
          if (to - from > 1) equal.push(from, to);
        } else if (to > from) {
          stack.push(from, to, depth + 1);
        }
        from = to;
      }
    }
  }
}

/** Stable insertion sort of a small group by the strings from byte `depth` on, reporting equal runs. */
function insertionSort(bytes: Uint8Array, ids: Int32Array, keyOff: Uint32Array, lo: number, hi: number,
  depth: number, equal: number[]): void {
  for (let k = lo + 1; k < hi; k++) {
    const id = ids[k]!;
    const off = keyOff[id]! + depth;
    let j = k - 1;
    while (j >= lo && compareFrom(bytes, keyOff[ids[j]!]! + depth, off) > 0) {
      ids[j + 1] = ids[j]!;
      j--;
    }
    ids[j + 1] = id;
  }
  for (let k = lo; k < hi;) {
    let j = k + 1;
    while (j < hi && compareFrom(bytes, keyOff[ids[k]!]! + depth, keyOff[ids[j]!]! + depth) === 0) j++;
    if (j - k > 1) equal.push(k, j);
    k = j;
  }
}

/** strcmp of the NUL-terminated strings at `a` and `b`. */
function compareFrom(bytes: Uint8Array, a: number, b: number): number {
  if (a === b) return 0;
  for (;;) {
    const x = bytes[a++]!;
    const y = bytes[b++]!;
    if (x !== y) return x - y;
    if (x === 0) return 0;
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
        id = t.words[t.first[id]! + Rec.ARRAY_TYPE_WORD]!;
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
        if (!fromRef && t.nameOff[id] === 0 && t.vlen[id]! > 0) return t.words[t.first[id]! + Rec.ENUM_NAME_WORD]!;
        return t.nameOff[id]!;
      case Kind.Array:
        id = t.words[t.first[id]! + Rec.ARRAY_TYPE_WORD]!;
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


/**
 * bpftool's 64-bit disambiguation hash (`h * 31 + v` over names and array lengths), kept as
 * two 32-bit halves. The full hash of a record covers its members' names and the shallow hash
 * of each member's type (names and array lengths down to the next named type, not its members).
 * Names hash as libbpf's str_hash does on x86, where `char` is signed.
 */
export class DisambiguationHash {
  /**
   * Memoised hashes: `2 * id + 1` (full) or `2 * id` (shallow) to an index into the halves.
   * A dump hashes only the few hundred types whose order can show, so a map beats columns
   * as long as the type count (whose fresh pages alone would cost more).
   */
  private readonly slots = new Map<number, number>();
  private readonly his: number[] = [];
  private readonly los: number[] = [];
  /** The running hash of the computation in progress, and the result of the last one. */
  private hi = 0;
  private lo = 0;

  constructor(private readonly t: TypeTable) {}

  /** Compares the full hashes of two types as unsigned 64-bit numbers. */
  compare(a: number, b: number): number {
    const sa = this.fullSlot(a);
    const sb = this.fullSlot(b);
    return this.his[sa]! - this.his[sb]! || this.los[sa]! - this.los[sb]!;
  }

  /** High 32 bits of the full hash of `id`. */
  high(id: number): number {
    return this.his[this.fullSlot(id)]!;
  }

  /** Low 32 bits of the full hash of `id`. */
  low(id: number): number {
    return this.los[this.fullSlot(id)]!;
  }

  /** The full hash of type `id` as an unsigned 64-bit number. */
  hash(id: number): bigint {
    const s = this.fullSlot(id);
    return (BigInt(this.his[s]!) << 32n) | BigInt(this.los[s]!);
  }

  private fullSlot(id: number): number {
    const s = this.slots.get(2 * id + 1);
    if (s !== undefined) return s;
    this.compute(id, true);
    return this.slots.get(2 * id + 1)!;
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

  /**
   * Links whose hash waits on the end of their chain, for full and shallow hashes. A full hash
   * needs shallow ones (of a record's member types), a shallow one no other: each list serves
   * one computation at a time.
   */
  private readonly fullChain: number[] = [];
  private readonly shallowChain: number[] = [];

  /**
   * Computes and memoises the hash of `id`, leaving it in hi:lo. A link's hash is its name's
   * mixed with its target's: the chain is followed down to a known hash or to the type it ends
   * at, and the hashes are then worked out back up (chains can be 100,000 typedefs long).
   */
  private compute(id: number, full: boolean): void {
    const t = this.t;
    const chain = full ? this.fullChain : this.shallowChain;
    chain.length = 0;
    const fullBit = full ? 1 : 0;
    for (;;) {
      const known = this.slots.get(2 * id + fullBit);
      if (known !== undefined) {
        this.hi = this.his[known]!;
        this.lo = this.los[known]!;
        break;
      }
      const k = t.kind[id]!;
      if (isLink(k)) {
        chain.push(id);
        id = k === Kind.Array ? t.words[t.first[id]! + Rec.ARRAY_TYPE_WORD]! : t.ref[id]!;
        continue;
      }
      this.hi = 0;
      this.lo = 0;
      this.mixName(t.nameOff[id]!);
      const f = t.first[id]!;
      if (k === Kind.Enum || k === Kind.Enum64) {
        // Read inline with Rec's word constants (no call per field: ~8% with TurboFan inlining
        // off, the CLI). ENUM_NAME_WORD and ENUM64_NAME_WORD are both 0: one loop reads either.
        const stride = k === Kind.Enum64 ? Rec.ENUM64_WORDS : Rec.ENUM_WORDS;
        for (let e = f; e < f + stride * t.vlen[id]!; e += stride) this.mixName(t.words[e + Rec.ENUM_NAME_WORD]!);
      } else if ((k === Kind.Struct || k === Kind.Union) && full) {
        for (let e = f; e < f + Rec.MEMBER_WORDS * t.vlen[id]!; e += Rec.MEMBER_WORDS) {
          this.mixName(t.words[e + Rec.MEMBER_NAME_WORD]!);
          this.mixSub(t.words[e + Rec.MEMBER_TYPE_WORD]!, false);
        }
      }
      this.remember(2 * id + fullBit);
      break;
    }
    for (let i = chain.length - 1; i >= 0; i--) {
      const link = chain[i]!;
      const subHi = this.hi;
      const subLo = this.lo;
      this.hi = 0;
      this.lo = 0;
      this.mixName(t.nameOff[link]!);
      if (t.kind[link] === Kind.Array) this.mix(0, t.words[t.first[link]! + Rec.ARRAY_NELEMS_WORD]!);
      this.mix(subHi, subLo);
      this.remember(2 * link + fullBit);
    }
  }

  /** Memoises hi:lo under `key`. */
  private remember(key: number): void {
    this.slots.set(key, this.his.length);
    this.his.push(this.hi);
    this.los.push(this.lo);
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
