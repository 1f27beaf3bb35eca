/**
 * BTF kinds as numbered in `include/uapi/linux/btf.h`, plus {@link Kind.Unknown}.
 *
 * {@link Kind.Void} (0) is the kind of the void type, id 0. {@link Kind.Unknown} (-1, a number
 * no record can carry) is what typed views report for records whose kind btfkit does not
 * interpret: kinds above {@link Kind.Enum64} sized through the layout section, and kind 0 in a
 * record (which the kernel reserves for void); their wire number is in the view's `rawKind`.
 * `Btf.kind(id)` returns the wire number as it is.
 */
export enum Kind {
  /** A record whose kind btfkit does not know (see `rawKind` on its view). */
  Unknown = -1,
  /** The void type, id 0 (`BTF_KIND_UNKN` on the wire). */
  Void = 0,
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
}

/**
 * The same kinds as a const enum, which the compiler writes out as plain numbers. Hot loops
 * (the type index, dumps, checks) switch on kinds for every record; with the public
 * {@link Kind} each `case Kind.Int:` is a property load, which costs most while the code still
 * runs cold, as it mostly does in a one-shot CLI. Internal: not exported from the package,
 * whose users get {@link Kind}, a real object.
 */
export const enum WireKind {
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
}

/** Highest kind btfkit understands natively; anything above is sized through the layout section. */
export const MAX_KNOWN_KIND = 19;

/** Upper-case kind names exactly as bpftool prints them. */
export const KIND_NAMES: readonly string[] = [
  'UNKNOWN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE',
  'CONST', 'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG',
  'ENUM64',
];

/**
 * bpftool's name for a kind, as its raw and JSON dumps print it: void (kind 0), unknown and
 * out-of-range kinds are all UNKNOWN there. Error messages use {@link describeKind}, which
 * tells those apart.
 */
export function kindName(kind: number): string {
  return kind >= 0 && kind <= MAX_KNOWN_KIND ? KIND_NAMES[kind]! : 'UNKNOWN';
}

/**
 * A kind as btfkit's error messages name it: bpftool's upper-case name for the kinds btfkit
 * knows ("STRUCT", "FUNC_PROTO"), and the number for the rest, which have no name:
 * "kind 0 (void)", "kind 25 (unknown)".
 *
 * @example
 * ```ts
 * describeKind(Kind.FuncProto); // 'FUNC_PROTO'
 * describeKind(25);             // 'kind 25 (unknown)'
 * ```
 */
export function describeKind(kind: number): string {
  if (kind > 0 && kind <= MAX_KNOWN_KIND) return KIND_NAMES[kind]!;
  if (kind === 0) return 'kind 0 (void)';
  return kind < 0 ? 'a kind btfkit does not know' : `kind ${kind} (unknown)`;
}

const KIND_BY_NAME = new Map(KIND_NAMES.map((n, i) => [n, i] as const));

/** Parses a kind name in any case ("struct", "FUNC_PROTO"); undefined if it is not a kind. */
export function kindFromName(name: string): Kind | undefined {
  return KIND_BY_NAME.get(name.toUpperCase()) as Kind | undefined;
}

// The record layout lives in records.ts; the per-kind sizes are here too because they describe kinds.
export { KNOWN_LAYOUTS, type KindLayout } from './records.js';

/** INT encoding bits (BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL). */
export const IntEncoding = { Signed: 1, Char: 2, Bool: 4 } as const;

/** FUNC linkage, stored in the vlen bits of a FUNC. */
export const FuncLinkage = { Static: 0, Global: 1, Extern: 2 } as const;

/** VAR linkage. */
export const VarLinkage = { Static: 0, GlobalAllocated: 1, GlobalExtern: 2 } as const;

/** Limits from `enum btf_max`. */
export const MAX_VLEN = 0xffffff;
export const MAX_NAME_OFFSET = 0xffffff;
export const MAX_TYPE_ID = 0xfffff;
