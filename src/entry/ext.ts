/**
 * `btfkit/ext`: what a BPF object carries besides `.BTF`: the `.BTF.ext` section (func_info,
 * line_info, CO-RE relocation records; read and written), BPF instructions (decoded, encoded,
 * printed, patched in place) and the object model (program sections, functions, relocations).
 * Browser-safe.
 *
 * Every name is listed: what this file does not name is not public (test/exports.test.ts).
 */

// src/ext/btf-ext.ts
export {
  parseBtfExt,
  encodeBtfExt,
  BTF_EXT_MAGIC,
  BTF_EXT_HEADER_LEN_V1,
  BTF_EXT_HEADER_LEN_CORE,
  FUNC_INFO_MIN_SIZE,
  LINE_INFO_MIN_SIZE,
  CORE_RELO_MIN_SIZE,
  type BtfExt,
  type BtfExtHeader,
  type BtfExtInfo,
  type BtfExtBlock,
  type BtfStringSource,
  type FuncInfoRecord,
  type LineInfoRecord,
  type ParseBtfExtOptions,
  type EncodeBtfExtOptions,
} from '../ext/btf-ext.js';

// src/core/decision.ts (the record type; the engine's decisions live in btfkit/core)
export { type CoreRelocationRecord } from '../core/decision.js';

// src/bpf/insn.ts
export {
  decodeInsn,
  encodeInsn,
  decodeInsns,
  encodeInsns,
  formatInsn,
  insnClass,
  isMemoryClass,
  isLdImm64,
  isCall,
  isExit,
  memAccessSize,
  withMemAccessSize,
  ldImm64Value,
  InsnPatcher,
  INSN_SIZE,
  LD_IMM64,
  InsnClass,
  InsnSize,
  InsnMode,
  InsnSource,
  AluOp,
  JmpOp,
  AtomicOp,
  CallKind,
  LdImm64Kind,
  type BpfInsn,
  type DecodedInsn,
} from '../bpf/insn.js';

// src/bpf/object.ts
export {
  parseBpfObject,
  programSection,
  BpfRelocationType,
  type BpfObject,
  type BpfProgramSection,
  type BpfFunction,
  type BpfRelocation,
  type BpfReferenceKind,
  type ParseBpfObjectOptions,
} from '../bpf/object.js';
