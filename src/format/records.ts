/**
 * The record vocabulary: where every field of a BTF type record lies, what each kind's record
 * holds after its 12-byte header, and small readers for the fields (libbpf's `btf.h` accessors
 * and `btf_iter.c` in spirit). Everything else reads records through this module, so the wire
 * layout is written down once.
 *
 * A record is `struct btf_type` (name_off, info, size/type: `Rec.TYPE_HEADER_SIZE` bytes),
 * then `infoSize` bytes of one kind-specific struct (INT's encoding word, `btf_array`, VAR's
 * linkage, DECL_TAG's component index), then `vlen` elements of `elemSize` bytes (members,
 * enumerators, parameters, section variables). {@link Rec} holds the offsets, strides and bit
 * fields; `memberAt(i)` and its siblings give where element `i` starts; the readers
 * (`memberType`, `arrayNelems`, `enum64Value`...) read one field of a record.
 *
 * The readers and decoders suit code that reads a few fields. Loops that read every field of a
 * vmlinux (parsing, the raw and JSON dumps, `checkBtf`, the C dump's table) write the
 * arithmetic out with {@link Rec}'s constants instead, and say so where they do: the CLI runs
 * with TurboFan inlining off (src/cli/tuning.ts), and there a call per field costs about 8% of
 * `checkBtf` (measured on the 6.18 vmlinux).
 *
 * This module imports nothing: `kinds.ts` takes the layout table from it.
 */

/**
 * The record layout as numbers: field offsets, element strides and bit fields. A const enum,
 * which the compiler writes out as plain numbers (as `WireKind`): the loops that read every
 * field of a vmlinux use these inline at no cost, where an imported `const` costs a load and
 * a check at every use (about 9% of `checkBtf`, measured on the 6.18 vmlinux).
 *
 * Offsets named `*_OFF` without an element in their name are from the record's first byte;
 * element field offsets (`MEMBER_TYPE_OFF`...) are from the element's first byte.
 */
export const enum Rec {
  // ---- struct btf_type
  /** Size of the fixed `struct btf_type` that starts every type record. */
  TYPE_HEADER_SIZE = 12,
  /** `name_off`: the type's name in the string section (0: anonymous). */
  NAME_OFF = 0,
  /** `info`: vlen in bits 0-23, kind in bits 24-30, kind_flag in bit 31. */
  INFO_OFF = 4,
  /** `size` (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT) or `type` (every other kind). */
  SIZE_OR_TYPE_OFF = 8,
  /** The bit fields of `info`. */
  INFO_VLEN_MASK = 0xffffff,
  INFO_KIND_SHIFT = 24,
  INFO_KIND_MASK = 0x7f,
  INFO_KIND_FLAG_SHIFT = 31,

  // ---- the one struct after the header
  /** INT: the encoding word (`BTF_INT_ENCODING`, `BTF_INT_OFFSET`, `BTF_INT_BITS`). */
  INT_DATA_OFF = TYPE_HEADER_SIZE,
  /** Its bit fields: value width in bits 0-7, bit offset in bits 16-23, encoding in bits 24-27. */
  INT_BITS_MASK = 0xff,
  INT_OFFSET_SHIFT = 16,
  INT_OFFSET_MASK = 0xff,
  INT_ENCODING_SHIFT = 24,
  INT_ENCODING_MASK = 0x0f,
  /** ARRAY (`struct btf_array`): element type, index type, element count. */
  ARRAY_TYPE_OFF = TYPE_HEADER_SIZE,
  ARRAY_INDEX_TYPE_OFF = TYPE_HEADER_SIZE + 4,
  ARRAY_NELEMS_OFF = TYPE_HEADER_SIZE + 8,
  ARRAY_INFO_SIZE = 12,
  /** VAR (`struct btf_var`): linkage. */
  VAR_LINKAGE_OFF = TYPE_HEADER_SIZE,
  /** DECL_TAG (`struct btf_decl_tag`): component_idx, an i32 (-1: the whole declaration). */
  DECL_TAG_COMPONENT_IDX_OFF = TYPE_HEADER_SIZE,

  // ---- the vlen elements (every kind that has them has no struct between header and elements)
  /** STRUCT/UNION member (`struct btf_member`): name, type, offset word. */
  MEMBER_SIZE = 12,
  MEMBER_NAME_OFF = 0,
  MEMBER_TYPE_OFF = 4,
  /** Bit offset; with kind_flag, bitfield size in the top 8 bits and bit offset in the low 24. */
  MEMBER_OFFSET_OFF = 8,
  MEMBER_BIT_OFFSET_MASK = 0xffffff,
  MEMBER_BITFIELD_SIZE_SHIFT = 24,
  /** ENUM value (`struct btf_enum`): name, 32-bit value (signed when kind_flag is set). */
  ENUM_SIZE = 8,
  ENUM_NAME_OFF = 0,
  ENUM_VAL_OFF = 4,
  /** ENUM64 value (`struct btf_enum64`): name, low and high halves of the value. */
  ENUM64_SIZE = 12,
  ENUM64_NAME_OFF = 0,
  ENUM64_VAL_LO_OFF = 4,
  ENUM64_VAL_HI_OFF = 8,
  /** FUNC_PROTO parameter (`struct btf_param`): name, type. */
  PARAM_SIZE = 8,
  PARAM_NAME_OFF = 0,
  PARAM_TYPE_OFF = 4,
  /** DATASEC entry (`struct btf_var_secinfo`): VAR (or FUNC) type, offset and size in the section. */
  SECINFO_SIZE = 12,
  SECINFO_TYPE_OFF = 0,
  SECINFO_OFFSET_OFF = 4,
  SECINFO_SIZE_OFF = 8,

  // ---- the same layout in 32-bit words, for code that reads a type section as a u32 array
  // (the C dump's TypeTable). `*_WORDS` are sizes and strides; the header's `*_WORD`s count
  // from the record's first word, ARRAY's from the first word after the header (where the
  // table's `first` points), an element's from the element's first word.
  TYPE_HEADER_WORDS = TYPE_HEADER_SIZE >> 2,
  NAME_WORD = NAME_OFF >> 2,
  INFO_WORD = INFO_OFF >> 2,
  SIZE_OR_TYPE_WORD = SIZE_OR_TYPE_OFF >> 2,
  ARRAY_TYPE_WORD = (ARRAY_TYPE_OFF - TYPE_HEADER_SIZE) >> 2,
  ARRAY_INDEX_TYPE_WORD = (ARRAY_INDEX_TYPE_OFF - TYPE_HEADER_SIZE) >> 2,
  ARRAY_NELEMS_WORD = (ARRAY_NELEMS_OFF - TYPE_HEADER_SIZE) >> 2,
  MEMBER_WORDS = MEMBER_SIZE >> 2,
  MEMBER_NAME_WORD = MEMBER_NAME_OFF >> 2,
  MEMBER_TYPE_WORD = MEMBER_TYPE_OFF >> 2,
  MEMBER_OFFSET_WORD = MEMBER_OFFSET_OFF >> 2,
  ENUM_WORDS = ENUM_SIZE >> 2,
  ENUM_NAME_WORD = ENUM_NAME_OFF >> 2,
  ENUM_VAL_WORD = ENUM_VAL_OFF >> 2,
  ENUM64_WORDS = ENUM64_SIZE >> 2,
  ENUM64_NAME_WORD = ENUM64_NAME_OFF >> 2,
  ENUM64_VAL_LO_WORD = ENUM64_VAL_LO_OFF >> 2,
  ENUM64_VAL_HI_WORD = ENUM64_VAL_HI_OFF >> 2,
  PARAM_WORDS = PARAM_SIZE >> 2,
  PARAM_NAME_WORD = PARAM_NAME_OFF >> 2,
  PARAM_TYPE_WORD = PARAM_TYPE_OFF >> 2,
  SECINFO_WORDS = SECINFO_SIZE >> 2,
  SECINFO_TYPE_WORD = SECINFO_TYPE_OFF >> 2,
  /** From the first word after the header, as ARRAY's. */
  DECL_TAG_COMPONENT_IDX_WORD = (DECL_TAG_COMPONENT_IDX_OFF - TYPE_HEADER_SIZE) >> 2,
}

/** Size of the fixed `struct btf_type` that starts every type record, as a value for code outside the library's hot loops. */
export const TYPE_HEADER_SIZE: number = Rec.TYPE_HEADER_SIZE;

// ------------------------------------------------------------------ decoding and encoding

/** An `info` word from its three fields. */
export function encodeInfo(kind: number, vlen: number, kindFlag: boolean): number {
  return ((kindFlag ? 1 << Rec.INFO_KIND_FLAG_SHIFT : 0) | (kind << Rec.INFO_KIND_SHIFT) | vlen) >>> 0;
}

/** The kind in an `info` word (a wire number: kinds above 19 come out as they are). */
export function infoKind(info: number): number {
  return (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
}

/** The element count (vlen) in an `info` word; FUNC keeps its linkage here. */
export function infoVlen(info: number): number {
  return info & Rec.INFO_VLEN_MASK;
}

/** The kind_flag bit of an `info` word. */
export function infoKindFlag(info: number): boolean {
  return info >>> Rec.INFO_KIND_FLAG_SHIFT === 1;
}

/** An INT encoding word from its three fields. */
export function encodeIntData(encoding: number, bitOffset: number, bits: number): number {
  return ((encoding << Rec.INT_ENCODING_SHIFT) | (bitOffset << Rec.INT_OFFSET_SHIFT) | bits) >>> 0;
}
/** INT's `BTF_INT_ENCODING`: the BTF_INT_SIGNED / CHAR / BOOL bits. */
export function intEncoding(data: number): number {
  return (data >>> Rec.INT_ENCODING_SHIFT) & Rec.INT_ENCODING_MASK;
}
/** INT's `BTF_INT_OFFSET`: bits to skip before the value. */
export function intBitOffset(data: number): number {
  return (data >>> Rec.INT_OFFSET_SHIFT) & Rec.INT_OFFSET_MASK;
}
/** INT's `BTF_INT_BITS`: width of the value in bits. */
export function intBits(data: number): number {
  return data & Rec.INT_BITS_MASK;
}

/** Where member `i` starts, from the record's first byte. */
export function memberAt(i: number): number {
  return Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE;
}
/** Where ENUM value `i` starts, from the record's first byte. */
export function enumAt(i: number): number {
  return Rec.TYPE_HEADER_SIZE + i * Rec.ENUM_SIZE;
}
/** Where ENUM64 value `i` starts, from the record's first byte. */
export function enum64At(i: number): number {
  return Rec.TYPE_HEADER_SIZE + i * Rec.ENUM64_SIZE;
}
/** Where parameter `i` starts, from the record's first byte. */
export function paramAt(i: number): number {
  return Rec.TYPE_HEADER_SIZE + i * Rec.PARAM_SIZE;
}
/** Where DATASEC entry `i` starts, from the record's first byte. */
export function secinfoAt(i: number): number {
  return Rec.TYPE_HEADER_SIZE + i * Rec.SECINFO_SIZE;
}

/** A member's offset word: with kind_flag, the bitfield size in the top 8 bits; without, the bit offset alone. */
export function encodeMemberOffset(bitOffset: number, bitfieldSize: number, kindFlag: boolean): number {
  return kindFlag ? ((bitfieldSize << Rec.MEMBER_BITFIELD_SIZE_SHIFT) | bitOffset) >>> 0 : bitOffset;
}

/** A member's bit offset, from its offset word and its record's kind_flag. */
export function memberBitOffsetOf(offsetWord: number, kindFlag: boolean): number {
  return kindFlag ? offsetWord & Rec.MEMBER_BIT_OFFSET_MASK : offsetWord;
}

/** A member's bitfield size (0: not a bitfield, or one described through its INT), from its offset word and its record's kind_flag. */
export function memberBitfieldSizeOf(offsetWord: number, kindFlag: boolean): number {
  return kindFlag ? offsetWord >>> Rec.MEMBER_BITFIELD_SIZE_SHIFT : 0;
}

// ------------------------------------------------------------------ the per-kind descriptor table

/**
 * Where a type id sits in a record, and so what the referenced type must be able to be.
 * Used by the mismatch checker (to know what a reference needs) and by every renumbering.
 */
export type TypeUse =
  | 'member' | 'pointee' | 'typedef' | 'modifier' | 'type-tag' | 'array-element' | 'array-index'
  | 'func-proto' | 'return' | 'param' | 'var' | 'datasec-entry' | 'decl-tag';

/** Where a name offset sits in a record: the type's own name, or an element's. */
export type NameUse = 'type' | 'member' | 'enumerator' | 'param';

/** One u32 field of a record that holds a type id or a string offset. */
export type FieldSlot =
  | { readonly at: number; readonly holds: 'type'; readonly use: TypeUse }
  | { readonly at: number; readonly holds: 'name'; readonly use: NameUse };

/** What the record of one kind holds, beyond plain numbers. */
export interface RecordShape {
  /** Bytes of the kind-specific struct between the header and the elements. */
  readonly infoSize: number;
  /** Bytes of each of the `vlen` elements (0: the kind has none; FUNC's vlen is its linkage). */
  readonly elemSize: number;
  /** Type ids and names in the header and the struct after it, at offsets from the record's start, in offset order. */
  readonly fixed: readonly FieldSlot[];
  /** Type ids and names in each element, at offsets from the element's start, in offset order. */
  readonly element: readonly FieldSlot[];
}

const typeSlot = (at: number, use: TypeUse): FieldSlot => ({ at, holds: 'type', use });
const nameSlot = (at: number, use: NameUse): FieldSlot => ({ at, holds: 'name', use });
const ownName = nameSlot(Rec.NAME_OFF, 'type');

function shape(infoSize: number, elemSize: number, fixed: FieldSlot[], element: FieldSlot[] = []): RecordShape {
  return { infoSize, elemSize, fixed: [ownName, ...fixed], element };
}

/**
 * Each known kind's record, indexed by kind (1..19): the one table from which field iteration
 * (`visitRecord`, `wordRole` in src/btf/slots.ts) and the layout section's sizes
 * ({@link KNOWN_LAYOUTS}) are derived. Index 0 (void, never a record) is undefined.
 */
export const RECORD_SHAPES: readonly (RecordShape | undefined)[] = [
  /* UNKNOWN    */ undefined,
  /* INT        */ shape(4, 0, []),
  /* PTR        */ shape(0, 0, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'pointee')]),
  /* ARRAY      */ shape(Rec.ARRAY_INFO_SIZE, 0, [typeSlot(Rec.ARRAY_TYPE_OFF, 'array-element'), typeSlot(Rec.ARRAY_INDEX_TYPE_OFF, 'array-index')]),
  /* STRUCT     */ shape(0, Rec.MEMBER_SIZE, [], [nameSlot(Rec.MEMBER_NAME_OFF, 'member'), typeSlot(Rec.MEMBER_TYPE_OFF, 'member')]),
  /* UNION      */ shape(0, Rec.MEMBER_SIZE, [], [nameSlot(Rec.MEMBER_NAME_OFF, 'member'), typeSlot(Rec.MEMBER_TYPE_OFF, 'member')]),
  /* ENUM       */ shape(0, Rec.ENUM_SIZE, [], [nameSlot(Rec.ENUM_NAME_OFF, 'enumerator')]),
  /* FWD        */ shape(0, 0, []),
  /* TYPEDEF    */ shape(0, 0, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'typedef')]),
  /* VOLATILE   */ shape(0, 0, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'modifier')]),
  /* CONST      */ shape(0, 0, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'modifier')]),
  /* RESTRICT   */ shape(0, 0, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'modifier')]),
  /* FUNC       */ shape(0, 0, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'func-proto')]),
  /* FUNC_PROTO */ shape(0, Rec.PARAM_SIZE, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'return')], [nameSlot(Rec.PARAM_NAME_OFF, 'param'), typeSlot(Rec.PARAM_TYPE_OFF, 'param')]),
  /* VAR        */ shape(4, 0, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'var')]),
  /* DATASEC    */ shape(0, Rec.SECINFO_SIZE, [], [typeSlot(Rec.SECINFO_TYPE_OFF, 'datasec-entry')]),
  /* FLOAT      */ shape(0, 0, []),
  /* DECL_TAG   */ shape(4, 0, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'decl-tag')]),
  /* TYPE_TAG   */ shape(0, 0, [typeSlot(Rec.SIZE_OR_TYPE_OFF, 'type-tag')]),
  /* ENUM64     */ shape(0, Rec.ENUM64_SIZE, [], [nameSlot(Rec.ENUM64_NAME_OFF, 'enumerator')]),
];

/** The shape of a kind's record; undefined for kind 0 and kinds above 19, whose payload btfkit cannot interpret. */
export function recordShape(kind: number): RecordShape | undefined {
  return RECORD_SHAPES[kind];
}

/**
 * Bytes that follow `struct btf_type` for each known kind: one singular element of `infoSize`
 * bytes, then `vlen` elements of `elemSize` bytes. This is also the layout section libbpf 1.8
 * writes, entry for entry.
 */
export interface KindLayout {
  infoSize: number;
  elemSize: number;
  flags: number;
}

/** {@link KindLayout} of kinds 0..19, from {@link RECORD_SHAPES}: the layout section libbpf 1.8 writes. */
export const KNOWN_LAYOUTS: readonly KindLayout[] = RECORD_SHAPES.map((s) => ({ infoSize: s?.infoSize ?? 0, elemSize: s?.elemSize ?? 0, flags: 0 }));

// ------------------------------------------------------------------ readers

/**
 * What the readers read through: the u32/i32 words of the blob holding the record, in its byte
 * order (a `Btf` is one; pass the blob that owns the type, `btf.owner(id)`).
 */
export interface WordReader {
  u32(offset: number): number;
  i32(offset: number): number;
}

/** The readers below take the reader and `rec`, the record's absolute offset in the reader's bytes. */
export const readNameOff = (r: WordReader, rec: number): number => r.u32(rec + Rec.NAME_OFF);
export const readInfo = (r: WordReader, rec: number): number => r.u32(rec + Rec.INFO_OFF);
export const readSizeOrType = (r: WordReader, rec: number): number => r.u32(rec + Rec.SIZE_OR_TYPE_OFF);
export const readKind = (r: WordReader, rec: number): number => infoKind(r.u32(rec + Rec.INFO_OFF));
export const readVlen = (r: WordReader, rec: number): number => infoVlen(r.u32(rec + Rec.INFO_OFF));
export const readKindFlag = (r: WordReader, rec: number): boolean => infoKindFlag(r.u32(rec + Rec.INFO_OFF));

export const intData = (r: WordReader, rec: number): number => r.u32(rec + Rec.INT_DATA_OFF);

export const arrayElemType = (r: WordReader, rec: number): number => r.u32(rec + Rec.ARRAY_TYPE_OFF);
export const arrayIndexType = (r: WordReader, rec: number): number => r.u32(rec + Rec.ARRAY_INDEX_TYPE_OFF);
export const arrayNelems = (r: WordReader, rec: number): number => r.u32(rec + Rec.ARRAY_NELEMS_OFF);

export const varLinkage = (r: WordReader, rec: number): number => r.u32(rec + Rec.VAR_LINKAGE_OFF);
export const declTagComponentIdx = (r: WordReader, rec: number): number => r.i32(rec + Rec.DECL_TAG_COMPONENT_IDX_OFF);

export const memberNameOff = (r: WordReader, rec: number, i: number): number => r.u32(rec + memberAt(i) + Rec.MEMBER_NAME_OFF);
export const memberType = (r: WordReader, rec: number, i: number): number => r.u32(rec + memberAt(i) + Rec.MEMBER_TYPE_OFF);
/** Member `i`'s raw offset word; decode it with {@link memberBitOffsetOf} and {@link memberBitfieldSizeOf}. */
export const memberOffsetWord = (r: WordReader, rec: number, i: number): number => r.u32(rec + memberAt(i) + Rec.MEMBER_OFFSET_OFF);
/** Member `i`'s bit offset, decoded by its record's kind_flag. */
export const memberBitOffset = (r: WordReader, rec: number, i: number): number => memberBitOffsetOf(memberOffsetWord(r, rec, i), readKindFlag(r, rec));
/** Member `i`'s bitfield size (0 when it is not a kind_flag bitfield), decoded by its record's kind_flag. */
export const memberBitfieldSize = (r: WordReader, rec: number, i: number): number => memberBitfieldSizeOf(memberOffsetWord(r, rec, i), readKindFlag(r, rec));

export const enumNameOff = (r: WordReader, rec: number, i: number): number => r.u32(rec + enumAt(i) + Rec.ENUM_NAME_OFF);
/** ENUM value `i`: signed when the record's kind_flag is set, else unsigned. */
export const enumValue = (r: WordReader, rec: number, i: number): number =>
  readKindFlag(r, rec) ? r.i32(rec + enumAt(i) + Rec.ENUM_VAL_OFF) : r.u32(rec + enumAt(i) + Rec.ENUM_VAL_OFF);
export const enum64NameOff = (r: WordReader, rec: number, i: number): number => r.u32(rec + enum64At(i) + Rec.ENUM64_NAME_OFF);
export const enum64ValueLo = (r: WordReader, rec: number, i: number): number => r.u32(rec + enum64At(i) + Rec.ENUM64_VAL_LO_OFF);
export const enum64ValueHi = (r: WordReader, rec: number, i: number): number => r.u32(rec + enum64At(i) + Rec.ENUM64_VAL_HI_OFF);
/** ENUM64 value `i`, exact: signed when the record's kind_flag is set, else unsigned. */
export function enum64Value(r: WordReader, rec: number, i: number): bigint {
  const u = (BigInt(enum64ValueHi(r, rec, i)) << 32n) | BigInt(enum64ValueLo(r, rec, i));
  return readKindFlag(r, rec) ? BigInt.asIntN(64, u) : u;
}

export const paramNameOff = (r: WordReader, rec: number, i: number): number => r.u32(rec + paramAt(i) + Rec.PARAM_NAME_OFF);
export const paramType = (r: WordReader, rec: number, i: number): number => r.u32(rec + paramAt(i) + Rec.PARAM_TYPE_OFF);

export const secinfoType = (r: WordReader, rec: number, i: number): number => r.u32(rec + secinfoAt(i) + Rec.SECINFO_TYPE_OFF);
export const secinfoOffset = (r: WordReader, rec: number, i: number): number => r.u32(rec + secinfoAt(i) + Rec.SECINFO_OFFSET_OFF);
export const secinfoSize = (r: WordReader, rec: number, i: number): number => r.u32(rec + secinfoAt(i) + Rec.SECINFO_SIZE_OFF);

/**
 * The name offset of element `i` of any kind whose elements are named (members, enumerators,
 * parameters), by the descriptor table; undefined for kinds whose elements have no name.
 */
export function elementNameOff(r: WordReader, rec: number, i: number): number | undefined {
  const s = RECORD_SHAPES[readKind(r, rec)];
  const slot = s?.element.find((f) => f.holds === 'name');
  if (!s || !slot) return undefined;
  return r.u32(rec + Rec.TYPE_HEADER_SIZE + s.infoSize + i * s.elemSize + slot.at);
}
