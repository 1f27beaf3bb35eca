import { BtfError } from '../../errors.js';
import type { ByteSink } from '../sink.js';
import { NameScope, type DeclName } from './names.js';
import type { TypeTable } from './table.js';

/** btf_dump indents with tabs but never deeper than this many. */
const MAX_INDENT = 13;
const TABS = '\t'.repeat(MAX_INDENT);
/** Indentation and newline-plus-indentation per level, built once: a line is written per member. */
const INDENTS = Array.from({ length: MAX_INDENT + 1 }, (_, lvl) => TABS.slice(0, lvl));
const LINES = INDENTS.map((tabs) => '\n' + tabs);

/**
 * Text output that counts what it writes. Anonymous types are written out wherever they are
 * used, so a small hostile BTF (an anonymous struct holding two of another, thirty levels deep)
 * could ask for endless output; past the budget the dump stops with a {@link BtfError}.
 */
export class CText {
  private written = 0;

  /** The string section names are written from (set by the context). */
  strings: Uint8Array = new Uint8Array(1);

  constructor(private sink: ByteSink, private readonly budget: number) {}

  /** Writes to `sink` from now on; what was written before still counts against the budget. */
  redirect(sink: ByteSink): void {
    this.sink = sink;
  }

  /** Writes a string of code units below 256 (names are kept as Latin-1, one unit per byte). */
  put(s: string): void {
    this.sink.ascii(s);
    if ((this.written += s.length) > this.budget) this.overBudget();
  }

  /** Writes the NUL-terminated string at `off` in `bytes`, byte for byte. */
  putString(bytes: Uint8Array, off: number): void {
    // Names are short: a plain scan beats calling indexOf for each.
    let end = off;
    while (end < bytes.length && bytes[end] !== 0) end++;
    this.sink.bytes(bytes, off, end);
    if ((this.written += end - off) > this.budget) this.overBudget();
  }

  /** Writes a name: the string at an offset in {@link strings}, or a string. */
  name(n: DeclName): void {
    if (typeof n === 'number') this.putString(this.strings, n);
    else this.put(n);
  }

  /** Writes a non-negative integer below 2^53 (straight into the sink: no string is made). */
  uint(n: number): void {
    this.sink.uint(n);
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    if ((this.written += digits) > this.budget) this.overBudget();
  }

  /** Writes a signed 32-bit (or smaller) integer. */
  int(n: number): void {
    if (n < 0) {
      this.put('-');
      this.uint(-n);
    } else {
      this.uint(n);
    }
  }

  /** A newline followed by the indentation of nesting level `lvl`. */
  line(lvl: number): void {
    this.put(LINES[lvl >= MAX_INDENT ? MAX_INDENT : lvl]!);
  }

  indent(lvl: number): void {
    this.put(INDENTS[lvl >= MAX_INDENT ? MAX_INDENT : lvl]!);
  }

  private overBudget(): never {
    throw new BtfError('limit', `the C header would exceed ${this.budget} bytes (anonymous types nested and repeated without end?)`);
  }
}

/**
 * The state of one C dump: which types are ordered, emitted, forward-declared and referenced,
 * the names handed out so far, and the stack declarations are assembled on. One context writes
 * one header; names and emission state carry over between the types dumped through it.
 */
export class CContext {
  readonly names: NameScope;
  /** Pointer size in bytes, guessed from the size of `long` as libbpf does. */
  readonly ptrSize: number;

  /** Topological ordering: 0 not yet, 1 in progress, 2 done. */
  readonly orderState: Uint8Array;
  /** Emission: 0 not yet, 1 in progress, 2 done. */
  readonly emitState: Uint8Array;
  /** 1 when a forward declaration (or, for a typedef, its early definition) was written. */
  readonly fwdEmitted: Uint8Array;
  /** 1 when some other type refers to this one (an unreferenced anonymous enum is a top-level one). */
  readonly referenced: Uint8Array;

  /** Types ordered for emission by the current top-level dump (reused between types). */
  readonly queue: number[] = [];

  /** Shared stack of declaration chains; each chain works on its own slice above {@link stackLen}. */
  stack = new Uint32Array(64);
  stackLen = 0;

  /**
   * Frames of the ordering and emitting walks ({@link WALK_FRAME} ints each). The walks keep
   * their own stacks rather than recurse: a chain of 100,000 typedefs is valid BTF, and the
   * JS stack would not hold it.
   */
  walkFrames: Int32Array = new Int32Array(WALK_FRAME * 64);

  /** Frames of the declaration writer ({@link WRITER_FRAME} ints each), in use below {@link writerDepth}. */
  writerFrames: Int32Array = new Int32Array(WRITER_FRAME * 64);
  /** The name each writer frame declares, by depth (set and used by declaration chains only). */
  readonly writerNames: DeclName[] = [];
  writerDepth = 0;

  /**
   * Records' alignment, memoised as alignment + 2 (alignments are at most 16): 0 not known
   * yet, 1 being computed. Bytes, not words, and no fill: fewer fresh pages to fault in.
   */
  readonly alignCache: Uint8Array;
  /** Anonymous records currently being written inline, to stop a record nested in itself. */
  readonly inlineActive: Uint8Array;

  /**
   * `forDeclarations`: the context only writes declarations (no ordering), so the scan for
   * referenced types is skipped.
   */
  constructor(readonly table: TypeTable, readonly out: CText, forDeclarations = false) {
    const n = table.count;
    this.names = new NameScope(table);
    out.strings = table.strBytes;
    this.ptrSize = table.pointerSize;
    this.orderState = new Uint8Array(n);
    this.emitState = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    // A context that only writes declarations never asks.
    this.referenced = forDeclarations ? new Uint8Array(n) : table.referenced;
    this.alignCache = new Uint8Array(n);
    this.inlineActive = new Uint8Array(n);
    this.stepsLeft = 4_000_000 + 64 * n;
    // Void needs no definition.
    this.orderState[0] = 2;
    this.emitState[0] = 2;
  }

  /**
   * Steps of graph walking left before the dump gives up. Walks that write nothing can still
   * blow up on a hostile graph (anonymous records or prototypes that each use the previous one
   * twice are revisited exponentially often); real BTF takes about one step per type.
   */
  stepsLeft: number;

  /**
   * Counts one step of walking the type graph; throws once the allowance is used up. The walks'
   * inner loops decrement {@link stepsLeft} themselves and call {@link outOfSteps}: the CLI runs
   * V8 without inlining, where a call per member visited cost 5% of a vmlinux dump.
   */
  step(): void {
    if (--this.stepsLeft < 0) this.outOfSteps();
  }

  /** Throws the error of a walk that used up its steps. */
  outOfSteps(): never {
    throw new BtfError('limit', 'the type graph revisits the same types without end (anonymous types or prototypes nested and repeated?)');
  }

  /** {@link walkFrames}, made room for at least `ints` ints. */
  growWalkFrames(ints: number): Int32Array {
    if (ints > this.walkFrames.length) this.walkFrames = grown(this.walkFrames, ints);
    return this.walkFrames;
  }

  /**
   * Pushes a writer frame: operation `op` and its fields. (A frame that needs a name sets
   * {@link writerNames} at its depth.)
   */
  pushWriter(op: number, a: number, b: number, c: number, d: number, e: number): void {
    const at = this.writerDepth++ * WRITER_FRAME;
    if (at + WRITER_FRAME > this.writerFrames.length) this.writerFrames = grown(this.writerFrames, at + WRITER_FRAME);
    const w = this.writerFrames;
    w[at] = op;
    w[at + 1] = a;
    w[at + 2] = b;
    w[at + 3] = c;
    w[at + 4] = d;
    w[at + 5] = e;
  }

  push(id: number): void {
    if (this.stackLen === this.stack.length) {
      const bigger = new Uint32Array(this.stack.length * 2);
      bigger.set(this.stack);
      this.stack = bigger;
    }
    this.stack[this.stackLen++] = id;
  }
}

/** Ints per frame of the ordering and emitting walks: type id, next child, a third field (order.ts), flags. */
export const WALK_FRAME = 4;
/** Ints per frame of the declaration writer: operation and five fields. */
export const WRITER_FRAME = 6;

/** A copy of `a` at least `ints` long (doubling, so pushes stay amortised constant time). */
function grown(a: Int32Array, ints: number): Int32Array {
  let n = a.length * 2;
  while (n < ints) n *= 2;
  const bigger = new Int32Array(n);
  bigger.set(a);
  return bigger;
}
