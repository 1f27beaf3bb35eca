import type { CoreDecision } from './decision.js';
import {
  INSN_SIZE, InsnClass, InsnSource, InsnPatcher, JmpOp, LD_IMM64, decodeInsn, encodeInsn, memAccessSize, withMemAccessSize,
} from '../bpf/insn.js';

/**
 * Applying a CO-RE decision to the instruction it belongs to, as libbpf 1.1's
 * `bpf_core_patch_insn`: a separate step, so decisions can be shown without touching code.
 * Instructions are read and written through src/bpf/insn.ts.
 */

/** The helper id libbpf calls in place of an instruction it cannot relocate (0xbad2310, "bad relo"). */
export const CORE_POISON_HELPER = 0xbad2310;

/** One field the patch changed (`from`/`to` as the instruction holds them; `size` in bytes). */
export interface CorePatch {
  field: 'off' | 'imm' | 'imm64' | 'size';
  from: bigint;
  to: bigint;
}

/** What patching did: the fields changed, or poisoned, or why nothing could be done (`error`, libbpf fails the load). */
export interface CorePatchResult {
  patches: CorePatch[];
  poisoned: boolean;
  /** Why the instruction was poisoned although the decision was not (a load or store that cannot be resized). */
  reason?: string;
  error?: string;
}

/** Replaces the instruction at `at` with libbpf's poison call. */
function poison(code: Uint8Array, at: number, littleEndian: boolean): void {
  encodeInsn({ code: InsnClass.Jmp | JmpOp.Call, dst: 0, src: 0, off: 0, imm: CORE_POISON_HELPER }, littleEndian, code, at);
}

/**
 * Applies `decision` to the instruction at byte `offset` of `code` (a program section), in
 * place, with libbpf's checks: ALU/ALU64 take the value as `imm` (K source only); LDX/ST/STX as
 * `off` (at most 32767), with their memory size changed when the field's size changed and that
 * is safe; `ld_imm64` as its two-slot 64-bit immediate. With `validate`, the instruction must
 * hold `origValue` first. A poisoned decision replaces the instruction (both slots of an
 * `ld_imm64`) with `call 0xbad2310`. Nothing is changed when the result has `error`.
 */
export function patchCoreInstruction(code: Uint8Array, offset: number, littleEndian: boolean, decision: CoreDecision): CorePatchResult {
  const result: CorePatchResult = { patches: [], poisoned: false };
  const fail = (error: string): CorePatchResult => ({ patches: [], poisoned: false, error });
  if (decision.error !== undefined) return fail(decision.error);
  if (offset % INSN_SIZE !== 0) return fail(`instruction offset ${offset} is not a multiple of 8`);
  if (offset < 0 || offset + INSN_SIZE > code.length) return fail(`instruction offset ${offset} is outside the section's ${code.length} bytes`);
  const index = offset / INSN_SIZE;
  const insn = decodeInsn(code, offset, littleEndian);
  const isLdImm64 = insn.code === LD_IMM64;
  if (isLdImm64 && offset + 2 * INSN_SIZE > code.length) return fail(`instruction #${index} is an ld_imm64 without its second slot`);

  const doPoison = (reason?: string): CorePatchResult => {
    // Both slots of an ld_imm64: a lone second slot would read as "unknown opcode 00".
    if (isLdImm64) poison(code, offset + INSN_SIZE, littleEndian);
    poison(code, offset, littleEndian);
    result.poisoned = true;
    if (reason) result.reason = reason;
    return result;
  };
  if (decision.poison) return doPoison();

  const patcher = new InsnPatcher(code, littleEndian);
  const { origValue, newValue } = decision;
  const asU64 = (v: number) => BigInt.asUintN(64, BigInt(v));
  const unexpected = (what: string, got: bigint) =>
    fail(`instruction #${index} (${what}) holds ${got}, not the expected ${origValue} (→ ${newValue})`);

  switch (insn.code & 0x07) {
    case InsnClass.Alu: case InsnClass.Alu64: {
      if (insn.code & InsnSource.X) return fail(`instruction #${index} (ALU/ALU64) takes a register, not an immediate`);
      if (decision.validate && asU64(insn.imm) !== origValue) return unexpected('ALU/ALU64 imm', BigInt(insn.imm));
      const to = Number(BigInt.asIntN(32, newValue));
      patcher.setImm(offset, to);
      result.patches.push({ field: 'imm', from: BigInt(insn.imm), to: BigInt(to) });
      return result;
    }
    case InsnClass.Ldx: case InsnClass.St: case InsnClass.Stx: {
      if (decision.validate && asU64(insn.off) !== origValue) return unexpected('LDX/ST/STX off', BigInt(insn.off));
      if (newValue > 0x7fffn) return fail(`instruction #${index} (LDX/ST/STX): offset ${newValue} does not fit the 16-bit off`);
      if (decision.failMemSizeAdjust) {
        return doPoison(decision.reason ?? `instruction #${index} (LDX/ST/STX) accesses a field whose size changed and that is not a pointer or unsigned integer on both sides`);
      }
      const origSize = decision.origSize ?? 0;
      const newSize = decision.newSize ?? 0;
      let resize = false;
      if (newSize !== origSize) {
        const insnSize = memAccessSize(insn.code)!;
        if (insnSize !== origSize) return fail(`instruction #${index} (LDX/ST/STX) accesses ${insnSize} bytes, not the field's ${origSize}`);
        if (![1, 2, 4, 8].includes(newSize)) return fail(`instruction #${index} (LDX/ST/STX) cannot access ${newSize} bytes at once`);
        resize = true;
      }
      patcher.setOff(offset, Number(newValue));
      result.patches.push({ field: 'off', from: BigInt(insn.off), to: newValue });
      if (resize) {
        patcher.setCode(offset, withMemAccessSize(insn.code, newSize));
        result.patches.push({ field: 'size', from: BigInt(origSize), to: BigInt(newSize) });
      }
      return result;
    }
    case InsnClass.Ld: {
      const second = decodeInsn(code, offset + INSN_SIZE, littleEndian);
      const wellFormed = isLdImm64 && insn.src === 0 && insn.off === 0
        && second.code === 0 && second.dst === 0 && second.src === 0 && second.off === 0;
      if (!wellFormed) return fail(`instruction #${index} (LDIMM64) has an unexpected form`);
      const from = patcher.imm64(offset);
      if (decision.validate && from !== origValue) return unexpected('LDIMM64 imm64', from);
      const to = BigInt.asUintN(64, newValue);
      patcher.setImm64(offset, to);
      result.patches.push({ field: 'imm64', from, to });
      return result;
    }
    default:
      return fail(`instruction #${index} (code 0x${insn.code.toString(16)}) is not one CO-RE relocates (ALU imm, LDX/ST/STX, ld_imm64)`);
  }
}
