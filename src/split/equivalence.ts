import type { Btf } from '../btf/btf.js';
import { Kind } from '../format/kinds.js';
import { recordEnd, sameCString, wordRole, WordRole } from './refs.js';

/**
 * Finding, for the types of one blob, the structurally identical types of a base: same kind,
 * names, sizes, offsets and values, and references to types that are identical in turn. This
 * is what turns a self-contained blob back into split BTF on a base, and it works the way BTF
 * deduplication does: candidates come from indexes of the base (by name for named types, by
 * referenced type for pointers and modifiers, by shape for anonymous structs), and a candidate
 * is confirmed by walking both type graphs side by side under the hypothesis that the pair is
 * equal, so reference cycles through pointers terminate.
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
        const p = o.recordOffset(id) + 12;
        push(`A:${o.u32(p)}:${o.u32(p + 4)}:${o.u32(p + 8)}`, id);
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
  let key = `P:${map(o.u32(rec + 8))}:${vlen}`;
  for (let i = 0; i < vlen; i++) key += `:${map(o.u32(rec + 12 + i * 8 + 4))}`;
  return key;
}

/** An anonymous struct, union or enum by its shape: size, element count and first element's name. */
function anonKey(btf: Btf, id: number): string {
  const o = btf.owner(id)!;
  const rec = o.recordOffset(id);
  const vlen = btf.vlen(id);
  const first = vlen > 0 ? btf.str(o.u32(rec + 12)) ?? '' : '';
  return `S:${btf.kind(id)}:${btf.sizeOrType(id)}:${vlen}:${first}`;
}

/**
 * Maps the types of `src` to identical types of `base`. Returns, for each id of `src`, the
 * base id of an identical type, or -1 when the base has none (index 0, void, maps to 0).
 * Among several identical base types the one with the smallest id wins.
 */
export function mapOntoBase(src: Btf, base: Btf): Int32Array {
  const matcher = new Matcher(src, base);
  for (let id = src.firstId; id < src.endId; id++) matcher.find(id);
  return matcher.final;
}

class Matcher {
  readonly final: Int32Array;
  private readonly hyp = new Map<number, number>();
  private readonly indexes: BaseIndexes;

  constructor(private readonly src: Btf, private readonly base: Btf) {
    this.final = new Int32Array(src.endId).fill(UNKNOWN);
    this.final[0] = 0;
    let idx = indexCache.get(base);
    if (!idx) {
      idx = buildIndexes(base);
      indexCache.set(base, idx);
    }
    this.indexes = idx;
  }

  /** The base id identical to `id`, or -1. */
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
        const p = o.recordOffset(id) + 12;
        const elem = this.find(o.u32(p), depth + 1);
        const index = this.find(o.u32(p + 4), depth + 1);
        if (elem < 0 || index < 0) return [];
        return shape.get(`A:${elem}:${index}:${o.u32(p + 8)}`) ?? [];
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
   * True when `s` (of src) and `b` (of base) are identical, assuming so for pairs already under
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
    const info = so.u32(srec + 4);
    if (info !== bo.u32(brec + 4)) return false;
    const kind = (info >>> 24) & 0x7f;
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
