import type { Btf } from '../btf/btf.js';
import { BtfBuilder } from '../build/builder.js';
import { BtfError } from '../errors.js';
import type { Kind } from '../format/kinds.js';
import { copyRemapped, endianOf, nameBytes } from './copy.js';

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

/** One search hit of a {@link TypeUnion}: where the type lives and its id there. */
export interface TypeHit {
  /** `vmlinux` (or whatever name the base was given) or the module's name. */
  module: string;
  /** The type's id in that module's BTF (split ids for modules), the id fentry/fexit attach needs. */
  id: number;
  /** The BTF that holds it (for modules: split on the base). */
  btf: Btf;
  kind: Kind;
}

/** A module for a {@link TypeUnion}: parsed already, or parsed on first use. */
export type ModuleSource = Btf | (() => Btf);

/**
 * The kernel's BTF and any number of modules, searchable as one: CO-RE needs the union of all
 * types, while attaching to a module function needs to know the module and the id there.
 * Modules given as functions are loaded only when a search first needs them.
 */
export class TypeUnion {
  private readonly sources = new Map<string, ModuleSource>();

  constructor(readonly base: Btf, modules: Iterable<[string, ModuleSource]> = [], readonly baseName = 'vmlinux') {
    for (const [name, src] of modules) this.add(name, src);
  }

  /** Adds (or replaces) a module. */
  add(name: string, source: ModuleSource): void {
    if (name === this.baseName) throw new BtfError('bad-argument', `a module cannot be named '${this.baseName}', the base's name`);
    this.sources.set(name, source);
  }

  /** Module names, in the order they were added. */
  moduleNames(): string[] {
    return [...this.sources.keys()];
  }

  /** A module's BTF, loading it if needed; undefined for unknown names. */
  module(name: string): Btf | undefined {
    if (name === this.baseName) return this.base;
    const src = this.sources.get(name);
    if (src === undefined) return undefined;
    if (typeof src === 'function') {
      const btf = src();
      this.sources.set(name, btf);
      return btf;
    }
    return src;
  }

  /**
   * Every type named `name` (of `kind`, if given): the base's first, then each module's own
   * types (a module's references to base types are not repeated as hits of that module).
   */
  find(name: string, kind?: Kind): TypeHit[] {
    const hits: TypeHit[] = this.base.find(name, kind).map((id) => ({ module: this.baseName, id, btf: this.base, kind: this.base.kind(id) }));
    for (const mod of this.sources.keys()) {
      const btf = this.module(mod)!;
      for (const id of btf.find(name, kind)) {
        if (id >= btf.firstId) hits.push({ module: mod, id, btf, kind: btf.kind(id) });
      }
    }
    return hits;
  }
}
