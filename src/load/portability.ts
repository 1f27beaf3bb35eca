import type { TypeSet } from '../btf/typeset.js';
import { parseBpfObject, type BpfObject, type BpfProgramSection } from '../bpf/object.js';
import { CallKind, INSN_SIZE, InsnClass, JmpOp, decodeInsn } from '../bpf/insn.js';
import { relocateObject, type ObjectCoreRelocation } from '../core/object.js';
import { resolveAttachTarget, type AttachTarget } from './attach.js';
import { reachableInstructions } from './reachability.js';
import { resolveExterns, type ResolveExternsOptions } from './externs.js';

/** What a finding is about. */
export type PortabilityFindingKind = 'core' | 'attach' | 'kfunc' | 'ksym' | 'kconfig';

/** One problem an object has on one kernel. */
export interface PortabilityFinding {
  kind: PortabilityFindingKind;
  /** The ELF section (`kprobe/do_exit`, `.text`) the problem is in. */
  section: string;
  /** The function (program or subprogram) it is in; null when it is about no single function. */
  program: string | null;
  /** Instruction index within the section (byte offset / 8); null when it is about no instruction. */
  insn: number | null;
  reason: string;
  /**
   * Poisoned CO-RE relocations only: whether the poisoned instruction can be reached once the
   * object is relocated (see {@link reachableInstructions}). An unreachable one is dead code
   * the verifier never looks at.
   */
  reachable?: boolean;
  /** Poisoned CO-RE relocations only: the programs that can reach the instruction (their names). */
  reachableFrom?: string[];
  /** Whether this finding alone stops the object from loading there (libbpf or the verifier refuses it). */
  fatal: boolean;
}

/** One program of the object as it would load on the target. */
export interface PortabilityProgram {
  section: string;
  name: string;
  /** libbpf's program type for the section (`tracing`, `kprobe`...), null when libbpf knows none. */
  type: string | null;
  /** The kernel BTF type the program attaches to, when its section names one and the target has it. */
  attach: AttachTarget | null;
}

/** A kfunc, `__ksym` or `__kconfig` extern of the object and what it resolved to. */
export interface PortabilityExtern {
  name: string;
  kind: 'kfunc' | 'ksym' | 'kconfig';
  resolved: { btf: string; id: number } | null;
}

/** The answer for one object on one target. */
export interface PortabilityResult {
  /** False when any finding is fatal. */
  ok: boolean;
  programs: PortabilityProgram[];
  externs: PortabilityExtern[];
  findings: PortabilityFinding[];
}

/** What an extern resolver reports: every extern, and the problems among them. */
export interface ExternCheck {
  externs: PortabilityExtern[];
  findings: PortabilityFinding[];
}

/** Options of {@link checkPortability}. */
export interface CheckPortabilityOptions {
  /** Named in error messages. */
  file?: string;
  /**
   * Resolves the object's kfunc, `__ksym` and `__kconfig` externs on the target. By default
   * {@link externCheck} (libbpf 1.1's rules, src/load/externs.ts) with `externOptions`.
   */
  resolveExterns?: (object: BpfObject, target: TypeSet) => ExternCheck;
  /** What the default extern check knows of the target beyond its BTF: its config, kallsyms, release. */
  externOptions?: ResolveExternsOptions;
}

/**
 * The externs of an object on a target as portability findings: every kfunc, ksym and kconfig
 * extern with where it resolved; a `failed` one (libbpf refuses the object) is a fatal finding,
 * one that cannot be judged offline (an untyped ksym without kallsyms, a CONFIG_ value without a
 * config) a finding that is not fatal. Weak externs that are missing default to 0, silently.
 */
export function externCheck(object: BpfObject, target: TypeSet, opts: ResolveExternsOptions = {}): ExternCheck {
  const externs: PortabilityExtern[] = [];
  const findings: PortabilityFinding[] = [];
  for (const e of resolveExterns(object, target, opts)) {
    externs.push({ name: e.name, kind: e.kind, resolved: e.resolved && { btf: e.resolved.btf, id: e.resolved.id } });
    if (e.status !== 'failed' && e.status !== 'unjudged') continue;
    findings.push({
      kind: e.kind,
      section: e.kind === 'kconfig' ? '.kconfig' : '.ksyms',
      program: null,
      insn: null,
      reason: `${e.kind} '${e.name}': ${e.reason ?? e.status}`,
      fatal: e.status === 'failed',
    });
  }
  return { externs, findings };
}

/** The function of `section` whose instructions hold byte `offset`, or undefined. */
function functionAt(section: BpfProgramSection, offset: number) {
  return section.functions.find((f) => offset >= f.offset && offset < f.offset + f.size);
}

/** A function of the object: where it is and its instructions after relocation. */
interface FunctionRef { section: BpfProgramSection; name: string; offset: number; size: number }

/** A function's reachable instruction slots and the functions its reachable calls go to. */
interface FunctionReach { slots: Set<number>; callees: FunctionRef[] }

/**
 * Which instructions of which functions each program can reach. A subprogram counts only
 * where a reachable call of a reachable function calls it, so a subprogram behind an existence
 * guard is as dead as the guarded code itself. Each function is analysed once, with its
 * arguments unknown (the verifier knows the caller's constants; this errs towards reachable).
 */
class ObjectReachability {
  private readonly byStart = new Map<string, FunctionRef>();
  private readonly sectionsByName: Map<string, BpfProgramSection>;
  private readonly functions = new Map<FunctionRef, FunctionReach>();

  constructor(private readonly object: BpfObject) {
    this.sectionsByName = new Map(object.programs.map((p) => [p.name, p]));
    for (const s of object.programs) {
      for (const f of s.functions) this.byStart.set(`${s.name}@${f.offset}`, { section: s, name: f.name, offset: f.offset, size: f.size });
    }
  }

  /** The function starting at `offset` of `section`. */
  functionStartingAt(section: BpfProgramSection, offset: number): FunctionRef | undefined {
    return this.byStart.get(`${section.name}@${offset}`);
  }

  /** Every function `program` can run (itself included) with the slots reachable in each. */
  reachableFrom(program: FunctionRef): Map<FunctionRef, Set<number>> {
    const out = new Map<FunctionRef, Set<number>>();
    const work = [this.functionStartingAt(program.section, program.offset) ?? program];
    while (work.length) {
      const fn = work.pop()!;
      if (out.has(fn)) continue;
      const reach = this.analyse(fn);
      out.set(fn, reach.slots);
      for (const callee of reach.callees) if (!out.has(callee)) work.push(callee);
    }
    return out;
  }

  private analyse(fn: FunctionRef): FunctionReach {
    const known = this.functions.get(fn);
    if (known) return known;
    const le = this.object.littleEndian;
    const slots = reachableInstructions(fn.section.bytes.subarray(fn.offset, fn.offset + fn.size), le).reachable;
    const relocations = new Map(fn.section.relocations.map((r) => [r.offset, r]));
    const callees: FunctionRef[] = [];
    for (const slot of slots) {
      const at = fn.offset + slot * INSN_SIZE;
      const insn = decodeInsn(fn.section.bytes, at, le);
      if (insn.code !== (InsnClass.Jmp | JmpOp.Call) || insn.src !== CallKind.Subprogram) continue;
      // libbpf's rule: the callee is imm + 1 instructions past the relocation's symbol when
      // there is one (calls into another section), past the call itself otherwise.
      const reloc = relocations.get(at);
      let section = fn.section;
      let targetSlot = at / INSN_SIZE + insn.imm + 1;
      if (reloc) {
        const s = reloc.symbolSection !== undefined ? this.sectionsByName.get(reloc.symbolSection) : undefined;
        if (!s) continue; // a kfunc: an extern, not code of this object
        section = s;
        targetSlot = Number(reloc.symbolValue / BigInt(INSN_SIZE)) + insn.imm + 1;
      }
      const callee = this.functionStartingAt(section, targetSlot * INSN_SIZE);
      if (callee) callees.push(callee);
    }
    const result = { slots, callees };
    this.functions.set(fn, result);
    return result;
  }
}

/** `poisoned: why`, naming the access when the engine's reason does not already. */
function describe(outcome: 'poisoned' | 'failed', access: string, reason: string | undefined): string {
  if (reason === undefined) return `${outcome}: ${access}`;
  return reason.includes(access) ? `${outcome}: ${reason}` : `${outcome}: ${access}: ${reason}`;
}

/**
 * Will a BPF object load on a kernel? Checks, as libbpf's `bpf_object__load` would on that
 * kernel: every CO-RE relocation (a failed one always refuses the object; a poisoned one only
 * when its instruction can be reached once relocated, since the verifier skips dead code), and
 * every program's section (known to libbpf, and its BTF attach target present in vmlinux or a
 * module), and every kfunc, `__ksym` and `__kconfig` extern ({@link externCheck}).
 *
 * Programs are the functions of executable sections other than `.text`; `.text` holds
 * subprograms, whose poisoned instructions count when a reachable call reaches them.
 */
export function checkPortability(objectBytes: Uint8Array, target: TypeSet, opts: CheckPortabilityOptions = {}): PortabilityResult {
  const file = opts.file;
  const original = parseBpfObject(objectBytes, { file });
  const hasCore = (original.ext?.coreRelo.blocks.length ?? 0) > 0;
  let relocations: ObjectCoreRelocation[] = [];
  let object = original;
  if (hasCore) {
    const relocated = relocateObject(objectBytes, target, { file });
    relocations = relocated.relocations;
    object = parseBpfObject(relocated.patched, { file });
  }

  const findings: PortabilityFinding[] = [];
  const programs: PortabilityProgram[] = [];
  const entries: FunctionRef[] = [];
  for (const section of object.programs) {
    if (section.name === '.text') continue;
    for (const fn of section.functions) {
      entries.push({ section, name: fn.name, offset: fn.offset, size: fn.size });
      const resolution = resolveAttachTarget(target, section.name);
      programs.push({ section: section.name, name: fn.name, type: resolution.programType, attach: resolution.target });
      if (resolution.reason !== undefined) {
        // freplace targets another BPF program: nothing about this kernel to judge.
        const judged = resolution.programType !== 'ext';
        findings.push({ kind: 'attach', section: section.name, program: fn.name, insn: null, reason: resolution.reason, fatal: judged });
      }
    }
  }

  if (relocations.length > 0) {
    const analysis = new ObjectReachability(object);
    // For each function, the programs that run it; its reachable slots do not depend on the caller.
    const runBy = new Map<FunctionRef, { slots: Set<number>; programs: string[] }>();
    for (const p of entries) {
      for (const [f, slots] of analysis.reachableFrom(p)) {
        const known = runBy.get(f);
        if (known) known.programs.push(p.name);
        else runBy.set(f, { slots, programs: [p.name] });
      }
    }
    const sections = new Map(object.programs.map((p) => [p.name, p]));
    for (const r of relocations) {
      if (r.result === 'patched') continue;
      const section = sections.get(r.section);
      const fn = section ? functionAt(section, r.insnOffset) : undefined;
      const where = { kind: 'core' as const, section: r.section, program: fn?.name ?? null, insn: r.insnOffset / INSN_SIZE };
      const what = r.decision.local.spec || `[${r.decision.record.typeId}] access ${r.decision.record.access}`;
      if (r.result === 'error') {
        findings.push({ ...where, reason: describe('failed', what, r.reason), fatal: true });
        continue;
      }
      const ref = section && fn ? analysis.functionStartingAt(section, fn.offset) : undefined;
      const run = ref ? runBy.get(ref) : undefined;
      const reachableFrom = run && run.slots.has((r.insnOffset - fn!.offset) / INSN_SIZE) ? [...new Set(run.programs)] : [];
      const live = reachableFrom.length > 0;
      findings.push({ ...where, reason: describe('poisoned', what, r.reason), reachable: live, reachableFrom, fatal: live });
    }
  }

  // Extern resolution (kfuncs, __ksym, __kconfig) plugs in here.
  const externs: ExternCheck = opts.resolveExterns ? opts.resolveExterns(original, target) : externCheck(original, target, opts.externOptions);
  findings.push(...externs.findings);
  return { ok: findings.every((f) => !f.fatal), programs, externs: externs.externs, findings };
}
