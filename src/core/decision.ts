import type { CoreRelocator } from './engine.js';
import type { patchCoreInstruction } from './patch.js';
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
  /**
   * libbpf's spec text (`bpf_core_format_spec`, without the `<kind> ` its log puts first), e.g.
   * `[5] struct task_struct.pid (0:1 @ offset 4)`; empty when the local spec could not be read.
   */
  spec: string;
}

/**
 * One step of a target access as the target BTF has it: the type the step is taken in (after
 * typedefs and qualifiers: a struct or union for a member, an array for an element, the root
 * type for the first step; an enum for an enumerator) and the index taken there (member,
 * element or enumerator index).
 */
export interface CoreRawStep {
  typeId: number;
  index: number;
}

/** The target side of a decision: where the matching candidate lives, its name and the access there. */
export interface CoreTargetSpec extends CoreSpecSummary {
  /** The candidate's own name (a flavor of the local name's essential part). */
  name: string;
  /** The access in the target, every step (anonymous members included), e.g. `0:3:1`. */
  access: string;
  /**
   * The access's steps with the target type each is taken in, one per number of `access`
   * (none for type-based kinds): what a consumer needs to know which members of which target
   * types the relocation depends on (minimized BTF keeps exactly those).
   */
  steps: CoreRawStep[];
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
  target: CoreTargetSpec | null;
  /**
   * Every candidate whose spec matched, in candidate order (the first is {@link target}), also
   * when they disagreed (an `ambiguous` error): each one takes part in the decision, since
   * libbpf checks that all matches agree and keeps them all for the next relocation.
   * {@link CoreRelocator} always sets it (empty when nothing matched); optional so that
   * decisions written by hand for {@link patchCoreInstruction} need not.
   */
  matches?: CoreTargetSpec[];
  /**
   * Candidates by essential name (`considered`; after earlier relocations of the same local
   * type narrowed the list, as libbpf does) and those whose spec matched (`matched`).
   */
  candidates: { considered: number; matched: number };
  /** Value the compiler put in the instruction (computed from the local spec). */
  origValue: bigint;
  /** Value for the target; meaningless when `poison`. */
  newValue: bigint;
  /**
   * Field kinds: the memory access size locally and on the target (0 for bitfields and where
   * no size is kept); the patch step resizes loads and stores when they differ.
   */
  origSize?: number;
  newSize?: number;
  /** True when the access size cannot be adjusted (the patch step poisons a memory instruction). */
  failMemSizeAdjust?: boolean;
  /** Check that the instruction holds `origValue` before patching (libbpf's `validate`). */
  validate: boolean;
  /** No target: the instruction is replaced by libbpf's poison call (not an error by itself). */
  poison: boolean;
  /**
   * Set when the relocation cannot be processed at all (malformed record or access string,
   * ambiguity, a bitfield no load can read...): libbpf fails the whole load on these.
   */
  error?: string;
  /** Why it was poisoned or failed, in words a person can act on. */
  reason?: string;
}
