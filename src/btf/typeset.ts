import type { Btf } from './btf.js';
import { BtfError } from '../errors.js';
import { Kind } from '../format/kinds.js';
import { Rec } from '../format/records.js';
import { essentialLength, essentialName } from './query.js';

const utf8Encoder = new TextEncoder();

// One definition of the essential name, shared with the query module; re-exported for users of the type set.
export { essentialName };

/**
 * For each key (an essential name's bytes), the blob's own types (ids from `firstId`) whose
 * essential name it is, in id order: one pass over the types comparing name bytes in place, as
 * libbpf's bpf_core_add_cands compares them. An object relocates against a handful of local
 * types, and most names fail at their first byte: cheaper than hashing every name of a freshly
 * parsed vmlinux into an index (about 80 ms per object on 6.18).
 */
function scanByEssentialNames(btf: Btf, keys: readonly Uint8Array[]): number[][] {
  const out: number[][] = keys.map(() => []);
  // A name equal to the key is a match only if it has no flavor itself: `nf_conn___init` is a
  // flavor of `nf_conn`, so no type's essential name is `nf_conn___init` (libbpf compares essential lengths).
  const exactMatches = keys.map((key) => essentialLength((x) => key[x]!, key.length) === key.length);
  // Keys by first byte, so a name is compared only with the keys it could be.
  const byFirst: (number[] | undefined)[] = new Array(256);
  keys.forEach((key, k) => {
    if (key.length) (byFirst[key[0]!] ??= []).push(k);
  });
  const offsets = btf.typeOffsets;
  const dv = btf.dv;
  const le = btf.littleEndian;
  const own = btf.bytes;
  const ownStart = btf.stringStart - btf.firstStringOffset;
  for (let i = 0; i < offsets.length; i++) {
    const nameOff = dv.getUint32(offsets[i]! + Rec.NAME_OFF, le);
    if (nameOff === 0) continue;
    let bytes = own;
    let pos: number;
    if (nameOff >= btf.firstStringOffset) {
      if (nameOff >= btf.endStringOffset) continue;
      pos = ownStart + nameOff;
    } else {
      // pahole names module types with vmlinux's strings where vmlinux has them.
      const at = btf.base?.locateString(nameOff);
      if (!at) continue;
      bytes = at.btf.bytes;
      pos = at.pos;
    }
    const candidates = byFirst[bytes[pos]!];
    if (!candidates) continue;
    for (const k of candidates) {
      const key = keys[k]!;
      const n = key.length;
      let j = 1;
      while (j < n && bytes[pos + j] === key[j]) j++;
      if (j < n) continue;
      const after = bytes[pos + n] ?? 0;
      if (after === 0) {
        if (exactMatches[k]) out[k]!.push(btf.firstId + i);
      } else if (after === 0x5f) {
        let end = pos + n;
        while (end < bytes.length && bytes[end] !== 0) end++;
        if (essentialLength((x) => bytes[pos + x]!, end - pos) === n) out[k]!.push(btf.firstId + i);
      }
    }
  }
  return out;
}

/** The memo key of a CO-RE candidate search: ENUM and ENUM64 ask the same question. */
function coreMemoKey(essential: string, kind: Kind): string {
  return `${kind === Kind.Enum64 ? Kind.Enum : kind}:${essential}`;
}

/** ENUM and ENUM64 stand for one another in CO-RE (libbpf's `btf_kind_core_compat`); every other kind only for itself. */
function coreKindsCompatible(a: Kind, b: Kind): boolean {
  return a === b || ((a === Kind.Enum || a === Kind.Enum64) && (b === Kind.Enum || b === Kind.Enum64));
}

/** One search hit of a {@link TypeSet}: where the type lives and its id there. */
export interface TypeHit {
  /** `vmlinux` (or whatever name the base was given) or the module's name. */
  module: string;
  /** The type's id in that module's BTF (split ids for modules), the id fentry/fexit attach needs. */
  id: number;
  /** The BTF that holds it (for modules: split on the base). */
  btf: Btf;
  kind: Kind;
  /** The type's own name: the one searched for, or for essential-name searches possibly a flavor of it. */
  name: string;
}

/** A module for a {@link TypeSet}: parsed already, or parsed on first use. */
export type ModuleSource = Btf | (() => Btf);

/**
 * The kernel's BTF and any number of modules split on it, searched as one: CO-RE looks for its
 * candidates in vmlinux and then in every module, and attaching to a module function needs to
 * know the module and the type's id there. Each hit says which blob it comes from and its id
 * in that blob. A module's references to vmlinux types are those vmlinux types (see identity
 * in `equivalence.ts`), so a module's hits are its own types only.
 *
 * Modules given as functions are loaded only when a search first needs them.
 *
 * @example
 * ```ts
 * const set = new TypeSet(vmlinux, [['8021q', () => loadModule('8021q')]]);
 * set.find('garp_port');                        // vmlinux's FWD, then 8021q's STRUCT
 * set.coreCandidates('task_struct___old', Kind.Struct); // vmlinux's task_struct
 * ```
 */
export class TypeSet {
  private readonly sources = new Map<string, ModuleSource>();
  private readonly coreMemo = new Map<string, TypeHit[]>();

  constructor(readonly base: Btf, modules: Iterable<[string, ModuleSource]> = [], readonly baseName = 'vmlinux') {
    for (const [name, src] of modules) this.add(name, src);
  }

  /** Adds (or replaces) a module. */
  add(name: string, source: ModuleSource): void {
    if (name === this.baseName) throw new BtfError('bad-argument', `a module cannot be named '${this.baseName}', the base's name`);
    this.sources.set(name, source);
    this.coreMemo.clear();
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
   * Every type named exactly `name` (of `kind`, if given): the base's first, then each module's
   * own types, in the order the modules were added; in id order within each.
   */
  find(name: string, kind?: Kind): TypeHit[] {
    return this.search((btf) => btf.find(name, kind), () => true);
  }

  /**
   * Every type whose essential name (see {@link essentialName}) equals `name`'s (of `kind`, if
   * given), in the order of {@link find}: `task_struct___old` finds `task_struct` and any other
   * flavor of it, in vmlinux and in every module. Each hit's {@link TypeHit.name} says which.
   */
  findEssential(name: string, kind?: Kind): TypeHit[] {
    if (name === '') return [];
    const key = utf8Encoder.encode(essentialName(name));
    return this.search((btf) => scanByEssentialNames(btf, [key])[0]!, (k) => kind === undefined || k === kind);
  }

  /**
   * The kernel types a CO-RE relocation against a local type named `name` of kind `kind` may
   * resolve to, as libbpf's `bpf_core_find_cands` collects them: types of a compatible kind (the
   * same, or ENUM and ENUM64 for each other) whose essential names are equal. vmlinux is
   * searched first and, when it has any candidate, alone; only otherwise are modules searched
   * (loaded now), each module's own types, in the order the modules were added (libbpf takes
   * the kernel's order of BTF objects). An anonymous local type has no candidates.
   */
  coreCandidates(name: string, kind: Kind): TypeHit[] {
    if (name === '') return [];
    this.prefetchCoreCandidates([{ name, kind }]);
    return this.coreMemo.get(coreMemoKey(essentialName(name), kind))!.slice();
  }

  /**
   * Finds the {@link coreCandidates} of many local types at once, one pass over vmlinux (and one
   * over each module, for the names vmlinux lacks) instead of one per name; later
   * `coreCandidates` calls for them are answered from memory. Objects relocated against one
   * kernel ask about the same few types again, so answers are kept until a module is added.
   */
  prefetchCoreCandidates(queries: Iterable<{ name: string; kind: Kind }>): void {
    const wanted = new Map<string, { essential: string; kind: Kind }>();
    for (const { name, kind } of queries) {
      if (name === '') continue;
      const essential = essentialName(name);
      const memoKey = coreMemoKey(essential, kind);
      if (!this.coreMemo.has(memoKey)) wanted.set(memoKey, { essential, kind });
    }
    if (wanted.size === 0) return;
    const essentials = [...new Set([...wanted.values()].map((w) => w.essential))];
    const keys = essentials.map((e) => utf8Encoder.encode(e));
    const inBase = scanByEssentialNames(this.base, keys);
    const missing: string[] = [];
    for (const [memoKey, { essential, kind }] of wanted) {
      const compatible = (k: Kind) => coreKindsCompatible(k, kind);
      // The base's own types: a base that is itself split is searched as the kernel's BTF alone.
      const hits = this.hits(this.baseName, this.base, inBase[essentials.indexOf(essential)]!, compatible, false);
      if (hits.length > 0) this.coreMemo.set(memoKey, hits);
      else missing.push(memoKey);
    }
    if (missing.length === 0) return;
    // Only what vmlinux lacks is looked for in modules, each module's own types (libbpf's order).
    const moduleEssentials = [...new Set(missing.map((m) => wanted.get(m)!.essential))];
    const moduleKeys = moduleEssentials.map((e) => utf8Encoder.encode(e));
    const found = new Map<string, TypeHit[]>(missing.map((m) => [m, []]));
    for (const mod of this.sources.keys()) {
      const btf = this.module(mod)!;
      const ids = scanByEssentialNames(btf, moduleKeys);
      for (const m of missing) {
        const { essential, kind } = wanted.get(m)!;
        found.get(m)!.push(...this.hits(mod, btf, ids[moduleEssentials.indexOf(essential)]!, (k) => coreKindsCompatible(k, kind), true));
      }
    }
    for (const [m, hits] of found) this.coreMemo.set(m, hits);
  }

  private search(lookup: (btf: Btf) => number[], accept: (kind: Kind) => boolean): TypeHit[] {
    return this.hits(this.baseName, this.base, lookup(this.base), accept, false).concat(this.searchModules(lookup, accept));
  }

  private searchModules(lookup: (btf: Btf) => number[], accept: (kind: Kind) => boolean): TypeHit[] {
    const hits: TypeHit[] = [];
    for (const mod of this.sources.keys()) {
      const btf = this.module(mod)!;
      hits.push(...this.hits(mod, btf, lookup(btf), accept, true));
    }
    return hits;
  }

  private hits(module: string, btf: Btf, ids: number[], accept: (kind: Kind) => boolean, ownOnly: boolean): TypeHit[] {
    const hits: TypeHit[] = [];
    for (const id of ids) {
      if (ownOnly && id < btf.firstId) continue;
      const kind = btf.kind(id);
      if (accept(kind)) hits.push({ module, id, btf, kind, name: btf.name(id) });
    }
    return hits;
  }
}

/** @deprecated Renamed {@link TypeSet}; this name goes in the next release. */
export const TypeUnion = TypeSet;
/** @deprecated Renamed {@link TypeSet}; this name goes in the next release. */
export type TypeUnion = TypeSet;
