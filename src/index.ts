/**
 * btfkit: the BPF Type Format toolkit. This entry point (`btfkit`) holds what reading, checking,
 * writing and dumping one BTF blob takes; it has no Node-only imports and runs in browsers too.
 * The rest has its own entry point: `btfkit/c` (C headers), `btfkit/modules` (split BTF and
 * kernel modules), `btfkit/elf` (ELF files) and `btfkit/node` (files and /sys/kernel/btf).
 *
 * Every name is listed: what this file does not name is not public. test/exports.test.ts pins
 * the list, so a change to it is deliberate.
 */

// src/errors.ts
export {
  BtfError,
  isBtfError,
  type BtfErrorCode,
  type BtfErrorLocation,
} from './errors.js';

// src/format/kinds.ts
export {
  Kind,
  KIND_NAMES,
  kindName,
  describeKind,
  kindFromName,
  KNOWN_LAYOUTS,
  IntEncoding,
  FuncLinkage,
  VarLinkage,
  type KindLayout,
} from './format/kinds.js';

// src/format/header.ts
export {
  parseHeader,
  detectEndian,
  btfExtent,
  BTF_MAGIC,
  HEADER_LEN_V1,
  HEADER_LEN_LAYOUT,
  type BtfHeader,
} from './format/header.js';

// src/btf/btf.ts
export {
  Btf,
  MAX_RESOLVE_DEPTH,
  type ParseOptions,
  type TypesOptions,
} from './btf/btf.js';

// src/btf/fields.ts
export type {
  FieldLocation,
  FieldStep,
} from './btf/fields.js';

// src/btf/enumerators.ts
export type {
  EnumeratorMatch,
} from './btf/enumerators.js';

// src/btf/types.ts: the typed views Btf.type() returns.
export type {
  BtfType,
  TypeCommon,
  VoidType,
  IntType,
  RefType,
  TypeTagType,
  ArrayType,
  Member,
  CompositeType,
  EnumValue,
  EnumType,
  FwdType,
  FuncType,
  Param,
  FuncProtoType,
  VarType,
  VarSecinfo,
  DatasecType,
  FloatType,
  DeclTagType,
  UnknownKindType,
} from './btf/types.js';

// src/btf/source.ts
export {
  loadBtf,
  btfBytesOf,
} from './btf/source.js';

// src/btf/check.ts
export {
  checkBtf,
  assertValidBtf,
  type CheckOptions,
} from './btf/check.js';

// src/format/kernels.ts
export {
  parseKernelVersion,
  kernelRules,
  kindSince,
  KERNEL_FEATURES,
  NEWEST_KNOWN_KERNEL,
  FIRST_BTF_KERNEL,
  KERNEL_MAX_VLEN,
  KERNEL_MAX_BTF_BYTES,
  type KernelRules,
  type KernelFeature,
} from './format/kernels.js';

// src/build/builder.ts
export {
  BtfBuilder,
  type BuilderOptions,
  type EncodeOptions,
  type MemberSpec,
  type EnumValueSpec,
  type ParamSpec,
  type VarSecinfoSpec,
  type CopyOptions,
} from './build/builder.js';

// src/build/strings.ts
export {
  StringTable,
  type StringTableOptions,
} from './build/strings.js';

// src/build/convert.ts
export {
  convertBtf,
  type ConvertOptions,
} from './build/convert.js';

// src/build/sanitize.ts
export {
  sanitizeBtf,
  type SanitizeOptions,
  type SanitizeResult,
} from './build/sanitize.js';

// src/build/bpf-object.ts
export {
  needsObjectFixups,
  prepareObjectBtf,
} from './build/bpf-object.js';

// src/dump/sink.ts
export {
  ByteSink,
} from './dump/sink.js';

// src/dump/raw.ts
export {
  dumpRaw,
  dumpJson,
  type RawDumpOptions,
} from './dump/raw.js';

// src/version.ts
export {
  VERSION,
} from './version.js';
