import type { Btf } from '../btf/btf.js';
import { skipModsAndTypedefs, sizeOfOrFailure, SizeFailure } from '../btf/query.js';
import { BtfError } from '../errors.js';
import { KIND_NAMES, WireKind as Kind } from '../format/kinds.js';
import {
  Rec, arrayElemType, arrayNelems, enum64NameOff, enum64Value, enumAt, enumNameOff, intData, intEncoding, intBitOffset,
  memberBitOffset, memberBitfieldSize, memberNameOff, memberType, paramType,
} from '../format/records.js';

/**
 * The few record fields the CO-RE engine reads, by type id, over a blob and its bases. Ids are
 * checked by the engine before use (a reference to a missing type is a `bad-type-id` error,
 * where libbpf would read past its array or crash).
 */

/** The blob that holds `id` and the record's byte offset there. */
function at(btf: Btf, id: number): { o: Btf; r: number } {
  const o = btf.owner(id);
  if (!o) throw new BtfError('bad-type-id', `refers to missing type ${id}`, { typeId: id });
  return { o, r: o.recordOffset(id) };
}

/** Kind number of void (id 0), which WireKind does not name. */
export const VOID = 0;

export function kindOf(btf: Btf, id: number): number {
  if (id === 0) return VOID;
  at(btf, id);
  return btf.kind(id) as number;
}

export const isComposite = (k: number): boolean => k === Kind.Struct || k === Kind.Union;
export const isAnyEnum = (k: number): boolean => k === Kind.Enum || k === Kind.Enum64;

/** `skip_mods_and_typedefs`, with a missing target reported rather than followed. */
export function skipMods(btf: Btf, id: number): number {
  const res = skipModsAndTypedefs(btf, id);
  if (res !== 0 && !btf.has(res)) throw new BtfError('bad-type-id', `refers to missing type ${res}`, { typeId: id });
  return res;
}

/** libbpf's `btf__resolve_size`, as a BtfError when there is none. */
export function resolveSize(btf: Btf, id: number): number {
  const size = sizeOfOrFailure(btf, id);
  if (size >= 0) return size;
  const why = size === SizeFailure.Loop ? 'a reference loop' : size === SizeFailure.Missing ? 'a reference to a missing type' : size === SizeFailure.TooBig ? '4 GiB or more' : 'a kind without a size';
  throw new BtfError(size === SizeFailure.Loop ? 'type-loop' : 'bad-size', `type [${id}] has no size (${why})`, { typeId: id });
}

export function vlenOf(btf: Btf, id: number): number {
  return id === 0 ? 0 : btf.vlen(id);
}

export function nameOf(btf: Btf, id: number): string | undefined {
  return id === 0 ? '' : btf.str(btf.nameOffset(id));
}

export function member(btf: Btf, id: number, i: number): { name: string | undefined; nameOff: number; type: number; bitOffset: number; bitfieldSize: number } {
  const { o, r } = at(btf, id);
  const nameOff = memberNameOff(o, r, i);
  return { nameOff, name: btf.str(nameOff), type: memberType(o, r, i), bitOffset: memberBitOffset(o, r, i), bitfieldSize: memberBitfieldSize(o, r, i) };
}

export function array(btf: Btf, id: number): { elemType: number; nelems: number } {
  const { o, r } = at(btf, id);
  return { elemType: arrayElemType(o, r), nelems: arrayNelems(o, r) };
}

export function paramTypeOf(btf: Btf, id: number, i: number): number {
  const { o, r } = at(btf, id);
  return paramType(o, r, i);
}

/** Name offset of enumerator `i` of an ENUM or ENUM64. */
export function enumeratorNameOff(btf: Btf, id: number, i: number): number {
  const { o, r } = at(btf, id);
  return kindOf(btf, id) === Kind.Enum ? enumNameOff(o, r, i) : enum64NameOff(o, r, i);
}

/**
 * Value of enumerator `i` as libbpf puts it in a u64: an ENUM's 32-bit value is read as a
 * signed int and sign-extended whatever the kind_flag says (`*val = btf_enum(t)[i].val`, an
 * `__s32`), an ENUM64's two halves are joined.
 */
export function enumeratorValueU64(btf: Btf, id: number, i: number): bigint {
  const { o, r } = at(btf, id);
  if (kindOf(btf, id) === Kind.Enum) return BigInt.asUintN(64, BigInt(o.i32(r + enumAt(i) + Rec.ENUM_VAL_OFF)));
  return BigInt.asUintN(64, enum64Value(o, r, i));
}

/** The raw enumerator value as libbpf's spec text prints it (`%d`/`%u` of the s32, `%lld`/`%llu` of the u64). */
export function enumeratorText(btf: Btf, id: number, i: number): string {
  const { o, r } = at(btf, id);
  const signed = btf.kindFlag(id);
  if (kindOf(btf, id) === Kind.Enum) {
    const v = o.i32(r + enumAt(i) + Rec.ENUM_VAL_OFF);
    return String(signed ? v : v >>> 0);
  }
  const v = BigInt.asUintN(64, enum64Value(o, r, i));
  return String(signed ? BigInt.asIntN(64, v) : v);
}

/** An INT's encoding bits and bit offset. */
export function intInfo(btf: Btf, id: number): { encoding: number; offset: number } {
  const { o, r } = at(btf, id);
  const data = intData(o, r);
  return { encoding: intEncoding(data), offset: intBitOffset(data) };
}

/**
 * The word right after a record's 12-byte header, read as libbpf 1.1's FIELD_SIGNED does for
 * any kind (`btf_int_encoding(mt)` without checking that `mt` is an INT: for an enum it is the
 * first enumerator's name offset, for a pointer the next record's first word). 0 when that
 * word is not inside the blob. libbpf 1.2 and later check for an INT first.
 */
export function wordAfterHeader(btf: Btf, id: number): number {
  const { o, r } = at(btf, id);
  const pos = r + Rec.TYPE_HEADER_SIZE;
  return pos + 4 <= o.bytes.length ? o.u32(pos) : 0;
}

/** libbpf's kind names (`btf_kind_str`), as its CO-RE log prints them: lower case, `void` for 0. */
export function libbpfKindName(kind: number): string {
  if (kind === VOID) return 'void';
  return kind > 0 && kind < KIND_NAMES.length ? KIND_NAMES[kind]!.toLowerCase() : 'unknown';
}
