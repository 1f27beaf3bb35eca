import { Btf } from '../btf/btf.js';
import { TypeSet, type TypeHit } from '../btf/typeset.js';
import { BtfError, isBtfError } from '../errors.js';
import { kindOf, libbpfKindName, nameOf } from './btf-read.js';
import type { CoreDecision, CoreRelocationRecord, CoreTargetSpec } from './decision.js';
import { CoreKind, coreKindFamily, coreKindName } from './kinds.js';
import { matchCoreSpec } from './match.js';
import { formatCoreSpec, parseCoreSpec, rawStepsOf, type CoreSpec } from './spec.js';
import { calcRelocation, type RelocationValues } from './values.js';

/** Wraps an error from reading the target, so that {@link CoreRelocator.resolve} passes it on. */
class TargetUnreadable {
  constructor(readonly error: unknown) {}
}

/** Options of a {@link CoreRelocator}. */
export interface CoreRelocatorOptions {
  /**
   * Byte order the program reads memory in, which only `lshift_u64` depends on. Default: the
   * object's own (its `.BTF`'s). libbpf uses its host's, which is the kernel's it loads into.
   */
  littleEndian?: boolean;
}

/**
 * libbpf's CO-RE algorithm over one object's BTF and one target (vmlinux alone, or vmlinux
 * plus modules as a {@link TypeSet}), one relocation at a time, every decision a value.
 *
 * One relocator stands for one `bpf_object__load`: like libbpf it keeps each local type's
 * candidate list between relocations and narrows it to the candidates that matched, so later
 * relocations against the same local type consider only those. Feed the records in `.BTF.ext`
 * order (section by section) to get libbpf's decisions.
 *
 * @example
 * ```ts
 * const relocator = new CoreRelocator(objectBtf, new TypeSet(vmlinux));
 * for (const record of records) {
 *   const d = relocator.resolve(record);
 *   console.log(d.local.spec, '→', d.target?.spec ?? d.reason, d.origValue, '→', d.newValue);
 * }
 * ```
 */
export class CoreRelocator {
  private readonly target: TypeSet;
  private readonly littleEndian: boolean;
  private readonly candidateCache = new Map<number, TypeHit[]>();

  constructor(readonly local: Btf, target: TypeSet | Btf, opts: CoreRelocatorOptions = {}) {
    this.target = target instanceof TypeSet ? target : new TypeSet(target);
    this.littleEndian = opts.littleEndian ?? local.littleEndian;
  }

  /** The decision for one record. Never throws for bad input: a record libbpf refuses comes back with `error` set. */
  resolve(record: CoreRelocationRecord): CoreDecision {
    const decision: CoreDecision & { matches: CoreTargetSpec[] } = {
      record,
      kind: record.kind,
      local: { btf: 'local', typeId: record.typeId, name: '', access: record.access, spec: '' },
      target: null,
      matches: [],
      candidates: { considered: 0, matched: 0 },
      origValue: 0n,
      newValue: 0n,
      validate: true,
      poison: false,
    };
    try {
      this.decide(record, decision);
    } catch (e) {
      // A target that cannot be read (a module file that does not parse) is the caller's
      // problem, not this record's.
      if (e instanceof TargetUnreadable) throw e.error;
      if (!isBtfError(e)) throw e;
      decision.error = e.detail;
      decision.reason = e.detail;
      decision.poison = false;
    }
    return decision;
  }

  private candidatesOf(name: string, kind: number): TypeHit[] {
    try {
      return this.target.coreCandidates(name, kind);
    } catch (e) {
      throw new TargetUnreadable(e);
    }
  }

  private decide(record: CoreRelocationRecord, decision: CoreDecision & { matches: CoreTargetSpec[] }): void {
    const { local } = this;
    const localId = record.typeId;
    if (localId !== 0 && !local.has(localId)) {
      throw new BtfError('bad-type-id', `local type id ${localId} does not exist in the object's BTF`, { typeId: localId });
    }
    const localName = nameOf(local, localId);
    if (localName === undefined) throw new BtfError('bad-string-offset', `local type [${localId}] has a name outside the string section`, { typeId: localId });
    decision.local.name = localName;
    const localKind = kindOf(local, localId);
    const what = `[${localId}] ${libbpfKindName(localKind)} ${localName || '<anon>'}`;

    // libbpf looks for candidates before it reads the access string.
    let candidates: TypeHit[] = [];
    if (record.kind !== CoreKind.TypeIdLocal) {
      if (localName === '') throw new BtfError('bad-input', `${what}: CO-RE relocations of anonymous types have no candidates (${coreKindName(record.kind)})`, { typeId: localId });
      const cached = this.candidateCache.get(localId);
      candidates = cached ?? this.candidatesOf(localName, localKind);
      if (!cached) this.candidateCache.set(localId, candidates);
    }

    let localSpec: CoreSpec;
    try {
      localSpec = parseCoreSpec(local, localId, record.access, record.kind);
    } catch (e) {
      if (isBtfError(e)) throw new BtfError(e.code, `parsing ${what} + ${record.access} failed: ${e.detail}`, { typeId: localId });
      throw e;
    }
    decision.local.spec = formatCoreSpec(localSpec);

    if (record.kind === CoreKind.TypeIdLocal) {
      // Nothing to look up: the id is the object's own, and may change when objects are linked.
      decision.origValue = decision.newValue = BigInt(localSpec.rootTypeId);
      decision.validate = false;
      return;
    }

    decision.candidates.considered = candidates.length;
    let chosen: { hit: TypeHit; spec: CoreSpec; values: RelocationValues } | undefined;
    const kept: TypeHit[] = [];
    for (const hit of candidates) {
      const spec = matchCoreSpec(localSpec, hit.btf, hit.id);
      if (!spec) continue;
      // Recorded before the agreement checks below, so an ambiguity names every candidate in it.
      decision.matches.push(targetSpecOf(hit, spec));
      const values = calcRelocation(localSpec, spec, this.littleEndian);
      if (!chosen) {
        chosen = { hit, spec, values };
      } else if (spec.bitOffset !== chosen.spec.bitOffset) {
        throw new BtfError('ambiguous', `field offset ambiguity: ${formatCoreSpec(spec)} in ${hit.module} is at bit ${spec.bitOffset}, ${formatCoreSpec(chosen.spec)} in ${chosen.hit.module} at bit ${chosen.spec.bitOffset}`, { typeId: localId });
      } else if (values.poison !== chosen.values.poison || values.newValue !== chosen.values.newValue) {
        const say = (v: RelocationValues) => `${v.poison ? 'failure' : 'success'} ${v.newValue}`;
        throw new BtfError('ambiguous', `relocation decision ambiguity: ${formatCoreSpec(spec)} in ${hit.module} gives ${say(values)}, ${formatCoreSpec(chosen.spec)} in ${chosen.hit.module} gives ${say(chosen.values)}`, { typeId: localId });
      }
      kept.push(hit);
    }
    decision.candidates.matched = kept.length;
    // libbpf narrows the cached list to the matching candidates, when there were any.
    if (kept.length > 0) this.candidateCache.set(localId, kept);

    const values = chosen ? chosen.values : calcRelocation(localSpec, null, this.littleEndian);
    decision.origValue = values.origValue;
    decision.newValue = values.newValue;
    decision.validate = values.validate;
    decision.poison = values.poison;
    if (coreKindFamily(record.kind) === 'field' && record.kind !== CoreKind.FieldExists) {
      decision.origSize = values.origSize;
      decision.newSize = values.newSize;
      decision.failMemSizeAdjust = values.failMemSizeAdjust;
    }
    if (chosen) {
      decision.target = decision.matches[0]!;
      if (values.failMemSizeAdjust) {
        decision.reason = `the field is ${values.origSize} bytes locally and ${values.newSize} in ${chosen.hit.module}, and is neither a pointer nor an unsigned integer on both sides: a load or store of it cannot be resized`;
      }
    } else if (decision.poison) {
      decision.reason = candidates.length === 0
        ? `no ${libbpfKindName(localKind)} named like ${localName} in the target`
        : `none of the ${candidates.length} candidate(s) has ${decision.local.spec}`;
    }
  }
}

function targetSpecOf(hit: TypeHit, spec: CoreSpec): CoreTargetSpec {
  return {
    btf: hit.module,
    typeId: hit.id,
    name: hit.name,
    access: spec.raw.join(':'),
    spec: formatCoreSpec(spec),
    steps: rawStepsOf(spec),
  };
}

/**
 * Every record's decision, in order, with one {@link CoreRelocator} (so candidate lists narrow
 * as libbpf's do within one object).
 */
export function resolveCoreRelocations(local: Btf, records: Iterable<CoreRelocationRecord>, target: TypeSet | Btf, opts: CoreRelocatorOptions = {}): CoreDecision[] {
  const relocator = new CoreRelocator(local, target, opts);
  return Array.from(records, (r) => relocator.resolve(r));
}
