import type { Btf } from './btf.js';
import { Kind } from '../format/kinds.js';
import { Rec } from '../format/records.js';
import { recordEnd, wordRole, WordRole } from './slots.js';

/**
 * Three notions of "the same type", from strictest to loosest. btfkit names each by what it
 * is, so code that compares types says which one it means.
 *
 * **Identity.** A type is its id in a blob chain: `(btf, id)`. Ids are global along the chain
 * (in split BTF an id below `firstId` *is* that type of the base, not a copy of it), so
 * `a.owner(i) === b.owner(j) && i === j` is identity. Types of two unrelated blobs are never
 * identical, however equal their records: cilium/ebpf's `btf.Type` draws the same line
 * (identity is the Go value, not its shape). A search over vmlinux plus modules
 * ({@link TypeSet}) relies on it: a module's references to vmlinux types are those types, so
 * they are not hits of the module.
 *
 * **Equivalence** (what this module computes). Two types, in the same blob or in two blobs,
 * are equivalent when their records agree in kind, `info` word (kind flag, element count),
 * every word that is not a reference (sizes, encodings, offsets, bitfield sizes, values,
 * lengths, linkage) and every name (compared as bytes, wherever in its string chain each one
 * lives), and the types they refer to are equivalent in turn. Reference cycles (a struct
 * pointing to itself) are settled by hypothesis: a pair already under comparison is assumed
 * equivalent, and the comparison fails only on a contradiction, so equivalence is the largest
 * consistent matching of the two type graphs. Within one comparison the matching is a
 * function from the first blob's types to the second's: a type of the first that would have to
 * match two different (duplicate) types of the second makes the pair not equivalent, while two
 * duplicates in the first may match one type of the second. Where the second blob holds
 * duplicates the relation is therefore not symmetric; between blobs without duplicates it is.
 * Kinds btfkit cannot read are never equivalent.
 *
 * This is the relation libbpf's BTF deduplication checks in `btf_dedup_is_equiv`, without its
 * three relaxations, which dedup will need as options: a forward declaration equivalent to the
 * struct or union of the same name its kind flag announces (FWD resolution); an enum forward
 * declaration (`vlen` 0) equivalent to a full ENUM or ENUM64 of the same name
 * (`btf_compat_enum`); and a type matching a second, structurally identical duplicate when
 * the first match is already taken (`btf_dedup_identical_types`, for compiler-emitted copies).
 *
 * **Compatibility** (the relation CO-RE relocation uses; this module does not compute it). A local type of a BPF program relocates to a
 * kernel type that is compatible, a much looser and purpose-dependent relation. Candidates are
 * kernel types of a compatible kind (the same kind, or ENUM with ENUM64) whose *essential
 * names* (the name before a `___flavor` suffix) are equal ({@link TypeSet.coreCandidates}).
 * Then libbpf checks, after skipping modifiers and typedefs on both sides:
 * - for type relocations (`bpf_core_types_are_compat`): structs, unions, enums and FWDs by kind
 *   alone; any two integers unless bitfield-like (`offset` ≠ 0); pointers and arrays by their
 *   targets and elements; function prototypes by parameter count and each parameter and the
 *   return type in turn;
 * - for field relocations (`bpf_core_fields_are_compat`): any struct with any union; FWDs and
 *   enums when their essential names are equal or one is anonymous; integers whatever their
 *   size and sign (not bitfield-like ones); pointers and floats always; arrays by element;
 * - for `bpf_core_type_matches` (`bpf_core_types_match`): names equal modulo flavor at every
 *   level, integers of the same size and sign, every local member and enumerator present in
 *   the target by name, and members matched recursively (behind a pointer only by name and
 *   kind). The local type may have fewer members than the target, so this one is not symmetric.
 * None of them requires offsets, member order or enumerator values to agree, as equivalence does.
 */

const UNKNOWN = -2;
const NONE = -1;

/** Per-base candidate indexes, built on first use and shared by every matcher on that base. */
interface BaseIndexes {
  /** PTR/CONST/VOLATILE/RESTRICT by kind and target; ARRAY by element, index and length; FUNC_PROTO by return and parameter types. */
  byShape: Map<string, number[]>;
}

const indexCache = new WeakMap<Btf, BaseIndexes>();

function refKey(kind: number, target: number): string {
  return `${kind}:${target}`;
}

function buildIndexes(base: Btf): BaseIndexes {
  const byShape = new Map<string, number[]>();
  const push = (key: string, id: number) => {
    const list = byShape.get(key);
    if (list) list.push(id);
    else byShape.set(key, [id]);
  };
  for (let id = 1; id < base.endId; id++) {
    const kind = base.kind(id);
    switch (kind) {
      case Kind.Ptr: case Kind.Const: case Kind.Volatile: case Kind.Restrict:
        push(refKey(kind, base.sizeOrType(id)), id);
        break;
      case Kind.Array: {
        const o = base.owner(id)!;
        const rec = o.recordOffset(id);
        push(`A:${o.u32(rec + Rec.ARRAY_TYPE_OFF)}:${o.u32(rec + Rec.ARRAY_INDEX_TYPE_OFF)}:${o.u32(rec + Rec.ARRAY_NELEMS_OFF)}`, id);
        break;
      }
      case Kind.FuncProto:
        push(protoKey(base, id, (x) => x), id);
        break;
      case Kind.Struct: case Kind.Union: case Kind.Enum: case Kind.Enum64:
        if (base.nameOffset(id) === 0) push(anonKey(base, id), id);
        break;
    }
  }
  return { byShape };
}

function protoKey(btf: Btf, id: number, map: (id: number) => number): string {
  const o = btf.owner(id)!;
  const rec = o.recordOffset(id);
  const vlen = btf.vlen(id);
  let key = `P:${map(o.u32(rec + Rec.SIZE_OR_TYPE_OFF))}:${vlen}`;
  for (let i = 0; i < vlen; i++) key += `:${map(o.u32(rec + Rec.TYPE_HEADER_SIZE + i * Rec.PARAM_SIZE + Rec.PARAM_TYPE_OFF))}`;
  return key;
}

/** An anonymous struct, union or enum by its shape: size, element count and first element's name. */
function anonKey(btf: Btf, id: number): string {
  const o = btf.owner(id)!;
  const rec = o.recordOffset(id);
  const vlen = btf.vlen(id);
  // Members and enumerators both start with their name.
  const first = vlen > 0 ? btf.str(o.u32(rec + Rec.TYPE_HEADER_SIZE + Rec.MEMBER_NAME_OFF)) ?? '' : '';
  return `S:${btf.kind(id)}:${btf.sizeOrType(id)}:${vlen}:${first}`;
}

/**
 * For each type of `src`, an equivalent type of `base` (see the top of this module): this is
 * what turns a self-contained blob back into split BTF on a base, and it works the way BTF
 * deduplication does. Candidates come from indexes of `base` (by name for named types, by
 * referenced type for pointers and modifiers, by shape for anonymous structs), and a
 * candidate is confirmed by walking both type graphs side by side.
 *
 * Returns an array indexed by id of `src`: for each of its own types (`firstId` up) the id, in
 * `base` or its bases, of an equivalent type, or -1 when there is none; index 0 (void) holds 0.
 * Among several equivalent types of `base` the one with the smallest id wins.
 */
export function mapEquivalentTypes(src: Btf, base: Btf): Int32Array {
  const matcher = new Matcher(src, base);
  for (let id = src.firstId; id < src.endId; id++) matcher.find(id);
  return matcher.final;
}

/** @deprecated Renamed {@link mapEquivalentTypes}; this name goes in the next release. */
export const mapOntoBase = mapEquivalentTypes;

/**
 * True when type `aId` of `a` and type `bId` of `b` are equivalent (see the top of this
 * module). `a` and `b` may be the same blob, or two blobs that share nothing.
 */
export function typesEquivalent(a: Btf, aId: number, b: Btf, bId: number): boolean {
  if ((aId !== 0 && !a.has(aId)) || (bId !== 0 && !b.has(bId))) return false;
  return new Matcher(a, b).equivalent(aId, bId);
}

class Matcher {
  readonly final: Int32Array;
  private readonly hyp = new Map<number, number>();
  private baseIndexes: BaseIndexes | undefined;

  constructor(private readonly src: Btf, private readonly base: Btf) {
    this.final = new Int32Array(src.endId).fill(UNKNOWN);
    this.final[0] = 0;
  }

  /** Built when a search first needs candidates: comparing one given pair needs none. */
  private get indexes(): BaseIndexes {
    if (!this.baseIndexes) {
      let idx = indexCache.get(this.base);
      if (!idx) {
        idx = buildIndexes(this.base);
        indexCache.set(this.base, idx);
      }
      this.baseIndexes = idx;
    }
    return this.baseIndexes;
  }

  /** The base id equivalent to `id`, or -1. */
  find(id: number, depth = 0): number {
    const known = this.final[id]!;
    if (known !== UNKNOWN) return known;
    if (depth > 64) return NONE;
    for (const b of this.candidates(id, depth)) {
      if (this.equal(id, b)) {
        for (const [s, t] of this.hyp) this.final[s] = t;
        this.hyp.clear();
        return b;
      }
      this.hyp.clear();
    }
    this.final[id] = NONE;
    return NONE;
  }

  /** True when `s` and `b` are equivalent, with nothing assumed beforehand. */
  equivalent(s: number, b: number): boolean {
    const result = this.equal(s, b);
    this.hyp.clear();
    return result;
  }

  private candidates(id: number, depth: number): number[] {
    const src = this.src;
    const base = this.base;
    const kind = src.kind(id);
    const nameOff = src.nameOffset(id);
    const shape = this.indexes.byShape;
    switch (kind) {
      case Kind.Ptr: case Kind.Const: case Kind.Volatile: case Kind.Restrict: {
        const t = src.sizeOrType(id);
        const bt = t === 0 ? 0 : this.find(t, depth + 1);
        return bt < 0 ? [] : shape.get(refKey(kind, bt)) ?? [];
      }
      case Kind.Array: {
        const o = src.owner(id)!;
        const rec = o.recordOffset(id);
        const elem = this.find(o.u32(rec + Rec.ARRAY_TYPE_OFF), depth + 1);
        const index = this.find(o.u32(rec + Rec.ARRAY_INDEX_TYPE_OFF), depth + 1);
        if (elem < 0 || index < 0) return [];
        return shape.get(`A:${elem}:${index}:${o.u32(rec + Rec.ARRAY_NELEMS_OFF)}`) ?? [];
      }
      case Kind.FuncProto: {
        let missing = false;
        const key = protoKey(src, id, (t) => {
          if (t === 0 || missing) return 0;
          const b = this.find(t, depth + 1);
          if (b < 0) missing = true;
          return b;
        });
        return missing ? [] : shape.get(key) ?? [];
      }
      case Kind.Struct: case Kind.Union: case Kind.Enum: case Kind.Enum64:
        if (nameOff === 0) return shape.get(anonKey(src, id)) ?? [];
        return base.find(src.name(id), kind);
      default: {
        if (nameOff === 0) return [];
        const name = src.str(nameOff);
        return name === undefined ? [] : base.find(name, kind);
      }
    }
  }

  /**
   * True when `s` (of src) and `b` (of base) are equivalent, assuming so for pairs already under
   * comparison. The walk uses an explicit queue, so deep type graphs cannot overflow the stack.
   */
  private equal(s0: number, b0: number): boolean {
    const queue: number[] = [s0, b0];
    while (queue.length) {
      const b = queue.pop()!;
      const s = queue.pop()!;
      if (s === 0 || b === 0) {
        if (s !== b) return false;
        continue;
      }
      const known = this.final[s]!;
      if (known !== UNKNOWN) {
        if (known !== b) return false;
        continue;
      }
      const assumed = this.hyp.get(s);
      if (assumed !== undefined) {
        if (assumed !== b) return false;
        continue;
      }
      if (!this.shallowEqual(s, b, queue)) return false;
      this.hyp.set(s, b);
    }
    return true;
  }

  /**
   * Compares everything of two records but the types they refer to, and queues the pairs of
   * referenced types.
   */
  private shallowEqual(s: number, b: number, queue: number[]): boolean {
    const src = this.src;
    const base = this.base;
    const so = src.owner(s);
    const bo = base.owner(b);
    if (!so || !bo) return false;
    const srec = so.recordOffset(s);
    const brec = bo.recordOffset(b);
    const slen = recordEnd(so, s) - srec;
    if (slen !== recordEnd(bo, b) - brec) return false;
    const info = so.u32(srec + Rec.INFO_OFF);
    if (info !== bo.u32(brec + Rec.INFO_OFF)) return false;
    const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    const words = slen / 4;
    for (let w = 0; w < words; w++) {
      const sv = so.u32(srec + w * 4);
      const bv = bo.u32(brec + w * 4);
      switch (wordRole(kind, w)) {
        case WordRole.Plain:
          if (sv !== bv) return false;
          break;
        case WordRole.TypeId:
          queue.push(sv, bv);
          break;
        case WordRole.Name: {
          if (sv === 0 || bv === 0) {
            if (sv !== bv) return false;
            break;
          }
          const sl = src.locateString(sv);
          const bl = base.locateString(bv);
          if (!sl || !bl || !sameCString(sl.btf.bytes, sl.pos, bl.btf.bytes, bl.pos)) return false;
          break;
        }
        default:
          return false;
      }
    }
    return true;
  }
}

/** True when the NUL-terminated strings at `pa` in `a` and `pb` in `b` are equal, compared as bytes. */
export function sameCString(a: Uint8Array, pa: number, b: Uint8Array, pb: number): boolean {
  for (;;) {
    const x = a[pa++];
    if (x !== b[pb++]) return false;
    if (x === 0 || x === undefined) return true;
  }
}
