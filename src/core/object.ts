import type { Btf } from '../btf/btf.js';
import { TypeSet } from '../btf/typeset.js';
import type { Kind } from '../format/kinds.js';
import { CoreKind } from './kinds.js';
import { parseBpfObject, type BpfObject } from '../bpf/object.js';
import { BtfError } from '../errors.js';
import type { CoreDecision } from './decision.js';
import { CoreRelocator } from './engine.js';
import { patchCoreInstruction, type CorePatchResult } from './patch.js';

/** One CO-RE record of an object, decided and applied. */
export interface ObjectCoreRelocation {
  /** The program section (`kprobe/do_exit`, `.text`) the instruction is in. */
  section: string;
  /** Index of the record among its section's CO-RE records (libbpf's `relo #N`). */
  index: number;
  /** Byte offset of the instruction within its section, as `.BTF.ext` has it. */
  insnOffset: number;
  decision: CoreDecision;
  patch: CorePatchResult;
  /** `patched` (existence kinds resolving to 0 included), `poisoned`, or `error` (libbpf would fail the load). */
  result: 'patched' | 'poisoned' | 'error';
  /** Why it was poisoned or failed. */
  reason?: string;
}

/** The CO-RE outcome of one object on one target. */
export interface ObjectCoreResult {
  relocations: ObjectCoreRelocation[];
  /** The object's bytes with every relocation applied (a copy; the input is not changed). */
  patched: Uint8Array;
  /** True when every relocation was patched (none poisoned, none failed). */
  ok: boolean;
}

/**
 * The local types whose CO-RE candidates relocating these objects will look up: give them to
 * `TypeSet.prefetchCoreCandidates` to find all of them in one pass over a kernel before
 * relocating several objects against it.
 */
export function coreQueries(objects: readonly BpfObject[]): { name: string; kind: Kind }[] {
  const out: { name: string; kind: Kind }[] = [];
  for (const o of objects) {
    if (!o.btf) continue;
    const seen = new Set<number>();
    for (const r of o.ext?.coreRelo.blocks.flatMap((b) => b.records) ?? []) {
      if (r.kind === CoreKind.TypeIdLocal || seen.has(r.typeId) || !o.btf.has(r.typeId)) continue;
      seen.add(r.typeId);
      out.push({ name: o.btf.name(r.typeId), kind: o.btf.kind(r.typeId) });
    }
  }
  return out;
}

/**
 * Relocates a BPF object's CO-RE records against a target, as libbpf does in
 * `bpf_object__load`: records in `.BTF.ext` order, one {@link CoreRelocator} for the object (so
 * candidates narrow as in libbpf), each decision applied to its instruction in a copy of the
 * object. Unlike libbpf, which stops at the first failure, every record is decided and
 * reported. `object` is the `.o`'s bytes or an already parsed object (whose bytes are copied).
 */
export function relocateObject(object: Uint8Array, target: TypeSet | Btf, opts: { file?: string } = {}): ObjectCoreResult {
  const patched = object.slice();
  const parsed: BpfObject = parseBpfObject(patched, { file: opts.file });
  if (!parsed.btf) throw new BtfError('not-found', 'the object has no .BTF section: CO-RE needs the types it was compiled against', { file: opts.file });
  const relocator = new CoreRelocator(parsed.btf, target);
  if (target instanceof TypeSet) {
    try {
      target.prefetchCoreCandidates(coreQueries([parsed]));
    } catch {
      // A module that cannot be read: the relocation that needs it reports it.
    }
  }
  const relocations: ObjectCoreRelocation[] = [];
  const sections = new Map(parsed.programs.map((p) => [p.name, p]));
  for (const block of parsed.ext?.coreRelo.blocks ?? []) {
    const section = sections.get(block.section);
    for (const [index, record] of block.records.entries()) {
      const decision = relocator.resolve(record);
      const patch: CorePatchResult = section
        ? patchCoreInstruction(section.bytes, record.insnOffset, parsed.littleEndian, decision)
        : { patches: [], poisoned: false, error: `section '${block.section}' has no instructions` };
      const error = decision.error ?? patch.error;
      const result = error !== undefined ? 'error' : patch.poisoned ? 'poisoned' : 'patched';
      const reason = error ?? (patch.poisoned ? patch.reason ?? decision.reason : undefined);
      relocations.push({ section: block.section, index, insnOffset: record.insnOffset, decision, patch, result, ...(reason !== undefined ? { reason } : {}) });
    }
  }
  return { relocations, patched, ok: relocations.every((r) => r.result === 'patched') };
}
