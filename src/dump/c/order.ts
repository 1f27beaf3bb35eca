import { BtfError } from '../../errors.js';
import { WireKind as Kind } from '../../format/kinds.js';
import { Rec } from '../../format/records.js';
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
  // Most types are ordered (hence written) by the time their turn comes.
  if (ctx.orderState[id] === DONE) {
    if (--ctx.stepsLeft < 0) ctx.outOfSteps();
    return;
  }
  const queue = ctx.queue;
  queue.length = 0;
  orderType(ctx, id, queue);
  for (let i = 0; i < queue.length; i++) emitType(ctx, queue[i]!);
}

/**
 * The walks below keep a stack of frames, one per type whose children are being walked: its
 * id, the index of its next child, a third field (the last child walked when ordering, the
 * container around the type when emitting), and flags. Children are members, a prototype's
 * return type then parameters, or the one type a pointer, array, qualifier, tag or typedef
 * leads to.
 */

/** Walk frame flags: the walk came through a pointer; some child was strong; some child is not done. */
const THROUGH_PTR = 1;
const SOME_STRONG = 2;
const SOME_PENDING = 4;

/** What entering a type yields besides a result: it has children to walk (a frame is pushed). */
const WALK_CHILDREN = -1;

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
  const { kind, ref, vlen, first, words } = ctx.table;
  const state = ctx.orderState;
  let frames = ctx.walkFrames;
  let depth = 0;
  // The top frame lives in these locals; the frames below it in `frames`.
  let fid = 0;
  let k = 0;
  let next = 0;
  let last = 0;
  let flags = 0;
  let id = root;
  let throughPtr = false;
  for (;;) {
    if (--ctx.stepsLeft < 0) ctx.outOfSteps();
    let strong = true;
    let returned = true;
    const s = state[id];
    if (s !== DONE) {
      const entered = orderEnter(ctx, id, throughPtr, s === IN_PROGRESS, queue);
      if (entered === WALK_CHILDREN) {
        if (depth > 0) {
          const at = (depth - 1) * WALK_FRAME;
          if (at + WALK_FRAME > frames.length) frames = ctx.growWalkFrames(at + WALK_FRAME);
          frames[at] = fid;
          frames[at + 1] = next;
          frames[at + 2] = last;
          frames[at + 3] = flags;
        }
        depth++;
        fid = id;
        k = kind[id]!;
        next = 0;
        flags = throughPtr ? THROUGH_PTR : 0;
        returned = false;
      } else {
        strong = entered === 1;
      }
    }
    // Hand the result up the frames until one has another child to walk. Walking a done type
    // yields "strong" at once, so done children (most of them) are not entered.
    for (;;) {
      if (depth === 0) return;
      let child = -1;
      if (k === Kind.Struct || k === Kind.Union) {
        // A record is strong whatever its members yield.
        const n = vlen[fid]!;
        // Members' types read inline with Rec's word constants: a call per field costs ~8%
        // with TurboFan inlining off (the CLI).
        for (let e = first[fid]! + Rec.MEMBER_WORDS * next + Rec.MEMBER_TYPE_WORD; next < n; e += Rec.MEMBER_WORDS) {
          const member = words[e]!;
          next++;
          if (state[member] !== DONE) {
            child = member;
            break;
          }
          if (--ctx.stepsLeft < 0) ctx.outOfSteps();
        }
      } else {
        if (returned) {
          if (strong) flags |= SOME_STRONG;
          if (state[last] !== DONE) flags |= SOME_PENDING;
        }
        // The return type and parameters of a prototype, or the one type a link leads to.
        for (;;) {
          if (k === Kind.FuncProto) {
            if (next === 0) child = ref[fid]!;
            else if (next <= vlen[fid]!) child = words[first[fid]! + Rec.PARAM_WORDS * (next - 1) + Rec.PARAM_TYPE_WORD]!;
            else break;
          } else if (next === 0) {
            child = k === Kind.Array ? words[first[fid]! + Rec.ARRAY_TYPE_WORD]! : ref[fid]!;
          } else {
            break;
          }
          next++;
          if (state[child] !== DONE) break;
          if (--ctx.stepsLeft < 0) ctx.outOfSteps();
          flags |= SOME_STRONG;
          child = -1;
        }
        last = child;
      }
      if (child >= 0) {
        id = child;
        if (k === Kind.Ptr) throughPtr = true;
        else if (k === Kind.Array || k === Kind.Struct || k === Kind.Union) throughPtr = false;
        else throughPtr = (flags & THROUGH_PTR) !== 0;
        break;
      }
      strong = orderFinish(ctx, fid, flags, queue);
      returned = true;
      if (--depth > 0) {
        const at = (depth - 1) * WALK_FRAME;
        fid = frames[at]!;
        k = kind[fid]!;
        next = frames[at + 1]!;
        last = frames[at + 2]!;
        flags = frames[at + 3]!;
      }
    }
  }
}

/**
 * Enters type `id` (not yet ordered) in the ordering walk: 1 (strong) or 0 (weak) for a type
 * settled at once, or {@link WALK_CHILDREN}.
 */
function orderEnter(ctx: CContext, id: number, throughPtr: boolean, inProgress: boolean, queue: number[]): number {
  const t = ctx.table;
  const state = ctx.orderState;
  const k = t.kind[id];
  if (inProgress) {
    // A cycle is fine when it passes through a pointer to a named record: forward-declare it.
    if ((k === Kind.Struct || k === Kind.Union) && throughPtr && t.nameOff[id] !== 0) return 0;
    throw new BtfError('type-loop', 'type cycle C cannot express (a type contains itself, or an anonymous type refers to itself)', { typeId: id });
  }
  switch (k) {
    case Kind.Int: case Kind.Float:
      state[id] = DONE;
      return 0;
    case Kind.Struct: case Kind.Union:
      // Only a named record behind a pointer can wait; an anonymous one is written inline.
      if (throughPtr && t.nameOff[id] !== 0) return 0;
      state[id] = IN_PROGRESS;
      return WALK_CHILDREN;
    case Kind.Enum: case Kind.Enum64: case Kind.Fwd:
      // A named one is a top-level declaration; so is an anonymous enum nothing refers to
      // (a bag of constants). Other anonymous enums are written inline where used.
      if (t.nameOff[id] !== 0 || !ctx.referenced[id]) queue.push(id);
      state[id] = DONE;
      return 1;
    case Kind.Ptr: case Kind.Array: case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
    case Kind.TypeTag: case Kind.FuncProto:
      return WALK_CHILDREN;
    default:
      // FUNC, VAR, DATASEC, DECL_TAG have no C type definition.
      state[id] = DONE;
      return 0;
  }
}

/** Ends the ordering walk of `id`, whose children are walked (`flags`); returns whether it is strong. */
function orderFinish(ctx: CContext, id: number, flags: number, queue: number[]): boolean {
  const state = ctx.orderState;
  const strong = (flags & SOME_STRONG) !== 0;
  switch (ctx.table.kind[id]) {
    case Kind.Ptr:
      state[id] = DONE;
      return strong;
    case Kind.Typedef:
      if ((flags & THROUGH_PTR) !== 0 && !strong) return false;
      queue.push(id);
      state[id] = DONE;
      return true;
    case Kind.Struct: case Kind.Union:
      if (ctx.table.nameOff[id] !== 0) queue.push(id);
      state[id] = DONE;
      return true;
    default:
      // Qualifiers, type tags, arrays, prototypes: done once what they lead to is.
      if ((flags & SOME_PENDING) === 0) state[id] = DONE;
      return strong;
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
    if (--ctx.stepsLeft < 0) ctx.outOfSteps();
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
        id = t.words[t.first[id]! + Rec.ARRAY_TYPE_WORD]!;
        throughPtr = false;
        break;
      case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
        id = t.ref[id]!;
        break;
      case Kind.Struct: case Kind.Union: {
        if (t.nameOff[id] !== 0) return throughPtr ? result : UNKNOWN;
        // An anonymous record is ordered member by member, each as if embedded.
        const f = t.first[id]!;
        const end = f + Rec.MEMBER_WORDS * t.vlen[id]!;
        for (let e = f + Rec.MEMBER_TYPE_WORD; e < end; e += Rec.MEMBER_WORDS) {
          result = Math.max(result, classify(ctx, t.words[e]!, false, depth + 1));
          if (result === UNKNOWN) return UNKNOWN;
        }
        return result;
      }
      case Kind.FuncProto: {
        const f = t.first[id]!;
        const end = f + Rec.PARAM_WORDS * t.vlen[id]!;
        for (let e = f + Rec.PARAM_TYPE_WORD; e < end; e += Rec.PARAM_WORDS) {
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
 * The walk carries a `container`: the named record or typedef being defined around the type
 * (0 at the top level). References to the container need no forward declaration, and only at
 * the top level are enums and records defined rather than referred to.
 *
 * As in {@link orderType}, qualifiers, pointers, arrays, prototypes and anonymous records are
 * marked done once walking them again could do nothing: when every type they lead to directly
 * is done or already forward-declared. (They are only ever walked inside a container, where a
 * done or forward-declared type writes nothing.)
 */
function emitType(ctx: CContext, root: number): void {
  const { kind, nameOff, ref, vlen, first, words } = ctx.table;
  const state = ctx.emitState;
  let frames = ctx.walkFrames;
  let depth = 0;
  // The top frame lives in these locals (`outer`: the container around it); the frames below
  // it in `frames`.
  let fid = 0;
  let k = 0;
  let next = 0;
  let outer = 0;
  let flags = 0;
  let id = root;
  let container = 0;
  for (;;) {
    if (--ctx.stepsLeft < 0) ctx.outOfSteps();
    // Whether walking the type again (inside any container) would write nothing, change nothing.
    let settled = true;
    let returned = true;
    if (state[id] !== DONE) {
      const entered = emitEnter(ctx, id, container);
      if (entered === WALK_CHILDREN) {
        if (depth > 0) {
          const at = (depth - 1) * WALK_FRAME;
          if (at + WALK_FRAME > frames.length) frames = ctx.growWalkFrames(at + WALK_FRAME);
          frames[at] = fid;
          frames[at + 1] = next;
          frames[at + 2] = outer;
          frames[at + 3] = flags;
        }
        depth++;
        fid = id;
        k = kind[id]!;
        next = 0;
        outer = container;
        flags = 0;
        returned = false;
      } else {
        settled = entered === 1;
      }
    }
    // Hand the result up the frames until one has another child to walk. Walking a done type
    // does nothing, so done children (most of them) are not entered.
    for (;;) {
      if (depth === 0) return;
      if (returned && !settled) flags |= UNSETTLED;
      let child = -1;
      if (k === Kind.Struct || k === Kind.Union) {
        const n = vlen[fid]!;
        // The same child search as orderType's, kept inline here too: as a shared function it
        // would be a call per member walked, and the CLI runs V8 without inlining.
        // Members' types read inline with Rec's word constants: a call per field costs ~8%
        // with TurboFan inlining off (the CLI).
        for (let e = first[fid]! + Rec.MEMBER_WORDS * next + Rec.MEMBER_TYPE_WORD; next < n; e += Rec.MEMBER_WORDS) {
          const member = words[e]!;
          next++;
          if (state[member] !== DONE) {
            child = member;
            break;
          }
          if (--ctx.stepsLeft < 0) ctx.outOfSteps();
        }
      } else {
        // The return type and parameters of a prototype, or the one type a link leads to.
        for (;;) {
          if (k === Kind.FuncProto) {
            if (next === 0) child = ref[fid]!;
            else if (next <= vlen[fid]!) child = words[first[fid]! + Rec.PARAM_WORDS * (next - 1) + Rec.PARAM_TYPE_WORD]!;
            else break;
          } else if (next === 0) {
            child = k === Kind.Array ? words[first[fid]! + Rec.ARRAY_TYPE_WORD]! : ref[fid]!;
          } else {
            break;
          }
          next++;
          if (state[child] !== DONE) break;
          if (--ctx.stepsLeft < 0) ctx.outOfSteps();
          child = -1;
        }
      }
      if (child >= 0) {
        id = child;
        container = k === Kind.Typedef || ((k === Kind.Struct || k === Kind.Union) && nameOff[fid] !== 0) ? fid : outer;
        break;
      }
      settled = emitFinish(ctx, fid, outer, flags !== 0);
      returned = true;
      if (--depth > 0) {
        const at = (depth - 1) * WALK_FRAME;
        fid = frames[at]!;
        k = kind[fid]!;
        next = frames[at + 1]!;
        outer = frames[at + 2]!;
        flags = frames[at + 3]!;
      }
    }
  }
}

/**
 * Enters type `id` (not yet emitted) in the emitting walk inside `container`: 1 when walking it
 * again would do nothing, 0 when it might, or {@link WALK_CHILDREN}.
 */
function emitEnter(ctx: CContext, id: number, container: number): number {
  const t = ctx.table;
  const state = ctx.emitState;
  const fwdEmitted = ctx.fwdEmitted;
  const out = ctx.out;
  const k = t.kind[id];
  if (state[id] === IN_PROGRESS) {
    // Reached again while being written: a forward declaration breaks the cycle.
    if (!fwdEmitted[id]) {
      if (k === Kind.Struct || k === Kind.Union) {
        if (id !== container && t.nameOff[id] !== 0) {
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
    return fwdEmitted[id]!;
  }
  switch (k) {
    case Kind.Int:
      writeIntAlias(ctx, id);
      state[id] = DONE;
      return 1;
    case Kind.Enum: case Kind.Enum64:
      if (container === 0) {
        writeEnumDef(ctx, id, 0);
        out.put(';\n\n');
      }
      state[id] = DONE;
      return 1;
    case Kind.Fwd:
      writeFwdRef(ctx, id);
      out.put(';\n\n');
      state[id] = DONE;
      return 1;
    case Kind.Ptr: case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
    case Kind.FuncProto: case Kind.Array:
      return WALK_CHILDREN;
    case Kind.Typedef:
      state[id] = IN_PROGRESS;
      return WALK_CHILDREN;
    case Kind.Struct: case Kind.Union:
      state[id] = IN_PROGRESS;
      // The body will be written out, so every member type needs at least a declaration.
      if (container === 0 || t.nameOff[id] === 0) return WALK_CHILDREN;
      if (!fwdEmitted[id] && id !== container) {
        writeRecordRef(ctx, id);
        out.put(';\n\n');
        fwdEmitted[id] = 1;
      }
      state[id] = NOT_YET;
      return fwdEmitted[id]!;
    default:
      return 1;
  }
}

/**
 * Ends the emitting walk of `id`, whose children are walked, inside `container`; `unsettled`:
 * some child could do more when walked again. Returns whether walking `id` again would do
 * nothing.
 */
function emitFinish(ctx: CContext, id: number, container: number, unsettled: boolean): boolean {
  const state = ctx.emitState;
  switch (ctx.table.kind[id]) {
    case Kind.Typedef:
      if (!ctx.fwdEmitted[id] && !isBuiltinVaList(ctx, id)) {
        writeTypedefDef(ctx, id, 0);
        ctx.out.put(';\n\n');
      }
      state[id] = DONE;
      return true;
    case Kind.Struct: case Kind.Union:
      // At the top level the definition is written; inside a container the record was only
      // visited (an anonymous record is written inline where used, so the next use walks it
      // again, unless that could do nothing).
      if (container === 0) {
        writeRecordDef(ctx, id, 0);
        ctx.out.put(';\n\n');
        state[id] = DONE;
        return true;
      }
      state[id] = unsettled ? NOT_YET : DONE;
      return !unsettled;
    default:
      // Pointers, qualifiers, type tags, arrays, prototypes.
      if (!unsettled) state[id] = DONE;
      return !unsettled;
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
