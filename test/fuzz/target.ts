/**
 * What the fuzzer runs on each input: every public entry point a caller could reach with
 * untrusted bytes (ELF reading, parsing, checkBtf, the raw, JSON and C dumps, typed views,
 * resolve/sizeof/alignof, find). The oracle is simple: a `BtfError` is a correct answer to bad
 * input, anything else escaping (TypeError, RangeError, stack overflow) is a crash. Time and
 * memory limits are enforced around it (engine.ts, watchdog.ts).
 */
import { Btf } from '../../src/btf/btf.js';
import { checkBtf } from '../../src/btf/check.js';
import { loadBtf } from '../../src/btf/source.js';
import { dumpC, cDeclaration } from '../../src/dump/c/index.js';
import { dumpJson, dumpRaw } from '../../src/dump/raw.js';
import { ByteSink } from '../../src/dump/sink.js';
import { isElf, parseElf, sectionData } from '../../src/elf/elf.js';
import { decodeInsns, formatInsn } from '../../src/bpf/insn.js';
import { parseBpfObject } from '../../src/bpf/object.js';
import { minimizeBtf } from '../../src/core/minimize.js';
import { encodeBtfExt, parseBtfExt } from '../../src/ext/btf-ext.js';
import { BtfError } from '../../src/errors.js';
import { Kind } from '../../src/format/kinds.js';
import { relocateObject, type ObjectCoreResult } from '../../src/core/object.js';
import { CoreRelocator } from '../../src/core/engine.js';
import { patchCoreInstruction } from '../../src/core/patch.js';
import { debianBaseBtf } from './corpus.js';

/** A non-`BtfError` escaped from the library. */
export class Crash extends Error {
  constructor(readonly operation: string, override readonly cause: unknown) {
    super(`${operation}: ${describe(cause)}`);
  }
}

/** `Name: message` of anything thrown. */
export function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `non-Error thrown: ${String(e)}`;
}

/** What happened to one input. */
export interface TargetOutcome {
  /** Code of the BtfError that stopped parsing, if it did not parse. */
  parseError?: string;
  /** Codes of BtfErrors thrown by later operations (one per operation that threw). */
  opErrors: string[];
  /** Codes checkBtf reported. */
  checkCodes: string[];
  /** Types in the parsed blob (0 when it did not parse). */
  types: number;
}

/** A sink that drops what it is given, so dumping a whole kernel does not hold its output. */
function nullSink(): ByteSink {
  return new ByteSink(() => {}, 1 << 16);
}

let operationListener: ((operation: string) => void) | undefined;

/** Registers a function told the name of each operation as it starts (the watchdog's "hang in ..."). */
export function onOperation(listener: ((operation: string) => void) | undefined): void {
  operationListener = listener;
}

/**
 * Runs `op`; a BtfError is recorded, anything else becomes a {@link Crash} naming the operation.
 */
function guarded<T>(operation: string, outcome: TargetOutcome, op: () => T): T | undefined {
  operationListener?.(operation);
  try {
    return op();
  } catch (e) {
    if (e instanceof BtfError) {
      outcome.opErrors.push(e.code);
      return undefined;
    }
    throw new Crash(operation, e);
  }
}

/** Evenly spread ids plus the edges of the id range. */
function sampleIds(btf: Btf, n: number): number[] {
  const out = new Set<number>([0, btf.firstId, btf.endId - 1, btf.endId, btf.endId + 1, 0xfffff, 0xffffffff]);
  const span = btf.endId - btf.firstId;
  const step = Math.max(1, Math.floor(span / n));
  for (let id = btf.firstId; id < btf.endId; id += step) out.add(id);
  return [...out];
}

/**
 * Blobs with more types than this (whole kernels) get a reduced walk to stay within the 1 s
 * budget: alternately (by {@link TargetOptions.variant}) check + raw dump of everything, or the
 * rest with typed views and the JSON dump over a window of ids.
 */
export const FULL_WALK_MAX_TYPES = 20_000;
/** Ids walked (typed views, JSON dump) per large blob. */
export const WINDOW_TYPES = 4096;

export interface TargetOptions {
  /**
   * Varies the work per input (use the input index): which C dump order, where the window of a
   * whole kernel starts, and which half of the operations a whole kernel gets.
   */
  variant?: number;
  /**
   * Operations to leave out, to fuzz the rest while a known bug is open: any of `check`, `raw`,
   * `json`, `views`, `resolve`, `sizeof`, `alignof`, `find`, `c`, `ext` (BPF object model, minimized BTF,
   * `.BTF.ext` and instruction decoding of ELF inputs), `core` (CO-RE relocation of ELF inputs).
   */
  skip?: ReadonlySet<string>;
}

export const OPERATION_GROUPS = ['check', 'raw', 'json', 'views', 'resolve', 'sizeof', 'alignof', 'find', 'c', 'ext', 'core'] as const;

/**
 * Parses `bytes` (raw BTF, or an ELF file: both `Btf.parse` and `loadBtf` paths) on `base`, then
 * checks, dumps, walks every typed view and queries a sample. Throws {@link Crash} on anything
 * but a BtfError.
 */
export function runTarget(bytes: Uint8Array, base?: Btf | Uint8Array, opts: TargetOptions = {}): TargetOutcome {
  const outcome: TargetOutcome = { opErrors: [], checkCodes: [], types: 0 };
  const variant = opts.variant ?? 0;
  let whole = false;
  const on = (group: (typeof OPERATION_GROUPS)[number]) => {
    if (opts.skip?.has(group)) return false;
    if (!whole) return true;
    return (group === 'check' || group === 'raw') === (variant % 2 === 0);
  };
  let baseBtf: Btf | undefined;
  if (base instanceof Uint8Array) {
    try {
      baseBtf = loadBtf(base, { file: 'base' });
    } catch (e) {
      if (e instanceof BtfError) {
        outcome.parseError = `base:${e.code}`;
        return outcome;
      }
      throw new Crash('loadBtf(base)', e);
    }
  } else {
    baseBtf = base;
  }

  if (isElf(bytes) && !opts.skip?.has('ext')) runObjectTarget(bytes, outcome);
  if (isElf(bytes) && !opts.skip?.has('core')) runCoreTarget(bytes, outcome);

  let btf: Btf;
  operationListener?.('parse');
  try {
    if (isElf(bytes)) {
      const elf = parseElf(bytes);
      for (const s of elf.sections) sectionData(elf, s.name);
      btf = loadBtf(bytes, { base: baseBtf, file: 'input.o' });
    } else {
      btf = Btf.parse(bytes, { base: baseBtf, file: 'input.btf' });
    }
  } catch (e) {
    if (e instanceof BtfError) {
      outcome.parseError = e.code;
      return outcome;
    }
    throw new Crash(isElf(bytes) ? 'loadBtf(elf)' : 'Btf.parse', e);
  }
  outcome.types = btf.endId - btf.firstId;
  whole = outcome.types > FULL_WALK_MAX_TYPES;

  const problems = on('check') ? guarded('checkBtf', outcome, () => checkBtf(btf)) : undefined;
  if (problems !== undefined) {
    if (!Array.isArray(problems)) throw new Crash('checkBtf', new TypeError('checkBtf did not return an array'));
    for (const p of problems) {
      if (!(p instanceof BtfError)) throw new Crash('checkBtf', new TypeError(`checkBtf returned a non-BtfError: ${describe(p)}`));
      outcome.checkCodes.push(p.code);
    }
    // An old release's rules take other paths (kinds it lacks, narrower names); its codes are not recorded.
    guarded('checkBtf(kernelVersion 5.0)', outcome, () => checkBtf(btf, { kernelVersion: '5.0', maxErrors: 20 }));
  }

  if (on('raw')) guarded('dumpRaw', outcome, () => dumpRaw(btf, nullSink()));
  const count = btf.endId - btf.firstId;
  if (count <= FULL_WALK_MAX_TYPES) {
    if (on('json')) guarded('dumpJson', outcome, () => dumpJson(btf, nullSink()));
    if (on('views')) guarded('type(id) for every id', outcome, () => {
      for (let id = btf.firstId; id < btf.endId; id++) btf.type(id);
    });
    if (on('views')) guarded('types()', outcome, () => {
      let n = 0;
      for (const t of btf.types()) n += t.id > 0 ? 1 : 0;
      return n;
    });
  } else {
    // A whole kernel: typed views and the JSON dump of all 126k types take seconds; a window.
    const from = btf.firstId + ((variant * 7919) % Math.max(1, count - WINDOW_TYPES));
    const ids = Array.from({ length: Math.min(count, WINDOW_TYPES) }, (_, i) => from + i);
    if (on('json')) guarded('dumpJson(window)', outcome, () => dumpJson(btf, nullSink(), { ids }));
    if (on('views')) guarded('type(id) for a window', outcome, () => {
      for (const id of ids) btf.type(id);
    });
  }

  // The C dump writes the base's types too, so a whole header only when everything is small;
  // otherwise the dependencies of a few roots.
  const small = btf.endId <= FULL_WALK_MAX_TYPES;
  // Every C dump entry point first indexes all types, the base's included: for a module on a
  // 95k-type base that alone is tens of ms, so those get the C dump on one input in eight.
  const cHere = on('c') && (small || variant % 8 === 0);
  if (!cHere) {
    // left out
  } else if (small) {
    const sorted = variant % 2 === 0;
    guarded(`dumpC(${sorted ? 'sorted' : 'unsorted'})`, outcome, () => dumpC(btf, nullSink(), { sorted }));
  } else {
    const roots = sampleIds(btf, 4).filter((id) => id >= btf.firstId && id < btf.endId).slice(0, 4);
    guarded('dumpC(roots)', outcome, () => dumpC(btf, nullSink(), { roots }));
  }

  const sample = sampleIds(btf, 48);
  for (const id of sample) {
    if (on('views')) guarded(`type(${id})`, outcome, () => btf.type(id));
    if (on('resolve')) guarded(`resolve(${id})`, outcome, () => btf.resolve(id));
    if (on('sizeof')) guarded(`sizeof(${id})`, outcome, () => btf.sizeof(id));
    if (on('alignof')) guarded(`alignof(${id})`, outcome, () => btf.alignof(id));
    if (on('views')) guarded(`name(${id})`, outcome, () => btf.name(id));
  }
  if (cHere) {
    for (const id of sample.slice(0, small ? 4 : 1)) guarded(`cDeclaration(${id})`, outcome, () => cDeclaration(btf, id, 'x'));
  }
  if (on('sizeof')) guarded('pointerSize', outcome, () => btf.pointerSize);
  if (!on('find')) return outcome;

  const names = new Set(['task_struct', 'int', '', 'long unsigned int']);
  for (const id of sample.slice(0, 16)) {
    const n = guarded(`name(${id})`, outcome, () => (btf.has(id) ? btf.name(id) : undefined));
    if (n !== undefined) names.add(n);
  }
  for (const n of names) {
    guarded(`find(${JSON.stringify(n)})`, outcome, () => btf.find(n));
    guarded(`find(${JSON.stringify(n)}, STRUCT)`, outcome, () => btf.find(n, Kind.Struct));
  }
  guarded('findOne', outcome, () => btf.findOne('task_struct'));
  return outcome;
}

/**
 * The BPF object side of an ELF input: the object model (with its `.BTF.ext`), every program
 * section's instructions decoded and printed, `.BTF.ext` re-encoded and read again; and the
 * `.BTF.ext` section read on its own (without the object model's checks), whatever the ELF's
 * machine.
 */
function runObjectTarget(bytes: Uint8Array, outcome: TargetOutcome): void {
  const object = guarded('parseBpfObject', outcome, () => parseBpfObject(bytes, { file: 'input.o' }));
  if (object) {
    guarded('decodeInsns+formatInsn', outcome, () => {
      let n = 0;
      for (const p of object.programs) for (const insn of decodeInsns(p.bytes, object.littleEndian)) n += formatInsn(insn).length;
      return n;
    });
    if (object.ext && object.btf) {
      const ext = object.ext;
      const btf = object.btf;
      guarded('encodeBtfExt+parseBtfExt', outcome, () => parseBtfExt(encodeBtfExt(ext), btf));
      // The object's own BTF as the target: every relocation matches the (mutated) local types,
      // so minimizing walks and rewrites whatever they refer to.
      guarded('minimizeBtf(own .BTF)', outcome, () => minimizeBtf([bytes], btf).vmlinux.length);
    }
  }
  guarded('parseBtfExt(section)', outcome, () => {
    const elf = parseElf(bytes);
    const raw = sectionData(elf, '.BTF.ext');
    const btfRaw = sectionData(elf, '.BTF');
    if (!raw || !btfRaw) return undefined;
    return parseBtfExt(raw, Btf.parse(btfRaw), { littleEndian: elf.littleEndian });
  });
}

/** Most CO-RE records the record-by-record path decides per input (a section holds at most ~1M). */
const MAX_CORE_RECORDS = 4096;

/** A relocation result that is not the values `relocateObject` promises is a crash too. */
function checkCoreResult(operation: string, bytes: Uint8Array, r: ObjectCoreResult | undefined): void {
  if (r === undefined) return;
  const bad = (why: string) => new Crash(operation, new TypeError(why));
  if (!(r.patched instanceof Uint8Array) || r.patched.length !== bytes.length) throw bad('the patched object differs in size from the input');
  for (const x of r.relocations) {
    if (x.result !== 'patched' && x.result !== 'poisoned' && x.result !== 'error') throw bad(`result '${String(x.result)}'`);
    if (x.result !== 'patched' && typeof x.reason !== 'string') throw bad(`a ${x.result} relocation without a reason`);
    if (typeof x.decision.origValue !== 'bigint' || typeof x.decision.newValue !== 'bigint') throw bad('a decision without bigint values');
  }
  if (r.ok !== r.relocations.every((x) => x.result === 'patched')) throw bad('ok disagrees with the relocations');
}

/**
 * CO-RE over an ELF input: the whole object relocated against a real kernel (the Debian base
 * every module seed uses: real candidates, real mismatches) and against its own BTF (every
 * type matches itself: the patch paths); and, from `.BTF.ext` and `.BTF` read without the
 * object model's checks, each record decided and applied to its section's bytes, so records
 * the object model refuses (instruction offsets past a section, odd ones) still reach the engine.
 */
function runCoreTarget(bytes: Uint8Array, outcome: TargetOutcome): void {
  const object = guarded('parseBpfObject(core)', outcome, () => parseBpfObject(bytes, { file: 'input.o' }));
  if (object?.btf && object.ext) {
    const own = object.btf;
    checkCoreResult('relocateObject(kernel)', bytes, guarded('relocateObject(kernel)', outcome, () => relocateObject(bytes, debianBaseBtf(), { file: 'input.o' })));
    checkCoreResult('relocateObject(own BTF)', bytes, guarded('relocateObject(own BTF)', outcome, () => relocateObject(bytes, own, { file: 'input.o' })));
    return;
  }
  guarded('CoreRelocator(records)', outcome, () => {
    const elf = parseElf(bytes);
    const raw = sectionData(elf, '.BTF.ext');
    const btfRaw = sectionData(elf, '.BTF');
    if (!raw || !btfRaw) return undefined;
    const btf = Btf.parse(btfRaw);
    const ext = parseBtfExt(raw, btf, { littleEndian: elf.littleEndian });
    const relocator = new CoreRelocator(btf, debianBaseBtf());
    let n = 0;
    for (const block of ext.coreRelo.blocks) {
      const code = sectionData(elf, block.section)?.slice() ?? new Uint8Array(0);
      for (const record of block.records) {
        if (n++ >= MAX_CORE_RECORDS) return n;
        patchCoreInstruction(code, record.insnOffset, elf.littleEndian, relocator.resolve(record));
      }
    }
    return n;
  });
}
