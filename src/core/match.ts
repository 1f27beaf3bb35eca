import type { Btf } from '../btf/btf.js';
import { essentialNameLength } from '../btf/query.js';
import { BtfError } from '../errors.js';
import { WireKind as Kind } from '../format/kinds.js';
import {
  VOID, array, enumeratorNameOff, intInfo, isAnyEnum, isComposite, kindOf, member, nameOf, paramTypeOf, resolveSize,
  skipMods, vlenOf,
} from './btf-read.js';
import { CoreKind, coreKindFamily } from './kinds.js';
import { CORE_SPEC_MAX_LEN, addBitOffset, isFlexibleArray, type CoreSpec } from './spec.js';

/**
 * Whether a local type can be relocated to a target one, with libbpf 1.1's rules
 * (relo_core.c): compatibility of fields, of types, and the stricter `type_matches`. Each
 * returns true or false; what libbpf reports as an error (a missing type, nesting past its
 * limits) throws a BtfError, which fails the relocation as in libbpf.
 */

/** libbpf's recursion depth for type walks (`int depth = 32`, checked after decrementing: 33 steps). */
const MAX_WALK_STEPS = 33;
/** libbpf's `level` for function prototypes and members (32). */
const MAX_LEVEL = 32;

function tooDeep(what: string, localId: number): BtfError {
  return new BtfError('type-loop', `${what} nests deeper than libbpf follows (a reference loop?)`, { typeId: localId });
}

/** ENUM and ENUM64 stand for each other; every other kind only for itself (`btf_kind_core_compat`). */
function kindsCompatible(a: number, b: number): boolean {
  return a === b || (isAnyEnum(a) && isAnyEnum(b));
}

/** `bpf_core_names_match`: an anonymous target matches only an anonymous local; else essential names are equal. */
function namesMatch(local: string, target: string): boolean {
  if (target === '') return local === '';
  const n = essentialNameLength(local);
  return n === essentialNameLength(target) && local.slice(0, n) === target.slice(0, n);
}

/**
 * Field compatibility, `bpf_core_fields_are_compat`: any two structs or unions; pointers and
 * floats of any kind; FWDs and enums of the same essential name (or one anonymous); any two
 * INTs that are not old-style bitfield INTs; arrays of compatible elements, any length.
 */
export function fieldsCompatible(localBtf: Btf, localId: number, targetBtf: Btf, targetId: number): boolean {
  for (let step = 0; step < MAX_WALK_STEPS; step++) {
    localId = skipMods(localBtf, localId);
    targetId = skipMods(targetBtf, targetId);
    const lk = kindOf(localBtf, localId);
    const tk = kindOf(targetBtf, targetId);
    if (isComposite(lk) && isComposite(tk)) return true;
    if (!kindsCompatible(lk, tk)) return false;
    switch (lk) {
      case Kind.Ptr: case Kind.Float:
        return true;
      case Kind.Fwd: case Kind.Enum: case Kind.Enum64: {
        const ln = nameOf(localBtf, localId) ?? '';
        const tn = nameOf(targetBtf, targetId) ?? '';
        const ll = essentialNameLength(ln);
        const tl = essentialNameLength(tn);
        return ll === 0 || tl === 0 || (ll === tl && ln.slice(0, ll) === tn.slice(0, tl));
      }
      case Kind.Int:
        return intInfo(localBtf, localId).offset === 0 && intInfo(targetBtf, targetId).offset === 0;
      case Kind.Array:
        localId = array(localBtf, localId).elemType;
        targetId = array(targetBtf, targetId).elemType;
        continue;
      default:
        return false;
    }
  }
  // libbpf has no bound here (valid BTF has no array loops); a hostile one must not hang us.
  throw tooDeep('an array of arrays', localId);
}

/**
 * Type compatibility for type-based relocations, `bpf_core_types_are_compat`: the same kind
 * (ENUM/ENUM64 mixed) under typedefs and qualifiers; INTs not old-style bitfields; pointers,
 * arrays (any length) and function prototypes (same arity) by what they refer to.
 */
/**
 * Comparisons one top-level typesCompatible or typesMatch call may make. libbpf recurses without
 * memory, so prototypes or records that each use the next one twice take 2^level steps (level
 * goes to 32); real types take hundreds.
 */
const MAX_COMPARISONS = 1_000_000;
let comparisonsLeft = MAX_COMPARISONS;

function countComparison(level: number, localId: number): void {
  if (level === MAX_LEVEL) comparisonsLeft = MAX_COMPARISONS;
  if (--comparisonsLeft < 0) {
    throw new BtfError('limit', `comparing [${localId}] took more than ${MAX_COMPARISONS} steps: types that use the next one several times, nested without end`, { typeId: localId });
  }
}

export function typesCompatible(localBtf: Btf, localId: number, targetBtf: Btf, targetId: number, level = MAX_LEVEL): boolean {
  countComparison(level, localId);
  if (!kindsCompatible(kindOf(localBtf, localId), kindOf(targetBtf, targetId))) return false;
  for (let step = 0; step < MAX_WALK_STEPS; step++) {
    localId = skipMods(localBtf, localId);
    targetId = skipMods(targetBtf, targetId);
    const lk = kindOf(localBtf, localId);
    if (!kindsCompatible(lk, kindOf(targetBtf, targetId))) return false;
    switch (lk) {
      case VOID: case Kind.Struct: case Kind.Union: case Kind.Enum: case Kind.Fwd: case Kind.Enum64:
        return true;
      case Kind.Int:
        return intInfo(localBtf, localId).offset === 0 && intInfo(targetBtf, targetId).offset === 0;
      case Kind.Ptr:
        localId = localBtf.sizeOrType(localId);
        targetId = targetBtf.sizeOrType(targetId);
        continue;
      case Kind.Array:
        localId = array(localBtf, localId).elemType;
        targetId = array(targetBtf, targetId).elemType;
        continue;
      case Kind.FuncProto: {
        const n = vlenOf(localBtf, localId);
        if (n !== vlenOf(targetBtf, targetId)) return false;
        for (let i = 0; i < n; i++) {
          if (level <= 0) throw tooDeep('a function prototype', localId);
          const lp = skipMods(localBtf, paramTypeOf(localBtf, localId, i));
          const tp = skipMods(targetBtf, paramTypeOf(targetBtf, targetId, i));
          if (!typesCompatible(localBtf, lp, targetBtf, tp, level - 1)) return false;
        }
        localId = skipMods(localBtf, localBtf.sizeOrType(localId));
        targetId = skipMods(targetBtf, targetBtf.sizeOrType(targetId));
        continue;
      }
      default:
        return false;
    }
  }
  throw tooDeep('a chain of pointers, arrays or prototypes', localId);
}

function enumsMatch(localBtf: Btf, localId: number, targetBtf: Btf, targetId: number): boolean {
  if (localBtf.sizeOrType(localId) !== targetBtf.sizeOrType(targetId)) return false;
  const ln = vlenOf(localBtf, localId);
  const tn = vlenOf(targetBtf, targetId);
  if (ln > tn) return false;
  for (let i = 0; i < ln; i++) {
    const name = localBtf.str(enumeratorNameOff(localBtf, localId, i)) ?? '';
    let found = false;
    for (let j = 0; j < tn && !found; j++) found = namesMatch(name, targetBtf.str(enumeratorNameOff(targetBtf, targetId, j)) ?? '');
    if (!found) return false;
  }
  return true;
}

function compositesMatch(localBtf: Btf, localId: number, targetBtf: Btf, targetId: number, behindPointer: boolean, level: number): boolean {
  const ln = vlenOf(localBtf, localId);
  const tn = vlenOf(targetBtf, targetId);
  if (ln > tn) return false;
  for (let i = 0; i < ln; i++) {
    const lm = member(localBtf, localId, i);
    let found = false;
    for (let j = 0; j < tn && !found; j++) {
      const tm = member(targetBtf, targetId, j);
      if (!namesMatch(lm.name ?? '', tm.name ?? '')) continue;
      found = typesMatch(localBtf, lm.type, targetBtf, tm.type, behindPointer, level - 1);
    }
    if (!found) return false;
  }
  return true;
}

/**
 * The `type_matches` relation, `bpf_core_types_match`: under typedefs and qualifiers, the same
 * essential names and kinds; INTs of one size and signedness; enums of one size whose local
 * enumerators all exist by name in the target; structs and unions whose local members all
 * exist by name with matching types (behind a pointer only names and kinds count, and a
 * struct or union matches a FWD of its kind); arrays of one length; prototypes of one arity.
 */
export function typesMatch(localBtf: Btf, localId: number, targetBtf: Btf, targetId: number, behindPointer = false, level = MAX_LEVEL): boolean {
  if (level <= 0) throw tooDeep('a type_matches comparison', localId);
  countComparison(level, localId);
  for (let step = 0; step < MAX_WALK_STEPS; step++) {
    localId = skipMods(localBtf, localId);
    targetId = skipMods(targetBtf, targetId);
    if (!namesMatch(nameOf(localBtf, localId) ?? '', nameOf(targetBtf, targetId) ?? '')) return false;
    const lk = kindOf(localBtf, localId);
    const tk = kindOf(targetBtf, targetId);
    switch (lk) {
      case VOID:
        return tk === VOID;
      case Kind.Fwd: {
        const localUnion = localBtf.kindFlag(localId);
        if (tk === Kind.Fwd) return localUnion === targetBtf.kindFlag(targetId);
        return behindPointer && ((tk === Kind.Struct && !localUnion) || (tk === Kind.Union && localUnion));
      }
      case Kind.Enum: case Kind.Enum64:
        return isAnyEnum(tk) && enumsMatch(localBtf, localId, targetBtf, targetId);
      case Kind.Struct: case Kind.Union:
        if (behindPointer) {
          if (lk === tk) return true;
          return tk === Kind.Fwd && (lk === Kind.Union) === targetBtf.kindFlag(targetId);
        }
        return lk === tk && compositesMatch(localBtf, localId, targetBtf, targetId, behindPointer, level);
      case Kind.Int: {
        if (tk !== Kind.Int) return false;
        const signed = (id: number, btf: Btf) => intInfo(btf, id).encoding & 1;
        return localBtf.sizeOrType(localId) === targetBtf.sizeOrType(targetId) && signed(localId, localBtf) === signed(targetId, targetBtf);
      }
      case Kind.Ptr:
        if (tk !== Kind.Ptr) return false;
        behindPointer = true;
        localId = localBtf.sizeOrType(localId);
        targetId = targetBtf.sizeOrType(targetId);
        continue;
      case Kind.Array: {
        if (tk !== Kind.Array) return false;
        const la = array(localBtf, localId);
        const ta = array(targetBtf, targetId);
        if (la.nelems !== ta.nelems) return false;
        localId = la.elemType;
        targetId = ta.elemType;
        continue;
      }
      case Kind.FuncProto: {
        if (tk !== Kind.FuncProto) return false;
        const n = vlenOf(localBtf, localId);
        if (n !== vlenOf(targetBtf, targetId)) return false;
        for (let i = 0; i < n; i++) {
          if (!typesMatch(localBtf, paramTypeOf(localBtf, localId, i), targetBtf, paramTypeOf(targetBtf, targetId, i), behindPointer, level - 1)) return false;
        }
        localId = localBtf.sizeOrType(localId);
        targetId = targetBtf.sizeOrType(targetId);
        continue;
      }
      default:
        return false;
    }
  }
  throw tooDeep('a chain of pointers, arrays or prototypes', localId);
}

/**
 * Finds the local named member `local` (an accessor of `localSpec`) among the members of
 * target type `targetId`, looking inside anonymous structs and unions as C does, as
 * `bpf_core_match_member`. Pushes the steps taken onto `target` and returns the member's type,
 * or undefined when there is no such member or it is not compatible.
 *
 * Like libbpf, a member found by name but incompatible inside an anonymous record leaves its
 * step and bit offset on the spec while the search goes on in the outer record.
 */
/**
 * Members a single member search may visit. libbpf searches anonymous members without memory, so
 * anonymous records that each hold the next one twice take 2^depth steps (a fuzzed blob nested
 * 30 deep ran for minutes); real kernels stay in the thousands (task_struct: a few hundred).
 */
const MAX_MEMBER_VISITS = 1_000_000;
let memberVisitsLeft = MAX_MEMBER_VISITS;

function matchMember(localBtf: Btf, localAcc: { typeId: number; index: number }, targetBtf: Btf, targetId: number, target: CoreSpec, outermost = true): number | undefined {
  if (outermost) memberVisitsLeft = MAX_MEMBER_VISITS;
  targetId = skipMods(targetBtf, targetId);
  if (!isComposite(kindOf(targetBtf, targetId))) return undefined;
  const lm = member(localBtf, localAcc.typeId, localAcc.index);
  const localName = lm.name ?? '';
  const n = vlenOf(targetBtf, targetId);
  for (let i = 0; i < n; i++) {
    if (--memberVisitsLeft < 0) {
      throw new BtfError('limit', `searching [${targetId}] for a member visited more than ${MAX_MEMBER_VISITS} members: anonymous records nest and repeat without end`, { typeId: targetId });
    }
    const tm = member(targetBtf, targetId, i);
    if (target.raw.length === CORE_SPEC_MAX_LEN) {
      throw new BtfError('limit', `target access would take more than ${CORE_SPEC_MAX_LEN} steps`, { typeId: targetId });
    }
    target.bitOffset = (target.bitOffset + tm.bitOffset) >>> 0;
    target.raw.push(i);
    const targetName = tm.name ?? '';
    if (targetName === '') {
      const found = matchMember(localBtf, localAcc, targetBtf, tm.type, target, false);
      if (found !== undefined) return found;
    } else if (targetName === localName) {
      target.accessors.push({ typeId: targetId, index: i, name: targetName });
      if (fieldsCompatible(localBtf, lm.type, targetBtf, tm.type)) return tm.type;
      target.accessors.pop();
      // libbpf says "not found" here without taking back the step and bit offset, so a search
      // that goes on in an outer record carries them: kept for the same answers.
      return undefined;
    }
    target.bitOffset = (target.bitOffset - tm.bitOffset) >>> 0;
    target.raw.pop();
  }
  return undefined;
}

/**
 * Matches a local spec against one candidate target type, as libbpf's `bpf_core_spec_match`:
 * the target spec (steps, bit offset) when the candidate has every named member and array
 * index the local access takes, with compatible types; null when it does not. Type-based kinds
 * compare the root types (`type_matches` for TYPE_MATCHES, compatibility otherwise), enum value
 * kinds look for the enumerator by essential name.
 */
export function matchCoreSpec(local: CoreSpec, targetBtf: Btf, targetId: number): CoreSpec | null {
  const target: CoreSpec = { btf: targetBtf, rootTypeId: targetId, kind: local.kind, accessors: [], raw: [], bitOffset: 0 };
  const family = coreKindFamily(local.kind);
  if (family === 'type') {
    const ok = local.kind === CoreKind.TypeMatches
      ? typesMatch(local.btf, local.rootTypeId, targetBtf, targetId)
      : typesCompatible(local.btf, local.rootTypeId, targetBtf, targetId);
    return ok ? target : null;
  }
  if (family === 'enumval') {
    const enumId = skipMods(targetBtf, targetId);
    if (!isAnyEnum(kindOf(targetBtf, enumId))) return null;
    const localName = local.accessors[0]!.name ?? '';
    const len = essentialNameLength(localName);
    const n = vlenOf(targetBtf, enumId);
    for (let i = 0; i < n; i++) {
      const name = targetBtf.str(enumeratorNameOff(targetBtf, enumId, i)) ?? '';
      if (essentialNameLength(name) !== len || name.slice(0, len) !== localName.slice(0, len)) continue;
      target.accessors.push({ typeId: enumId, index: i, name });
      target.raw.push(i);
      return target;
    }
    return null;
  }
  if (family !== 'field') throw new BtfError('bad-input', `unknown CO-RE relocation kind ${local.kind}`, { typeId: local.rootTypeId });

  let id = targetId;
  for (let i = 0; i < local.accessors.length; i++) {
    const acc = local.accessors[i]!;
    id = skipMods(targetBtf, id);
    if (acc.name !== undefined) {
      const next = matchMember(local.btf, acc, targetBtf, id, target);
      if (next === undefined) return null;
      id = next;
      continue;
    }
    if (i > 0) {
      if (kindOf(targetBtf, id) !== Kind.Array) return null;
      const a = array(targetBtf, id);
      if (!isFlexibleArray(targetBtf, target.accessors[i - 1], a.nelems) && acc.index >= a.nelems) return null;
      id = skipMods(targetBtf, a.elemType);
    }
    if (target.raw.length === CORE_SPEC_MAX_LEN) {
      throw new BtfError('limit', `target access would take more than ${CORE_SPEC_MAX_LEN} steps`, { typeId: targetId });
    }
    target.accessors.push({ typeId: id, index: acc.index });
    target.raw.push(acc.index);
    target.bitOffset = addBitOffset(target.bitOffset, acc.index, resolveSize(targetBtf, id));
  }
  return target;
}
