import type { CoreDecision } from './decision.js';

/**
 * Applying a CO-RE decision to the instruction it belongs to, as libbpf 1.1's
 * `bpf_core_patch_insn`: a separate step, so decisions can be shown without touching code.
 *
 * Only the few instruction fields CO-RE touches are read here (a full decoder lives in
 * src/bpf/): `struct bpf_insn` is 8 bytes, `code` (class in the low 3 bits, then source or size
 * and mode), a byte of registers (dst in the low nibble on little-endian, the high one on
 * big-endian), a signed 16-bit `off` and a signed 32-bit `imm`, both in the object's byte order.
 */

const INSN_SIZE = 8;
const CLASS_LD = 0x00, CLASS_LDX = 0x01, CLASS_ST = 0x02, CLASS_STX = 0x03, CLASS_ALU = 0x04, CLASS_ALU64 = 0x07;
const SOURCE_REG = 0x08;
const SIZE_MASK = 0x18;
/** `BPF_LD | BPF_IMM | BPF_DW`: the first slot of a 64-bit immediate load. */
const LD_IMM64 = 0x18;
/** `BPF_JMP | BPF_CALL` to helper 0xbad2310 ("bad relo"): what libbpf puts in place of an instruction it cannot relocate. */
const CALL = 0x85;
export const CORE_POISON_HELPER = 0xbad2310;

const SIZE_BYTES: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };
const SIZE_CODE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };

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

function poison(view: DataView, at: number, littleEndian: boolean): void {
  view.setUint8(at, CALL);
  view.setUint8(at + 1, 0);
  view.setUint16(at + 2, 0);
  view.setInt32(at + 4, CORE_POISON_HELPER, littleEndian);
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
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  const insn = offset / INSN_SIZE;
  const op = code[offset]!;
  const cls = op & 0x07;
  const isLdImm64 = op === LD_IMM64;
  if (isLdImm64 && offset + 2 * INSN_SIZE > code.length) return fail(`instruction #${insn} is an ld_imm64 without its second slot`);

  const doPoison = (reason?: string): CorePatchResult => {
    const slots = isLdImm64 ? [offset + INSN_SIZE, offset] : [offset];
    for (const at of slots) poison(view, at, littleEndian);
    result.poisoned = true;
    if (reason) result.reason = reason;
    return result;
  };
  if (decision.poison) return doPoison();

  const regs = code[offset + 1]!;
  const off = view.getInt16(offset + 2, littleEndian);
  const imm = view.getInt32(offset + 4, littleEndian);
  const { origValue, newValue } = decision;
  const asU64 = (v: number) => BigInt.asUintN(64, BigInt(v));
  const unexpected = (what: string, got: bigint) =>
    fail(`instruction #${insn} (${what}) holds ${got}, not the expected ${origValue} (→ ${newValue})`);

  switch (cls) {
    case CLASS_ALU: case CLASS_ALU64: {
      if (op & SOURCE_REG) return fail(`instruction #${insn} (ALU/ALU64) takes a register, not an immediate`);
      if (decision.validate && asU64(imm) !== origValue) return unexpected('ALU/ALU64 imm', BigInt(imm));
      const to = Number(BigInt.asIntN(32, newValue));
      view.setInt32(offset + 4, to, littleEndian);
      result.patches.push({ field: 'imm', from: BigInt(imm), to: BigInt(to) });
      return result;
    }
    case CLASS_LDX: case CLASS_ST: case CLASS_STX: {
      if (decision.validate && asU64(off) !== origValue) return unexpected('LDX/ST/STX off', BigInt(off));
      if (newValue > 0x7fffn) return fail(`instruction #${insn} (LDX/ST/STX): offset ${newValue} does not fit the 16-bit off`);
      if (decision.failMemSizeAdjust) {
        return doPoison(decision.reason ?? `instruction #${insn} (LDX/ST/STX) accesses a field whose size changed and that is not a pointer or unsigned integer on both sides`);
      }
      const origSize = decision.origSize ?? 0;
      const newSize = decision.newSize ?? 0;
      let newOp = op;
      if (newSize !== origSize) {
        const insnSize = SIZE_BYTES[op & SIZE_MASK]!;
        if (insnSize !== origSize) return fail(`instruction #${insn} (LDX/ST/STX) accesses ${insnSize} bytes, not the field's ${origSize}`);
        const sizeCode = SIZE_CODE[newSize];
        if (sizeCode === undefined) return fail(`instruction #${insn} (LDX/ST/STX) cannot access ${newSize} bytes at once`);
        newOp = (op & ~SIZE_MASK) | sizeCode;
      }
      view.setInt16(offset + 2, Number(newValue), littleEndian);
      result.patches.push({ field: 'off', from: BigInt(off), to: newValue });
      if (newOp !== op) {
        code[offset] = newOp;
        result.patches.push({ field: 'size', from: BigInt(origSize), to: BigInt(newSize) });
      }
      return result;
    }
    case CLASS_LD: {
      const second = offset + INSN_SIZE;
      const srcReg = littleEndian ? regs >> 4 : regs & 0x0f;
      const wellFormed = isLdImm64 && srcReg === 0 && off === 0
        && code[second] === 0 && code[second + 1] === 0 && view.getInt16(second + 2, littleEndian) === 0;
      if (!wellFormed) return fail(`instruction #${insn} (LDIMM64) has an unexpected form`);
      const from = (BigInt(view.getUint32(second + 4, littleEndian)) << 32n) | BigInt(view.getUint32(offset + 4, littleEndian));
      if (decision.validate && from !== origValue) return unexpected('LDIMM64 imm64', from);
      const to = BigInt.asUintN(64, newValue);
      view.setUint32(offset + 4, Number(to & 0xffffffffn), littleEndian);
      view.setUint32(second + 4, Number(to >> 32n), littleEndian);
      result.patches.push({ field: 'imm64', from, to });
      return result;
    }
    default:
      return fail(`instruction #${insn} (code 0x${op.toString(16)}) is not one CO-RE relocates (ALU imm, LDX/ST/STX, ld_imm64)`);
  }
}
