import { BtfError } from '../../errors.js';
import { WireKind as Kind } from '../../format/kinds.js';
import { Rec } from '../../format/records.js';
import { WRITER_FRAME, type CContext } from './context.js';
import { RECORD, runWriter, startDecl } from './decl.js';

const UINT32_MAX = 0xffffffff;
/** btf__resolve_size gives up after this many typedefs, modifiers and arrays. */
const MAX_RESOLVE_DEPTH = 32;

/** C `int` arithmetic: btf_dump computes bit offsets in `int`, and so must we to place padding alike. */
const i32 = (n: number) => n | 0;
/** C's `roundup(x, y)` on ints, with division truncating toward zero. */
const roundUp = (x: number, y: number) => i32(Math.imul(i32(Math.trunc(i32(x + y - 1) / y)), y));

/** `struct name` or `union name` (just the keyword for an anonymous record). */
export function writeRecordRef(ctx: CContext, id: number): void {
  const name = ctx.names.tagName(id);
  ctx.out.put(ctx.table.kind[id] === Kind.Struct ? 'struct' : 'union');
  if (ctx.table.nameOff[id] !== 0) {
    ctx.out.put(' ');
    ctx.out.name(name);
  }
}

/** A forward declaration's type: `struct name` or `union name` by its kind_flag. */
export function writeFwdRef(ctx: CContext, id: number): void {
  const name = ctx.names.tagName(id);
  ctx.out.put(ctx.table.kflag[id] ? 'union ' : 'struct ');
  ctx.out.name(name);
}

/**
 * Size in bytes of type `id` as libbpf's btf__resolve_size gives it: 0 for types without a
 * size (void, forward declarations, functions) and for sizes that overflow 32 bits.
 */
export function resolvedSize(ctx: CContext, id: number): number {
  const t = ctx.table;
  let count = 1;
  for (let depth = 0; depth < MAX_RESOLVE_DEPTH && id !== 0; depth++) {
    switch (t.kind[id]) {
      case Kind.Int: case Kind.Struct: case Kind.Union: case Kind.Enum: case Kind.Enum64:
      case Kind.Datasec: case Kind.Float:
        return sized(count, t.ref[id]!);
      case Kind.Ptr:
        return sized(count, ctx.ptrSize);
      case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
      case Kind.Var: case Kind.DeclTag: case Kind.TypeTag:
        id = t.ref[id]!;
        break;
      case Kind.Array: {
        const f = t.first[id]!;
        const n = t.words[f + Rec.ARRAY_NELEMS_WORD]!;
        if (count && n > Math.floor(UINT32_MAX / count)) return 0;
        count *= n;
        id = t.words[f + Rec.ARRAY_TYPE_WORD]!;
        break;
      }
      default:
        return 0;
    }
  }
  return 0;
}

function sized(count: number, size: number): number {
  if (count && size > Math.floor(UINT32_MAX / count)) return 0;
  return count * size;
}

/**
 * Alignment of type `id` as libbpf's btf__align_of works it out: a record is aligned as its
 * most aligned member unless a member sits off its alignment or the size is not a multiple of
 * it, in which case the record must have been packed (alignment 1). 0 means no alignment
 * (void, forward declarations, functions, or a record holding one of those).
 */
export function alignOf(ctx: CContext, id: number): number {
  const known = knownAlign(ctx, id);
  return known >= 0 ? known : recordAlign(ctx, -1 - known);
}

/**
 * The alignment of `id` if it is known without working out a record's: else `-1 - record`,
 * naming the record (the type itself, or the one it leads to) whose alignment is needed.
 */
function knownAlign(ctx: CContext, id: number): number {
  const t = ctx.table;
  for (;;) {
    switch (t.kind[id]) {
      case Kind.Int: case Kind.Enum: case Kind.Enum64: case Kind.Float:
        return Math.min(ctx.ptrSize, t.ref[id]!);
      case Kind.Ptr:
        return ctx.ptrSize;
      case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
        id = t.ref[id]!;
        break;
      case Kind.Array:
        id = t.words[t.first[id]! + Rec.ARRAY_TYPE_WORD]!;
        break;
      case Kind.Struct: case Kind.Union: {
        const cached = ctx.alignCache[id]!;
        if (cached >= 2) return cached - 2;
        if (cached === 1) {
          throw new BtfError('type-loop', 'record contains itself (not through a pointer)', { typeId: id });
        }
        return -1 - id;
      }
      default:
        return 0;
    }
  }
}

/**
 * Works out (and memoises) the alignment of record `id`. A member record not worked out yet is
 * worked out first, its container waiting on an explicit stack: records nest as deep as the
 * BTF likes.
 */
function recordAlign(ctx: CContext, id: number): number {
  const t = ctx.table;
  const cache = ctx.alignCache;
  /**
   * Records waiting on a member's record: id, member word index, greatest alignment so far.
   * Members are read inline from the table's words with Rec's word constants: a call per field
   * costs ~8% with TurboFan inlining off (the CLI).
   */
  let waiting: number[] | undefined;
  let rec = id;
  let e = t.first[rec]!;
  let max = 1;
  cache[rec] = 1;
  for (;;) {
    const end = t.first[rec]! + Rec.MEMBER_WORDS * t.vlen[rec]!;
    const bitfields = t.kflag[rec] === 1;
    let result = -1;
    let nested = -1;
    for (; e < end; e += Rec.MEMBER_WORDS) {
      const align = knownAlign(ctx, t.words[e + Rec.MEMBER_TYPE_WORD]!);
      if (align < 0) {
        nested = -1 - align;
        break;
      }
      if (align === 0) {
        result = 0;
        break;
      }
      if (align > max) max = align;
      const raw = t.words[e + Rec.MEMBER_OFFSET_WORD]!;
      if ((!bitfields || raw >>> Rec.MEMBER_BITFIELD_SIZE_SHIFT === 0) && raw % (8 * align) !== 0) {
        result = 1;
        break;
      }
    }
    if (nested >= 0) {
      (waiting ??= []).push(rec, e, max);
      rec = nested;
      e = t.first[rec]!;
      max = 1;
      cache[rec] = 1;
      continue;
    }
    if (result < 0) result = t.ref[rec]! % max !== 0 ? 1 : max;
    cache[rec] = result + 2;
    if (!waiting?.length) return result;
    // Back to the container, at the member that waited (its alignment is known now).
    max = waiting.pop()!;
    e = waiting.pop()!;
    rec = waiting.pop()!;
  }
}

/**
 * Whether a struct needs `__attribute__((packed))` to get its layout back: some non-bitfield
 * member is off its natural alignment, or the size is not a multiple of the alignment.
 */
function isPacked(ctx: CContext, id: number): boolean {
  const t = ctx.table;
  const f = t.first[id]!;
  const end = f + Rec.MEMBER_WORDS * t.vlen[id]!;
  const bitfields = t.kflag[id] === 1;
  let max = 1;
  for (let e = f; e < end; e += Rec.MEMBER_WORDS) {
    const align = alignOf(ctx, t.words[e + Rec.MEMBER_TYPE_WORD]!);
    const raw = t.words[e + Rec.MEMBER_OFFSET_WORD]!;
    if (align && (!bitfields || raw >>> Rec.MEMBER_BITFIELD_SIZE_SHIFT === 0) && raw % (8 * align) !== 0) return true;
    if (align > max) max = align;
  }
  return t.ref[id]! % max !== 0;
}

/**
 * Writes the body of struct or union `id` at nesting level `lvl`, with explicit padding
 * members wherever the compiler would not put the next member (or the end) where BTF has it.
 */
export function writeRecordDef(ctx: CContext, id: number, lvl: number): void {
  const floor = ctx.writerDepth;
  beginRecord(ctx, id, lvl);
  // Most records are written in one go, without frames for nested parts.
  stepRecord(ctx, floor * WRITER_FRAME);
  if (ctx.writerDepth > floor) runWriter(ctx, floor);
}

/** Record frame flags: packed; the last member was a bitfield; a member's declaration is being written. */
const PACKED = 1;
const PREV_BITFIELD = 2;
const IN_MEMBER = 4;

/**
 * Writes the head of record `id` (`struct name {`) and pushes the writer frame that writes its
 * members and end ({@link stepRecord}).
 */
export function beginRecord(ctx: CContext, id: number, lvl: number): void {
  if (ctx.inlineActive[id]) {
    throw new BtfError('type-loop', 'anonymous record contains itself', { typeId: id });
  }
  ctx.inlineActive[id] = 1;
  // Worked out first (and memoised for the tail padding): a record that holds itself fails here.
  alignOf(ctx, id);
  const packed = ctx.table.kind[id] === Kind.Struct && isPacked(ctx, id);
  writeRecordRef(ctx, id);
  ctx.out.put(' {');
  ctx.pushWriter(RECORD, id, lvl, 0, 0, packed ? PACKED : 0);
}

/**
 * Writes the members and end of the record of the frame at `at`: for each member the padding
 * before it, its declaration, bitfield width and `;`; after the last, the tail padding and the
 * closing brace. Returns early, its place kept in the frame, when a member's declaration has
 * left frames of its own (an anonymous record, parentheses, parameters); it is called again to
 * end that member once they are done.
 */
export function stepRecord(ctx: CContext, at: number): void {
  const t = ctx.table;
  const out = ctx.out;
  const floor = ctx.writerDepth;
  const w = ctx.writerFrames;
  const id = w[at + 1]!;
  const lvl = w[at + 2]!;
  let i = w[at + 3]!;
  let off = w[at + 4]!;
  let flags = w[at + 5]!;
  const f = t.first[id]!;
  const n = t.vlen[id]!;
  const bitfields = t.kflag[id] === 1;
  if (flags & IN_MEMBER) {
    // Back from the nested parts of member i - 1.
    const prev = f + Rec.MEMBER_WORDS * (i - 1);
    off = endMember(ctx, prev, bitfields);
    flags = (flags & ~(IN_MEMBER | PREV_BITFIELD)) | (bitfields && t.words[prev + Rec.MEMBER_OFFSET_WORD]! >>> Rec.MEMBER_BITFIELD_SIZE_SHIFT ? PREV_BITFIELD : 0);
  }
  // Members are read inline with Rec's word constants: a call per field costs ~8% with
  // TurboFan inlining off (the CLI).
  for (; i < n; i++) {
    const e = f + Rec.MEMBER_WORDS * i;
    const raw = t.words[e + Rec.MEMBER_OFFSET_WORD]!;
    const bits = bitfields ? raw >>> Rec.MEMBER_BITFIELD_SIZE_SHIFT : 0;
    const type = t.words[e + Rec.MEMBER_TYPE_WORD]!;
    const memberBit = i32(bitfields ? raw & Rec.MEMBER_BIT_OFFSET_MASK : raw);
    // Most members follow the previous one directly: no padding, and no call (8 arguments, not
    // inlined in the CLI) to find that out.
    if (off < memberBit) writePadding(ctx, off, memberBit, flags & PACKED ? 1 : alignOf(ctx, type), (flags & PREV_BITFIELD) !== 0 && bits !== 0, lvl + 1, id, i);
    out.line(lvl + 1);
    startDecl(ctx, type, t.words[e + Rec.MEMBER_NAME_WORD]!, lvl + 1);
    if (ctx.writerDepth > floor) {
      const frames = ctx.writerFrames;
      frames[at + 3] = i + 1;
      frames[at + 4] = off;
      frames[at + 5] = flags | IN_MEMBER;
      return;
    }
    // endMember, inline: this runs once per member.
    if (bits) {
      out.put(': ');
      out.uint(bits);
      off = i32((raw & Rec.MEMBER_BIT_OFFSET_MASK) + bits);
      flags |= PREV_BITFIELD;
    } else {
      off = i32(i32(raw) + Math.imul(i32(resolvedSize(ctx, type)), 8));
      flags &= ~PREV_BITFIELD;
    }
    out.put(';');
  }
  if (t.kind[id] === Kind.Struct) writePadding(ctx, off, i32(Math.imul(t.ref[id]!, 8)), alignOf(ctx, id), false, lvl + 1, id, undefined);
  // An empty record stays on one line: `struct empty {}`.
  if (n || t.ref[id]) out.line(lvl);
  out.put('}');
  if (flags & PACKED) out.put(' __attribute__((packed))');
  ctx.inlineActive[id] = 0;
  ctx.writerDepth--;
}

/**
 * Ends the member at word `e` once its declaration is written (bitfield width, `;`) and returns
 * the bit offset after it.
 */
function endMember(ctx: CContext, e: number, bitfields: boolean): number {
  const t = ctx.table;
  const raw = t.words[e + Rec.MEMBER_OFFSET_WORD]!;
  const bits = bitfields ? raw >>> Rec.MEMBER_BITFIELD_SIZE_SHIFT : 0;
  let off: number;
  if (bits) {
    ctx.out.put(': ');
    ctx.out.uint(bits);
    off = i32((raw & Rec.MEMBER_BIT_OFFSET_MASK) + bits);
  } else {
    off = i32(i32(raw) + Math.imul(i32(resolvedSize(ctx, t.words[e + Rec.MEMBER_TYPE_WORD]!)), 8));
  }
  ctx.out.put(';');
  return off;
}

/**
 * Fills the gap between bit offsets `cur` and `next` with anonymous bitfields (`long: 64;`),
 * leaning on the compiler's natural alignment where it lands the next member in the right
 * place by itself. `nextAlign` is the next member's alignment in bytes.
 */
function writePadding(ctx: CContext, cur: number, next: number, nextAlign: number, inBitfield: boolean,
  lvl: number, id: number, member: number | undefined): void {
  if (cur >= next) return;
  const pads = padTypes(ctx.ptrSize);
  // The widest padding type whose alignment boundary after `cur` is not past `next`.
  let pad = pads[pads.length - 1]!;
  let aligned = 0;
  for (const p of pads) {
    pad = p;
    aligned = roundUp(cur, p.bits);
    if (aligned <= next) break;
  }
  if (aligned > cur && aligned <= next) {
    // An explicit `type: 0` forces the boundary when the compiler would not align there by
    // itself: the next member is less aligned, or a full-width pad would fit in the hole.
    // Inside a run of bitfields the hole is filled with an explicit bit count instead.
    let explicit = inBitfield;
    if (!explicit && aligned === next) {
      if (nextAlign === 0) {
        // `member` undefined: the padding after the last member, up to the struct's size.
        throw member === undefined
          ? new BtfError('bad-member', 'struct has no alignment for its tail padding (its members are void, forward declarations or functions?)', { typeId: id })
          : new BtfError('bad-member', 'member has no alignment (void, a forward declaration or a function?)', { typeId: id, member });
      }
      explicit = roundUp(cur, nextAlign * 8) !== aligned;
    }
    if (!explicit && aligned !== next) explicit = next - aligned <= aligned - cur;
    if (explicit) {
      writePadMember(ctx, lvl, pad.name, inBitfield ? aligned - cur : 0);
    }
    cur = aligned;
  }
  let bits = pad.bits;
  let name = pad.name;
  while (cur !== next) {
    const gap = Math.min(next - cur, bits);
    if (gap === bits) {
      writePadMember(ctx, lvl, name, bits);
      cur += gap;
      continue;
    }
    // The last piece gets the narrowest type that holds it.
    for (let i = pads.length - 1; i >= 0; i--) {
      name = pads[i]!.name;
      bits = pads[i]!.bits;
      if (bits < gap) continue;
      writePadMember(ctx, lvl, name, gap);
      cur += gap;
      break;
    }
  }
}

/** `type: bits;` on a line of its own. */
function writePadMember(ctx: CContext, lvl: number, type: string, bits: number): void {
  const out = ctx.out;
  out.line(lvl);
  out.put(type);
  out.put(': ');
  out.uint(bits);
  out.put(';');
}

interface PadType { name: string; bits: number }
const PADS_64: readonly PadType[] = [{ name: 'long', bits: 64 }, { name: 'int', bits: 32 }, { name: 'short', bits: 16 }, { name: 'char', bits: 8 }];
const PADS_32: readonly PadType[] = [{ name: 'long', bits: 32 }, { name: 'int', bits: 32 }, { name: 'short', bits: 16 }, { name: 'char', bits: 8 }];

function padTypes(ptrSize: number): readonly PadType[] {
  if (ptrSize === 8) return PADS_64;
  if (ptrSize === 4) return PADS_32;
  return [{ name: 'long', bits: ptrSize * 8 }, ...PADS_32.slice(1)];
}
