import type { Btf } from '../../btf/btf.js';
import { BtfError } from '../../errors.js';
import { Kind, WireKind } from '../../format/kinds.js';
import { ByteSink } from '../sink.js';
import { CContext, CText } from './context.js';
import { writeDecl } from './decl.js';
import { classify, DONE, dumpType, LEAVES_ONLY, UNKNOWN } from './order.js';
import { C_EPILOGUE, C_PRELUDE, writeKfuncs } from './prelude.js';
import { DisambiguationHash, sortByNames, type NameOrder } from './sort.js';
import { TypeTable } from './table.js';

export { sortedTypeIds, sortByNames, NameOrder, typeRank, sortNameOffset, DisambiguationHash } from './sort.js';
export { TypeTable } from './table.js';
export { C_PRELUDE, C_EPILOGUE, KFUNC_TAG, FASTCALL_TAG } from './prelude.js';

/** Options for {@link dumpC}. */
export interface CDumpOptions {
  /**
   * Sort types as bpftool does by default (so the header stays stable when unrelated types
   * change); false keeps BTF order (bpftool's `format c unsorted`). Default true.
   */
  sorted?: boolean;
  /**
   * Write only these types and what they depend on, in this order (bpftool's `root_id`). No
   * kfunc prototypes are written then, and `sorted` does not apply.
   */
  roots?: readonly number[];
}

/**
 * Writes a C header for `btf`, byte for byte what bpftool v7.8 prints for
 * `bpftool btf dump file FILE format c` (with `--base-btf` for split BTF, whose base types are
 * written too): include guard, CO-RE pragma, every type in an order C accepts with the forward
 * declarations that break cycles, explicit padding and `packed` where the layout needs them,
 * `___N` suffixes on clashing names, and the kfunc prototypes.
 *
 * Throws a {@link BtfError} for BTF libbpf would refuse (bad type or string references, kinds
 * without a C form, type cycles C cannot express).
 *
 * @example
 * ```ts
 * const sink = new ByteSink();
 * dumpC(btf, sink);
 * const header = new TextDecoder().decode(sink.toBytes());
 * ```
 */
export function dumpC(btf: Btf, sink: ByteSink, opts: CDumpOptions = {}): void {
  const table = new TypeTable(btf);
  const ctx = new CContext(table, new CText(sink, outputBudget(btf)));
  const roots = opts.roots;
  if (roots) {
    for (const id of roots) {
      if (!Number.isInteger(id) || id < 0 || id >= table.count) {
        throw new BtfError('bad-type-id', `root type ${id} does not exist (ids run from 1 to ${table.count - 1})`);
      }
    }
  }
  ctx.out.put(C_PRELUDE);
  if (roots) {
    for (const id of roots) dumpType(ctx, id);
  } else {
    if (opts.sorted ?? true) {
      dumpSorted(ctx);
    } else {
      for (let id = 1; id < table.count; id++) dumpType(ctx, id);
    }
    writeKfuncs(ctx);
  }
  ctx.out.put(C_EPILOGUE);
}

/**
 * Dumps every type in bpftool's sorted order. Types tied on rank and both names are ordered by
 * hash, then id; hashes are computed only where that order can show. Dumping most tied types
 * (pointers, qualifiers, prototypes, anonymous records of types already written) writes
 * nothing, and such types may go anywhere in their run; when the others of a run only queue
 * forward declarations and enums, only their order among themselves needs the hash. The last
 * rank, most of the types, is not sorted at all unless it has to be (see dumpLastRank).
 */
function dumpSorted(ctx: CContext): void {
  const order = sortByNames(ctx.table, true);
  const hasher = new DisambiguationHash(ctx.table);
  dumpStretch(ctx, order, hasher, 0, order.lastRankStart);
  if (!dumpLastRank(ctx, order, hasher)) {
    const full = sortByNames(ctx.table);
    dumpStretch(ctx, full, hasher, full.lastRankStart, full.ids.length);
  }
}

/** Dumps the types at positions `[start, end)` of `order`, a stretch of whole runs of ties. */
function dumpStretch(ctx: CContext, order: NameOrder, hasher: DisambiguationHash, start: number, end: number): void {
  const ids = order.ids;
  const leaves: number[] = [];
  for (let i = start; i < end;) {
    const runEnd = order.runEnd(i);
    // The first run is always ordered in full: its first type is the one bpftool leaves out.
    if (runEnd - i > 1) {
      if (i === 0) order.sortRun(i, runEnd, hasher);
      else placeRun(ctx, order, i, runEnd, hasher, leaves);
    }
    // bpftool walks the sorted list from its second entry, as if the first were void; the type
    // sorting first (an anonymous enum, when there is one) is left out unless another type
    // pulls it in.
    for (let k = i === 0 ? 1 : i; k < runEnd; k++) dumpType(ctx, ids[k]!);
    i = runEnd;
  }
}

/**
 * Dumps the last rank (functions, variables, pointers, anonymous prototypes and records: nine
 * types in ten) sorting only what can show, and returns true; returns false, having written
 * nothing, when that is not possible and the rank must be sorted in full.
 *
 * By the time bpftool reaches this rank, nearly all of its types are inert: dumping them
 * writes nothing. In a kernel the rest are a few pointers to forward declarations, which queue
 * only leaves. When every type of the rank is one or the other, the inert ones can be dropped
 * (the marks their dumps leave only cut short walks that would queue nothing) and only the
 * leaves-only ones are sorted (with every key) and dumped. The type bpftool leaves out is
 * never one of them: it is the first of the whole order, of a lower rank, or void (id 0),
 * which sorts first in this rank and writes nothing.
 */
function dumpLastRank(ctx: CContext, order: NameOrder, hasher: DisambiguationHash): boolean {
  const ids = order.ids;
  const t = ctx.table;
  const shown: number[] = [];
  const { kind } = t;
  const ordered = ctx.orderState;
  for (let k = order.lastRankStart; k < ids.length; k++) {
    const id = ids[k]!;
    // Most of the rank needs no walk: functions, variables and sections write nothing, nor
    // does a type already ordered (void included).
    const kk = kind[id]!;
    if (ordered[id] === DONE || kk === WireKind.Func || kk === WireKind.Var || kk === WireKind.Datasec || kk === WireKind.DeclTag) continue;
    const c = classify(ctx, id, false);
    if (c === UNKNOWN) return false;
    if (c === LEAVES_ONLY) shown.push(id);
  }
  shown.sort((a, b) => order.compareNames(a, b) || hasher.compare(a, b) || a - b);
  for (const id of shown) dumpType(ctx, id);
  return true;
}

/**
 * Arranges the run `[start, end)` so that dumping it in place writes what bpftool writes:
 * in full hash order if some type in it could do more than queue leaves, else with the inert
 * types first (id order) and the leaves-only ones after them in hash order.
 */
function placeRun(ctx: CContext, order: NameOrder, start: number, end: number, hasher: DisambiguationHash, leaves: number[]): void {
  const ids = order.ids;
  leaves.length = 0;
  for (let k = start; k < end; k++) {
    const c = classify(ctx, ids[k]!, false);
    if (c === UNKNOWN) {
      order.sortRun(start, end, hasher);
      return;
    }
    if (c === LEAVES_ONLY) leaves.push(ids[k]!);
  }
  if (leaves.length < 2) return;
  const isLeaf = new Set(leaves);
  leaves.sort((a, b) => hasher.compare(a, b) || a - b);
  let at = start;
  for (let k = start; k < end; k++) {
    const id = ids[k]!;
    if (!isLeaf.has(id)) ids[at++] = id;
  }
  for (const id of leaves) ids[at++] = id;
}

const KEYWORD_KINDS: Record<string, readonly Kind[]> = {
  struct: [Kind.Struct, Kind.Fwd],
  union: [Kind.Union, Kind.Fwd],
  enum: [Kind.Enum, Kind.Enum64],
  typedef: [Kind.Typedef],
};

/**
 * The type a `--root` argument names: a type id (`114`, `0x72`), a name (`task_struct`), or a
 * name after its C keyword (`struct task_struct`, `union bpf_attr`, `enum bpf_func_id`,
 * `typedef u64`). When a name belongs to several types, a definition wins over forward
 * declarations; if that still leaves more than one, the error lists their ids.
 */
export function resolveRoot(btf: Btf, spec: string): number {
  const text = spec.trim();
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
    const id = Number(text);
    if (id >= btf.endId) throw new BtfError('bad-type-id', `root type ${text} does not exist (ids run from 1 to ${btf.endId - 1})`);
    return id;
  }
  const m = /^(struct|union|enum|typedef)\s+(\S+)$/.exec(text);
  const name = m ? m[2]! : text;
  const kinds = m ? KEYWORD_KINDS[m[1]!]! : undefined;
  let ids = btf.find(name).filter((id) => {
    const k = btf.kind(id);
    if (kinds && !kinds.includes(k)) return false;
    if (m && k === Kind.Fwd) return btf.kindFlag(id) === (m[1] === 'union');
    return k !== Kind.DeclTag && k !== Kind.Var && k !== Kind.Datasec;
  });
  const definitions = ids.filter((id) => btf.kind(id) !== Kind.Fwd);
  if (definitions.length) ids = definitions;
  if (ids.length === 1) return ids[0]!;
  if (ids.length === 0) throw new BtfError('not-found', `no type named '${text}'`);
  throw new BtfError('ambiguous', `'${text}' names ${ids.length} types (ids ${ids.slice(0, 8).join(', ')}${ids.length > 8 ? ', ...' : ''}); give an id or a C keyword`);
}

/** The header as a string (UTF-8 decoded). */
export function cHeader(btf: Btf, opts: CDumpOptions = {}): string {
  const sink = new ByteSink();
  dumpC(btf, sink, opts);
  return new TextDecoder().decode(sink.toBytes());
}

/**
 * The C declaration of type `id`, optionally naming what is declared: `struct foo *bar[4]`,
 * `int (*cb)(void *)`, `const char *`. Anonymous records and enums are written out in full.
 * Names are as in a fresh header, without the `___N` renaming a whole dump may give them.
 *
 * A function (FUNC) is declared under its own name unless `name` is given: its prototype as
 * bpftool writes it in the kfunc section of a header, between `extern` and `__weak __ksym;`
 * (`int bpf_foo(struct task_struct *p, u64 flags)`), without linkage or attributes. A variable
 * (VAR) is declared likewise as its type under its own name (`struct task_struct
 * *current_task`, `int counts[4]`). (libbpf's btf_dump__emit_type_decl writes nothing for
 * either.) DATASEC and DECL_TAG have no C declaration: the result is empty.
 */
export function cDeclaration(btf: Btf, id: number, name = ''): string {
  const table = tableOf(btf);
  if (!Number.isInteger(id) || id < 0 || id >= table.count) {
    throw new BtfError('bad-type-id', `type ${id} does not exist (ids run from 0 to ${table.count - 1})`);
  }
  const sink = new ByteSink(undefined, 4096);
  const ctx = new CContext(table, new CText(sink, outputBudget(btf)), true);
  const kind = table.kind[id];
  if (kind === WireKind.Func || kind === WireKind.Var) {
    // The table checked that a function's type is a prototype.
    writeDecl(ctx, table.ref[id]!, name === '' ? table.nameOff[id]! : latin1Of(name), 0);
  } else {
    writeDecl(ctx, id, latin1Of(name), 0);
  }
  return new TextDecoder().decode(sink.toBytes());
}

/**
 * A C dumper that remembers what it has written, as libbpf's `struct btf_dump` does:
 * {@link CDumper.dumpType} writes the definition of one type together with every type it needs
 * that this dumper has not written yet (each definition once, forward declarations where a
 * pointer cycle needs them), in an order C accepts. Dumping every type in BTF order writes the
 * body of `dumpC(btf, sink, { sorted: false })`; dumping some types writes what bpftool's
 * `root_id` writes (without the prelude and epilogue, which {@link dumpC} adds). Names that
 * clash get `___N` suffixes in the order this dumper prints them.
 *
 * After a {@link BtfError} the dumper is spent (its state is that of a dump cut short): later
 * calls throw the same error.
 *
 * @example
 * ```ts
 * const dumper = new CDumper(vmlinux);
 * const sink = new ByteSink();
 * dumper.dumpType(vmlinux.findOne('task_struct', Kind.Struct), sink); // and all it needs
 * dumper.dumpType(vmlinux.findOne('file', Kind.Struct), sink);        // only what is new
 * console.log(dumper.dumpTypeText(vmlinux.findOne('u64', Kind.Typedef))); // '' if already written
 * ```
 */
export class CDumper {
  private readonly ctx: CContext;
  private readonly table: TypeTable;
  private failure: BtfError | undefined;

  /** Checks the BTF as {@link dumpC} does (bad references, kinds without a C form, cycles of links); throws a {@link BtfError}. */
  constructor(btf: Btf) {
    this.table = new TypeTable(btf);
    this.ctx = new CContext(this.table, new CText(new ByteSink(undefined, 1), outputBudget(btf)));
  }

  /**
   * Writes type `id` and what it needs that is not written yet, into `sink`: libbpf's
   * btf_dump__dump_type. Functions, variables, sections and declaration tags write nothing
   * (see {@link cDeclaration}); void writes nothing. Throws a {@link BtfError} for an id out of
   * range and for types C cannot express.
   */
  dumpType(id: number, sink: ByteSink): void {
    if (this.failure) throw this.failure;
    const count = this.table.count;
    if (!Number.isInteger(id) || id < 0 || id >= count) {
      throw new BtfError('bad-type-id', `type ${id} does not exist (ids run from 0 to ${count - 1})`);
    }
    this.ctx.out.redirect(sink);
    try {
      dumpType(this.ctx, id);
    } catch (e) {
      if (e instanceof BtfError) this.failure = e;
      throw e;
    }
  }

  /** {@link dumpType} into a string (UTF-8 decoded). */
  dumpTypeText(id: number): string {
    const sink = new ByteSink(undefined, 4096);
    this.dumpType(id, sink);
    return new TextDecoder().decode(sink.toBytes());
  }
}

/** Checked tables of the BTFs {@link cDeclaration} was asked about, so repeated calls are cheap. */
const tables = new WeakMap<Btf, TypeTable>();

function tableOf(btf: Btf): TypeTable {
  let table = tables.get(btf);
  if (!table) {
    table = new TypeTable(btf);
    tables.set(btf, table);
  }
  return table;
}

/** Output allowed before the dump gives up: far above what real BTF needs (about 0.6x its size). */
function outputBudget(btf: Btf): number {
  let bytes = 0;
  for (let b: Btf | undefined = btf; b; b = b.base) bytes += b.bytes.length;
  return 16 * 1024 * 1024 + 16 * bytes;
}

/** A JS string as UTF-8 bytes held one per code unit, the form names take inside the dumper. */
function latin1Of(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

