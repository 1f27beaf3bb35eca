import { BtfError } from '../errors.js';
import { WireKind as Kind } from '../format/kinds.js';
import { enumeratorValueU64, intInfo, isAnyEnum, kindOf, member, resolveSize, skipMods, wordAfterHeader } from './btf-read.js';
import { CoreKind, coreKindFamily, coreKindName } from './kinds.js';
import type { CoreSpec } from './spec.js';

/**
 * The value a relocation takes from one spec (local: what the compiler wrote; target: what the
 * kernel needs), as libbpf's `bpf_core_calc_field_relo`, `_type_relo` and `_enumval_relo`.
 * `poison` stands for libbpf's -EUCLEAN: no target where a value is needed.
 */
export type SpecValue =
  | { poison: true }
  | { poison: false; value: bigint; validate: boolean; memSize: number; memTypeId: number };

const POISON: SpecValue = { poison: true };

function valueOf(value: bigint | number, validate = true, memSize = 0, memTypeId = 0): SpecValue {
  return { poison: false, value: BigInt(value), validate, memSize, memTypeId };
}

function relocationError(message: string, spec: CoreSpec): BtfError {
  return new BtfError('bad-input', message, { typeId: spec.rootTypeId });
}

/**
 * A field relocation's value. `littleEndian` is the byte order the program reads memory in
 * (libbpf uses its host's, the kernel it runs on), which only LSHIFT_U64 depends on.
 */
export function fieldValue(kind: number, spec: CoreSpec | null, littleEndian: boolean): SpecValue {
  if (kind === CoreKind.FieldExists) return valueOf(spec ? 1 : 0);
  if (!spec) return POISON;
  const { btf } = spec;
  const acc = spec.accessors[spec.accessors.length - 1]!;
  if (acc.name === undefined) {
    // An array element (or the root): its size is the element type's.
    if (kind === CoreKind.FieldByteOffset) {
      // libbpf 1.1 sizes the access by the whole element even when it is itself an array;
      // 1.2 and later by its innermost element. 1.1's rule kept.
      return valueOf(Math.floor(spec.bitOffset / 8), true, resolveSize(btf, acc.typeId), acc.typeId);
    }
    if (kind === CoreKind.FieldByteSize) return valueOf(resolveSize(btf, acc.typeId));
    throw relocationError(`a ${coreKindName(kind)} relocation cannot be applied to an array element`, spec);
  }

  const m = member(btf, acc.typeId, acc.index);
  const fieldTypeId = skipMods(btf, m.type);
  const fieldKind = kindOf(btf, fieldTypeId);
  const bitOff = spec.bitOffset;
  let bitSize = m.bitfieldSize;
  const bitfield = bitSize > 0;
  let byteSize: number;
  let byteOff: number;
  if (bitfield) {
    // The narrowest aligned load (of the field type's size or more) that covers the bits.
    byteSize = btf.sizeOrType(fieldTypeId);
    if (byteSize === 0) throw relocationError(`bitfield ${acc.name} has a type of size 0`, spec);
    byteOff = Math.floor(Math.floor(bitOff / 8) / byteSize) * byteSize;
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8) throw relocationError(`bitfield ${acc.name} cannot be read with one 64-bit load`, spec);
      byteSize *= 2;
      byteOff = Math.floor(Math.floor(bitOff / 8) / byteSize) * byteSize;
    }
  } else {
    byteSize = resolveSize(btf, fieldTypeId);
    byteOff = Math.floor(bitOff / 8);
    bitSize = byteSize * 8;
  }
  // The compiler and libbpf may lay a bitfield's load out differently: only the kinds that
  // cannot differ are checked against the instruction.
  const validate = !bitfield;
  switch (kind) {
    case CoreKind.FieldByteOffset:
      return bitfield ? valueOf(byteOff, validate) : valueOf(byteOff, validate, byteSize, fieldTypeId);
    case CoreKind.FieldByteSize:
      return valueOf(byteSize, validate);
    case CoreKind.FieldSigned: {
      // libbpf 1.1 reads an INT's encoding bits from any kind (see wordAfterHeader).
      const enumSigned = isAnyEnum(fieldKind) && btf.kindFlag(fieldTypeId);
      const intSigned = fieldTypeId !== 0 && ((wordAfterHeader(btf, fieldTypeId) >>> 24) & 1) === 1;
      return valueOf(enumSigned || intSigned ? 1 : 0, true);
    }
    case CoreKind.FieldLShiftU64:
      return valueOf(littleEndian ? 64 - (bitOff + bitSize - byteOff * 8) : (8 - byteSize) * 8 + (bitOff - byteOff * 8), validate);
    case CoreKind.FieldRShiftU64:
      return valueOf(64 - bitSize, true);
    default:
      throw relocationError(`unknown CO-RE relocation kind ${kind}`, spec);
  }
}

/** A type-based relocation's value: 0 without a target (these kinds never poison). */
export function typeValue(kind: number, spec: CoreSpec | null): SpecValue {
  if (!spec) return valueOf(0);
  switch (kind) {
    // Type ids change when objects are linked: the instruction's value is not checked.
    case CoreKind.TypeIdTarget: return valueOf(spec.rootTypeId, false);
    case CoreKind.TypeExists: case CoreKind.TypeMatches: return valueOf(1);
    case CoreKind.TypeSize: return valueOf(resolveSize(spec.btf, spec.rootTypeId));
    default: throw relocationError(`unknown CO-RE relocation kind ${kind}`, spec);
  }
}

/** An enum value relocation's value; ENUMVAL_VALUE without a target poisons. */
export function enumValue(kind: number, spec: CoreSpec | null): SpecValue {
  if (kind === CoreKind.EnumValueExists) return valueOf(spec ? 1 : 0);
  if (!spec) return POISON;
  const acc = spec.accessors[0]!;
  return valueOf(enumeratorValueU64(spec.btf, acc.typeId, acc.index));
}

/** What {@link calcRelocation} decides for one local spec and one target spec (or none). */
export interface RelocationValues {
  origValue: bigint;
  newValue: bigint;
  poison: boolean;
  validate: boolean;
  origSize: number;
  newSize: number;
  failMemSizeAdjust: boolean;
}

/**
 * libbpf's `bpf_core_calc_relo`: both values, and for field offsets whether a load or store
 * whose size must change may (pointers, and unsigned INTs on both sides, zero-extend safely).
 */
export function calcRelocation(local: CoreSpec, target: CoreSpec | null, littleEndian: boolean): RelocationValues {
  const kind = local.kind;
  const family = coreKindFamily(kind);
  const calc = (spec: CoreSpec | null): SpecValue =>
    family === 'field' ? fieldValue(kind, spec, littleEndian) : family === 'type' ? typeValue(kind, spec) : enumValue(kind, spec);
  const orig = calc(local);
  const res: RelocationValues = { origValue: 0n, newValue: 0n, poison: false, validate: true, origSize: 0, newSize: 0, failMemSizeAdjust: false };
  if (orig.poison) throw relocationError('the local spec has no value', local);
  res.origValue = orig.value;
  res.validate = orig.validate;
  res.origSize = orig.memSize;
  const now = calc(target);
  if (now.poison) {
    res.poison = true;
    return res;
  }
  res.newValue = now.value;
  res.newSize = now.memSize;
  if (family === 'field' && res.origSize !== res.newSize && target) {
    const ok = (k1: number, k2: number) => k1 === k2;
    const lk = kindOf(local.btf, orig.memTypeId);
    const tk = kindOf(target.btf, now.memTypeId);
    const unsignedInt = (btf: CoreSpec['btf'], id: number) => intInfo(btf, id).encoding !== 1;
    const safe = (ok(lk, Kind.Ptr) && ok(tk, Kind.Ptr))
      || (lk === Kind.Int && tk === Kind.Int && unsignedInt(local.btf, orig.memTypeId) && unsignedInt(target.btf, now.memTypeId));
    res.failMemSizeAdjust = !safe;
  }
  return res;
}
