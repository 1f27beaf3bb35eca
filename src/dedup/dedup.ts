import { Btf, typeSectionWords } from '../btf/btf.js';
import { HOST_LITTLE_ENDIAN } from '../format/header.js';
import { BtfError } from '../errors.js';
import { describeKind, MAX_KNOWN_KIND, WireKind } from '../format/kinds.js';
import { Rec, RECORD_SHAPES } from '../format/records.js';
import { WordRole, wordRole } from '../btf/slots.js';
import { DedupStrings } from './strings.js';
import type { NamedBtf } from '../split/merge.js';

/*
 * BTF deduplication, libbpf's algorithm (btf__dedup in libbpf 1.1, the version Debian ships and
 * the tests compare against), written over flat typed arrays: every record of the chain copied
 * once into one u32 array in host order, one u32 per type for each map, and a hash table of
 * candidates whose chains live in per-type link arrays. Phases, as libbpf's: strings; types
 * that reference nothing (INT, ENUM, FWD, FLOAT); structs and unions by graph equivalence
 * (with cycles and forward declarations); lone forward declarations onto the one struct of
 * their name; reference types bottom-up; then compaction and remapping.
 *
 * Where libbpf's result depends on the order in which its hash table hands out candidates,
 * this table hands them out in the same order (see CandidateTable), so output ids match.
 */

/** Options for {@link dedup}. */
export interface DedupOptions {
  /**
   * Base BTF when the input is split BTF given as bytes (a module, or merged modules): its
   * types stay as they are, and input types equal to base types collapse onto them. A parsed
   * input brings its own base.
   */
  base?: Btf;
}

/** What {@link dedup} wrote. */
export interface DedupResult {
  /**
   * The deduplicated BTF, raw, in the input's byte order with a 24-byte header: for split
   * input the split part only (read it on the same base).
   */
  bytes: Uint8Array;
  /**
   * Old id → new id for every id of the input chain (index = old id; base ids map to
   * themselves, 0 to 0): where each type, kept or dropped, is found in the output.
   */
  map: Uint32Array;
  /** Types of the input's own part, and how many of them the output keeps. */
  inputTypes: number;
  outputTypes: number;
  /** The output parsed (on the same base), made on first use. */
  readonly btf: Btf;
}

/** libbpf's BTF_MAX_NR_TYPES: map values above it are states, not ids. */
const MAX_ID = 0x7fffffff;
const UNPROCESSED = 0xffffffff;
const IN_PROGRESS = 0xfffffffe;

/** Per kind: which words of the fixed part and of each element hold names and type ids. */
interface KindWords {
  fixedWords: number;
  elemWords: number;
  fixedRoles: Uint8Array;
  elemRoles: Uint8Array;
  /** Words holding type ids: in the fixed part, and in each element. */
  fixedIds: Uint8Array;
  elemIds: Uint8Array;
}
const KIND_WORDS: (KindWords | undefined)[] = RECORD_SHAPES.map((s, kind) => {
  if (!s) return undefined;
  const fixedWords = (Rec.TYPE_HEADER_SIZE + s.infoSize) >>> 2;
  const elemWords = s.elemSize >>> 2;
  const fixedRoles = new Uint8Array(fixedWords);
  for (let w = 0; w < fixedWords; w++) fixedRoles[w] = wordRole(kind, w);
  const elemRoles = new Uint8Array(elemWords);
  for (let w = 0; w < elemWords; w++) elemRoles[w] = wordRole(kind, fixedWords + w);
  const fixedIds = Uint8Array.from([...fixedRoles.keys()].filter((i) => fixedRoles[i] === WordRole.TypeId));
  const elemIds = Uint8Array.from([...elemRoles.keys()].filter((i) => elemRoles[i] === WordRole.TypeId));
  return { fixedWords, elemWords, fixedRoles, elemRoles, fixedIds, elemIds };
});

/** Word-level hash steps; the table only needs equal keys to hash equally. */
function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x01000193);
}

/**
 * Deduplicates BTF the way libbpf's `btf__dedup` does: the same types survive, in the same
 * order with the same ids, names in the same order; the output is byte-identical to libbpf
 * 1.1's for the inputs the tests compare (vmlinux, modules on their base, merged modules,
 * merged kernels). Split input is deduplicated against its base: types equal to base types
 * collapse onto the base ids, the base itself is not changed. Returns the old → new id map
 * libbpf keeps to itself.
 *
 * Throws a {@link BtfError} for input libbpf cannot deduplicate either: kinds it does not know
 * (above ENUM64), type ids past the last type, bad name offsets, reference types that form a
 * loop without a struct or union (`type-loop`).
 *
 * @example
 * ```ts
 * const merged = mergeModules(vmlinux, modules);
 * const { bytes, map } = dedup(merged.bytes, { base: vmlinux });
 * ```
 */
export function dedup(input: Btf | Uint8Array, opts: DedupOptions = {}): DedupResult {
  let btf: Btf;
  if (input instanceof Uint8Array) {
    btf = Btf.parse(input, opts.base ? { base: opts.base } : {});
  } else {
    btf = input;
    if (opts.base && opts.base !== btf.base) {
      throw new BtfError('bad-argument', 'the input was parsed on another base than the one given; pass the bytes, or leave base out');
    }
  }
  return new Deduper(fromBtf(btf)).run();
}

/**
 * Merges modules and deduplicates the result in one pass: what `dedup(mergeModules(base,
 * modules).bytes, { base })` returns, byte for byte and with the same id map (over the merged
 * ids), without writing the merged blob in between. Each module's records are copied once, its
 * type ids moved as {@link mergeModules} moves them, and its names deduplicated straight from
 * its own string section. libbpf 1.1 has no such call; its users add every type to one split
 * BTF and deduplicate that, which is what this is compared with.
 *
 * Every module must be split BTF on `base` (a `bad-base` error otherwise); check modules with
 * `checkSplit` first when that is not known. Other errors are {@link dedup}'s, with merged ids.
 *
 * @example
 * ```ts
 * const { bytes, outputTypes } = dedupModules(vmlinux, [{ name: 'kvm', btf: kvm }, { name: 'kvm_intel', btf: kvmIntel }]);
 * ```
 */
export function dedupModules(base: Btf, modules: readonly NamedBtf[]): DedupResult {
  return new Deduper(fromModules(base, modules)).run();
}

/**
 * Hash chains kept doubly linked in one physical order, so that either end can be the head:
 * which one is the caller's `reversed` flag. Slots are dense integers given by the caller.
 */
class OrderedChains {
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly hashes: Int32Array;
  private readonly mask: number;

  constructor(slots: number) {
    let cap = 16;
    while (cap < slots * 2) cap *= 2;
    this.head = new Int32Array(cap).fill(-1);
    this.tail = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    this.next = new Int32Array(slots);
    this.prev = new Int32Array(slots);
    this.hashes = new Int32Array(slots);
  }

  /** Links `slot` under hash `h` at the head of its chain (the physical tail when `reversed`). */
  add(slot: number, h: number, reversed: number): void {
    this.hashes[slot] = h;
    const b = (Math.imul(h, 0x9e3779b1) >>> 0) & this.mask;
    const first = this.head[b]!;
    if (first === -1) {
      this.head[b] = this.tail[b] = slot;
      this.next[slot] = this.prev[slot] = -1;
    } else if (reversed === 0) {
      this.next[slot] = first;
      this.prev[slot] = -1;
      this.prev[first] = slot;
      this.head[b] = slot;
    } else {
      const last = this.tail[b]!;
      this.prev[slot] = last;
      this.next[slot] = -1;
      this.next[last] = slot;
      this.tail[b] = slot;
    }
  }

  /** The first slot with hash `h` in chain order, or -1; then {@link after}. */
  first(h: number, reversed: number): number {
    const b = (Math.imul(h, 0x9e3779b1) >>> 0) & this.mask;
    return this.skip(reversed ? this.tail[b]! : this.head[b]!, h, reversed);
  }

  after(slot: number, h: number, reversed: number): number {
    return this.skip(reversed ? this.prev[slot]! : this.next[slot]!, h, reversed);
  }

  private skip(slot: number, h: number, reversed: number): number {
    const { hashes, next, prev } = this;
    while (slot !== -1 && hashes[slot] !== h) slot = reversed ? prev[slot]! : next[slot]!;
    return slot;
  }
}

/**
 * libbpf's candidate hash table, as far as its order shows: a chain per bucket, new entries at
 * the head, and at every growth (libbpf's rule: before an insert that would fill it past 3/4)
 * each chain re-linked head first, which reverses it. The growth count's parity says which
 * physical end of the chains is libbpf's head.
 */
class CandidateTable {
  private readonly chains: OrderedChains;
  /** libbpf's table: entries and capacity, to know when it grows. */
  private libbpfSize = 0;
  private libbpfCap = 0;
  /** 1 when libbpf's chains run opposite to the physical order. */
  reversed = 0;

  constructor(ids: number) {
    this.chains = new OrderedChains(ids);
  }

  add(id: number, h: number): void {
    if (this.libbpfCap === 0 || Math.floor(((this.libbpfSize + 1) * 4) / 3) > this.libbpfCap) {
      this.libbpfCap = this.libbpfCap === 0 ? 4 : this.libbpfCap * 2;
      this.reversed ^= 1;
    }
    this.libbpfSize++;
    this.chains.add(id, h, this.reversed);
  }

  /** The first candidate for hash `h` in libbpf's order, or -1; then {@link after}. */
  first(h: number): number {
    return this.chains.first(h, this.reversed);
  }

  after(id: number, h: number): number {
    return this.chains.after(id, h, this.reversed);
  }

  // A second index over some of the entries, under a finer key. Entries go in with the parity
  // of their entry in the table above, right after it, so each of its chains keeps libbpf's
  // order among its entries (the order of two entries depends only on their own insertions).
  private finer = new OrderedChains(0);
  /** The entry's type id. */
  sIds = new Int32Array(0);
  private sCount = 0;

  /** Sizes the second index for `entries` entries at most. */
  initFiner(entries: number): void {
    this.finer = new OrderedChains(entries);
    this.sIds = new Int32Array(entries);
    this.sCount = 0;
  }

  /** Files `id`, just added, under the finer key `h`. */
  addFiner(id: number, h: number): void {
    const e = this.sCount++;
    this.sIds[e] = id;
    this.finer.add(e, h, this.reversed);
  }

  /** The first entry filed under finer key `h` in libbpf's order, or -1; its id is `sIds[e]`. */
  firstFiner(h: number): number {
    return this.finer.first(h, this.reversed);
  }

  afterFiner(e: number, h: number): number {
    return this.finer.after(e, h, this.reversed);
  }
}

/**
 * One stretch of the input's own types whose names are offsets into one blob's strings: the
 * input itself, or, when modules are deduplicated as they are merged, one module.
 */
interface NameSource {
  firstId: number;
  endId: number;
  btf: Btf;
}

/** What the deduplication runs over: the chain's records, prepared by {@link fromBtf} or {@link fromModules}. */
interface DedupInput {
  /** Every record of the chain, host order, type ids already as the input numbers them. */
  w: Uint32Array;
  /** `rec[id]` is where type `id`'s record starts in `w`; `rec[end]` one past the last. */
  rec: Uint32Array;
  start: number;
  end: number;
  base: Btf | undefined;
  littleEndian: boolean;
  flags: number;
  /** Where the own types' names come from. */
  names: NameSource[];
  /**
   * The input's string section when libbpf would leave it as it is (none to deduplicate);
   * undefined when names are deduplicated.
   */
  keptStrings: Uint8Array | undefined;
  /** Bytes of own strings in the input, a capacity hint for the output's. */
  stringBytes: number;
}

/** The chain of `btf`, innermost base first. */
function chainOf(btf: Btf | undefined): Btf[] {
  const chain: Btf[] = [];
  for (let b = btf; b; b = b.base) chain.unshift(b);
  return chain;
}

/** Copies the records of `blobs` (a chain, base first) into one word array; returns it, the record index and the words used. */
function copyChain(blobs: readonly Btf[], extraWords: number, extraIds: number): { w: Uint32Array; rec: Uint32Array; at: number } {
  let words = extraWords;
  let ids = extraIds + 1;
  for (const b of blobs) {
    words += b.header.typeLen >>> 2;
    ids += b.ownTypeCount;
  }
  const w = new Uint32Array(words);
  const rec = new Uint32Array(ids + 1);
  let at = 0;
  for (const b of blobs) {
    const len = b.header.typeLen >>> 2;
    w.set(typeSectionWords(b), at);
    const offs = b.typeOffsets;
    for (let i = 0; i < offs.length; i++) rec[b.firstId + i] = at + ((offs[i]! - b.typeStart) >>> 2);
    at += len;
  }
  return { w, rec, at };
}

/** The input of {@link dedup}: a parsed blob and its base chain. */
function fromBtf(btf: Btf): DedupInput {
  const { w, rec, at } = copyChain(chainOf(btf), 0, 0);
  rec[btf.endId] = at;
  const strLen = btf.header.strLen;
  // libbpf leaves the strings alone when there are none to deduplicate.
  const keep = strLen === 0 || (!btf.base && strLen === 1);
  return {
    w, rec, start: btf.firstId, end: btf.endId, base: btf.base, littleEndian: btf.littleEndian, flags: btf.header.flags,
    names: [{ firstId: btf.firstId, endId: btf.endId, btf }],
    keptStrings: keep ? btf.bytes.subarray(btf.stringStart, btf.stringStart + strLen) : undefined,
    stringBytes: strLen,
  };
}

/**
 * The input of {@link dedupModules}: the base chain's records, then each module's with its own
 * ids moved to follow the previous module's, as {@link mergeModules} numbers them; names stay
 * offsets into each module's strings until the string phase.
 */
function fromModules(base: Btf, modules: readonly NamedBtf[]): DedupInput {
  let ownWords = 0;
  let ownIds = 0;
  let stringBytes = 0;
  for (const { name, btf } of modules) {
    if (btf.firstId !== base.endId || btf.firstStringOffset !== base.endStringOffset) {
      throw new BtfError('bad-base', `module ${name} is not split BTF on this base (its ids start at ${btf.firstId} and strings at ${btf.firstStringOffset}; the base ends at ${base.endId} and ${base.endStringOffset})`);
    }
    ownWords += btf.header.typeLen >>> 2;
    ownIds += btf.ownTypeCount;
    stringBytes += btf.header.strLen;
  }
  const { w, rec, at: baseWords } = copyChain(chainOf(base), ownWords, ownIds);
  const names: NameSource[] = [];
  let at = baseWords;
  let next = base.endId;
  for (const { btf } of modules) {
    const len = btf.header.typeLen >>> 2;
    w.set(typeSectionWords(btf), at);
    const offs = btf.typeOffsets;
    const n = offs.length;
    for (let i = 0; i < n; i++) rec[next + i] = at + ((offs[i]! - btf.typeStart) >>> 2);
    rec[next + n] = at + len;
    shiftIds(w, rec, next, next + n, btf.firstId, next - btf.firstId);
    names.push({ firstId: next, endId: next + n, btf });
    at += len;
    next += n;
  }
  rec[next] = at;
  return {
    w, rec, start: base.endId, end: next, base, littleEndian: base.littleEndian, flags: 0,
    names, keptStrings: undefined, stringBytes,
  };
}

/** Adds `shift` to every type id at or past `first` in the records of ids `from..to` (a module's own ids, moved). */
function shiftIds(w: Uint32Array, rec: Uint32Array, from: number, to: number, first: number, shift: number): void {
  if (shift === 0) return;
  for (let id = from; id < to; id++) {
    const o = rec[id]!;
    const stop = rec[id + 1]!;
    const kind = (w[o + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    const k = KIND_WORDS[kind];
    // Kinds dedup does not know are refused by validate(), before any id is used.
    if (!k) continue;
    const { fixedIds, elemIds, elemWords } = k;
    for (let j = 0; j < fixedIds.length; j++) {
      const p = o + fixedIds[j]!;
      if (w[p]! >= first) w[p] = w[p]! + shift;
    }
    if (elemIds.length === 0) continue;
    for (let e = o + k.fixedWords; e < stop; e += elemWords) {
      for (let j = 0; j < elemIds.length; j++) {
        const p = e + elemIds[j]!;
        if (w[p]! >= first) w[p] = w[p]! + shift;
      }
    }
  }
}

class Deduper {
  /** Every record of the chain, host order; `rec[id]` is where type `id`'s record starts. */
  private readonly w: Uint32Array;
  private readonly rec: Uint32Array;
  /** Ids below this are the base's. */
  private readonly start: number;
  /** One past the last id. */
  private readonly end: number;
  /** Canonical map (libbpf's d->map). */
  private readonly map: Uint32Array;
  /** Hypothetical map of one equivalence check (d->hypot_map), later the compaction map. */
  private readonly hypot: Uint32Array;
  private hypotList: Uint32Array;
  private hypotCount = 0;
  private hypotAdjustCanon = false;
  private readonly table: CandidateTable;
  /**
   * Whether structs are filed under the names of their members' types too (see hashStruct):
   * true unless some type the walk follows refers to a VAR, DATASEC or DECL_TAG, where a walk
   * the finer hash spares would have raised libbpf's error.
   */
  private structsByMemberTypeNames = true;
  /** Names under which an enum declaration (no values) is filed. */
  private readonly enumDeclNames = new Set<number>();
  /** Work stack of the equivalence walk: (candidate, canonical) pairs. */
  private pairs: Uint32Array = new Uint32Array(1024);

  constructor(private readonly input: DedupInput) {
    this.w = input.w;
    this.rec = input.rec;
    this.start = input.start;
    this.end = input.end;
    this.map = new Uint32Array(this.end);
    this.hypot = new Uint32Array(this.end).fill(UNPROCESSED);
    this.hypotList = new Uint32Array(64);
    this.table = new CandidateTable(this.end);
    this.validate();
  }

  /** Refuses what libbpf cannot deduplicate and what would send a walk outside the arrays. */
  private validate(): void {
    // Two loops, two methods (see write()).
    this.checkRefs(this.refusedTypes());
  }

  /** Types the equivalence walk refuses to compare (libbpf's -EINVAL): VAR, DATASEC, DECL_TAG. */
  private refusedTypes(): Uint8Array {
    const { w, rec, end } = this;
    const refused = new Uint8Array(end);
    for (let id = 1; id < end; id++) {
      const kind = (w[rec[id]! + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
      if (kind === WireKind.Var || kind === WireKind.Datasec || kind === WireKind.DeclTag) refused[id] = 1;
    }
    // Id 0 is read as the first record where a walk compares it with a type (as libbpf does).
    refused[0] = refused[1] ?? 0;
    return refused;
  }

  /** Kinds dedup knows, ids inside the chain; whether any walked type refers to a refused one. */
  private checkRefs(refused: Uint8Array): void {
    const { w, rec, end } = this;
    for (let id = 1; id < end; id++) {
      const o = rec[id]!;
      const info = w[o + 1]!;
      const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
      if (kind === 0 || kind > MAX_KNOWN_KIND) {
        throw new BtfError('bad-kind', `dedup knows kinds 1..${MAX_KNOWN_KIND} (as libbpf 1.1); type ${id} is ${describeKind(kind)}`, { typeId: id });
      }
      const k = KIND_WORDS[kind]!;
      const stop = rec[id + 1]!;
      const walked = refused[id] === 0;
      const { fixedIds, elemIds, elemWords } = k;
      for (let i = 0, e = o; e < stop; i++, e = i === 1 ? o + k.fixedWords : e + elemWords) {
        const ids = i === 0 ? fixedIds : elemIds;
        if (i === 1 && ids.length === 0) break;
        for (let j = 0; j < ids.length; j++) {
          const to = w[e + ids[j]!]!;
          if (to >= end) {
            throw new BtfError('bad-type-id', `type ${id} (${describeKind(kind)}) refers to type ${to}, past the last type (${end - 1})`, { typeId: id });
          }
          if (walked && refused[to] === 1) this.structsByMemberTypeNames = false;
        }
      }
    }
  }

  run(): DedupResult {
    const input = this.input;
    const strings = input.keptStrings ? undefined : new DedupStrings(input.base, input.stringBytes);
    if (strings) this.remapStrings(strings);
    this.prepareBase();
    this.dedupPrimitives();
    this.dedupStructs();
    this.resolveFwds();
    this.dedupRefs();
    return this.write(strings ? strings.section() : input.keptStrings!);
  }

  // ---------------------------------------------------------------- strings

  private remapStrings(strings: DedupStrings): void {
    const { w, rec } = this;
    const first = strings.firstOffset;
    for (const { firstId, endId, btf } of this.input.names) {
      strings.readFrom(btf);
      const memo = strings.memo;
      const ownLen = btf.header.strLen;
      for (let id = firstId; id < endId; id++) {
        const o = rec[id]!;
        const kind = (w[o + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
        const k = KIND_WORDS[kind]!;
        const stop = k.elemWords === 0 || kind === WireKind.Datasec ? o + 1 : rec[id + 1]!;
        // The type's name, then members', enumerators' and parameters' names (word 0 of each):
        // a name seen before in this source is one memo read, the rest go through remap().
        for (let p = o; p < stop; p = p === o ? o + k.fixedWords : p + k.elemWords) {
          const off = w[p]!;
          if (off === 0 || off < first) continue;
          const known = off - first < ownLen ? memo[off - first]! : 0;
          w[p] = known !== 0 ? known - 1 : strings.remap(off, id);
        }
      }
    }
  }

  // ---------------------------------------------------------------- hashes and comparisons

  private kindOf(id: number): number {
    return (this.w[this.rec[id]! + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
  }

  private hashCommon(o: number): number {
    const w = this.w;
    return mix(mix(mix(0x811c9dc5, w[o]!), w[o + 1]!), w[o + 2]!);
  }

  /** STRUCT/UNION: the common part, member names and offsets, not member types. */
  private hashStruct(o: number): number {
    const { w, rec } = this;
    let h = this.hashCommon(o);
    const vlen = w[o + 1]! & Rec.INFO_VLEN_MASK;
    for (let i = 0, p = o + 3; i < vlen; i++, p += 3) h = mix(mix(h, w[p]!), w[p + 2]!);
    if (!this.structsByMemberTypeNames) return h;
    // The names of the member types: every map keeps names (types meet only types of their
    // name), so two structs the walk finds equivalent have members whose types have the same
    // names, pair by pair. libbpf files them by the fields above only; the candidates this
    // leaves out would all fail the walk (1,807 tracepoint unions in a Debian build, differing
    // only in a typedef's name, would each meet every earlier one), and the ones kept come in
    // libbpf's order, which no subset of a chain changes.
    for (let i = 0, p = o + 4; i < vlen; i++, p += 3) h = mix(h, w[rec[w[p]!]!]!);
    return h;
  }

  /** The hash libbpf files a type under, for the kinds that have one. */
  private hashOf(id: number, kind: number): number {
    const w = this.w;
    const o = this.rec[id]!;
    switch (kind) {
      case WireKind.Int: case WireKind.DeclTag:
        return mix(this.hashCommon(o), w[o + 3]!);
      case WireKind.Enum: case WireKind.Enum64:
        // The name only, so that enum forward declarations meet their definitions.
        return mix(0x811c9dc5, w[o]!);
      case WireKind.Struct: case WireKind.Union:
        return this.hashStruct(o);
      case WireKind.Array:
        return mix(mix(mix(this.hashCommon(o), w[o + 3]!), w[o + 4]!), w[o + 5]!);
      case WireKind.FuncProto: {
        let h = this.hashCommon(o);
        const vlen = w[o + 1]! & Rec.INFO_VLEN_MASK;
        for (let i = 0, p = o + 3; i < vlen; i++, p += 2) h = mix(mix(h, w[p]!), w[p + 1]!);
        return h;
      }
      default:
        return this.hashCommon(o);
    }
  }

  private equalCommon(a: number, b: number): boolean {
    const w = this.w;
    return w[a] === w[b] && w[a + 1] === w[b + 1] && w[a + 2] === w[b + 2];
  }

  /** Equal words from `a` and `b` for `n` words. */
  private equalWords(a: number, b: number, n: number): boolean {
    const w = this.w;
    for (let i = 0; i < n; i++) if (w[a + i] !== w[b + i]) return false;
    return true;
  }

  private equalEnum(a: number, b: number): boolean {
    if (!this.equalCommon(a, b)) return false;
    const info = this.w[a + 1]!;
    const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    const vlen = info & Rec.INFO_VLEN_MASK;
    return this.equalWords(a + 3, b + 3, vlen * (kind === WireKind.Enum ? Rec.ENUM_WORDS : Rec.ENUM64_WORDS));
  }

  /** An enum declared without values (vlen 0) matches any enum of its name, either width. */
  private compatEnum(a: number, b: number): boolean {
    const w = this.w;
    const ia = w[a + 1]!;
    const ib = w[b + 1]!;
    if ((ia & Rec.INFO_VLEN_MASK) !== 0 && (ib & Rec.INFO_VLEN_MASK) !== 0) return this.equalEnum(a, b);
    const ka = (ia >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    const kb = (ib >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    return w[a] === w[b] && (ka === WireKind.Enum || ka === WireKind.Enum64) && (kb === WireKind.Enum || kb === WireKind.Enum64);
  }

  /** Same common part and the same member names and offsets (types not compared). */
  private shallowEqualStruct(a: number, b: number): boolean {
    if (!this.equalCommon(a, b)) return false;
    const w = this.w;
    const vlen = w[a + 1]! & Rec.INFO_VLEN_MASK;
    for (let i = 0, p = a + 3, q = b + 3; i < vlen; i++, p += 3, q += 3) {
      if (w[p] !== w[q] || w[p + 2] !== w[q + 2]) return false;
    }
    return true;
  }

  private equalArray(a: number, b: number): boolean {
    return this.equalCommon(a, b) && this.equalWords(a + 3, b + 3, 3);
  }

  private equalFnproto(a: number, b: number): boolean {
    if (!this.equalCommon(a, b)) return false;
    return this.equalWords(a + 3, b + 3, (this.w[a + 1]! & Rec.INFO_VLEN_MASK) * Rec.PARAM_WORDS);
  }

  // ---------------------------------------------------------------- canonical map

  private resolve(id: number): number {
    const map = this.map;
    let steps = 0;
    for (let m = map[id]!; m <= MAX_ID && m !== id; m = map[id]!) {
      id = m;
      if (++steps > this.end) throw this.mapLoop(id);
    }
    return id;
  }

  private mapLoop(id: number): BtfError {
    return new BtfError('type-loop', `dedup found types equivalent to one another in a loop through type ${id}`, { typeId: id });
  }

  // ---------------------------------------------------------------- phases

  /** Base types are their own canonical types and candidates for the input's. */
  private prepareBase(): void {
    // One loop a method (see write()).
    this.table.initFiner(this.countEnums());
    this.fileBase();
    this.markUnprocessed();
  }

  private countEnums(): number {
    let enums = 0;
    for (let id = 1, end = this.end; id < end; id++) {
      const kind = this.kindOf(id);
      if (kind === WireKind.Enum || kind === WireKind.Enum64) enums++;
    }
    return enums;
  }

  private fileBase(): void {
    const { map, start } = this;
    for (let id = 1; id < start; id++) {
      map[id] = id;
      const kind = this.kindOf(id);
      if (kind !== WireKind.Var && kind !== WireKind.Datasec) this.table.add(id, this.hashOf(id, kind));
      if (kind === WireKind.Enum || kind === WireKind.Enum64) this.fileEnum(id);
    }
  }

  private markUnprocessed(): void {
    const { map, start, end } = this;
    for (let id = start; id < end; id++) {
      const kind = this.kindOf(id);
      map[id] = kind === WireKind.Var || kind === WireKind.Datasec ? id : UNPROCESSED;
    }
  }

  private dedupPrimitives(): void {
    const { w, rec, map, table, start, end } = this;
    for (let id = start; id < end; id++) {
      const o = rec[id]!;
      const kind = (w[o + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
      let to = id;
      let h: number;
      switch (kind) {
        case WireKind.Int:
          h = this.hashOf(id, kind);
          for (let c = table.first(h); c !== -1; c = table.after(c, h)) {
            if (this.equalCommon(o, rec[c]!) && w[o + 3] === w[rec[c]! + 3]) { to = c; break; }
          }
          break;
        case WireKind.Enum: case WireKind.Enum64: {
          h = this.hashOf(id, kind);
          const isFwd = (w[o + 1]! & Rec.INFO_VLEN_MASK) === 0;
          if (!isFwd && !this.enumDeclNames.has(w[o]!)) {
            // With no declaration of its name filed, the name's chain can only give a definition
            // equal to this one, and the finer index holds the same candidates in the same order.
            const hv = this.hashEnumValues(o);
            for (let e = table.firstFiner(hv); e !== -1; e = table.afterFiner(e, hv)) {
              const c = table.sIds[e]!;
              if (this.equalEnum(o, rec[c]!)) { to = c; break; }
            }
            break;
          }
          for (let c = table.first(h); c !== -1; c = table.after(c, h)) {
            const co = rec[c]!;
            if (this.equalEnum(o, co)) { to = c; break; }
            if (this.compatEnum(o, co)) {
              if (isFwd) { to = c; break; }
              // A canonical forward declaration meets its definition.
              map[c] = id;
            }
          }
          break;
        }
        case WireKind.Fwd: case WireKind.Float:
          h = this.hashOf(id, kind);
          for (let c = table.first(h); c !== -1; c = table.after(c, h)) {
            if (this.equalCommon(o, rec[c]!)) { to = c; break; }
          }
          break;
        default:
          continue;
      }
      map[id] = to;
      if (to === id) {
        table.add(id, h);
        if (kind === WireKind.Enum || kind === WireKind.Enum64) this.fileEnum(id);
      }
    }
  }

  /**
   * Files an enum, just added to the table, in the finer index too (by its values), and notes
   * the names of declarations (no values): definitions of those names take the name's chain.
   */
  private fileEnum(id: number): void {
    const o = this.rec[id]!;
    if ((this.w[o + 1]! & Rec.INFO_VLEN_MASK) === 0) this.enumDeclNames.add(this.w[o]!);
    this.table.addFiner(id, this.hashEnumValues(o));
  }

  /** ENUM/ENUM64 by everything equalEnum compares: anonymous enums (hundreds per build) share one name chain. */
  private hashEnumValues(o: number): number {
    const w = this.w;
    let h = this.hashCommon(o);
    const info = w[o + 1]!;
    const perValue = ((info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK) === WireKind.Enum ? Rec.ENUM_WORDS : Rec.ENUM64_WORDS;
    const words = (info & Rec.INFO_VLEN_MASK) * perValue;
    for (let p = o + 3, stop = p + words; p < stop; p++) h = mix(h, w[p]!);
    return h;
  }

  private dedupStructs(): void {
    const { rec, map, table, start, end } = this;
    for (let id = start; id < end; id++) {
      if (map[id]! <= MAX_ID) continue;
      const kind = this.kindOf(id);
      if (kind !== WireKind.Struct && kind !== WireKind.Union) continue;
      const o = rec[id]!;
      const h = this.hashStruct(o);
      let to = id;
      for (let c = table.first(h); c !== -1; c = table.after(c, h)) {
        // A FWD whose hash collides would pass the walk (FWD and STRUCT are compatible) and loop the map.
        if (!this.shallowEqualStruct(o, rec[c]!)) continue;
        if (this.surelyNotEquiv(id, c)) continue;
        this.clearHypot();
        if (!this.isEquiv(id, c)) continue;
        this.mergeHypot();
        if (this.hypotAdjustCanon) continue;
        to = c;
        break;
      }
      map[id] = to;
      if (to === id) table.add(id, h);
    }
  }

  /**
   * True when {@link isEquiv}(id, c) would return false at its first member whose types differ,
   * told without the walk: structs whose members differ in one typedef's name (one union per
   * tracepoint, 1,800 of them in a Debian build) meet each other by the million. Exact: up to
   * that member the walk only resolves ids, as this does, and with nothing recorded yet but the
   * root, two types of different names or of different kinds (no FWD) fail it there. Anything
   * less clear-cut is left to the walk. Both shallow-equal, `c` canonical.
   */
  private surelyNotEquiv(id: number, c: number): boolean {
    const { w, rec, map } = this;
    if (this.resolve(id) !== id || this.resolve(c) !== c) return false;
    const a = rec[id]!;
    const b = rec[c]!;
    const vlen = w[a + 1]! & Rec.INFO_VLEN_MASK;
    for (let i = 0, p = a + 4, q = b + 4; i < vlen; i++, p += 3, q += 3) {
      const x = w[p]!;
      const y = w[q]!;
      const rx = this.resolve(x);
      const ry = this.resolve(y);
      if (rx === ry) continue;
      const yKind = this.kindOf(y);
      const canon = yKind === WireKind.Fwd && this.kindOf(ry) !== WireKind.Fwd ? ry : y;
      if (canon === c || map[canon] === undefined) return false;
      if (w[rec[x]!] !== w[rec[canon]!]) return true;
      const xKind = this.kindOf(x);
      const canonKind = this.kindOf(canon);
      return xKind !== canonKind && xKind !== WireKind.Fwd && canonKind !== WireKind.Fwd;
    }
    return false;
  }

  private clearHypot(): void {
    for (let i = 0; i < this.hypotCount; i++) this.hypot[this.hypotList[i]!] = UNPROCESSED;
    this.hypotCount = 0;
    this.hypotAdjustCanon = false;
  }

  private addHypot(from: number, to: number): void {
    if (this.hypotCount === this.hypotList.length) {
      const grown = new Uint32Array(this.hypotList.length * 2);
      grown.set(this.hypotList);
      this.hypotList = grown;
    }
    this.hypotList[this.hypotCount++] = from;
    this.hypot[from] = to;
  }

  private growPairs(): Uint32Array {
    const grown = new Uint32Array(this.pairs.length * 2);
    grown.set(this.pairs);
    return (this.pairs = grown);
  }

  /**
   * libbpf's btf_dedup_is_equiv: walks the candidate's and the canonical type's graphs side by
   * side, depth first, children in order, recording canonical → candidate in the hypothetical
   * map; a canonical type met again must meet the same candidate. With an explicit stack, so
   * deep graphs cannot exhaust the JS stack; the visiting order is the recursion's.
   */
  private isEquiv(candRoot: number, canonRoot: number): boolean {
    const { w, rec, hypot, map } = this;
    const limit = this.end;
    let pairs: Uint32Array = this.pairs;
    pairs[0] = candRoot;
    pairs[1] = canonRoot;
    let sp = 2;
    while (sp > 0) {
      sp -= 2;
      const cand = pairs[sp]!;
      let canon = pairs[sp + 1]!;
      // resolve() of both, inline: this runs for every edge of both graphs.
      let rc = cand;
      let steps = 0;
      for (let m = map[rc]!; m <= MAX_ID && m !== rc; m = map[rc]!) {
        rc = m;
        if (++steps > limit) throw this.mapLoop(rc);
      }
      let rn = canon;
      for (let m = map[rn]!; m <= MAX_ID && m !== rn; m = map[rn]!) {
        rn = m;
        if (++steps > limit) throw this.mapLoop(rn);
      }
      if (rc === rn) continue;
      // resolveFwd(canon): a FWD already resolved stands for its struct.
      if (((w[rec[canon]! + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK) === WireKind.Fwd &&
        ((w[rec[rn]! + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK) !== WireKind.Fwd) canon = rn;
      const seen = hypot[canon]!;
      if (seen <= MAX_ID) {
        if (seen === cand) continue;
        // Compilers sometimes emit identical arrays or structs twice in one unit.
        if (this.identicalArrays(seen, cand) || this.identicalStructs(seen, cand)) continue;
        return false;
      }
      this.addHypot(canon, cand);
      const a = rec[cand]!;
      const b = rec[canon]!;
      if (w[a] !== w[b]) return false;
      const candKind = (w[a + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
      const canonKind = (w[b + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
      if ((candKind === WireKind.Fwd || canonKind === WireKind.Fwd) && candKind !== canonKind) {
        let realKind: number;
        let fwdKind: number;
        if (candKind === WireKind.Fwd) {
          realKind = canonKind;
          fwdKind = w[a + 1]! >>> Rec.INFO_KIND_FLAG_SHIFT ? WireKind.Union : WireKind.Struct;
        } else {
          realKind = candKind;
          fwdKind = w[b + 1]! >>> Rec.INFO_KIND_FLAG_SHIFT ? WireKind.Union : WireKind.Struct;
          // The base is fixed: its FWD cannot become this struct.
          if (fwdKind === realKind && canon < this.start) this.hypotAdjustCanon = true;
        }
        if (fwdKind !== realKind) return false;
        continue;
      }
      if (candKind !== canonKind) return false;
      switch (candKind) {
        case WireKind.Int:
          if (!this.equalCommon(a, b) || w[a + 3] !== w[b + 3]) return false;
          break;
        case WireKind.Enum: case WireKind.Enum64:
          if (!this.compatEnum(a, b)) return false;
          break;
        case WireKind.Fwd: case WireKind.Float:
          if (!this.equalCommon(a, b)) return false;
          break;
        case WireKind.Const: case WireKind.Volatile: case WireKind.Restrict: case WireKind.Ptr:
        case WireKind.Typedef: case WireKind.Func: case WireKind.TypeTag:
          if (w[a + 1] !== w[b + 1]) return false;
          if (sp + 2 > pairs.length) pairs = this.growPairs();
          pairs[sp++] = w[a + 2]!;
          pairs[sp++] = w[b + 2]!;
          break;
        case WireKind.Array:
          if (!this.equalCommon(a, b) || w[a + 5] !== w[b + 5]) return false;
          // The element type after the index type: pushed first, popped last.
          if (sp + 4 > pairs.length) pairs = this.growPairs();
          pairs[sp++] = w[a + 3]!;
          pairs[sp++] = w[b + 3]!;
          pairs[sp++] = w[a + 4]!;
          pairs[sp++] = w[b + 4]!;
          break;
        case WireKind.Struct: case WireKind.Union: {
          if (!this.shallowEqualStruct(a, b)) return false;
          const vlen = w[a + 1]! & Rec.INFO_VLEN_MASK;
          while (sp + 2 * vlen > pairs.length) pairs = this.growPairs();
          for (let i = vlen - 1; i >= 0; i--) {
            pairs[sp++] = w[a + 3 + i * 3 + 1]!;
            pairs[sp++] = w[b + 3 + i * 3 + 1]!;
          }
          break;
        }
        case WireKind.FuncProto: {
          if (w[a] !== w[b] || w[a + 1] !== w[b + 1]) return false;
          const vlen = w[a + 1]! & Rec.INFO_VLEN_MASK;
          for (let i = 0; i < vlen; i++) if (w[a + 3 + i * 2] !== w[b + 3 + i * 2]) return false;
          while (sp + 2 * vlen + 2 > pairs.length) pairs = this.growPairs();
          for (let i = vlen - 1; i >= 0; i--) {
            pairs[sp++] = w[a + 3 + i * 2 + 1]!;
            pairs[sp++] = w[b + 3 + i * 2 + 1]!;
          }
          pairs[sp++] = w[a + 2]!;
          pairs[sp++] = w[b + 2]!;
          break;
        }
        default:
          throw new BtfError('bad-type-id', `type ${cand} (${describeKind(candKind)}) is referenced where only types that describe data can be (libbpf's dedup refuses it too)`, { typeId: cand });
      }
    }
    return true;
  }

  private identicalArrays(id1: number, id2: number): boolean {
    if (this.kindOf(id1) !== WireKind.Array || this.kindOf(id2) !== WireKind.Array) return false;
    return this.equalArray(this.rec[id1]!, this.rec[id2]!);
  }

  /**
   * Two structs or unions equal down to the referenced ids, where members may differ only by
   * identical arrays or structs. libbpf recurses (and so never returns on a struct that holds
   * itself by value); here a work list with a budget that only such a loop exhausts.
   */
  private identicalStructs(id1: number, id2: number): boolean {
    const { w, rec } = this;
    const work = [id1, id2];
    let budget = this.end + 1024;
    while (work.length) {
      const b = work.pop()!;
      const a = work.pop()!;
      if (--budget < 0) throw new BtfError('type-loop', `type ${a} contains itself by value`, { typeId: a });
      const ka = this.kindOf(a);
      if ((ka !== WireKind.Struct && ka !== WireKind.Union) || ka !== this.kindOf(b)) return false;
      const oa = rec[a]!;
      const ob = rec[b]!;
      if (!this.shallowEqualStruct(oa, ob)) return false;
      const vlen = w[oa + 1]! & Rec.INFO_VLEN_MASK;
      for (let i = 0; i < vlen; i++) {
        const ta = w[oa + 3 + i * 3 + 1]!;
        const tb = w[ob + 3 + i * 3 + 1]!;
        if (ta !== tb && !this.identicalArrays(ta, tb)) work.push(ta, tb);
      }
    }
    return true;
  }

  /** libbpf's btf_dedup_merge_hypot_map: what a successful walk proved, made permanent. */
  private mergeHypot(): void {
    const { map, hypot } = this;
    for (let i = 0; i < this.hypotCount; i++) {
      const canon = this.hypotList[i]!;
      const t = this.resolve(hypot[canon]!);
      const c = this.resolve(canon);
      const tk = this.kindOf(t);
      const ck = this.kindOf(c);
      if (tk !== WireKind.Fwd && ck === WireKind.Fwd) map[c] = t;
      if (this.hypotAdjustCanon) continue;
      if (tk === WireKind.Fwd && ck !== WireKind.Fwd) map[t] = c;
      if ((tk === WireKind.Struct || tk === WireKind.Union) && ck !== WireKind.Fwd && map[c]! <= MAX_ID && map[t]! > MAX_ID) map[t] = c;
    }
  }

  /** A FWD still on its own meets the one canonical struct or union of its name, if one. */
  private resolveFwds(): void {
    // Only the names of FWDs still on their own are looked up: index structs of those alone.
    // One loop a method (see write()).
    const byName = this.loneFwdNames();
    if (byName.size === 0) return;
    this.findOnlyDefinitions(byName);
    this.mapFwds(byName);
  }

  /** Names of the FWDs no struct or union took, each to -1. */
  private loneFwdNames(): Map<number, number> {
    const { w, rec, map, start, end } = this;
    const byName = new Map<number, number>();
    for (let id = start; id < end; id++) {
      const o = rec[id]!;
      if (((w[o + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK) === WireKind.Fwd && map[id] === id) byName.set(w[o]!, -1);
    }
    return byName;
  }

  /** Each name to its one canonical struct or union, 0 when there are several, -1 when none. */
  private findOnlyDefinitions(byName: Map<number, number>): void {
    const { w, rec, map, end } = this;
    for (let id = 1; id < end; id++) {
      const kind = this.kindOf(id);
      if ((kind !== WireKind.Struct && kind !== WireKind.Union) || map[id] !== id) continue;
      const name = w[rec[id]!]!;
      const seen = byName.get(name);
      if (seen !== undefined) byName.set(name, seen === -1 ? id : 0);
    }
  }

  /** Lone FWDs onto the one definition of their name and flavour. */
  private mapFwds(byName: Map<number, number>): void {
    const { w, rec, map, start, end } = this;
    for (let id = start; id < end; id++) {
      const o = rec[id]!;
      const info = w[o + 1]!;
      if (((info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK) !== WireKind.Fwd || map[id] !== id) continue;
      const cand = byName.get(w[o]!)!;
      if (cand <= 0) continue;
      const candKind = this.kindOf(cand);
      const union = info >>> Rec.INFO_KIND_FLAG_SHIFT === 1;
      if ((candKind === WireKind.Struct && union) || (candKind === WireKind.Union && !union)) continue;
      map[id] = cand;
    }
  }

  /** Reference types, each after what it references (its ids rewritten to canonical ones), by hash and exact equality. */
  private dedupRefs(): void {
    const { map, start, end } = this;
    let stack = new Uint32Array(64);
    for (let root = start; root < end; root++) {
      if (map[root]! <= MAX_ID) continue;
      // Frames: (type, index of its next child); the depth-first order of libbpf's recursion.
      let sp = 0;
      stack[sp++] = root;
      stack[sp++] = 0;
      map[root] = IN_PROGRESS;
      while (sp > 0) {
        const id = stack[sp - 2]!;
        const child = stack[sp - 1]!;
        const slot = this.refSlot(id, child);
        if (slot >= 0) {
          const ref = this.w[slot]!;
          const state = map[ref]!;
          if (state === IN_PROGRESS) {
            throw new BtfError('type-loop', `reference types loop back to type ${ref} without a struct or union between`, { typeId: ref });
          }
          if (state <= MAX_ID) {
            this.w[slot] = this.resolve(ref);
            stack[sp - 1] = child + 1;
          } else {
            if (sp + 2 > stack.length) {
              const grown = new Uint32Array(stack.length * 2);
              grown.set(stack);
              stack = grown;
            }
            map[ref] = IN_PROGRESS;
            stack[sp++] = ref;
            stack[sp++] = 0;
          }
          continue;
        }
        const to = this.canonicalRef(id);
        map[id] = to;
        sp -= 2;
        if (sp > 0) {
          this.w[this.refSlot(stack[sp - 2]!, stack[sp - 1]!)] = to;
          stack[sp - 1]++;
        }
      }
    }
  }

  /** Word index of child `n` of reference type `id` (-1 past the last), in libbpf's order. */
  private refSlot(id: number, n: number): number {
    const o = this.rec[id]!;
    const info = this.w[o + 1]!;
    switch ((info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK) {
      case WireKind.Const: case WireKind.Volatile: case WireKind.Restrict: case WireKind.Ptr:
      case WireKind.Typedef: case WireKind.Func: case WireKind.TypeTag: case WireKind.DeclTag:
        return n === 0 ? o + 2 : -1;
      case WireKind.Array:
        return n === 0 ? o + 3 : n === 1 ? o + 4 : -1;
      case WireKind.FuncProto:
        return n === 0 ? o + 2 : n - 1 < (info & Rec.INFO_VLEN_MASK) ? o + 3 + (n - 1) * 2 + 1 : -1;
      default:
        // Every other kind was mapped by an earlier phase; an unmapped one is not a type dedup knows.
        throw new BtfError('bad-kind', `type ${id} (${describeKind(this.kindOf(id))}) cannot be deduplicated`, { typeId: id });
    }
  }

  private canonicalRef(id: number): number {
    const { w, rec, table } = this;
    const o = rec[id]!;
    const kind = (w[o + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    const h = this.hashOf(id, kind);
    let to = id;
    for (let c = table.first(h); c !== -1; c = table.after(c, h)) {
      const co = rec[c]!;
      let equal: boolean;
      switch (kind) {
        case WireKind.DeclTag: equal = this.equalCommon(o, co) && w[o + 3] === w[co + 3]; break;
        case WireKind.Array: equal = this.equalArray(o, co); break;
        case WireKind.FuncProto: equal = this.equalFnproto(o, co); break;
        default: equal = this.equalCommon(o, co);
      }
      if (equal) { to = c; break; }
    }
    if (to === id) table.add(id, h);
    return to;
  }

  // ---------------------------------------------------------------- compaction and output

  private write(strs: Uint8Array): DedupResult {
    const { start, end, input } = this;
    // Each loop below is a method of its own: V8 compiles a long loop while it runs, and code
    // after it that had not run yet would send the rest of the phase back to the interpreter.
    const newId = this.hypot;
    const { kept, words } = this.numberKept(newId);
    const typeLen = words * 4;
    const out = new Uint8Array(24 + typeLen + strs.length);
    const dv = new DataView(out.buffer);
    const le = input.littleEndian;
    dv.setUint16(0, 0xeb9f, le);
    out[2] = 1;
    out[3] = input.flags;
    dv.setUint32(4, 24, le);
    dv.setUint32(8, 0, le);
    dv.setUint32(12, typeLen, le);
    dv.setUint32(16, typeLen, le);
    dv.setUint32(20, strs.length, le);
    const types = new Uint32Array(words);
    this.copyKept(types, newId);
    if (le === HOST_LITTLE_ENDIAN) {
      out.set(new Uint8Array(types.buffer, 0, typeLen), 24);
    } else {
      for (let i = 0; i < words; i++) dv.setUint32(24 + i * 4, types[i]!, le);
    }
    out.set(strs, 24 + typeLen);
    const idMap = this.finalMap(newId);
    const base = input.base;
    let parsed: Btf | undefined;
    return {
      bytes: out,
      map: idMap,
      inputTypes: end - start,
      outputTypes: kept,
      get btf() {
        return (parsed ??= Btf.parse(out, base ? { base } : {}));
      },
    };
  }

  /** Fills `newId` with the output id of every type that stays; returns how many and their words. */
  private numberKept(newId: Uint32Array): { kept: number; words: number } {
    const { rec, map, start, end } = this;
    newId.fill(UNPROCESSED);
    for (let id = 0; id < start; id++) newId[id] = id;
    let next = start;
    let words = 0;
    for (let id = start; id < end; id++) {
      if (map[id] !== id) continue;
      newId[id] = next++;
      words += rec[id + 1]! - rec[id]!;
    }
    return { kept: next - start, words };
  }

  /** Copies the records that stay into `types`, their type ids renumbered. */
  private copyKept(types: Uint32Array, newId: Uint32Array): void {
    const { w, rec, map, start, end } = this;
    let p = 0;
    for (let id = start; id < end; id++) {
      if (map[id] !== id) continue;
      const o = rec[id]!;
      const stop = rec[id + 1]!;
      const k = KIND_WORDS[(w[o + 1]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK]!;
      const at = p;
      for (let q = o; q < stop; q++) types[p++] = w[q]!;
      const { fixedIds, elemIds, elemWords } = k;
      for (let i = 0, e = at; e < p; i++, e = i === 1 ? at + k.fixedWords : e + elemWords) {
        const ids = i === 0 ? fixedIds : elemIds;
        if (i === 1 && ids.length === 0) break;
        for (let j = 0; j < ids.length; j++) {
          const v = types[e + ids[j]!]!;
          const to = newId[this.resolve(v)]!;
          if (to > MAX_ID) throw this.unplaced(id, v);
          types[e + ids[j]!] = to;
        }
      }
    }
  }

  private unplaced(id: number, v: number): BtfError {
    return new BtfError('bad-type-id', `type ${id} refers to type ${v}, which dedup left without a place`, { typeId: id });
  }

  /** Old id → output id for every input id. */
  private finalMap(newId: Uint32Array): Uint32Array {
    const end = this.end;
    const idMap = new Uint32Array(end);
    for (let id = 1; id < end; id++) idMap[id] = newId[this.resolve(id)]!;
    return idMap;
  }
}
