import { AluOp, InsnClass, InsnSource, JmpOp, LD_IMM64, decodeInsns, type DecodedInsn } from '../bpf/insn.js';
import { CORE_POISON_HELPER } from '../core/patch.js';

/**
 * Which instructions of a BPF function the verifier can reach, as far as constants tell: a
 * forward analysis over the instruction graph that follows only the branches whose condition
 * is not a known constant (sparse conditional constant propagation). It is what makes CO-RE
 * existence guards work: `if (bpf_core_field_exists(x)) use(x)` compiles to a register loaded
 * with the relocated existence value and a jump on it; where the field is missing the value
 * is 0, the branch is always taken, and the poisoned `use(x)` is dead code the verifier never
 * looks at. Registers hold a known 64-bit constant or "unknown"; memory, calls' results and
 * everything else are unknown, so the answer errs towards "reachable".
 */

const UNKNOWN = null;
type Value = bigint | null;
/** Registers r0..r10 at an instruction's entry; undefined: not reached (yet). */
type State = Value[];

const MASK64 = (1n << 64n) - 1n;
const MASK32 = (1n << 32n) - 1n;

function join(a: State, b: State): { state: State; changed: boolean } {
  let changed = false;
  const out = a.slice();
  for (let r = 0; r < 11; r++) {
    if (out[r] !== UNKNOWN && out[r] !== b[r]) {
      out[r] = UNKNOWN;
      changed = true;
    }
  }
  return { state: out, changed };
}

function alu(op: number, dst: bigint, src: bigint, is64: boolean): Value {
  const mask = is64 ? MASK64 : MASK32;
  const bits = is64 ? 64n : 32n;
  const d = dst & mask;
  const s = src & mask;
  let v: bigint;
  switch (op) {
    case AluOp.Add: v = d + s; break;
    case AluOp.Sub: v = d - s; break;
    case AluOp.Mul: v = d * s; break;
    case AluOp.Or: v = d | s; break;
    case AluOp.And: v = d & s; break;
    case AluOp.Xor: v = d ^ s; break;
    case AluOp.Lsh: v = d << (s & (bits - 1n)); break;
    case AluOp.Rsh: v = d >> (s & (bits - 1n)); break;
    case AluOp.Arsh: v = BigInt.asIntN(Number(bits), d) >> (s & (bits - 1n)); break;
    case AluOp.Mov: v = s; break;
    case AluOp.Neg: v = -d; break;
    default: return UNKNOWN;
  }
  return v & mask;
}

/** Evaluates a conditional jump on known operands: true (taken), false, or undefined (unknown). */
function condition(op: number, a: Value, b: Value, is64: boolean): boolean | undefined {
  if (a === UNKNOWN || b === UNKNOWN) return undefined;
  const bits = is64 ? 64 : 32;
  const ua = BigInt.asUintN(bits, a);
  const ub = BigInt.asUintN(bits, b);
  const sa = BigInt.asIntN(bits, a);
  const sb = BigInt.asIntN(bits, b);
  switch (op) {
    case JmpOp.Jeq: return ua === ub;
    case JmpOp.Jne: return ua !== ub;
    case JmpOp.Jgt: return ua > ub;
    case JmpOp.Jge: return ua >= ub;
    case JmpOp.Jlt: return ua < ub;
    case JmpOp.Jle: return ua <= ub;
    case JmpOp.Jset: return (ua & ub) !== 0n;
    case JmpOp.Jsgt: return sa > sb;
    case JmpOp.Jsge: return sa >= sb;
    case JmpOp.Jslt: return sa < sb;
    case JmpOp.Jsle: return sa <= sb;
    default: return undefined;
  }
}

/** The result of {@link reachableInstructions}. */
export interface Reachability {
  /** Slot indexes (relative to the function's first instruction) the analysis can reach. */
  reachable: Set<number>;
  /** Slots holding libbpf's poison call (`call 0xbad2310`) that are reachable. */
  reachablePoison: number[];
  /** Poison calls the analysis proved dead (guarded by a constant branch). */
  deadPoison: number[];
}

/**
 * Reachable instructions of one function: `code` holds its instructions (from its first slot to
 * its last), decoded in `littleEndian` order. Calls to subprograms and helpers are assumed to
 * return (their result unknown); jumps out of the function end that path.
 */
export function reachableInstructions(code: Uint8Array, littleEndian: boolean): Reachability {
  const insns = decodeInsns(code, littleEndian);
  const bySlot = new Map<number, number>();
  insns.forEach((insn, i) => bySlot.set(insn.index, i));
  const states: (State | undefined)[] = new Array(insns.length);
  const work: number[] = [];
  const reach = (slot: number, state: State) => {
    const i = bySlot.get(slot);
    if (i === undefined) return; // outside the function, or into an ld_imm64's second slot
    const known = states[i];
    if (!known) {
      states[i] = state;
      work.push(i);
      return;
    }
    const j = join(known, state);
    if (j.changed) {
      states[i] = j.state;
      work.push(i);
    }
  };
  const entry: State = new Array(11).fill(UNKNOWN);
  if (insns.length) reach(0, entry);
  // Each state only ever loses constants, so the loop ends: at most 11 changes per instruction.
  while (work.length) {
    const i = work.pop()!;
    const insn = insns[i]!;
    const state = states[i]!;
    step(insn, state, reach);
  }
  const reachable = new Set<number>();
  const reachablePoison: number[] = [];
  const deadPoison: number[] = [];
  for (const [i, insn] of insns.entries()) {
    const isPoison = insn.code === (InsnClass.Jmp | JmpOp.Call) && insn.src === 0 && insn.imm === CORE_POISON_HELPER;
    if (states[i]) {
      reachable.add(insn.index);
      if (isPoison) reachablePoison.push(insn.index);
    } else if (isPoison) {
      deadPoison.push(insn.index);
    }
  }
  return { reachable, reachablePoison, deadPoison };
}

function step(insn: DecodedInsn, state: State, reach: (slot: number, state: State) => void): void {
  const cls = insn.code & 0x07;
  const next = insn.index + (insn.code === LD_IMM64 ? 2 : 1);
  const out = state.slice();
  switch (cls) {
    case InsnClass.Alu: case InsnClass.Alu64: {
      const op = insn.code & 0xf0;
      const is64 = cls === InsnClass.Alu64;
      const src: Value = insn.code & InsnSource.X ? state[insn.src] ?? UNKNOWN : BigInt.asUintN(64, BigInt(insn.imm));
      // A 32-bit immediate is sign-extended into 64-bit operations.
      const srcValue = src === UNKNOWN ? UNKNOWN : is64 && !(insn.code & InsnSource.X) ? BigInt.asUintN(64, BigInt(insn.imm)) : src;
      const dst = state[insn.dst] ?? UNKNOWN;
      if (op === AluOp.Mov) out[insn.dst] = srcValue === UNKNOWN ? UNKNOWN : srcValue & (is64 ? MASK64 : MASK32);
      else if (op === AluOp.End || dst === UNKNOWN || srcValue === UNKNOWN) out[insn.dst] = UNKNOWN;
      else out[insn.dst] = alu(op, dst, srcValue, is64);
      reach(next, out);
      return;
    }
    case InsnClass.Ld:
      // ld_imm64 of a plain number is a constant; map and BTF references are not.
      if (insn.code === LD_IMM64) out[insn.dst] = insn.src === 0 ? insn.imm64! : UNKNOWN;
      else out[0] = UNKNOWN; // legacy packet loads write r0
      reach(next, out);
      return;
    case InsnClass.Ldx:
      out[insn.dst] = UNKNOWN;
      reach(next, out);
      return;
    case InsnClass.St: case InsnClass.Stx:
      // Atomic fetch operations write a register (src, or r0 for cmpxchg).
      if ((insn.code & 0xe0) === 0xc0) {
        out[insn.src] = UNKNOWN;
        out[0] = UNKNOWN;
      }
      reach(next, out);
      return;
    case InsnClass.Jmp: case InsnClass.Jmp32: {
      const op = insn.code & 0xf0;
      if (op === JmpOp.Exit && cls === InsnClass.Jmp) return;
      if (op === JmpOp.Call && cls === InsnClass.Jmp) {
        for (let r = 0; r <= 5; r++) out[r] = UNKNOWN;
        reach(next, out);
        return;
      }
      if (op === JmpOp.Ja) {
        // gotol (JMP32 | JA) keeps its offset in imm.
        reach(insn.index + 1 + (cls === InsnClass.Jmp32 ? insn.imm : insn.off), out);
        return;
      }
      const b: Value = insn.code & InsnSource.X ? state[insn.src] ?? UNKNOWN : BigInt.asUintN(64, BigInt(insn.imm));
      const taken = condition(op, state[insn.dst] ?? UNKNOWN, b, cls === InsnClass.Jmp);
      if (taken !== false) reach(insn.index + 1 + insn.off, out);
      if (taken !== true) reach(next, out);
      return;
    }
    default:
      reach(next, out);
  }
}
