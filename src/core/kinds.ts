/**
 * The 13 CO-RE relocation kinds, numbered as `enum bpf_core_relo_kind` in the kernel's UAPI
 * `linux/bpf.h` (the number stored in each `.BTF.ext` CO-RE record), named as libbpf names
 * them in its debug log (`core_relo_kind_str`).
 */
export const CoreKind = {
  FieldByteOffset: 0,
  FieldByteSize: 1,
  FieldExists: 2,
  FieldSigned: 3,
  FieldLShiftU64: 4,
  FieldRShiftU64: 5,
  TypeIdLocal: 6,
  TypeIdTarget: 7,
  TypeExists: 8,
  TypeSize: 9,
  EnumValueExists: 10,
  EnumValue: 11,
  TypeMatches: 12,
} as const;
export type CoreKind = (typeof CoreKind)[keyof typeof CoreKind];

/** libbpf's names, indexed by kind number; also the `kind` strings of `btfkit core --json`. */
export const CORE_KIND_NAMES: readonly string[] = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64',
  'local_type_id', 'target_type_id', 'type_exists', 'type_size',
  'enumval_exists', 'enumval_value', 'type_matches',
];

/** Which family a kind belongs to: it decides how the access string is read. */
export function coreKindFamily(kind: number): 'field' | 'type' | 'enumval' | undefined {
  if (kind >= CoreKind.FieldByteOffset && kind <= CoreKind.FieldRShiftU64) return 'field';
  if (kind >= CoreKind.TypeIdLocal && kind <= CoreKind.TypeSize) return 'type';
  if (kind === CoreKind.TypeMatches) return 'type';
  if (kind === CoreKind.EnumValueExists || kind === CoreKind.EnumValue) return 'enumval';
  return undefined;
}

/** A kind's name, or `unknown(N)` for a number the UAPI does not define. */
export function coreKindName(kind: number): string {
  return CORE_KIND_NAMES[kind] ?? `unknown(${kind})`;
}
