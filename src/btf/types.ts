import { Kind, kindName } from '../format/kinds.js';
import type { Btf } from './btf.js';

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
  const nameOffset = o.u32(rec);
  const info = o.u32(rec + 4);
  const word = o.u32(rec + 8);
  const kind = (info >>> 24) & 0x7f;
  const vlen = info & 0xffffff;
  const kindFlag = info >>> 31 === 1;
  const name = btf.str(nameOffset) ?? '';
  const common = { id, kindName: kindName(kind), name, nameOffset, kindFlag };
  const p = rec + 12;
  const strOf = (off: number) => btf.str(off) ?? '';
  switch (kind) {
    case Kind.Int: {
      const v = o.u32(p);
      const encoding = (v >>> 24) & 0x0f;
      return { ...common, kind, size: word, encoding, signed: (encoding & 1) !== 0, bitOffset: (v >>> 16) & 0xff, bits: v & 0xff };
    }
    case Kind.Ptr: case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
      return { ...common, kind, type: word };
    case Kind.TypeTag:
      return { ...common, kind, type: word, attribute: kindFlag };
    case Kind.Array:
      return { ...common, kind, type: o.u32(p), indexType: o.u32(p + 4), length: o.u32(p + 8) };
    case Kind.Struct: case Kind.Union: {
      const members: Member[] = [];
      for (let i = 0; i < vlen; i++) {
        const m = p + i * 12;
        const off = o.u32(m);
        const raw = o.u32(m + 8);
        members.push({
          name: strOf(off), nameOffset: off, type: o.u32(m + 4),
          bitOffset: kindFlag ? raw & 0xffffff : raw, bitfieldSize: kindFlag ? raw >>> 24 : 0,
        });
      }
      return { ...common, kind, size: word, members };
    }
    case Kind.Enum: {
      const values: EnumValue[] = [];
      for (let i = 0; i < vlen; i++) {
        const m = p + i * 8;
        const off = o.u32(m);
        const value = kindFlag ? o.i32(m + 4) : o.u32(m + 4);
        values.push({ name: strOf(off), nameOffset: off, value, bigValue: BigInt(value) });
      }
      return { ...common, kind, size: word, signed: kindFlag, values };
    }
    case Kind.Enum64: {
      const values: EnumValue[] = [];
      for (let i = 0; i < vlen; i++) {
        const m = p + i * 12;
        const off = o.u32(m);
        const u = (BigInt(o.u32(m + 8)) << 32n) | BigInt(o.u32(m + 4));
        const bigValue = kindFlag ? BigInt.asIntN(64, u) : u;
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
        const m = p + i * 8;
        const off = o.u32(m);
        params.push({ name: strOf(off), nameOffset: off, type: o.u32(m + 4) });
      }
      const last = params[params.length - 1];
      return { ...common, kind, returnType: word, params, variadic: last !== undefined && last.type === 0 && last.nameOffset === 0 };
    }
    case Kind.Var:
      return { ...common, kind, type: word, linkage: o.u32(p) };
    case Kind.Datasec: {
      const vars: VarSecinfo[] = [];
      for (let i = 0; i < vlen; i++) {
        const m = p + i * 12;
        vars.push({ type: o.u32(m), offset: o.u32(m + 4), size: o.u32(m + 8) });
      }
      return { ...common, kind, size: word, vars };
    }
    case Kind.Float:
      return { ...common, kind, size: word };
    case Kind.DeclTag:
      return { ...common, kind, type: word, componentIndex: o.i32(p), attribute: kindFlag };
    default: {
      const next = id + 1 < o.endId ? o.recordOffset(id + 1) : o.typeStart + o.header.typeLen;
      return { ...common, kind: Kind.Unknown, rawKind: kind, vlen, sizeOrType: word, extra: o.bytes.slice(p, next) };
    }
  }
}
