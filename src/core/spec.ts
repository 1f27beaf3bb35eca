import type { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { WireKind as Kind } from '../format/kinds.js';
import {
  array, enumeratorNameOff, enumeratorText, isAnyEnum, isComposite, kindOf, libbpfKindName, member, nameOf,
  resolveSize, skipMods, vlenOf,
} from './btf-read.js';
import type { CoreRawStep } from './decision.js';
import { coreKindFamily, coreKindName } from './kinds.js';

/** libbpf's `BPF_CORE_SPEC_MAX_LEN`: the most access steps a spec may hold, local or target. */
export const CORE_SPEC_MAX_LEN = 64;

/**
 * One meaningful step of an access: a named member (with the id of the struct or union that
 * holds it and its index there) or an array index (with the element's type id). The first
 * step of a field access is always an index into the root type, as if through a pointer.
 */
export interface CoreAccessor {
  typeId: number;
  index: number;
  /** Member name, or the enumerator's name for enum value relocations; absent for an index. */
  name?: string;
}

/**
 * An access resolved in one BTF, libbpf's `struct bpf_core_spec`: `accessors` keep the steps
 * that mean something (named members, array indices), `raw` every step including anonymous
 * members in between (the access string of this BTF), `bitOffset` where the access lands.
 * Type-based relocations have no steps.
 */
export interface CoreSpec {
  btf: Btf;
  rootTypeId: number;
  kind: number;
  accessors: CoreAccessor[];
  raw: number[];
  bitOffset: number;
}

/**
 * `base + index * size * 8` kept to 32 bits: libbpf's bit offsets are `__u32`s and wrap (an
 * index past 2^29 bytes is no real access, but the arithmetic must agree with libbpf's).
 */
export function addBitOffset(base: number, index: number, size: number): number {
  return Number(BigInt.asUintN(32, BigInt(base) + BigInt(index) * BigInt(size) * 8n));
}

function specError(message: string, typeId: number): BtfError {
  return new BtfError('bad-input', message, { typeId });
}

/**
 * Reads an access string as libbpf's `sscanf("%d")` loop does: numbers separated by single
 * colons, each allowed leading blanks and a sign. Negative steps are refused, as libbpf 1.2
 * and later do; 1.1 takes them and reads outside the record.
 */
export function parseAccessString(access: string, typeId: number): number[] {
  if (access === '' || access[0] === ':') throw specError(`access string '${access}' is empty or starts with ':'`, typeId);
  const raw: number[] = [];
  let pos = 0;
  while (pos < access.length) {
    if (access[pos] === ':') pos++;
    const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(access.slice(pos));
    if (!m) throw specError(`access string '${access}' is not numbers separated by ':'`, typeId);
    const value = Number(m[2]);
    if (m[1] === '-' && value !== 0) throw specError(`access string '${access}' has a negative index`, typeId);
    if (value > 0x7fffffff) throw specError(`access string '${access}' has an index that does not fit an int`, typeId);
    if (raw.length === CORE_SPEC_MAX_LEN) throw specError(`access string '${access}' has more than ${CORE_SPEC_MAX_LEN} steps`, typeId);
    raw.push(value);
    pos += m[0].length;
  }
  if (raw.length === 0) throw specError(`access string '${access}' has no steps`, typeId);
  return raw;
}

/**
 * A flexible array member: an array of 0 elements reached through a named member that is the
 * last of its struct (libbpf's `is_flex_arr`); its index is not bounded.
 */
export function isFlexibleArray(btf: Btf, previous: CoreAccessor | undefined, nelems: number): boolean {
  if (!previous || previous.name === undefined || nelems > 0) return false;
  return previous.index === vlenOf(btf, previous.typeId) - 1;
}

/**
 * The local spec of a relocation, as libbpf's `bpf_core_parse_spec`: type-based kinds need the
 * access "0"; enum value kinds one index, of an enumerator of the (typedef'd) enum; field
 * kinds walk the access through members (anonymous ones leave no named step) and arrays
 * (bounded by their length, except flexible arrays), summing the bit offset. Anything that
 * does not fit is a `bad-input` BtfError naming the local type.
 */
export function parseCoreSpec(btf: Btf, typeId: number, access: string, kind: number): CoreSpec {
  const spec: CoreSpec = { btf, rootTypeId: typeId, kind, accessors: [], raw: [], bitOffset: 0 };
  const family = coreKindFamily(kind);
  if (family === 'type') {
    if (access !== '0') throw specError(`a ${coreKindName(kind)} relocation needs the access string "0", not '${access}'`, typeId);
    return spec;
  }
  spec.raw = parseAccessString(access, typeId);
  let id = skipMods(btf, typeId);
  const first = spec.raw[0]!;
  spec.accessors.push({ typeId: id, index: first });
  const rootKind = kindOf(btf, id);

  if (family === 'enumval') {
    if (!isAnyEnum(rootKind)) throw specError(`an ${coreKindName(kind)} relocation needs an enum, not a ${libbpfKindName(rootKind)}`, typeId);
    if (spec.raw.length > 1) throw specError(`an ${coreKindName(kind)} relocation takes one index, not '${access}'`, typeId);
    if (first >= vlenOf(btf, id)) throw specError(`enumerator ${first} is past the enum's ${vlenOf(btf, id)} values`, typeId);
    spec.accessors[0]!.name = btf.str(enumeratorNameOff(btf, id, first)) ?? '';
    return spec;
  }
  if (family !== 'field') throw specError(`unknown CO-RE relocation kind ${kind}`, typeId);

  spec.bitOffset = addBitOffset(0, first, resolveSize(btf, id));
  for (let i = 1; i < spec.raw.length; i++) {
    id = skipMods(btf, id);
    const step = spec.raw[i]!;
    const k = kindOf(btf, id);
    if (isComposite(k)) {
      if (step >= vlenOf(btf, id)) throw specError(`access '${access}' step ${i}: member ${step} is past the ${vlenOf(btf, id)} members of [${id}]`, typeId);
      const m = member(btf, id, step);
      spec.bitOffset = (spec.bitOffset + m.bitOffset) >>> 0;
      if (m.nameOff !== 0) {
        if (!m.name) throw specError(`access '${access}' step ${i}: member ${step} of [${id}] has an empty or invalid name`, typeId);
        spec.accessors.push({ typeId: id, index: step, name: m.name });
      }
      id = m.type;
    } else if (k === Kind.Array) {
      const a = array(btf, id);
      id = skipMods(btf, a.elemType);
      const flexible = isFlexibleArray(btf, spec.accessors[spec.accessors.length - 1], a.nelems);
      if (!flexible && step >= a.nelems) throw specError(`access '${access}' step ${i}: index ${step} is past the array's ${a.nelems} elements`, typeId);
      spec.accessors.push({ typeId: id, index: step });
      spec.bitOffset = addBitOffset(spec.bitOffset, step, resolveSize(btf, id));
    } else {
      throw specError(`access '${access}' step ${i} reaches type [${id}], a ${libbpfKindName(k)}, which has no members or elements`, typeId);
    }
  }
  return spec;
}

/**
 * A spec as libbpf's `bpf_core_format_spec` writes it, without the `<kind> ` prefix libbpf's
 * log puts first: `[5] struct task_struct.pid (0:1 @ offset 4)`,
 * `[7] enum pid_type::PIDTYPE_PGID = 2`, `[12] struct list_head`.
 */
export function formatCoreSpec(spec: CoreSpec): string {
  const { btf, rootTypeId } = spec;
  const name = nameOf(btf, rootTypeId);
  let out = `[${rootTypeId}] ${libbpfKindName(kindOf(btf, rootTypeId))} ${name ? name : '<anon>'}`;
  const family = coreKindFamily(spec.kind);
  if (family === 'type' || family === undefined) return out;
  if (family === 'enumval') {
    const enumId = skipMods(btf, rootTypeId);
    const index = spec.raw[0]!;
    const enumerator = btf.str(enumeratorNameOff(btf, enumId, index)) ?? '';
    return `${out}::${enumerator} = ${enumeratorText(btf, enumId, index)}`;
  }
  spec.accessors.forEach((acc, i) => {
    if (acc.name !== undefined) out += `.${acc.name}`;
    else if (i > 0 || acc.index > 0) out += `[${acc.index}]`;
  });
  out += ` (${spec.raw.join(':')} @ offset ${Math.floor(spec.bitOffset / 8)}`;
  out += spec.bitOffset % 8 ? `.${spec.bitOffset % 8})` : ')';
  return out;
}

/**
 * Every step of a spec's access (`raw`) with the type it is taken in, walked again through the
 * spec's BTF: the root (after typedefs and qualifiers) for the first step, then the struct,
 * union or array each following step indexes; the enum for an enumerator. Type-based specs have
 * none. The spec must be one this module parsed or matched (its steps exist).
 */
export function rawStepsOf(spec: CoreSpec): CoreRawStep[] {
  const { btf, raw } = spec;
  const family = coreKindFamily(spec.kind);
  if (family !== 'field' && family !== 'enumval') return [];
  if (raw.length === 0) return [];
  let id = skipMods(btf, spec.rootTypeId);
  const steps: CoreRawStep[] = [{ typeId: id, index: raw[0]! }];
  for (let i = 1; i < raw.length; i++) {
    id = skipMods(btf, id);
    steps.push({ typeId: id, index: raw[i]! });
    id = isComposite(kindOf(btf, id)) ? member(btf, id, raw[i]!).type : array(btf, id).elemType;
  }
  return steps;
}
