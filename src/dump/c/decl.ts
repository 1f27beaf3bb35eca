import { WireKind as Kind } from '../../format/kinds.js';
import type { CContext } from './context.js';
import type { DeclName } from './names.js';
import { writeEnumDef, writeEnumRef } from './enums.js';
import { writeRecordDef, writeRecordRef, writeFwdRef } from './records.js';

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
 */
export function writeDecl(ctx: CContext, id: number, name: DeclName, lvl: number): void {
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
  writeChain(ctx, base, ctx.stackLen, name, lvl);
  ctx.stackLen = base;
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

/** Writes stack entries `[base, top)`, innermost (highest) first. */
function writeChain(ctx: CContext, base: number, top: number, name: DeclName, lvl: number): void {
  const t = ctx.table;
  const out = ctx.out;
  const s = ctx.stack;
  // After a `*` the next `*` or the name follows without a space (`int **p`). A nested chain
  // starts as if after a pointer, because it begins inside `(` or is the function's name.
  let afterPointer = true;
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
        if (t.nameOff[id] === 0) writeRecordDef(ctx, id, lvl);
        else writeRecordRef(ctx, id);
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
        const count = t.words[t.first[id]! + 2]!;
        top = skipQualifiers(ctx, base, top);
        if (top === base) {
          writeName(ctx, name, afterPointer);
          writeDimension(ctx, count);
          return;
        }
        // `int *a[4]` is an array of pointers; a pointer to an array needs `int (*a)[4]`,
        // except that `int a[2][3]` needs no parentheses between its dimensions.
        const inner = t.kind[s[top - 1]!] === Kind.Array;
        if (!afterPointer && !isEmptyName(ctx, name)) out.put(' ');
        if (!inner) out.put('(');
        writeChain(ctx, base, top, name, lvl);
        if (!inner) out.put(')');
        writeDimension(ctx, count);
        return;
      }
      case Kind.FuncProto: {
        top = skipQualifiers(ctx, base, top);
        if (top > base) {
          out.put(' (');
          writeChain(ctx, base, top, name, lvl);
          out.put(')');
        } else {
          writeName(ctx, name, afterPointer);
        }
        writeParams(ctx, id, lvl);
        return;
      }
      default:
        // FUNC, VAR, DATASEC, DECL_TAG inside a declaration: libbpf warns and writes nothing more.
        return;
    }
    afterPointer = kind === Kind.Ptr;
  }
  writeName(ctx, name, afterPointer);
}

function writeDimension(ctx: CContext, count: number): void {
  ctx.out.put('[');
  ctx.out.uint(count);
  ctx.out.put(']');
}

function writeParams(ctx: CContext, id: number, lvl: number): void {
  const t = ctx.table;
  const out = ctx.out;
  const f = t.first[id]!;
  const n = t.vlen[id]!;
  // No parameters, or the single `void` clang writes for them, is `(void)`.
  if (n === 0 || (n === 1 && t.words[f + 1] === 0)) {
    out.put('(void)');
    return;
  }
  out.put('(');
  for (let i = 0; i < n; i++) {
    if (i > 0) out.put(', ');
    const type = t.words[f + 2 * i + 1]!;
    if (i === n - 1 && type === 0) {
      out.put('...');
      break;
    }
    writeDecl(ctx, type, t.words[f + 2 * i]!, lvl);
  }
  out.put(')');
}
