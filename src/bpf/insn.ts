import { BtfError } from '../errors.js';

/**
 * BPF instructions (the kernel's `struct bpf_insn`, Documentation/bpf/standardization):
 *
 * ```
 * byte 0     opcode: class (low 3 bits), then size+mode (loads, stores) or source+op (ALU, jumps)
 * byte 1     registers: dst and src, 4 bits each
 * bytes 2-3  off, signed 16 bits
 * bytes 4-7  imm, signed 32 bits
 * ```
 *
 * `off` and `imm` are in the object's byte order. The register byte is a C bitfield
 * (`__u8 dst_reg:4, src_reg:4`), and compilers lay bitfields out from the least significant bit
 * on little-endian targets but from the most significant bit on big-endian ones: dst is the
 * low nibble in bpfel and the high nibble in bpfeb.
 *
 * `ld_imm64` (`BPF_LD | BPF_IMM | BPF_DW`) takes two slots: the second has opcode 0 and holds
 * the upper 32 bits of the constant in its `imm`.
 */

/** Bytes per instruction slot. */
export const INSN_SIZE = 8;

/** Instruction classes (`BPF_CLASS`, the low 3 bits of the opcode). */
export const InsnClass = { Ld: 0x00, Ldx: 0x01, St: 0x02, Stx: 0x03, Alu: 0x04, Jmp: 0x05, Jmp32: 0x06, Alu64: 0x07 } as const;

/** Access sizes of loads and stores (`BPF_SIZE`, bits 3-4). */
export const InsnSize = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

/** Addressing modes of loads and stores (`BPF_MODE`, bits 5-7). */
export const InsnMode = { Imm: 0x00, Abs: 0x20, Ind: 0x40, Mem: 0x60, MemSx: 0x80, Atomic: 0xc0 } as const;

/** Operand source of ALU and jump instructions (`BPF_SRC`, bit 3): `imm` or the src register. */
export const InsnSource = { K: 0x00, X: 0x08 } as const;

/** ALU operations (`BPF_OP`, bits 4-7, of ALU and ALU64). */
export const AluOp = {
  Add: 0x00, Sub: 0x10, Mul: 0x20, Div: 0x30, Or: 0x40, And: 0x50, Lsh: 0x60, Rsh: 0x70,
  Neg: 0x80, Mod: 0x90, Xor: 0xa0, Mov: 0xb0, Arsh: 0xc0, End: 0xd0,
} as const;

/** Jump operations (`BPF_OP` of JMP and JMP32). */
export const JmpOp = {
  Ja: 0x00, Jeq: 0x10, Jgt: 0x20, Jge: 0x30, Jset: 0x40, Jne: 0x50, Jsgt: 0x60, Jsge: 0x70,
  Call: 0x80, Exit: 0x90, Jlt: 0xa0, Jle: 0xb0, Jslt: 0xc0, Jsle: 0xd0,
} as const;

/** Atomic operations: the `imm` of `BPF_STX | BPF_ATOMIC`. `Fetch` is or-ed into the first four. */
export const AtomicOp = { Add: 0x00, Or: 0x40, And: 0x50, Xor: 0xa0, Fetch: 0x01, Xchg: 0xe1, Cmpxchg: 0xf1 } as const;

/** What the src register of a call names: a helper (imm = helper id), a subprogram (imm = relative slot), a kfunc (imm = BTF id). */
export const CallKind = { Helper: 0, Subprogram: 1, Kfunc: 2 } as const;

/** What the src register of `ld_imm64` says the constant is (`BPF_PSEUDO_*`); 0 is a plain number. */
export const LdImm64Kind = { Number: 0, MapFd: 1, MapValue: 2, BtfId: 3, Func: 4, MapIdx: 5, MapIdxValue: 6 } as const;

/** The opcode of `ld_imm64`. */
export const LD_IMM64 = InsnClass.Ld | InsnMode.Imm | InsnSize.DW;

/** One instruction slot, decoded. `off` and `imm` are signed. */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function insnFail(detail: string, offset: number): never {
  throw new BtfError('bad-input', detail, { offset });
}

/** Reads the slot at byte `at` (which must lie inside `bytes`, 8 bytes long). */
export function decodeInsn(bytes: Uint8Array, at: number, littleEndian: boolean): BpfInsn {
  if (at < 0 || at + INSN_SIZE > bytes.length) throw new BtfError('truncated', `instruction at byte ${at} needs 8 bytes, the code has ${bytes.length}`, { offset: at });
  const regs = bytes[at + 1]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, INSN_SIZE);
  return {
    code: bytes[at]!,
    dst: littleEndian ? regs & 0xf : regs >>> 4,
    src: littleEndian ? regs >>> 4 : regs & 0xf,
    off: dv.getInt16(2, littleEndian),
    imm: dv.getInt32(4, littleEndian),
  };
}

/** Writes `insn` into the slot at byte `at`. Fields out of range are an error, not truncated. */
export function encodeInsn(insn: BpfInsn, littleEndian: boolean, out: Uint8Array = new Uint8Array(INSN_SIZE), at = 0): Uint8Array {
  const bad = (what: string, v: number) => { throw new BtfError('bad-argument', `instruction ${what} ${v} is out of range`); };
  if (!Number.isInteger(insn.code) || insn.code < 0 || insn.code > 0xff) bad('opcode', insn.code);
  if (!Number.isInteger(insn.dst) || insn.dst < 0 || insn.dst > 15) bad('dst register', insn.dst);
  if (!Number.isInteger(insn.src) || insn.src < 0 || insn.src > 15) bad('src register', insn.src);
  if (!Number.isInteger(insn.off) || insn.off < -0x8000 || insn.off > 0x7fff) bad('off', insn.off);
  if (!Number.isInteger(insn.imm) || insn.imm < -0x80000000 || insn.imm > 0xffffffff) bad('imm', insn.imm);
  if (at < 0 || at + INSN_SIZE > out.length) throw new BtfError('bad-argument', `no room for an instruction at byte ${at} of ${out.length}`);
  out[at] = insn.code;
  out[at + 1] = littleEndian ? (insn.src << 4) | insn.dst : (insn.dst << 4) | insn.src;
  const dv = new DataView(out.buffer, out.byteOffset + at, INSN_SIZE);
  dv.setInt16(2, insn.off, littleEndian);
  dv.setUint32(4, insn.imm >>> 0, littleEndian);
  return out;
}

/** The class of an opcode ({@link InsnClass}). */
export function insnClass(code: number): number {
  return code & 0x07;
}

/** True for loads and stores (classes LD, LDX, ST, STX), whose opcode has size and mode. */
export function isMemoryClass(code: number): boolean {
  return (code & 0x07) <= InsnClass.Stx;
}

/** True for `ld_imm64`, the first slot of a two-slot instruction. */
export function isLdImm64(insn: BpfInsn): boolean {
  return insn.code === LD_IMM64;
}

/** True for `call` (any of {@link CallKind}). */
export function isCall(insn: BpfInsn): boolean {
  return insn.code === (InsnClass.Jmp | JmpOp.Call);
}

/** True for `exit`. */
export function isExit(insn: BpfInsn): boolean {
  return insn.code === (InsnClass.Jmp | JmpOp.Exit);
}

const SIZE_BYTES: Record<number, number> = { [InsnSize.W]: 4, [InsnSize.H]: 2, [InsnSize.B]: 1, [InsnSize.DW]: 8 };
const BYTES_SIZE: Record<number, number> = { 4: InsnSize.W, 2: InsnSize.H, 1: InsnSize.B, 8: InsnSize.DW };

/**
 * How many bytes a load or store moves (1, 2, 4 or 8), from the size field of its opcode;
 * undefined for other classes.
 */
export function memAccessSize(code: number): number | undefined {
  if (!isMemoryClass(code)) return undefined;
  return SIZE_BYTES[code & 0x18];
}

/** The opcode of a load or store with its size field set to `bytes` (1, 2, 4 or 8). */
export function withMemAccessSize(code: number, bytes: number): number {
  if (!isMemoryClass(code)) throw new BtfError('bad-argument', `opcode 0x${code.toString(16)} is not a load or store; it has no size`);
  const size = BYTES_SIZE[bytes];
  if (size === undefined) throw new BtfError('bad-argument', `a load or store moves 1, 2, 4 or 8 bytes, not ${bytes}`);
  return (code & ~0x18) | size;
}

/** The 64-bit constant of an `ld_imm64` pair (low 32 bits in the first slot, high in the second), unsigned. */
export function ldImm64Value(first: BpfInsn, second: BpfInsn): bigint {
  return (BigInt(second.imm >>> 0) << 32n) | BigInt(first.imm >>> 0);
}

/**
 * Reads the fields the CO-RE patch step rewrites, in place in an instruction stream, and writes
 * them back. `at` is the byte offset of the instruction's first slot.
 */
export class InsnPatcher {
  private readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, readonly littleEndian: boolean) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(at: number, slots: number): void {
    if (at < 0 || at % INSN_SIZE !== 0 || at + slots * INSN_SIZE > this.bytes.length) {
      throw new BtfError('bad-argument', `no ${slots === 2 ? 'two-slot ' : ''}instruction at byte ${at} of ${this.bytes.length} (offsets are multiples of 8)`, { offset: at });
    }
  }

  /** The instruction at byte `at`. */
  insn(at: number): BpfInsn {
    this.check(at, 1);
    return decodeInsn(this.bytes, at, this.littleEndian);
  }

  code(at: number): number { this.check(at, 1); return this.bytes[at]!; }
  setCode(at: number, code: number): void {
    this.check(at, 1);
    if (!Number.isInteger(code) || code < 0 || code > 0xff) throw new BtfError('bad-argument', `opcode ${code} is out of range`);
    this.bytes[at] = code;
  }

  imm(at: number): number { this.check(at, 1); return this.dv.getInt32(at + 4, this.littleEndian); }
  /** Stores a 32-bit immediate; values from -2^31 to 2^32-1 (stored as their low 32 bits). */
  setImm(at: number, value: number): void {
    this.check(at, 1);
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) throw new BtfError('bad-argument', `imm ${value} does not fit 32 bits`);
    this.dv.setUint32(at + 4, value >>> 0, this.littleEndian);
  }

  off(at: number): number { this.check(at, 1); return this.dv.getInt16(at + 2, this.littleEndian); }
  setOff(at: number, value: number): void {
    this.check(at, 1);
    if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff) throw new BtfError('bad-argument', `off ${value} does not fit a signed 16-bit field`);
    this.dv.setInt16(at + 2, value, this.littleEndian);
  }

  /** The constant of the `ld_imm64` at `at`, unsigned. */
  imm64(at: number): bigint {
    this.check(at, 2);
    if (this.bytes[at] !== LD_IMM64) throw new BtfError('bad-argument', `instruction at byte ${at} is not ld_imm64`, { offset: at });
    return (BigInt(this.dv.getUint32(at + 12, this.littleEndian)) << 32n) | BigInt(this.dv.getUint32(at + 4, this.littleEndian));
  }
  setImm64(at: number, value: bigint): void {
    this.check(at, 2);
    if (this.bytes[at] !== LD_IMM64) throw new BtfError('bad-argument', `instruction at byte ${at} is not ld_imm64`, { offset: at });
    const v = BigInt.asUintN(64, value);
    if (v !== value && BigInt.asIntN(64, value) !== value) throw new BtfError('bad-argument', `${value} does not fit 64 bits`);
    this.dv.setUint32(at + 4, Number(v & 0xffffffffn), this.littleEndian);
    this.dv.setUint32(at + 12, Number(v >> 32n), this.littleEndian);
  }

  /** Bytes moved by the load or store at `at`; undefined for other instructions. */
  memSize(at: number): number | undefined { return memAccessSize(this.code(at)); }
  setMemSize(at: number, bytes: number): void { this.setCode(at, withMemAccessSize(this.code(at), bytes)); }
}

/** One instruction of a stream: its slot index, its fields and, for `ld_imm64`, its second slot. */
export interface DecodedInsn extends BpfInsn {
  /** Slot index (byte offset / 8) in the stream. */
  index: number;
  /** The second slot of `ld_imm64`. */
  next?: BpfInsn;
  /** The 64-bit constant of `ld_imm64` (unsigned). */
  imm64?: bigint;
}

/**
 * Decodes a whole instruction stream (a program section's contents). The stream must be a
 * whole number of slots and every `ld_imm64` must have a well-formed second slot (opcode,
 * registers and off all 0, as the kernel requires); otherwise a {@link BtfError} names the
 * byte offset. Opcodes this decoder does not know are returned as they are.
 */
export function decodeInsns(bytes: Uint8Array, littleEndian: boolean): DecodedInsn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new BtfError('truncated', `instruction stream is ${bytes.length} bytes, not a multiple of 8 (its last instruction is cut)`, { offset: bytes.length - (bytes.length % INSN_SIZE) });
  }
  const out: DecodedInsn[] = [];
  for (let at = 0; at < bytes.length; at += INSN_SIZE) {
    const insn: DecodedInsn = { index: at / INSN_SIZE, ...decodeInsn(bytes, at, littleEndian) };
    if (insn.code === LD_IMM64) {
      if (at + 2 * INSN_SIZE > bytes.length) throw new BtfError('truncated', `ld_imm64 at instruction ${insn.index} has no second slot`, { offset: at });
      const next = decodeInsn(bytes, at + INSN_SIZE, littleEndian);
      if (next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
        insnFail(`second slot of ld_imm64 at instruction ${insn.index} is not empty (opcode 0x${next.code.toString(16)}, dst r${next.dst}, src r${next.src}, off ${next.off})`, at + INSN_SIZE);
      }
      insn.next = next;
      insn.imm64 = ldImm64Value(insn, next);
      at += INSN_SIZE;
    }
    out.push(insn);
  }
  return out;
}

/** Encodes decoded instructions back into a stream (`ld_imm64` takes two slots). */
export function encodeInsns(insns: readonly (BpfInsn & { next?: BpfInsn })[], littleEndian: boolean): Uint8Array {
  let slots = 0;
  for (const i of insns) slots += i.code === LD_IMM64 ? 2 : 1;
  const out = new Uint8Array(slots * INSN_SIZE);
  let at = 0;
  for (const i of insns) {
    encodeInsn(i, littleEndian, out, at);
    at += INSN_SIZE;
    if (i.code === LD_IMM64) {
      encodeInsn(i.next ?? { code: 0, dst: 0, src: 0, off: 0, imm: 0 }, littleEndian, out, at);
      at += INSN_SIZE;
    }
  }
  return out;
}

// ---- Text ---------------------------------------------------------------------------------

/** Signed hex as llvm-objdump writes it: `0x1f`, `-0x8`. */
function hex(v: number | bigint): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** `r10 - 0x8`, `r1 + 0x0`. */
function address(reg: number, off: number): string {
  return off < 0 ? `r${reg} - 0x${(-off).toString(16)}` : `r${reg} + 0x${off.toString(16)}`;
}

function jumpOffset(off: number): string {
  return off < 0 ? `-0x${(-off).toString(16)}` : `+0x${off.toString(16)}`;
}

const SIZE_NAME: Record<number, string> = { [InsnSize.W]: '32', [InsnSize.H]: '16', [InsnSize.B]: '8', [InsnSize.DW]: '64' };

const ALU_OPERATOR: Record<number, string> = {
  [AluOp.Add]: '+=', [AluOp.Sub]: '-=', [AluOp.Mul]: '*=', [AluOp.Div]: '/=', [AluOp.Or]: '|=', [AluOp.And]: '&=',
  [AluOp.Lsh]: '<<=', [AluOp.Rsh]: '>>=', [AluOp.Mod]: '%=', [AluOp.Xor]: '^=', [AluOp.Arsh]: 's>>=',
};

const JMP_OPERATOR: Record<number, string> = {
  [JmpOp.Jeq]: '==', [JmpOp.Jgt]: '>', [JmpOp.Jge]: '>=', [JmpOp.Jset]: '&', [JmpOp.Jne]: '!=', [JmpOp.Jsgt]: 's>',
  [JmpOp.Jsge]: 's>=', [JmpOp.Jlt]: '<', [JmpOp.Jle]: '<=', [JmpOp.Jslt]: 's<', [JmpOp.Jsle]: 's<=',
};

const ATOMIC_NAME: Record<number, string> = { [AtomicOp.Add]: 'add', [AtomicOp.Or]: 'or', [AtomicOp.And]: 'and', [AtomicOp.Xor]: 'xor' };
const ATOMIC_OPERATOR: Record<number, string> = { [AtomicOp.Add]: '+=', [AtomicOp.Or]: '|=', [AtomicOp.And]: '&=', [AtomicOp.Xor]: '^=' };

/**
 * One line of text for an instruction, in llvm-objdump's BPF syntax (`r1 = *(u32 *)(r10 - 0x8)`,
 * `if w1 > 0xa goto +0x1`, `r1 = 0x0 ll`, `lock *(u64 *)(r0 + 0x0) += r1`), without the branch
 * target's symbol. For `ld_imm64` pass the decoded instruction (with `imm64`), or the constant
 * is its low half only. Opcodes BPF does not define give `<unknown>`.
 */
export function formatInsn(insn: BpfInsn & { imm64?: bigint }): string {
  const { code, dst, src, off, imm } = insn;
  const cls = code & 0x07;
  switch (cls) {
    case InsnClass.Alu:
    case InsnClass.Alu64:
      return formatAlu(insn, cls === InsnClass.Alu64);
    case InsnClass.Jmp:
    case InsnClass.Jmp32:
      return formatJmp(insn, cls === InsnClass.Jmp32);
  }
  const size = code & 0x18;
  const mode = code & 0xe0;
  const bits = SIZE_NAME[size]!;
  switch (cls) {
    case InsnClass.Ld:
      if (mode === InsnMode.Imm && size === InsnSize.DW) {
        const value = insn.imm64 ?? BigInt(imm >>> 0);
        return `r${dst} = ${hex(BigInt.asIntN(64, value))} ll`;
      }
      if (mode === InsnMode.Abs) return `r0 = *(u${bits} *)skb[${hex(imm)}]`;
      if (mode === InsnMode.Ind) return `r0 = *(u${bits} *)skb[r${src}${imm === 0 ? '' : ` + ${hex(imm)}`}]`;
      return '<unknown>';
    case InsnClass.Ldx:
      if (mode === InsnMode.Mem) return `r${dst} = *(u${bits} *)(${address(src, off)})`;
      if (mode === InsnMode.MemSx && size !== InsnSize.DW) return `r${dst} = *(s${bits} *)(${address(src, off)})`;
      return '<unknown>';
    case InsnClass.St:
      if (mode === InsnMode.Mem) return `*(u${bits} *)(${address(dst, off)}) = ${hex(imm)}`;
      return '<unknown>';
    default: // STX
      if (mode === InsnMode.Mem) return `*(u${bits} *)(${address(dst, off)}) = r${src}`;
      if (mode === InsnMode.Atomic && (size === InsnSize.W || size === InsnSize.DW)) return formatAtomic(insn, size === InsnSize.DW);
      return '<unknown>';
  }
}

function formatAtomic(insn: BpfInsn, wide: boolean): string {
  const { dst, src, off, imm } = insn;
  const bits = wide ? '64' : '32';
  const r = wide ? 'r' : 'w';
  const base = imm & ~AtomicOp.Fetch;
  if (imm === AtomicOp.Xchg) return `${r}${src} = xchg${wide ? '' : '32'}_${bits}(${address(dst, off)}, ${r}${src})`;
  if (imm === AtomicOp.Cmpxchg) return `${r}0 = cmpxchg${wide ? '' : '32'}_${bits}(${address(dst, off)}, ${r}0, ${r}${src})`;
  const name = ATOMIC_NAME[base];
  if (name === undefined || (imm & ~0xf1) !== 0) return '<unknown>';
  if (imm & AtomicOp.Fetch) return `${r}${src} = atomic_fetch_${name}((u${bits} *)(${address(dst, off)}), ${r}${src})`;
  return `lock *(u${bits} *)(${address(dst, off)}) ${ATOMIC_OPERATOR[base]} ${wide ? 'r' : 'w'}${src}`;
}

function formatAlu(insn: BpfInsn, wide: boolean): string {
  const { code, dst, src, off, imm } = insn;
  const op = code & 0xf0;
  const fromReg = (code & InsnSource.X) !== 0;
  const r = wide ? 'r' : 'w';
  const operand = fromReg ? `${r}${src}` : hex(imm);
  switch (op) {
    case AluOp.Neg:
      return `${r}${dst} = -${r}${dst}`;
    case AluOp.End:
      if (wide) return fromReg ? '<unknown>' : `r${dst} = bswap${imm} r${dst}`;
      return `r${dst} = ${fromReg ? 'be' : 'le'}${imm} r${dst}`;
    case AluOp.Mov:
      if (fromReg && (off === 8 || off === 16 || off === 32)) return `${r}${dst} = (s${off})${r}${src}`;
      return `${r}${dst} = ${operand}`;
    case AluOp.Div:
    case AluOp.Mod:
      if (off === 1) return `${r}${dst} s${op === AluOp.Div ? '/=' : '%='} ${operand}`;
      break;
  }
  const operator = ALU_OPERATOR[op];
  return operator === undefined ? '<unknown>' : `${r}${dst} ${operator} ${operand}`;
}

function formatJmp(insn: BpfInsn, narrow: boolean): string {
  const { code, dst, src, off, imm } = insn;
  const op = code & 0xf0;
  const fromReg = (code & InsnSource.X) !== 0;
  if (op === JmpOp.Ja) return narrow ? `gotol ${jumpOffset(imm)}` : `goto ${jumpOffset(off)}`;
  if (!narrow && op === JmpOp.Call) return fromReg ? `callx r${dst}` : `call ${hex(imm)}`;
  if (!narrow && op === JmpOp.Exit) return 'exit';
  const operator = JMP_OPERATOR[op];
  if (operator === undefined) return '<unknown>';
  const r = narrow ? 'w' : 'r';
  return `if ${r}${dst} ${operator} ${fromReg ? `${r}${src}` : hex(imm)} goto ${jumpOffset(off)}`;
}
