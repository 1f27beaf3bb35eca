import { BtfError } from '../../errors.js';
import { WireKind as Kind } from '../../format/kinds.js';
import type { CContext } from './context.js';
import { writeDecl } from './decl.js';
import { writeEnumDef } from './enums.js';
import { writeFwdRef, writeRecordDef, writeRecordRef } from './records.js';
import type { DeclName } from './names.js';

const NOT_YET = 0;
const IN_PROGRESS = 1;
export const DONE = 2;

/** GCC's built-in, which clang has under the same name: declaring it again would not compile. */
const BUILTIN_VA_LIST = '__builtin_va_list';
const GNUC_VA_LIST = '__gnuc_va_list';

function nameIs(ctx: CContext, name: DeclName, literal: string): boolean {
  return typeof name === 'number' ? ctx.table.equalsAt(name, literal) : name === literal;
}

/**
 * Writes type `id` and every type it needs that is not written yet, each at the top level and
 * in an order C accepts: a type another one embeds comes first; a type only reached through a
 * pointer may come later, behind a forward declaration. This is libbpf's btf_dump__dump_type;
 * calling it for every type in turn writes the whole header.
 */
export function dumpType(ctx: CContext, id: number): void {
  const queue = ctx.queue;
  queue.length = 0;
  orderType(ctx, id, false, queue);
  for (let i = 0; i < queue.length; i++) emitType(ctx, queue[i]!, 0);
}

/**
 * Depth-first topological ordering. Returns true when the path to `id` is a strong link (the
 * definition must come first: the type is embedded, or anonymous and so written inline) and
 * false for a weak one (a forward declaration is enough: reached through a pointer to a named
 * type). Named records, enums, forward declarations and typedefs are queued once their own
 * strong dependencies are queued.
 */
function orderType(ctx: CContext, id: number, throughPtr: boolean, queue: number[]): boolean {
  ctx.step();
  const state = ctx.orderState;
  if (state[id] === DONE) return true;
  const t = ctx.table;
  const kind = t.kind[id];
  if (state[id] === IN_PROGRESS) {
    // A cycle is fine when it passes through a pointer to a named record: forward-declare it.
    if ((kind === Kind.Struct || kind === Kind.Union) && throughPtr && t.nameOff[id] !== 0) return false;
    throw new BtfError('type-loop', 'type cycle C cannot express (a type contains itself, or an anonymous type refers to itself)', { typeId: id });
  }
  switch (kind) {
    case Kind.Int: case Kind.Float:
      state[id] = DONE;
      return false;
    case Kind.Ptr: {
      const strong = orderType(ctx, t.ref[id]!, true, queue);
      state[id] = DONE;
      return strong;
    }
    case Kind.Array:
      return orderType(ctx, t.words[t.first[id]!]!, false, queue);
    case Kind.Struct: case Kind.Union: {
      // Only a named record behind a pointer can wait; an anonymous one is written inline.
      if (throughPtr && t.nameOff[id] !== 0) return false;
      state[id] = IN_PROGRESS;
      const f = t.first[id]!;
      const end = f + 3 * t.vlen[id]!;
      for (let e = f + 1; e < end; e += 3) orderType(ctx, t.words[e]!, false, queue);
      if (t.nameOff[id] !== 0) queue.push(id);
      state[id] = DONE;
      return true;
    }
    case Kind.Enum: case Kind.Enum64: case Kind.Fwd:
      // A named one is a top-level declaration; so is an anonymous enum nothing refers to
      // (a bag of constants). Other anonymous enums are written inline where used.
      if (t.nameOff[id] !== 0 || !ctx.referenced[id]) queue.push(id);
      state[id] = DONE;
      return true;
    case Kind.Typedef: {
      const strong = orderType(ctx, t.ref[id]!, throughPtr, queue);
      if (throughPtr && !strong) return false;
      queue.push(id);
      state[id] = DONE;
      return true;
    }
    case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
      return orderType(ctx, t.ref[id]!, throughPtr, queue);
    case Kind.FuncProto: {
      let strong = orderType(ctx, t.ref[id]!, throughPtr, queue);
      const f = t.first[id]!;
      const end = f + 2 * t.vlen[id]!;
      for (let e = f + 1; e < end; e += 2) {
        if (orderType(ctx, t.words[e]!, throughPtr, queue)) strong = true;
      }
      return strong;
    }
    default:
      // FUNC, VAR, DATASEC, DECL_TAG have no C type definition.
      state[id] = DONE;
      return false;
  }
}

/** {@link classify}: dumping the type now would queue nothing. */
export const INERT = 0;
/** {@link classify}: it would queue only forward declarations and enums, which need nothing themselves. */
export const LEAVES_ONLY = 1;
/** {@link classify}: anything else (or too deep to tell). */
export const UNKNOWN = 2;

/**
 * What dumping `id` now would do, found by walking the graph as {@link orderType} would,
 * without changing anything:
 * - {@link INERT}: queue nothing and so write nothing. It only marks integers, pointers and
 *   anonymous records as ordered, and only where no definition is missing.
 * - {@link LEAVES_ONLY}: queue only forward declarations and enums not written yet, whatever
 *   the strong/weak results of the walk (those only matter to typedefs, and it meets none).
 * - {@link UNKNOWN}: anything else.
 *
 * Within a run of types that bpftool orders only by hash and id, inert types may be dumped in
 * any order and anywhere in the run; the only order that shows is that of the leaves-only
 * types among themselves. See docs/C-HEADER.md.
 */
export function classify(ctx: CContext, id: number, throughPtr: boolean, depth = 0): number {
  const t = ctx.table;
  if (depth > 32) return UNKNOWN;
  let result = INERT;
  for (let hops = 0; hops < 64; hops++) {
    ctx.step();
    if (ctx.orderState[id] === DONE) return result;
    switch (t.kind[id]) {
      case Kind.Int: case Kind.Float: case Kind.Func: case Kind.Var: case Kind.Datasec: case Kind.DeclTag:
        return result;
      case Kind.Enum: case Kind.Enum64: case Kind.Fwd:
        return t.nameOff[id] !== 0 || !ctx.referenced[id] ? LEAVES_ONLY : result;
      case Kind.Ptr:
        id = t.ref[id]!;
        throughPtr = true;
        break;
      case Kind.Array:
        id = t.words[t.first[id]!]!;
        throughPtr = false;
        break;
      case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
        id = t.ref[id]!;
        break;
      case Kind.Struct: case Kind.Union: {
        if (t.nameOff[id] !== 0) return throughPtr ? result : UNKNOWN;
        // An anonymous record is ordered member by member, each as if embedded.
        const f = t.first[id]!;
        const end = f + 3 * t.vlen[id]!;
        for (let e = f + 1; e < end; e += 3) {
          result = Math.max(result, classify(ctx, t.words[e]!, false, depth + 1));
          if (result === UNKNOWN) return UNKNOWN;
        }
        return result;
      }
      case Kind.FuncProto: {
        const f = t.first[id]!;
        const end = f + 2 * t.vlen[id]!;
        for (let e = f + 1; e < end; e += 2) {
          result = Math.max(result, classify(ctx, t.words[e]!, throughPtr, depth + 1));
          if (result === UNKNOWN) return UNKNOWN;
        }
        id = t.ref[id]!;
        break;
      }
      default:
        return UNKNOWN;
    }
  }
  return UNKNOWN;
}

/**
 * Writes type `id` if it is not written yet. `container` is the named record being defined
 * around it (0 at the top level): references to it need no forward declaration, and only at
 * the top level are enums and records defined rather than referred to.
 */
function emitType(ctx: CContext, id: number, container: number): void {
  ctx.step();
  const state = ctx.emitState;
  if (state[id] === DONE) return;
  const t = ctx.table;
  const out = ctx.out;
  const kind = t.kind[id];

  if (state[id] === IN_PROGRESS) {
    // Reached again while being written: a forward declaration breaks the cycle.
    if (ctx.fwdEmitted[id]) return;
    if (kind === Kind.Struct || kind === Kind.Union) {
      if (id === container || t.nameOff[id] === 0) return;
      writeRecordRef(ctx, id);
      out.put(';\n\n');
      ctx.fwdEmitted[id] = 1;
    } else if (kind === Kind.Typedef) {
      // The typedef can only be used through a pointer at this point, which is all its
      // early definition has to support.
      if (!isBuiltinVaList(ctx, id)) {
        writeTypedefDef(ctx, id, 0);
        out.put(';\n\n');
      }
      ctx.fwdEmitted[id] = 1;
    }
    return;
  }

  switch (kind) {
    case Kind.Int:
      writeIntAlias(ctx, id);
      state[id] = DONE;
      break;
    case Kind.Enum: case Kind.Enum64:
      if (container === 0) {
        writeEnumDef(ctx, id, 0);
        out.put(';\n\n');
      }
      state[id] = DONE;
      break;
    case Kind.Ptr: case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
      emitType(ctx, t.ref[id]!, container);
      break;
    case Kind.Array:
      emitType(ctx, t.words[t.first[id]!]!, container);
      break;
    case Kind.Fwd:
      writeFwdRef(ctx, id);
      out.put(';\n\n');
      state[id] = DONE;
      break;
    case Kind.Typedef:
      state[id] = IN_PROGRESS;
      emitType(ctx, t.ref[id]!, id);
      if (!ctx.fwdEmitted[id] && !isBuiltinVaList(ctx, id)) {
        writeTypedefDef(ctx, id, 0);
        out.put(';\n\n');
      }
      state[id] = DONE;
      break;
    case Kind.Struct: case Kind.Union: {
      state[id] = IN_PROGRESS;
      const named = t.nameOff[id] !== 0;
      if (container === 0 || !named) {
        // The body will be written out, so every member type needs at least a declaration.
        const inner = named ? id : container;
        const f = t.first[id]!;
        const end = f + 3 * t.vlen[id]!;
        for (let e = f + 1; e < end; e += 3) emitType(ctx, t.words[e]!, inner);
      } else if (!ctx.fwdEmitted[id] && id !== container) {
        writeRecordRef(ctx, id);
        out.put(';\n\n');
        ctx.fwdEmitted[id] = 1;
      }
      if (container === 0) {
        writeRecordDef(ctx, id, 0);
        out.put(';\n\n');
        state[id] = DONE;
      } else {
        state[id] = NOT_YET;
      }
      break;
    }
    case Kind.FuncProto: {
      emitType(ctx, t.ref[id]!, container);
      const f = t.first[id]!;
      const end = f + 2 * t.vlen[id]!;
      for (let e = f + 1; e < end; e += 2) emitType(ctx, t.words[e]!, container);
      break;
    }
    default:
      break;
  }
}

function isBuiltinVaList(ctx: CContext, id: number): boolean {
  return ctx.table.nameOff[id] !== 0 && ctx.table.equalsAt(ctx.table.nameOff[id]!, BUILTIN_VA_LIST);
}

/** `typedef <declaration of the target named as the typedef>`. */
export function writeTypedefDef(ctx: CContext, id: number, lvl: number): void {
  const name = ctx.names.typedefName(id);
  // Old GCC describes __gnuc_va_list as a typedef of void; the compiler's own type is meant.
  if (ctx.table.ref[id] === 0 && nameIs(ctx, name, GNUC_VA_LIST)) {
    ctx.out.put('typedef __builtin_va_list __gnuc_va_list');
    return;
  }
  ctx.out.put('typedef ');
  writeDecl(ctx, ctx.table.ref[id]!, name, lvl);
}

/**
 * Types GCC emits for Arm SIMD intrinsics that clang does not know by these names. Looking the
 * name up also settles it in the tag namespace, as libbpf does for every integer it emits.
 */
const MISSING_BASE_TYPES = new Map([
  ['__Poly8_t', 'unsigned char'],
  ['__Poly16_t', 'unsigned short'],
  ['__Poly64_t', 'unsigned long long'],
  ['__Poly128_t', 'unsigned __int128'],
]);

function writeIntAlias(ctx: CContext, id: number): void {
  const settled = ctx.names.tagName(id);
  // All four names start with "__P"; most integers are spared making a string.
  if (typeof settled === 'number' && !ctx.table.equalsAt(settled, '__P', true)) return;
  const name = typeof settled === 'number' ? ctx.table.str(settled) : settled;
  const alias = MISSING_BASE_TYPES.get(name);
  if (alias !== undefined) ctx.out.put(`typedef ${alias} ${name};\n\n`);
}
