import { BtfError } from '../../errors.js';
import { WireKind as Kind } from '../../format/kinds.js';
import { WALK_FRAME, type CContext } from './context.js';
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
  orderType(ctx, id, queue);
  for (let i = 0; i < queue.length; i++) emitType(ctx, queue[i]!);
}

/** Walk frame flags: the walk came through a pointer; some child was strong; some child is not DONE. */
const THROUGH_PTR = 1;
const SOME_STRONG = 2;
const SOME_PENDING = 4;

/**
 * Depth-first topological ordering from `root`, queueing named records, enums, forward
 * declarations and typedefs once their own strong dependencies are queued. Each type's walk
 * yields "strong" when the path to it is a strong link (its definition must come first: it is
 * embedded, or anonymous and so written inline) and "weak" for a weak one (a forward
 * declaration is enough: reached through a pointer to a named type). libbpf's
 * btf_dump_order_type, with an explicit stack of frames instead of recursion.
 *
 * One addition: qualifiers, arrays, type tags and prototypes, which libbpf walks again every
 * time it meets them, are marked done once everything they lead to directly is done. Walking
 * them again would find only done types and yield "strong", which is what a done type yields,
 * so the result is the same; without the mark a chain of n qualifiers, each dumped in turn,
 * costs n^2/2 steps.
 */
function orderType(ctx: CContext, root: number, queue: number[]): void {
  const t = ctx.table;
  const { kind, nameOff, ref, first, vlen, words } = t;
  const state = ctx.orderState;
  const referenced = ctx.referenced;
  let frames = ctx.walkFrames;
  let depth = 0;
  let id = root;
  let throughPtr = false;
  walk: for (;;) {
    // Enter `id`: either its result is known at once, or a frame is pushed and the walk goes
    // down to its first child.
    let strong: boolean;
    enter: {
      ctx.step();
      const s = state[id];
      if (s === DONE) {
        strong = true;
        break enter;
      }
      const k = kind[id];
      if (s === IN_PROGRESS) {
        // A cycle is fine when it passes through a pointer to a named record: forward-declare it.
        if ((k === Kind.Struct || k === Kind.Union) && throughPtr && nameOff[id] !== 0) {
          strong = false;
          break enter;
        }
        throw new BtfError('type-loop', 'type cycle C cannot express (a type contains itself, or an anonymous type refers to itself)', { typeId: id });
      }
      let child: number;
      switch (k) {
        case Kind.Int: case Kind.Float:
          state[id] = DONE;
          strong = false;
          break enter;
        case Kind.Ptr:
          child = ref[id]!;
          break;
        case Kind.Array:
          child = words[first[id]!]!;
          break;
        case Kind.Struct: case Kind.Union: {
          // Only a named record behind a pointer can wait; an anonymous one is written inline.
          if (throughPtr && nameOff[id] !== 0) {
            strong = false;
            break enter;
          }
          state[id] = IN_PROGRESS;
          if (vlen[id] === 0) {
            if (nameOff[id] !== 0) queue.push(id);
            state[id] = DONE;
            strong = true;
            break enter;
          }
          child = words[first[id]! + 1]!;
          break;
        }
        case Kind.Enum: case Kind.Enum64: case Kind.Fwd:
          // A named one is a top-level declaration; so is an anonymous enum nothing refers to
          // (a bag of constants). Other anonymous enums are written inline where used.
          if (nameOff[id] !== 0 || !referenced[id]) queue.push(id);
          state[id] = DONE;
          strong = true;
          break enter;
        case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
        case Kind.FuncProto:
          child = ref[id]!;
          break;
        default:
          // FUNC, VAR, DATASEC, DECL_TAG have no C type definition.
          state[id] = DONE;
          strong = false;
          break enter;
      }
      const at = depth * WALK_FRAME;
      if (at + WALK_FRAME > frames.length) frames = ctx.growWalkFrames(at + WALK_FRAME);
      frames[at] = id;
      // Records go on with member 1, prototypes with parameter 0 (the return type is first).
      frames[at + 1] = k === Kind.Struct || k === Kind.Union ? 1 : 0;
      frames[at + 3] = throughPtr ? THROUGH_PTR : 0;
      depth++;
      id = child;
      if (k === Kind.Ptr) throughPtr = true;
      else if (k === Kind.Array || k === Kind.Struct || k === Kind.Union) throughPtr = false;
      continue walk;
    }

    // Hand `strong` up the frames until one has another child to walk.
    for (;;) {
      if (depth === 0) return;
      const at = (depth - 1) * WALK_FRAME;
      const fid = frames[at]!;
      switch (kind[fid]) {
        case Kind.Ptr:
          state[fid] = DONE;
          break;
        case Kind.Array:
          if (state[words[first[fid]!]!] === DONE) state[fid] = DONE;
          break;
        case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
          if (state[ref[fid]!] === DONE) state[fid] = DONE;
          break;
        case Kind.Typedef:
          if ((frames[at + 3]! & THROUGH_PTR) !== 0 && !strong) break;
          queue.push(fid);
          state[fid] = DONE;
          strong = true;
          break;
        case Kind.Struct: case Kind.Union: {
          const next = frames[at + 1]!;
          if (next < vlen[fid]!) {
            frames[at + 1] = next + 1;
            id = words[first[fid]! + 3 * next + 1]!;
            throughPtr = false;
            continue walk;
          }
          if (nameOff[fid] !== 0) queue.push(fid);
          state[fid] = DONE;
          strong = true;
          break;
        }
        default: {
          // A prototype: the return type, then each parameter, strong if any of them is.
          const next = frames[at + 1]!;
          let flags = frames[at + 3]!;
          if (strong) flags |= SOME_STRONG;
          const walked = next === 0 ? ref[fid]! : words[first[fid]! + 2 * next - 1]!;
          if (state[walked] !== DONE) flags |= SOME_PENDING;
          if (next < vlen[fid]!) {
            frames[at + 1] = next + 1;
            frames[at + 3] = flags;
            id = words[first[fid]! + 2 * next + 1]!;
            throughPtr = (flags & THROUGH_PTR) !== 0;
            continue walk;
          }
          strong = (flags & SOME_STRONG) !== 0;
          if ((flags & SOME_PENDING) === 0) state[fid] = DONE;
          break;
        }
      }
      depth--;
    }
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

/** Emit frame flag: some child could do more when walked again (see {@link emitType}). */
const UNSETTLED = 1;

/**
 * Writes type `root` (queued by {@link orderType}) at the top level, and before it whatever
 * its definition needs that is not written yet: forward declarations of records it reaches
 * through pointers, typedefs, and the aliases of integers. libbpf's btf_dump_emit_type, with an
 * explicit stack of frames instead of recursion.
 *
 * Each frame remembers its `container`: the named record or typedef being defined around the
 * type (0 at the top level). References to the container need no forward declaration, and only
 * at the top level are enums and records defined rather than referred to.
 *
 * As in {@link orderType}, qualifiers, pointers, arrays, prototypes and anonymous records are
 * marked done once walking them again could do nothing: when every type they lead to directly
 * is done or already forward-declared. (They are only ever walked inside a container, where a
 * done or forward-declared type writes nothing.)
 */
function emitType(ctx: CContext, root: number): void {
  const t = ctx.table;
  const { kind, nameOff, ref, first, vlen, words } = t;
  const state = ctx.emitState;
  const fwdEmitted = ctx.fwdEmitted;
  const out = ctx.out;
  let frames = ctx.walkFrames;
  let depth = 0;
  let id = root;
  let container = 0;
  walk: for (;;) {
    // Whether walking `id` again (inside any container) would write nothing and change nothing.
    let settled: boolean;
    enter: {
      ctx.step();
      const s = state[id];
      if (s === DONE) {
        settled = true;
        break enter;
      }
      const k = kind[id];
      if (s === IN_PROGRESS) {
        // Reached again while being written: a forward declaration breaks the cycle.
        if (!fwdEmitted[id]) {
          if (k === Kind.Struct || k === Kind.Union) {
            if (id !== container && nameOff[id] !== 0) {
              writeRecordRef(ctx, id);
              out.put(';\n\n');
              fwdEmitted[id] = 1;
            }
          } else if (k === Kind.Typedef) {
            // The typedef can only be used through a pointer at this point, which is all its
            // early definition has to support.
            if (!isBuiltinVaList(ctx, id)) {
              writeTypedefDef(ctx, id, 0);
              out.put(';\n\n');
            }
            fwdEmitted[id] = 1;
          }
        }
        settled = fwdEmitted[id] === 1;
        break enter;
      }
      let child: number;
      let inner = container;
      switch (k) {
        case Kind.Int:
          writeIntAlias(ctx, id);
          state[id] = DONE;
          settled = true;
          break enter;
        case Kind.Enum: case Kind.Enum64:
          if (container === 0) {
            writeEnumDef(ctx, id, 0);
            out.put(';\n\n');
          }
          state[id] = DONE;
          settled = true;
          break enter;
        case Kind.Ptr: case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
        case Kind.FuncProto:
          child = ref[id]!;
          break;
        case Kind.Array:
          child = words[first[id]!]!;
          break;
        case Kind.Fwd:
          writeFwdRef(ctx, id);
          out.put(';\n\n');
          state[id] = DONE;
          settled = true;
          break enter;
        case Kind.Typedef:
          state[id] = IN_PROGRESS;
          child = ref[id]!;
          inner = id;
          break;
        case Kind.Struct: case Kind.Union: {
          state[id] = IN_PROGRESS;
          const named = nameOff[id] !== 0;
          if (container === 0 || !named) {
            // The body will be written out, so every member type needs at least a declaration.
            if (vlen[id] !== 0) {
              child = words[first[id]! + 1]!;
              if (named) inner = id;
              break;
            }
            settled = finishRecord(ctx, id, container, false);
            break enter;
          }
          if (!fwdEmitted[id] && id !== container) {
            writeRecordRef(ctx, id);
            out.put(';\n\n');
            fwdEmitted[id] = 1;
          }
          state[id] = NOT_YET;
          settled = fwdEmitted[id] === 1;
          break enter;
        }
        default:
          settled = true;
          break enter;
      }
      const at = depth * WALK_FRAME;
      if (at + WALK_FRAME > frames.length) frames = ctx.growWalkFrames(at + WALK_FRAME);
      frames[at] = id;
      // Records go on with member 1, prototypes with parameter 0 (the return type is first).
      frames[at + 1] = k === Kind.Struct || k === Kind.Union ? 1 : 0;
      frames[at + 2] = container;
      frames[at + 3] = 0;
      depth++;
      id = child;
      container = inner;
      continue walk;
    }

    // Hand `settled` up the frames until one has another child to walk.
    for (;;) {
      if (depth === 0) return;
      const at = (depth - 1) * WALK_FRAME;
      const fid = frames[at]!;
      const k = kind[fid];
      if (k === Kind.Struct || k === Kind.Union || k === Kind.FuncProto) {
        const next = frames[at + 1]!;
        const flags = frames[at + 3]! | (settled ? 0 : UNSETTLED);
        if (next < vlen[fid]!) {
          frames[at + 1] = next + 1;
          frames[at + 3] = flags;
          const outer = frames[at + 2]!;
          if (k === Kind.FuncProto) {
            id = words[first[fid]! + 2 * next + 1]!;
            container = outer;
          } else {
            id = words[first[fid]! + 3 * next + 1]!;
            container = nameOff[fid] !== 0 ? fid : outer;
          }
          continue walk;
        }
        if (k === Kind.FuncProto) {
          settled = flags === 0;
          if (settled) state[fid] = DONE;
        } else {
          settled = finishRecord(ctx, fid, frames[at + 2]!, flags !== 0);
        }
      } else if (k === Kind.Typedef) {
        if (!fwdEmitted[fid] && !isBuiltinVaList(ctx, fid)) {
          writeTypedefDef(ctx, fid, 0);
          out.put(';\n\n');
        }
        state[fid] = DONE;
        settled = true;
      } else if (settled) {
        // A pointer, qualifier, type tag or array.
        state[fid] = DONE;
      }
      depth--;
    }
  }
}

/**
 * Ends the walk of a record whose members are walked: at the top level its definition is
 * written; inside a container it was only visited (an anonymous record is written inline where
 * used, so the next use walks it again, unless that could do nothing). Returns whether walking
 * it again would do nothing.
 */
function finishRecord(ctx: CContext, id: number, container: number, unsettled: boolean): boolean {
  if (container === 0) {
    writeRecordDef(ctx, id, 0);
    ctx.out.put(';\n\n');
    ctx.emitState[id] = DONE;
    return true;
  }
  ctx.emitState[id] = unsettled ? NOT_YET : DONE;
  return !unsettled;
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
