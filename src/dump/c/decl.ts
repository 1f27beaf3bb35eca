import { WireKind as Kind } from '../../format/kinds.js';
import { WRITER_FRAME, type CContext } from './context.js';
import type { DeclName } from './names.js';
import { writeEnumDef, writeEnumRef } from './enums.js';
import { beginRecord, stepRecord, writeRecordRef, writeFwdRef } from './records.js';

/**
 * Writes the C declaration of type `id` named `name` (a member, parameter, typedef or function
 * name; empty for an abstract declaration), with anonymous records and enums written inline at
 * nesting level `lvl`.
 *
 * BTF spells a declaration outside-in (`array -> ptr -> const -> int` for `const int *a[4]`),
 * while C wraps the declarator around the name inside-out. The chain from `id` down to the
 * named or basic type at its end is pushed on the context's stack and written from that end
 * back towards `id`: qualifiers of the base type go before it, pointers and their qualifiers
 * after it, and an array or function type wraps everything written after it in parentheses.
 *
 * Declarations nest (an anonymous record's members, a prototype's parameters, the part of a
 * chain inside parentheses), as deep as the BTF likes; the writer keeps its own stack of
 * frames ({@link runWriter}) rather than recurse.
 */
export function writeDecl(ctx: CContext, id: number, name: DeclName, lvl: number): void {
  const floor = ctx.writerDepth;
  pushDecl(ctx, id, name, lvl);
  runWriter(ctx, floor);
}

// Writer frames: an operation and five fields (see CContext.pushWriter).
/** A declaration chain: stack slice [base, top), nesting level, whether a `*` was written last; its name. */
export const CHAIN = 0;
/** After the part of a chain inside `(`: `)` unless this dimension follows another, then `[n]`. Array id, that flag. */
const ARRAY_CLOSE = 1;
/** After the part of a chain inside `(`: `)`, then the parameters. Prototype id, nesting level. */
const PROTO_CLOSE = 2;
/** A parameter list: prototype id, nesting level, next parameter. */
const PARAMS = 3;
/** A record body written inline or at the top level (records.ts): record id, level, next member, bit offset, flags. */
export const RECORD = 4;

/** Pushes the chain of `id` on the stack and a frame that writes it. */
export function pushDecl(ctx: CContext, id: number, name: DeclName, lvl: number): void {
  const t = ctx.table;
  const base = ctx.stackLen;
  for (;;) {
    ctx.push(id);
    if (id === 0) break;
    const kind = t.kind[id];
    if (kind === Kind.Ptr || kind === Kind.Volatile || kind === Kind.Const || kind === Kind.Restrict
      || kind === Kind.FuncProto || kind === Kind.TypeTag) {
      id = t.ref[id]!;
    } else if (kind === Kind.Array) {
      id = t.words[t.first[id]!]!;
    } else {
      // Named and basic types end the chain; so do kinds that have no place in a declaration
      // (FUNC, VAR, ...), which are then left out, as libbpf leaves them out.
      break;
    }
  }
  ctx.pushWriter(CHAIN, base, ctx.stackLen, lvl, 1, 0, name);
}

/** Runs writer frames until only the `floor` frames below them are left. */
export function runWriter(ctx: CContext, floor: number): void {
  while (ctx.writerDepth > floor) {
    const at = (ctx.writerDepth - 1) * WRITER_FRAME;
    const w = ctx.writerFrames;
    switch (w[at]) {
      case CHAIN:
        stepChain(ctx, at);
        break;
      case ARRAY_CLOSE: {
        if (w[at + 2] === 0) ctx.out.put(')');
        const t = ctx.table;
        writeDimension(ctx, t.words[t.first[w[at + 1]!]! + 2]!);
        ctx.writerDepth--;
        break;
      }
      case PROTO_CLOSE:
        ctx.out.put(')');
        w[at] = PARAMS;
        w[at + 3] = 0;
        break;
      case PARAMS:
        stepParams(ctx, at);
        break;
      default:
        stepRecord(ctx, at);
        break;
    }
  }
}

function isQualifier(kind: number): boolean {
  return kind === Kind.Volatile || kind === Kind.Const || kind === Kind.Restrict;
}

/**
 * Writes the qualifiers that sit directly above the base type on the stack as a prefix
 * (`const int`), and returns the new top of the stack.
 */
function qualifiersBefore(ctx: CContext, base: number, top: number): number {
  const t = ctx.table;
  const s = ctx.stack;
  while (top > base) {
    const kind = t.kind[s[top - 1]!]!;
    if (kind === Kind.Volatile) ctx.out.put('volatile ');
    else if (kind === Kind.Const) ctx.out.put('const ');
    else if (kind === Kind.Restrict) ctx.out.put('restrict ');
    else break;
    top--;
  }
  return top;
}

/** Skips qualifiers and type tags on arrays and functions, which C cannot express (GCC emits them anyway). */
function skipQualifiers(ctx: CContext, base: number, top: number): number {
  const t = ctx.table;
  const s = ctx.stack;
  while (top > base) {
    const kind = t.kind[s[top - 1]!]!;
    if (!isQualifier(kind) && kind !== Kind.TypeTag) break;
    top--;
  }
  return top;
}

function isEmptyName(ctx: CContext, name: DeclName): boolean {
  return typeof name === 'number' ? ctx.table.strBytes[name] === 0 : name.length === 0;
}

function writeName(ctx: CContext, name: DeclName, afterPointer: boolean): void {
  if (isEmptyName(ctx, name)) return;
  if (!afterPointer) ctx.out.put(' ');
  ctx.out.name(name);
}

/**
 * Writes the chain of the frame at `at` (stack entries `[base, top)`, innermost, highest,
 * first) until it ends or has to wait for nested output: an anonymous record's body, or the
 * part of the chain inside parentheses (the frame then becomes the one that closes them).
 */
function stepChain(ctx: CContext, at: number): void {
  const t = ctx.table;
  const out = ctx.out;
  const s = ctx.stack;
  const w = ctx.writerFrames;
  const base = w[at + 1]!;
  let top = w[at + 2]!;
  const lvl = w[at + 3]!;
  const name = ctx.writerNames[at / WRITER_FRAME]!;
  // After a `*` the next `*` or the name follows without a space (`int **p`). A nested chain
  // starts as if after a pointer, because it begins inside `(` or is the function's name.
  let afterPointer = w[at + 4] === 1;
  while (top > base) {
    const id = s[--top]!;
    if (id === 0) {
      top = qualifiersBefore(ctx, base, top);
      out.put('void');
      afterPointer = false;
      continue;
    }
    const kind = t.kind[id]!;
    switch (kind) {
      case Kind.Int: case Kind.Float:
        top = qualifiersBefore(ctx, base, top);
        out.putString(t.strBytes, t.nameOff[id]!);
        break;
      case Kind.Struct: case Kind.Union:
        top = qualifiersBefore(ctx, base, top);
        if (t.nameOff[id] === 0) {
          // The chain goes on after the body.
          w[at + 2] = top;
          w[at + 4] = 0;
          beginRecord(ctx, id, lvl);
          return;
        }
        writeRecordRef(ctx, id);
        break;
      case Kind.Enum: case Kind.Enum64:
        top = qualifiersBefore(ctx, base, top);
        if (t.nameOff[id] === 0) writeEnumDef(ctx, id, lvl);
        else writeEnumRef(ctx, id);
        break;
      case Kind.Fwd:
        top = qualifiersBefore(ctx, base, top);
        writeFwdRef(ctx, id);
        break;
      case Kind.Typedef:
        top = qualifiersBefore(ctx, base, top);
        out.name(ctx.names.typedefName(id));
        break;
      case Kind.Ptr:
        out.put(afterPointer ? '*' : ' *');
        break;
      case Kind.Volatile:
        out.put(' volatile');
        break;
      case Kind.Const:
        out.put(' const');
        break;
      case Kind.Restrict:
        out.put(' restrict');
        break;
      case Kind.TypeTag: {
        top = qualifiersBefore(ctx, base, top);
        const tag = t.name(id);
        out.put(t.kflag[id] ? ` __attribute__((${tag}))` : ` __attribute__((btf_type_tag("${tag}")))`);
        break;
      }
      case Kind.Array: {
        top = skipQualifiers(ctx, base, top);
        if (top === base) {
          writeName(ctx, name, afterPointer);
          writeDimension(ctx, t.words[t.first[id]! + 2]!);
          endChain(ctx, base);
          return;
        }
        // `int *a[4]` is an array of pointers; a pointer to an array needs `int (*a)[4]`,
        // except that `int a[2][3]` needs no parentheses between its dimensions.
        const inner = t.kind[s[top - 1]!] === Kind.Array;
        if (!afterPointer && !isEmptyName(ctx, name)) out.put(' ');
        if (!inner) out.put('(');
        w[at] = ARRAY_CLOSE;
        w[at + 1] = id;
        w[at + 2] = inner ? 1 : 0;
        ctx.pushWriter(CHAIN, base, top, lvl, 1, 0, name);
        return;
      }
      case Kind.FuncProto: {
        top = skipQualifiers(ctx, base, top);
        if (top > base) {
          out.put(' (');
          w[at] = PROTO_CLOSE;
          w[at + 1] = id;
          w[at + 2] = lvl;
          ctx.pushWriter(CHAIN, base, top, lvl, 1, 0, name);
          return;
        }
        writeName(ctx, name, afterPointer);
        // The chain is written; its slice of the stack is free for the parameters'.
        ctx.stackLen = base;
        w[at] = PARAMS;
        w[at + 1] = id;
        w[at + 2] = lvl;
        w[at + 3] = 0;
        return;
      }
      default:
        // FUNC, VAR, DATASEC, DECL_TAG inside a declaration: libbpf warns and writes nothing more.
        endChain(ctx, base);
        return;
    }
    afterPointer = kind === Kind.Ptr;
  }
  writeName(ctx, name, afterPointer);
  endChain(ctx, base);
}

/** Pops a finished chain's frame and frees its slice of the stack. */
function endChain(ctx: CContext, base: number): void {
  ctx.stackLen = base;
  ctx.writerNames[--ctx.writerDepth] = 0;
}

function writeDimension(ctx: CContext, count: number): void {
  ctx.out.put('[');
  ctx.out.uint(count);
  ctx.out.put(']');
}

/**
 * Writes the next piece of the parameter list of the frame at `at`: `(void)` for none, else
 * `(`, then one parameter per call (its declaration pushed as a frame of its own), then `)`.
 */
function stepParams(ctx: CContext, at: number): void {
  const t = ctx.table;
  const out = ctx.out;
  const w = ctx.writerFrames;
  const id = w[at + 1]!;
  const i = w[at + 3]!;
  const f = t.first[id]!;
  const n = t.vlen[id]!;
  if (i === 0) {
    // No parameters, or the single `void` clang writes for them, is `(void)`.
    if (n === 0 || (n === 1 && t.words[f + 1] === 0)) {
      out.put('(void)');
      ctx.writerDepth--;
      return;
    }
    out.put('(');
  } else if (i === n) {
    out.put(')');
    ctx.writerDepth--;
    return;
  } else {
    out.put(', ');
  }
  const type = t.words[f + 2 * i + 1]!;
  if (i === n - 1 && type === 0) {
    out.put('...)');
    ctx.writerDepth--;
    return;
  }
  w[at + 3] = i + 1;
  pushDecl(ctx, type, t.words[f + 2 * i]!, w[at + 2]!);
}
