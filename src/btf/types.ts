import { IntEncoding, Kind, kindName } from '../format/kinds.js';
import {
  Rec, arrayElemType, arrayIndexType, arrayNelems, declTagComponentIdx, enum64NameOff, enum64Value, enumNameOff,
  enumValue, infoKind, infoKindFlag, infoVlen, intBitOffset, intBits, intData, intEncoding, memberBitOffsetOf,
  memberBitfieldSizeOf, memberNameOff, memberOffsetWord, memberType, paramNameOff, paramType, readInfo, readNameOff,
  readSizeOrType, secinfoOffset, secinfoSize, secinfoType, varLinkage,
} from '../format/records.js';
import type { Btf } from './btf.js';
import { recordEnd } from './slots.js';

/** Fields every typed view has. */
export interface TypeCommon {
  id: number;
  /** Kind name as bpftool prints it: "STRUCT", "FUNC_PROTO", "UNKNOWN". */
  kindName: string;
  /** Empty for anonymous types. */
  name: string;
  nameOffset: number;
  kindFlag: boolean;
}

/**
 * The void type, id 0: `kind` is {@link Kind.Void}. Its `kindName` is "UNKNOWN", the name
 * bpftool gives kind 0.
 */
export interface VoidType extends TypeCommon { kind: Kind.Void; id: 0; rawKind: 0 }
export interface IntType extends TypeCommon {
  kind: Kind.Int; size: number; bitOffset: number; bits: number;
  /** BTF_INT_* bits: 1 signed, 2 char, 4 bool. */
  encoding: number; signed: boolean;
}
/** PTR, TYPEDEF, VOLATILE, CONST, RESTRICT: a reference to one other type. */
export interface RefType extends TypeCommon {
  kind: Kind.Ptr | Kind.Typedef | Kind.Volatile | Kind.Const | Kind.Restrict; type: number;
}
export interface TypeTagType extends TypeCommon {
  kind: Kind.TypeTag; type: number;
  /** kind_flag set: the tag is a `__attribute__((...))` rather than a btf_type_tag. */
  attribute: boolean;
}
export interface ArrayType extends TypeCommon { kind: Kind.Array; type: number; indexType: number; length: number }
export interface Member {
  name: string; nameOffset: number; type: number;
  bitOffset: number;
  /** 0 for members that are not bitfields. */
  bitfieldSize: number;
}
export interface CompositeType extends TypeCommon { kind: Kind.Struct | Kind.Union; size: number; members: Member[] }
export interface EnumValue {
  name: string; nameOffset: number;
  /** The value as a number; exact for 32-bit enums and for 64-bit values within 2^53. */
  value: number;
  /** The exact value, signed when the enum is signed. */
  bigValue: bigint;
}
export interface EnumType extends TypeCommon { kind: Kind.Enum | Kind.Enum64; size: number; signed: boolean; values: EnumValue[] }
export interface FwdType extends TypeCommon { kind: Kind.Fwd; fwdKind: 'struct' | 'union' }
export interface FuncType extends TypeCommon {
  kind: Kind.Func; type: number;
  /** 0 static, 1 global, 2 extern. */
  linkage: number;
}
export interface Param { name: string; nameOffset: number; type: number }
export interface FuncProtoType extends TypeCommon {
  kind: Kind.FuncProto; returnType: number; params: Param[];
  /** True when the last parameter is the `...` marker (no name, type 0). */
  variadic: boolean;
}
export interface VarType extends TypeCommon {
  kind: Kind.Var; type: number;
  /** 0 static, 1 global allocated, 2 extern. */
  linkage: number;
}
export interface VarSecinfo { type: number; offset: number; size: number }
export interface DatasecType extends TypeCommon { kind: Kind.Datasec; size: number; vars: VarSecinfo[] }
export interface FloatType extends TypeCommon { kind: Kind.Float; size: number }
export interface DeclTagType extends TypeCommon {
  kind: Kind.DeclTag; type: number;
  /** -1 for the type itself, else the member or parameter index. */
  componentIndex: number;
  attribute: boolean;
}
/**
 * A record of a kind btfkit does not know, sized through the layout section (a kind above 19,
 * or kind 0, which only void may have); its bytes are kept as they are. Its `kind` is
 * {@link Kind.Unknown}, `rawKind` the number on the wire and `kindName` "UNKNOWN", as bpftool
 * prints it.
 */
export interface UnknownKindType extends TypeCommon { kind: Kind.Unknown; rawKind: number; vlen: number; sizeOrType: number; extra: Uint8Array }

export type BtfType =
  | VoidType | IntType | RefType | TypeTagType | ArrayType | CompositeType | EnumType | FwdType
  | FuncType | FuncProtoType | VarType | DatasecType | FloatType | DeclTagType | UnknownKindType;

/** @internal Builds the typed view of `id` from the raw record. */
export function readType(btf: Btf, id: number): BtfType {
  if (id === 0) return { id: 0, kind: Kind.Void, rawKind: 0, kindName: 'UNKNOWN', name: '', nameOffset: 0, kindFlag: false } satisfies VoidType;
  const o = btf.owner(id)!;
  const rec = o.recordOffset(id);
  const nameOffset = readNameOff(o, rec);
  const info = readInfo(o, rec);
  const word = readSizeOrType(o, rec);
  const kind = infoKind(info);
  const vlen = infoVlen(info);
  const kindFlag = infoKindFlag(info);
  const name = btf.str(nameOffset) ?? '';
  const common = { id, kindName: kindName(kind), name, nameOffset, kindFlag };
  const strOf = (off: number) => btf.str(off) ?? '';
  switch (kind) {
    case Kind.Int: {
      const v = intData(o, rec);
      const encoding = intEncoding(v);
      return { ...common, kind, size: word, encoding, signed: (encoding & IntEncoding.Signed) !== 0, bitOffset: intBitOffset(v), bits: intBits(v) };
    }
    case Kind.Ptr: case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
      return { ...common, kind, type: word };
    case Kind.TypeTag:
      return { ...common, kind, type: word, attribute: kindFlag };
    case Kind.Array:
      return { ...common, kind, type: arrayElemType(o, rec), indexType: arrayIndexType(o, rec), length: arrayNelems(o, rec) };
    case Kind.Struct: case Kind.Union: {
      const members: Member[] = [];
      for (let i = 0; i < vlen; i++) {
        const off = memberNameOff(o, rec, i);
        const raw = memberOffsetWord(o, rec, i);
        members.push({
          name: strOf(off), nameOffset: off, type: memberType(o, rec, i),
          bitOffset: memberBitOffsetOf(raw, kindFlag), bitfieldSize: memberBitfieldSizeOf(raw, kindFlag),
        });
      }
      return { ...common, kind, size: word, members };
    }
    case Kind.Enum: {
      const values: EnumValue[] = [];
      for (let i = 0; i < vlen; i++) {
        const off = enumNameOff(o, rec, i);
        const value = enumValue(o, rec, i);
        values.push({ name: strOf(off), nameOffset: off, value, bigValue: BigInt(value) });
      }
      return { ...common, kind, size: word, signed: kindFlag, values };
    }
    case Kind.Enum64: {
      const values: EnumValue[] = [];
      for (let i = 0; i < vlen; i++) {
        const off = enum64NameOff(o, rec, i);
        const bigValue = enum64Value(o, rec, i);
        values.push({ name: strOf(off), nameOffset: off, value: Number(bigValue), bigValue });
      }
      return { ...common, kind, size: word, signed: kindFlag, values };
    }
    case Kind.Fwd:
      return { ...common, kind, fwdKind: kindFlag ? 'union' : 'struct' };
    case Kind.Func:
      return { ...common, kind, type: word, linkage: vlen };
    case Kind.FuncProto: {
      const params: Param[] = [];
      for (let i = 0; i < vlen; i++) {
        const off = paramNameOff(o, rec, i);
        params.push({ name: strOf(off), nameOffset: off, type: paramType(o, rec, i) });
      }
      const last = params[params.length - 1];
      return { ...common, kind, returnType: word, params, variadic: last !== undefined && last.type === 0 && last.nameOffset === 0 };
    }
    case Kind.Var:
      return { ...common, kind, type: word, linkage: varLinkage(o, rec) };
    case Kind.Datasec: {
      const vars: VarSecinfo[] = [];
      for (let i = 0; i < vlen; i++) vars.push({ type: secinfoType(o, rec, i), offset: secinfoOffset(o, rec, i), size: secinfoSize(o, rec, i) });
      return { ...common, kind, size: word, vars };
    }
    case Kind.Float:
      return { ...common, kind, size: word };
    case Kind.DeclTag:
      return { ...common, kind, type: word, componentIndex: declTagComponentIdx(o, rec), attribute: kindFlag };
    default:
      return { ...common, kind: Kind.Unknown, rawKind: kind, vlen, sizeOrType: word, extra: o.bytes.slice(rec + Rec.TYPE_HEADER_SIZE, recordEnd(o, id)) };
  }
}
