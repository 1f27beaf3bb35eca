import { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { BTF_IDS_SECTION, findSection, type ElfFile } from '../elf/elf.js';
import { readSymbols } from '../elf/symbols.js';
import { kindName } from '../format/kinds.js';
import { recordEnd, wordRole, WordRole } from '../btf/slots.js';
import { distillBase } from './distill.js';
import { matchDistilledBase, relocateOntoBase } from './relocate.js';
import { describeType } from './refs.js';
import { checkSplit } from './check.js';
import { loadModuleBtf } from './load.js';

/**
 * Rebasing: moving a module's split BTF from the base it was built on onto another build's
 * base, which no other tool does. It is a distill on the old base followed by a relocation
 * onto the new one (the kernel's rules: every named base type the module uses must exist
 * there once, with the same size where the module embeds it). Beyond the bytes, it says what
 * happened to each base type the module uses.
 */

/**
 * What became of one base type the module uses:
 * - `kept`: same id and same definition in the new base;
 * - `moved`: same definition under another id;
 * - `changed`: found (by the relocation rules), but its own record differs: other members,
 *   member offsets, values or size (accepted, since the module holds it only by pointer, or
 *   embeds it and the size is the same);
 * - `refused`: no counterpart, or several: the rebase cannot be done.
 */
export type RebaseFate = 'kept' | 'moved' | 'changed' | 'refused';

/** One base type of the module's distilled base and its fate. */
export interface RebasedType {
  /** The type in the old base, as `[id] KIND 'name'`. */
  type: string;
  fromId: number;
  /** Its counterpart's id in the new base (absent when refused). */
  toId?: number;
  fate: RebaseFate;
  /** For `refused`, why; for `changed`, what differs. */
  reason?: string;
}

/** The outcome of {@link rebaseModule}. */
export interface RebaseResult {
  /** The module's split BTF on the new base; absent when refused. */
  bytes?: Uint8Array;
  /** Each base type the distilled base names (named INT, FLOAT, ENUM, STRUCT, UNION, FWD), in old id order. */
  types: RebasedType[];
  /** Counts per fate. */
  counts: Record<RebaseFate, number>;
  /** Base types copied into the module's own BTF (pointers, typedefs, anonymous types...). */
  moved: number;
}

/**
 * Rebases `mod` (split BTF on the base it was built against) onto `newBase`. Refusals are not
 * thrown: they are the `refused` entries, and `bytes` is then absent.
 */
export function rebaseModule(mod: Btf, newBase: Btf): RebaseResult {
  const oldBase = mod.base!;
  const d = distillBase(mod);
  const distilled = Btf.parse(d.base);
  const split = Btf.parse(d.split, { base: distilled });
  const match = matchDistilledBase(split, newBase);
  const refusedWhy = new Map(match.missing.map((m) => [m.id, m.reason]));
  const counts: Record<RebaseFate, number> = { kept: 0, moved: 0, changed: 0, refused: 0 };
  const types: RebasedType[] = d.distilledIds.map((fromId, i) => {
    const type = describeType(oldBase, fromId);
    const toId = match.map.get(i + 1);
    let entry: RebasedType;
    if (toId === undefined) {
      // The relocation names the type by its distilled id; the report speaks of the old base's.
      const why = (refusedWhy.get(i + 1) ?? `${describeType(distilled, i + 1)} has no counterpart`).replace(describeType(distilled, i + 1), type);
      entry = { type, fromId, fate: 'refused', reason: why };
    } else {
      const diff = recordDifference(oldBase, fromId, newBase, toId);
      entry = diff ? { type, fromId, toId, fate: 'changed', reason: diff } : { type, fromId, toId, fate: toId === fromId ? 'kept' : 'moved' };
    }
    counts[entry.fate]++;
    return entry;
  });
  const result: RebaseResult = { types, counts, moved: d.movedIds.length };
  if (counts.refused === 0) result.bytes = relocateOntoBase(split, newBase);
  return result;
}

/**
 * Sentence for a refused rebase: the first refusals, with the type and the reason.
 * @internal
 */
export function refusalSummary(r: RebaseResult, max = 3): string {
  const refused = r.types.filter((t) => t.fate === 'refused');
  const shown = refused.slice(0, max).map((t) => t.reason ?? t.type).join('; ');
  return `${refused.length} of the ${r.types.length} base types the module uses cannot be placed on the new base: ${shown}${refused.length > max ? `; and ${refused.length - max} more` : ''}`;
}

/**
 * How type `a` of `x` and type `b` of `y` differ in their own records, or undefined when they
 * do not: every word compared, names as text, referenced types by kind and name (not id, which
 * differs between builds), so this is one level deep by design.
 * @internal
 */
export function recordDifference(x: Btf, a: number, y: Btf, b: number): string | undefined {
  const wa = recordWords(x, a);
  const wb = recordWords(y, b);
  if (x.kind(a) !== y.kind(b)) return `kind ${kindName(x.kind(a))} became ${kindName(y.kind(b))}`;
  if (x.sizeOrType(a) !== y.sizeOrType(b)) return `size ${x.sizeOrType(a)} became ${y.sizeOrType(b)}`;
  if (x.vlen(a) !== y.vlen(b)) return `${x.vlen(a)} elements became ${y.vlen(b)}`;
  for (let i = 0; i < wa.length; i++) {
    if (wa[i] !== wb[i]) return `word ${i} of its record differs (${wa[i]} became ${wb[i]})`;
  }
  return undefined;
}

function recordWords(btf: Btf, id: number): string[] {
  const owner = btf.owner(id)!;
  const rec = owner.recordOffset(id);
  const words = (recordEnd(owner, id) - rec) / 4;
  const kind = btf.kind(id);
  const out: string[] = [];
  for (let w = 0; w < words; w++) {
    const v = owner.u32(rec + w * 4);
    switch (wordRole(kind, w)) {
      case WordRole.TypeId: out.push(v === 0 ? 'void' : btf.has(v) ? `${kindName(btf.kind(v))} '${btf.name(v)}'` : `id ${v}`); break;
      case WordRole.Name: out.push(`'${btf.str(v) ?? ''}'`); break;
      default: out.push(String(v));
    }
  }
  return out;
}

/** Whether a module that does not match a base could be rebased onto it from the base it was built on. */
export interface RebaseHint {
  /** True when `btfkit rebase --from OLD --to BASE` would succeed. */
  possible: boolean;
  /** One sentence: what a rebase would do, or why it cannot. */
  summary: string;
  /** Counts per fate of the module's named base types (absent when the module does not match OLD either). */
  counts?: Record<RebaseFate, number>;
}

/**
 * For `check --from OLD`: would rebasing `moduleBytes` (a `.ko` or raw split BTF) from `oldBase`
 * onto `newBase` succeed? Only a module that matches `oldBase` can be rebased from it.
 */
export function rebaseHint(moduleBytes: Uint8Array, oldBase: Btf, newBase: Btf, file?: string): RebaseHint {
  const onOld = checkSplit(moduleBytes, oldBase, { maxEvidence: 1, ...(file === undefined ? {} : { file }) });
  if (onOld.verdict !== 'matched') return { possible: false, summary: `it does not match the --from base either (${onOld.verdict}), so it cannot be rebased from there` };
  const r = rebaseModule(loadModuleBtf(moduleBytes, oldBase, file), newBase);
  const c = r.counts;
  if (!r.bytes) return { possible: false, counts: c, summary: `a rebase from the --from base is refused: ${refusalSummary(r, 1)}` };
  return { possible: true, counts: c, summary: `'btfkit rebase --from OLD --to BASE' would succeed (${r.types.length} named base types: ${c.kept} kept, ${c.moved} moved, ${c.changed} changed)` };
}

const BTF_ID_SLOT = /^__BTF_ID__(struct|union|typedef|func)__/;
const BTF_ID_SET = /^__BTF_ID__(set8?)__/;

/**
 * The `.BTF_ids` section of a module rebased from `from` (its BTF on the old base) to `to` (the
 * rebased BTF on the new base), or undefined when it has none. resolve_btfids wrote into it the
 * ids of named types in the old numbering; each id becomes the new id of the same type: the
 * module's own types keep their order, so they move by the difference of first ids, and a base
 * type is looked up by kind and name in the new base (by size too when the name is not unique
 * there). BTF_SET and BTF_SET8 contents are sorted again by id, as resolve_btfids leaves them,
 * since the kernel searches them by bisection. A base type the new base lacks, or holds several
 * times with the same size, is a `bad-base` error naming the entry.
 */
export function rebaseBtfIds(elf: ElfFile, from: Btf, to: Btf): Uint8Array | undefined {
  const section = findSection(elf, BTF_IDS_SECTION);
  if (!section || section.size === 0) return undefined;
  const out = elf.bytes.slice(section.offset, section.offset + section.size);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const le = elf.littleEndian;
  const oldBase = from.base!;
  const mapped = new Map<number, number>();
  const mapId = (id: number, where: string): number => {
    if (id === 0) return 0;
    if (id >= from.firstId) {
      if (id >= from.endId) throw new BtfError('bad-base', `.BTF_ids entry ${where} holds id ${id}, past the module's last type ${from.endId - 1}`);
      return id - from.firstId + to.firstId;
    }
    const known = mapped.get(id);
    if (known !== undefined) return known;
    const kind = oldBase.kind(id);
    const name = oldBase.name(id);
    let found = to.base!.find(name, kind);
    if (found.length > 1) found = found.filter((c) => to.sizeOrType(c) === oldBase.sizeOrType(id));
    if (found.length !== 1) {
      throw new BtfError('bad-base', `.BTF_ids entry ${where} names ${describeType(oldBase, id)}, which the new base holds ${found.length === 0 ? 'not at all' : `${found.length} times`}`);
    }
    mapped.set(id, found[0]!);
    return found[0]!;
  };
  const symbols = readSymbols(elf).filter((s) => s.section === section.index);
  const sets = symbols.filter((s) => BTF_ID_SET.test(s.name) && s.size > 0)
    .map((s) => ({ name: s.name, start: Number(s.value), end: Number(s.value) + s.size, pairs: s.name.startsWith('__BTF_ID__set8__') }));
  const inSet = (off: number) => sets.some((set) => off >= set.start && off < set.end);
  for (const sym of symbols) {
    const off = Number(sym.value);
    if (!BTF_ID_SLOT.test(sym.name) || inSet(off) || off + 4 > out.length) continue;
    dv.setUint32(off, mapId(dv.getUint32(off, le), sym.name), le);
  }
  for (const set of sets) {
    // BTF_SET: u32 count, then the ids. BTF_SET8: u32 count, u32 flags, then {u32 id, u32 flags}.
    const first = set.start + (set.pairs ? 8 : 4);
    const stride = set.pairs ? 8 : 4;
    const count = Math.min(dv.getUint32(set.start, le), Math.floor((Math.min(set.end, out.length) - first) / stride));
    const entries: [number, number][] = [];
    for (let i = 0; i < count; i++) {
      const at = first + i * stride;
      entries.push([mapId(dv.getUint32(at, le), set.name), set.pairs ? dv.getUint32(at + 4, le) : 0]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    entries.forEach(([id, flags], i) => {
      const at = first + i * stride;
      dv.setUint32(at, id, le);
      if (set.pairs) dv.setUint32(at + 4, flags, le);
    });
  }
  return out;
}
