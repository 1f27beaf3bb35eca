import type { Btf } from '../btf/btf.js';
import { BtfBuilder } from '../build/builder.js';
import { BtfError } from '../errors.js';
import { copyRemapped, endianOf, nameBytes } from '../build/copy.js';

/** A module's split BTF and the name to report it under. */
export interface NamedBtf {
  name: string;
  btf: Btf;
}

/** Where one module's types landed in a merged blob. */
export interface MergedRange {
  name: string;
  /** First id of the module's types in the merged blob, and one past the last. */
  firstId: number;
  endId: number;
  /** The first id the module's types had in the module itself. */
  originalFirstId: number;
}

/** What {@link mergeModules} wrote. */
export interface MergeResult {
  /** Split BTF on the base holding every module's types. */
  bytes: Uint8Array;
  /** One range per module, in the order given. */
  modules: MergedRange[];
  /** The module a merged id came from and its id there; undefined for base ids. */
  origin(mergedId: number): { module: string; id: number } | undefined;
}

/**
 * Writes one split blob holding the types of every module, each module's types renumbered to
 * follow the previous module's, so no two modules share an id: it reads as split BTF on
 * `base` (in btfkit and in bpftool), and each module's types keep their order, names, kinds
 * and members. References to base types are kept; names are shared where they are equal.
 *
 * Every module must be split BTF on `base` (or on a base with the same type count and string
 * length); check modules with `checkSplit` first when that is not known.
 */
export function mergeModules(base: Btf, modules: readonly NamedBtf[], opts: { endian?: 'little' | 'big' } = {}): MergeResult {
  const builder = new BtfBuilder({ base });
  const ranges: MergedRange[] = [];
  for (const { name, btf } of modules) {
    if (btf.firstId !== base.endId || btf.firstStringOffset !== base.endStringOffset) {
      throw new BtfError('bad-base', `module ${name} is not split BTF on this base (its ids start at ${btf.firstId} and strings at ${btf.firstStringOffset}; the base ends at ${base.endId} and ${base.endStringOffset})`);
    }
    const first = builder.nextId;
    const shift = first - btf.firstId;
    const mapId = (v: number) => (v < btf.firstId ? v : v + shift);
    // Names in the base stay where they are; the module's own are re-added (shared between modules).
    const mapName = (off: number) => (off < base.endStringOffset ? off : builder.strings.addBytes(nameBytes(btf, off)));
    for (let id = btf.firstId; id < btf.endId; id++) copyRemapped(builder, btf, id, mapId, mapName);
    ranges.push({ name, firstId: first, endId: builder.nextId, originalFirstId: btf.firstId });
  }
  const bytes = builder.encode({ endian: opts.endian ?? endianOf(base) });
  return {
    bytes,
    modules: ranges,
    origin(mergedId: number) {
      // Ranges are sorted by id: binary search.
      let lo = 0;
      let hi = ranges.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const r = ranges[mid]!;
        if (mergedId < r.firstId) hi = mid - 1;
        else if (mergedId >= r.endId) lo = mid + 1;
        else return { module: r.name, id: mergedId - r.firstId + r.originalFirstId };
      }
      return undefined;
    },
  };
}
