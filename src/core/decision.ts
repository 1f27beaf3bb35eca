import type { CoreKind } from './kinds.js';

/**
 * One CO-RE relocation record as `.BTF.ext` stores it, with its access string already read
 * from the `.BTF` string table. `insnOffset` is the byte offset of the instruction within its
 * ELF section, as in `.BTF.ext`.
 */
export interface CoreRelocationRecord {
  insnOffset: number;
  /** Local type id (in the object's `.BTF`) the access starts from. */
  typeId: number;
  /** Offset of the access string in the `.BTF` string table. */
  accessStringOffset: number;
  /** The access string itself, e.g. `0:1:2`. */
  access: string;
  /** `enum bpf_core_relo_kind`; may be a number this version does not know. */
  kind: number;
}

/** Where a spec's type lives: the object's own BTF, vmlinux, or a module by name. */
export type CoreBtfOrigin = 'local' | 'vmlinux' | string;

/** A resolved access: the type, the libbpf-format text, the byte or bit position it reached. */
export interface CoreSpecSummary {
  btf: CoreBtfOrigin;
  typeId: number;
  /** libbpf's spec text, e.g. `[5] STRUCT task_struct.pid (0:57 @ offset 2336)`. */
  spec: string;
}

/**
 * What the engine decided for one relocation, as a value; patching instructions is a separate
 * step that consumes it. Field names follow libbpf's `struct bpf_core_relo_res`.
 */
export interface CoreDecision {
  record: CoreRelocationRecord;
  kind: CoreKind | number;
  local: CoreSpecSummary & { name: string; access: string };
  /** The target spec the value came from; null when no candidate matched (or kind is local). */
  target: CoreSpecSummary | null;
  candidates: { considered: number; matched: number };
  /** Value the compiler put in the instruction (computed from the local spec). */
  origValue: bigint;
  /** Value for the target; meaningless when `poison`. */
  newValue: bigint;
  /** For byte_off on memory loads/stores: the access size locally and on the target. */
  origSize?: number;
  newSize?: number;
  /** True when the access size cannot be adjusted (the patch step poisons a memory instruction). */
  failMemSizeAdjust?: boolean;
  /** Check that the instruction holds `origValue` before patching (libbpf's `validate`). */
  validate: boolean;
  /** No target: the instruction is replaced by libbpf's poison call (not an error by itself). */
  poison: boolean;
  /** Set when the relocation cannot be processed at all (malformed record, ambiguity...). */
  error?: string;
  /** Why it was poisoned or failed, in words a person can act on. */
  reason?: string;
}
