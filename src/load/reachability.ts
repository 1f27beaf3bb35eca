import { AluOp, InsnClass, InsnMode, InsnSize, InsnSource, JmpOp, LD_IMM64, decodeInsns, memAccessSize, type DecodedInsn } from '../bpf/insn.js';
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
/**
 * What is known at an instruction's entry (undefined: not reached yet): registers r0..r10, the
 * 8-byte stack slots holding a known constant (by offset from r10; the verifier tracks spilled
 * constants too, and compilers spill guards' values under register pressure), and whether the
 * frame's address has been copied out of r10 (after which calls and stores through other
 * registers may write the stack, so they forget it).
 */
interface State { regs: Value[]; stack: Map<number, bigint>; escaped: boolean }

const FRAME_POINTER = 10;
const LDX_DW = InsnClass.Ldx | InsnMode.Mem | InsnSize.DW;

const MASK64 = (1n << 64n) - 1n;
const MASK32 = (1n << 32n) - 1n;

function join(a: State, b: State): { state: State; changed: boolean } {
  let changed = false;
  const regs = a.regs.slice();
  for (let r = 0; r < 11; r++) {
    if (regs[r] !== UNKNOWN && regs[r] !== b.regs[r]) {
      regs[r] = UNKNOWN;
      changed = true;
    }
  }
  let stack = a.stack;
  for (const [slot, value] of a.stack) {
    if (b.stack.get(slot) !== value) {
      if (stack === a.stack) stack = new Map(a.stack);
      stack.delete(slot);
      changed = true;
    }
  }
  const escaped = a.escaped || b.escaped;
  if (escaped !== a.escaped) changed = true;
  return { state: { regs, stack, escaped }, changed };
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

/**
 * A MOV's result: with a register source and `off` 8, 16 or 32 it is MOVSX (cpu v4), which
 * sign-extends the source's low `off` bits into 64 (ALU64) or 32 (ALU) bits.
 */
function move(src: bigint, insn: DecodedInsn, is64: boolean): bigint {
  const mask = is64 ? MASK64 : MASK32;
  if (insn.code & InsnSource.X && (insn.off === 8 || insn.off === 16 || insn.off === 32)) {
    return BigInt.asIntN(insn.off, src) & mask;
  }
  return src & mask;
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
  const entry: State = { regs: new Array(11).fill(UNKNOWN), stack: new Map(), escaped: false };
  if (insns.length) reach(0, entry);
  // Each state only ever loses what it knows (constants, stack slots, the frame not escaping),
  // so the loop ends.
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
  const regs = state.regs;
  const out: State = { regs: regs.slice(), stack: state.stack, escaped: state.escaped };
  // Copy-on-write: most instructions leave the stack alone.
  const stack = (): Map<number, bigint> => (out.stack === state.stack ? (out.stack = new Map(state.stack)) : out.stack);
  // The frame pointer copied anywhere but a load or store's base lets calls and stores through
  // other registers write the stack.
  if (insn.code & InsnSource.X && insn.src === FRAME_POINTER && cls !== InsnClass.Ldx) out.escaped = true;
  switch (cls) {
    case InsnClass.Alu: case InsnClass.Alu64: {
      const op = insn.code & 0xf0;
      const is64 = cls === InsnClass.Alu64;
      // An immediate is sign-extended to 64 bits; 32-bit operations use its low half.
      const srcValue: Value = insn.code & InsnSource.X ? regs[insn.src] ?? UNKNOWN : BigInt.asUintN(64, BigInt(insn.imm));
      const dst = regs[insn.dst] ?? UNKNOWN;
      if (op === AluOp.Mov) out.regs[insn.dst] = srcValue === UNKNOWN ? UNKNOWN : move(srcValue, insn, is64);
      else if (op === AluOp.End || dst === UNKNOWN || srcValue === UNKNOWN) out.regs[insn.dst] = UNKNOWN;
      else out.regs[insn.dst] = alu(op, dst, srcValue, is64);
      reach(next, out);
      return;
    }
    case InsnClass.Ld:
      // ld_imm64 of a plain number is a constant; map and BTF references are not.
      if (insn.code === LD_IMM64) out.regs[insn.dst] = insn.src === 0 ? insn.imm64! : UNKNOWN;
      else out.regs[0] = UNKNOWN; // legacy packet loads write r0
      reach(next, out);
      return;
    case InsnClass.Ldx:
      out.regs[insn.dst] = insn.src === FRAME_POINTER && insn.code === LDX_DW ? state.stack.get(insn.off) ?? UNKNOWN : UNKNOWN;
      reach(next, out);
      return;
    case InsnClass.St: case InsnClass.Stx: {
      const atomic = (insn.code & 0xe0) === InsnMode.Atomic;
      // Atomic fetch operations write a register (src, or r0 for cmpxchg).
      if (atomic) {
        out.regs[insn.src] = UNKNOWN;
        out.regs[0] = UNKNOWN;
      }
      if (insn.dst === FRAME_POINTER) {
        const size = memAccessSize(insn.code) ?? 8;
        const s = stack();
        for (const slot of [...s.keys()]) if (slot < insn.off + size && insn.off < slot + 8) s.delete(slot);
        if (!atomic && size === 8 && insn.off % 8 === 0) {
          const value: Value = cls === InsnClass.St ? BigInt.asUintN(64, BigInt(insn.imm)) : regs[insn.src] ?? UNKNOWN;
          if (value !== UNKNOWN) s.set(insn.off, value);
        }
      } else if (out.escaped && state.stack.size) {
        out.stack = new Map();
      }
      reach(next, out);
      return;
    }
    case InsnClass.Jmp: case InsnClass.Jmp32: {
      const op = insn.code & 0xf0;
      if (op === JmpOp.Exit && cls === InsnClass.Jmp) return;
      if (op === JmpOp.Call && cls === InsnClass.Jmp) {
        for (let r = 0; r <= 5; r++) out.regs[r] = UNKNOWN;
        // A helper or subprogram given a pointer into this frame may write there.
        if (out.escaped && state.stack.size) out.stack = new Map();
        reach(next, out);
        return;
      }
      if (op === JmpOp.Ja) {
        // gotol (JMP32 | JA) keeps its offset in imm.
        reach(insn.index + 1 + (cls === InsnClass.Jmp32 ? insn.imm : insn.off), out);
        return;
      }
      const b: Value = insn.code & InsnSource.X ? regs[insn.src] ?? UNKNOWN : BigInt.asUintN(64, BigInt(insn.imm));
      const taken = condition(op, regs[insn.dst] ?? UNKNOWN, b, cls === InsnClass.Jmp);
      if (taken !== false) reach(insn.index + 1 + insn.off, out);
      if (taken !== true) reach(next, out);
      return;
    }
    default:
      reach(next, out);
  }
}
