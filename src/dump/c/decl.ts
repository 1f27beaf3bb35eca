import { WireKind as Kind } from '../../format/kinds.js';
import { Rec } from '../../format/records.js';
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
 * chain inside parentheses) as deep as the BTF likes. What is to be written after a nested
 * part (a closing parenthesis, a dimension, the parameters, the rest of a chain after a record
 * body) waits in a frame on the writer's own stack ({@link runWriter}) rather than in a JS
 * call: a declaration without such parts needs no frame at all.
 */
export function writeDecl(ctx: CContext, id: number, name: DeclName, lvl: number): void {
  const floor = ctx.writerDepth;
  startDecl(ctx, id, name, lvl);
  if (ctx.writerDepth > floor) runWriter(ctx, floor);
}

// Writer frames: an operation and up to five fields (see CContext.pushWriter).
/** The rest of a chain, after an anonymous record's body: stack slice [base, top), nesting level; its name. */
const CHAIN = 0;
/** After the part of a chain inside `(`: `)` unless this dimension follows another, then `[n]`. Array id, that flag. */
const ARRAY_CLOSE = 1;
/** After the part of a chain inside `(`: `)`, then the parameters. Prototype id, nesting level. */
const PROTO_CLOSE = 2;
/** A parameter list: prototype id, nesting level, next parameter. */
const PARAMS = 3;
/** A record body written inline or at the top level (records.ts): record id, level, next member, bit offset, flags. */
export const RECORD = 4;

/**
 * Starts writing the declaration of `id`: pushes its chain on the stack and writes it as far
 * as it can without nested output. Frames pushed for what must follow nested output are left
 * for {@link runWriter}; when none are, the declaration is complete.
 */
export function startDecl(ctx: CContext, id: number, name: DeclName, lvl: number): void {
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
      id = t.words[t.first[id]! + Rec.ARRAY_TYPE_WORD]!;
    } else {
      // Named and basic types end the chain; so do kinds that have no place in a declaration
      // (FUNC, VAR, ...), which are then left out, as libbpf leaves them out.
      break;
    }
  }
  writeChain(ctx, base, ctx.stackLen, lvl, true, name);
}

/** Runs writer frames until only the `floor` frames below them are left. */
export function runWriter(ctx: CContext, floor: number): void {
  while (ctx.writerDepth > floor) {
    const at = (ctx.writerDepth - 1) * WRITER_FRAME;
    const w = ctx.writerFrames;
    switch (w[at]) {
      case CHAIN: {
        const name = ctx.writerNames[--ctx.writerDepth]!;
        ctx.writerNames[ctx.writerDepth] = 0;
        writeChain(ctx, w[at + 1]!, w[at + 2]!, w[at + 3]!, false, name);
        break;
      }
      case ARRAY_CLOSE: {
        if (w[at + 2] === 0) ctx.out.put(')');
        const t = ctx.table;
        writeDimension(ctx, t.words[t.first[w[at + 1]!]! + Rec.ARRAY_NELEMS_WORD]!);
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
 * Writes stack entries `[base, top)`, innermost (highest) first, then the name. Where a part of
 * the chain goes inside parentheses, a frame to close them is pushed and the part is written
 * straight on; an anonymous record's body and a prototype's parameters are left to frames.
 * `afterPointer`: the last thing written was a `*` (or nothing), so no space goes before the
 * next `*` or the name (`int **p`).
 */
function writeChain(ctx: CContext, base: number, top: number, lvl: number, afterPointer: boolean, name: DeclName): void {
  const t = ctx.table;
  const out = ctx.out;
  const s = ctx.stack;
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
          // The rest of the chain waits for the body.
          ctx.writerNames[ctx.writerDepth] = name;
          ctx.pushWriter(CHAIN, base, top, lvl, 0, 0);
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
          writeDimension(ctx, t.words[t.first[id]! + Rec.ARRAY_NELEMS_WORD]!);
          ctx.stackLen = base;
          return;
        }
        // `int *a[4]` is an array of pointers; a pointer to an array needs `int (*a)[4]`,
        // except that `int a[2][3]` needs no parentheses between its dimensions. What follows
        // is written as a chain of its own (starting as if after a pointer, inside `(`).
        const inner = t.kind[s[top - 1]!] === Kind.Array;
        if (!afterPointer && !isEmptyName(ctx, name)) out.put(' ');
        if (!inner) out.put('(');
        ctx.pushWriter(ARRAY_CLOSE, id, inner ? 1 : 0, 0, 0, 0);
        afterPointer = true;
        continue;
      }
      case Kind.FuncProto: {
        top = skipQualifiers(ctx, base, top);
        if (top > base) {
          out.put(' (');
          ctx.pushWriter(PROTO_CLOSE, id, lvl, 0, 0, 0);
          afterPointer = true;
          continue;
        }
        writeName(ctx, name, afterPointer);
        // The chain is written; its slice of the stack is free for the parameters'.
        ctx.stackLen = base;
        ctx.pushWriter(PARAMS, id, lvl, 0, 0, 0);
        return;
      }
      default:
        // FUNC, VAR, DATASEC, DECL_TAG inside a declaration: libbpf warns and writes nothing more.
        ctx.stackLen = base;
        return;
    }
    afterPointer = kind === Kind.Ptr;
  }
  writeName(ctx, name, afterPointer);
  ctx.stackLen = base;
}

function writeDimension(ctx: CContext, count: number): void {
  ctx.out.put('[');
  ctx.out.uint(count);
  ctx.out.put(']');
}

/**
 * Writes the parameter list of the frame at `at`: `(void)` for none, else `(`, the parameters
 * and `)`. Returns early, its place kept in the frame, when a parameter's declaration has left
 * frames of its own.
 */
function stepParams(ctx: CContext, at: number): void {
  const t = ctx.table;
  const out = ctx.out;
  const floor = ctx.writerDepth;
  const id = ctx.writerFrames[at + 1]!;
  const lvl = ctx.writerFrames[at + 2]!;
  let i = ctx.writerFrames[at + 3]!;
  const f = t.first[id]!;
  const n = t.vlen[id]!;
  if (i === 0) {
    // No parameters, or the single `void` clang writes for them, is `(void)`.
    if (n === 0 || (n === 1 && t.words[f + Rec.PARAM_TYPE_WORD] === 0)) {
      out.put('(void)');
      ctx.writerDepth--;
      return;
    }
    out.put('(');
  }
  // Parameters read inline with Rec's word constants: a call per field costs ~8% with TurboFan
  // inlining off (the CLI).
  for (; i < n; i++) {
    if (i > 0) out.put(', ');
    const p = f + Rec.PARAM_WORDS * i;
    const type = t.words[p + Rec.PARAM_TYPE_WORD]!;
    if (i === n - 1 && type === 0) {
      out.put('...');
      break;
    }
    startDecl(ctx, type, t.words[p + Rec.PARAM_NAME_WORD]!, lvl);
    if (ctx.writerDepth > floor) {
      ctx.writerFrames[at + 3] = i + 1;
      return;
    }
  }
  out.put(')');
  ctx.writerDepth--;
}
