import { BtfError } from '../errors.js';
import { WireKind as Kind, describeKind } from '../format/kinds.js';
import { Rec, infoKind, infoKindFlag, infoVlen, memberBitOffsetOf, memberBitfieldSizeOf } from '../format/records.js';
import type { Btf } from './btf.js';

/**
 * Questions about types with libbpf's answers (`btf.c`, `libbpf.c`, `relo_core.c`): what a
 * type is under its typedefs and qualifiers, its size, its alignment, the target's pointer
 * size, and a name without its CO-RE flavor. `Btf.resolve`, `sizeof`, `alignof` and
 * `pointerSize` delegate here; the C dump and the split scanner use the same answers.
 *
 * The kernel's verifier sizes and resolves differently (VARs resolve, arrays size through
 * their resolved element, pointers are the running kernel's `sizeof(void *)`): `checkBtf`
 * keeps those rules under names that say so (`kernelSizeOf` in src/btf/check.ts).
 */

/** Deepest chain of typedefs and modifiers followed before a loop is declared (as libbpf's MAX_RESOLVE_DEPTH). */
export const MAX_RESOLVE_DEPTH = 32;

const UINT32_MAX = 0xffffffff;

/** Pointer size when the BTF does not say (libbpf: `sizeof(void *)` of the host, 8 on every 64-bit one). */
const DEFAULT_POINTER_SIZE = 8;

/**
 * The spellings of `long` that tell the pointer size, libbpf's `long_aliases` (every order of
 * `long`, `int` and `unsigned` a producer may write), as bytes to compare in place.
 */
const LONG_ALIASES: readonly Uint8Array[] = [
  'long', 'long int', 'int long', 'unsigned long', 'long unsigned', 'unsigned long int',
  'unsigned int long', 'long unsigned int', 'long int unsigned', 'int unsigned long', 'int long unsigned',
].map((s) => new TextEncoder().encode(s));

const pointerSizes = new WeakMap<Btf, number>();
const alignments = new WeakMap<Btf, Map<number, number>>();

/** The kind of `id` (0 for void), read from its owner's record. */
function kindOf(btf: Btf, id: number): number {
  return id === 0 ? 0 : btf.kind(id);
}

function word(btf: Btf, id: number, off: number): number {
  const o = btf.owner(id)!;
  return o.u32(o.recordOffset(id) + off);
}

/**
 * The pointer size the BTF itself tells, as libbpf's `determine_ptr_size`: the size of the
 * first INT, in id order (the base's first, for split BTF), that is 4 or 8 bytes and spelled
 * as a `long`. Undefined when there is none (libbpf's `btf__pointer_size` then says 0).
 */
export function declaredPointerSize(btf: Btf): 4 | 8 | undefined {
  // The base is asked first, as libbpf does: it holds the lower ids, and caches its answer.
  const fromBase = btf.base ? declaredPointerSize(btf.base) : undefined;
  if (fromBase !== undefined) return fromBase;
  let cached = pointerSizes.get(btf);
  if (cached === undefined) {
    cached = 0;
    for (let id = btf.firstId; id < btf.endId && cached === 0; id++) {
      const rec = btf.recordOffset(id);
      if (infoKind(btf.u32(rec + Rec.INFO_OFF)) !== Kind.Int) continue;
      const size = btf.u32(rec + Rec.SIZE_OR_TYPE_OFF);
      if ((size === 4 || size === 8) && isLongAlias(btf, btf.u32(rec + Rec.NAME_OFF))) cached = size;
    }
    pointerSizes.set(btf, cached);
  }
  return cached === 0 ? undefined : (cached as 4 | 8);
}

function isLongAlias(btf: Btf, nameOff: number): boolean {
  const at = btf.locateString(nameOff);
  if (!at) return false;
  const b = at.btf.bytes;
  next: for (const alias of LONG_ALIASES) {
    if (b[at.pos + alias.length] !== 0) continue;
    for (let i = 0; i < alias.length; i++) if (b[at.pos + i] !== alias[i]) continue next;
    return true;
  }
  return false;
}

/**
 * Pointer size in bytes as libbpf sizes pointers (`btf_ptr_sz`): {@link declaredPointerSize},
 * or 8 when the BTF has no `long` to tell it.
 */
export function pointerSize(btf: Btf): number {
  return declaredPointerSize(btf) ?? DEFAULT_POINTER_SIZE;
}

/**
 * Follows typedefs, qualifiers (const, volatile, restrict) and type tags to the type under
 * them, as libbpf's `skip_mods_and_typedefs` (which `btf__resolve_type` also uses, besides
 * skipping VARs). Throws `type-loop` after {@link MAX_RESOLVE_DEPTH} steps, and `bad-type-id`
 * for a reference to a type that does not exist.
 */
export function skipModsAndTypedefs(btf: Btf, id: number): number {
  let cur = id;
  for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
    switch (kindOf(btf, cur)) {
      case Kind.Typedef: case Kind.Const: case Kind.Volatile: case Kind.Restrict: case Kind.TypeTag:
        cur = btf.sizeOrType(cur);
        if (!btf.has(cur) && cur !== 0) throw new BtfError('bad-type-id', `refers to missing type ${cur}`, { typeId: id });
        break;
      default:
        return cur;
    }
  }
  throw new BtfError('type-loop', `more than ${MAX_RESOLVE_DEPTH} typedefs and modifiers in a row (a reference loop?)`, { typeId: id });
}

/** Why {@link sizeOfOrFailure} found no size (all negative, so a size can never be mistaken for one). */
export const enum SizeFailure {
  /** Void, FWD, FUNC, FUNC_PROTO, or a kind btfkit does not know. */
  NoSize = -1,
  /** More than {@link MAX_RESOLVE_DEPTH} typedefs, modifiers, VARs and arrays in a row. */
  Loop = -2,
  /** A reference to a type that does not exist. */
  Missing = -3,
  /** 4 GiB or more (libbpf's E2BIG). */
  TooBig = -4,
}

/** Where the last {@link sizeOfOrFailure} stopped, for the error message of {@link sizeOf}. */
let failedAt = 0;

/**
 * Size in bytes of type `id` as libbpf's `btf__resolve_size`: sized kinds by their size,
 * pointers by {@link pointerSize}, arrays by their element count times the element's size,
 * typedefs, qualifiers, type tags, VARs and DECL_TAGs by what they refer to; at most
 * {@link MAX_RESOLVE_DEPTH} types followed. A negative {@link SizeFailure} when there is no
 * size: for callers that ask about many types and want no exception per answer.
 *
 * `pointerBytes` overrides the pointer size where something better than the BTF tells it,
 * as libbpf's `btf__set_pointer_size` (which libbpf calls with the ELF class of a file).
 */
export function sizeOfOrFailure(btf: Btf, id: number, pointerBytes?: number): number {
  let cur = id;
  let nelems = 1;
  for (let depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
    if (cur !== 0 && !btf.has(cur)) {
      failedAt = cur;
      return SizeFailure.Missing;
    }
    let size: number;
    switch (kindOf(btf, cur)) {
      case Kind.Int: case Kind.Struct: case Kind.Union: case Kind.Enum: case Kind.Enum64:
      case Kind.Datasec: case Kind.Float:
        size = btf.sizeOrType(cur);
        break;
      case Kind.Ptr:
        size = pointerBytes ?? pointerSize(btf);
        break;
      case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
      case Kind.Var: case Kind.DeclTag: case Kind.TypeTag:
        cur = btf.sizeOrType(cur);
        continue;
      case Kind.Array: {
        const n = word(btf, cur, Rec.ARRAY_NELEMS_OFF);
        if (nelems && n > Math.floor(UINT32_MAX / nelems)) return SizeFailure.TooBig;
        nelems *= n;
        cur = word(btf, cur, Rec.ARRAY_TYPE_OFF);
        continue;
      }
      default:
        failedAt = cur;
        return SizeFailure.NoSize;
    }
    if (nelems && size > Math.floor(UINT32_MAX / nelems)) return SizeFailure.TooBig;
    return nelems * size;
  }
  return SizeFailure.Loop;
}

/**
 * Size in bytes of type `id`, as {@link sizeOfOrFailure}, throwing a {@link BtfError} where
 * that has no size: `bad-size` (a kind without a size, or 4 GiB or more), `type-loop`,
 * `bad-type-id`.
 */
export function sizeOf(btf: Btf, id: number): number {
  const size = sizeOfOrFailure(btf, id);
  if (size >= 0) return size;
  switch (size) {
    case SizeFailure.NoSize:
      throw new BtfError('bad-size', `${describeKind(kindOf(btf, failedAt))} has no size`, { typeId: id });
    case SizeFailure.Missing:
      throw new BtfError('bad-type-id', `refers to missing type ${failedAt}`, { typeId: id });
    case SizeFailure.TooBig:
      throw new BtfError('bad-size', 'is 4 GiB or more (element counts multiply past 32 bits)', { typeId: id });
    default:
      throw new BtfError('type-loop', `more than ${MAX_RESOLVE_DEPTH} levels of references while sizing (a reference loop?)`, { typeId: id });
  }
}

/**
 * Alignment in bytes of type `id`, as libbpf's `btf__align_of` works it out for a C compiler:
 * scalars by their size (at most the pointer size), records by their most aligned member,
 * except that a member off its natural alignment, or a size that is not a multiple of the
 * alignment, shows the record was packed (alignment 1). Records may nest as deep as the BTF
 * has them. Throws `bad-size` for kinds without alignment (void, FWD, FUNC, FUNC_PROTO, VAR,
 * DATASEC, DECL_TAG), `type-loop` for a record that contains itself or a loop of typedefs,
 * modifiers and arrays (on which libbpf would recurse forever).
 */
export function alignOf(btf: Btf, id: number): number {
  let memo = alignments.get(btf);
  if (!memo) alignments.set(btf, (memo = new Map()));
  const known = alignWithout(btf, id, memo);
  if (known >= 0) return known;
  const stack: number[] = [];
  try {
    return recordAlign(btf, -known, memo, stack);
  } catch (e) {
    // Nothing half-done stays memoised: asked again, these records give the same error.
    for (let k = 0; k < stack.length; k += 3) memo.delete(stack[k]!);
    throw e;
  }
}

/** In {@link alignments}: the record's alignment is being worked out (met again, it contains itself). */
const IN_PROGRESS = -1;

/**
 * The alignment of `id` when it needs no record's that is not known yet; else minus the id of
 * the record (`id` itself, or the one its typedefs, modifiers and arrays lead to) to work out.
 * 0 is libbpf's answer for a scalar of size 0 (`min(pointer size, 0)`), and for a record
 * holding one: no alignment, but no error either.
 */
function alignWithout(btf: Btf, id: number, memo: Map<number, number>): number {
  let cur = id;
  // A chain longer than there are types goes round in a loop.
  for (let hops = 0; hops < btf.endId; hops++) {
    if (cur !== 0 && !btf.has(cur)) throw new BtfError('bad-type-id', `type id ${cur} does not exist (ids run from 1 to ${btf.endId - 1})`, { typeId: id });
    const kind = kindOf(btf, cur);
    switch (kind) {
      case Kind.Int: case Kind.Enum: case Kind.Enum64: case Kind.Float:
        return Math.min(pointerSize(btf), btf.sizeOrType(cur));
      case Kind.Ptr:
        return pointerSize(btf);
      case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
        cur = btf.sizeOrType(cur);
        break;
      case Kind.Array:
        cur = word(btf, cur, Rec.ARRAY_TYPE_OFF);
        break;
      case Kind.Struct: case Kind.Union: {
        const known = memo.get(cur);
        if (known === IN_PROGRESS) throw new BtfError('type-loop', 'a record contains itself (not through a pointer), so it has no alignment', { typeId: cur });
        return known ?? -cur;
      }
      default:
        throw new BtfError('bad-size', `${describeKind(kind)} has no alignment`, { typeId: cur });
    }
  }
  throw new BtfError('type-loop', 'typedefs, modifiers and arrays go round in a loop, so there is no alignment', { typeId: id });
}

/**
 * Works out (and memoises) the alignment of record `id`. A member's record not known yet is
 * worked out first while its container waits on `stack`, so nesting depth costs no call
 * stack. `stack` holds a frame per record being worked out, the current one on top: its id,
 * the member to go on from and the greatest alignment so far.
 */
function recordAlign(btf: Btf, id: number, memo: Map<number, number>, stack: number[]): number {
  stack.push(id, 0, 1);
  memo.set(id, IN_PROGRESS);
  for (;;) {
    const top = stack.length - 3;
    const rec = stack[top]!;
    let i = stack[top + 1]!;
    let max = stack[top + 2]!;
    const o = btf.owner(rec)!;
    const at = o.recordOffset(rec);
    const info = o.u32(at + Rec.INFO_OFF);
    const vlen = infoVlen(info);
    const kflag = infoKindFlag(info);
    let packed = false;
    let unaligned = false;
    let nested = 0;
    for (let m = at + Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE; i < vlen; i++, m += Rec.MEMBER_SIZE) {
      const align = alignWithout(btf, o.u32(m + Rec.MEMBER_TYPE_OFF), memo);
      if (align < 0) {
        nested = -align;
        break;
      }
      if (align === 0) {
        unaligned = true;
        break;
      }
      if (align > max) max = align;
      const raw = o.u32(m + Rec.MEMBER_OFFSET_OFF);
      // A member placed off its natural alignment means the record was packed.
      if (memberBitfieldSizeOf(raw, kflag) === 0 && memberBitOffsetOf(raw, kflag) % (8 * align) !== 0) {
        packed = true;
        break;
      }
    }
    if (nested !== 0) {
      // This record waits at member i; the member's record goes on top.
      stack[top + 1] = i;
      stack[top + 2] = max;
      stack.push(nested, 0, 1);
      memo.set(nested, IN_PROGRESS);
      continue;
    }
    const result = unaligned ? 0 : packed || btf.sizeOrType(rec) % max !== 0 ? 1 : max;
    memo.set(rec, result);
    stack.length = top;
    // Back to the container, at the member that waited: its alignment is known now.
    if (stack.length === 0) return result;
  }
}

const UNDERSCORE = 0x5f;

/**
 * Length of the part of a name that CO-RE matches on, as libbpf's
 * `bpf_core_essential_name_len`: up to and including the `X` of the *last* `X___Y` flavor
 * separator (neither `X` nor `Y` an underscore), the whole name when there is none. Scanning
 * from the end is what makes `a___b___c` essentially `a___b`, and `___d_drop` its own name.
 * `at(k)` is the code of the k-th character (or byte) of a name of `length`, so names can be
 * measured where they lie in a string section as well as in JS strings.
 */
export function essentialLength(at: (k: number) => number, length: number): number {
  for (let i = length - 5; i >= 0; i--) {
    if (at(i) !== UNDERSCORE && at(i + 1) === UNDERSCORE && at(i + 2) === UNDERSCORE && at(i + 3) === UNDERSCORE && at(i + 4) !== UNDERSCORE) return i + 1;
  }
  return length;
}

/** {@link essentialLength} of a JS string: `task_struct___v1` → 11. */
export function essentialNameLength(name: string): number {
  return essentialLength((k) => name.charCodeAt(k), name.length);
}

/**
 * `name` without its CO-RE flavor suffix, the part libbpf matches on: `task_struct___v1` →
 * `task_struct`, `a___b___c` → `a___b`; names without one are returned as they are.
 */
export function essentialName(name: string): string {
  return name.slice(0, essentialNameLength(name));
}
