/**
 * btfkit: the BPF Type Format toolkit. This entry point has no Node-only imports and runs in
 * browsers too; file and sysfs access live in `btfkit/node`.
 */
export { BtfError, isBtfError, type BtfErrorCode, type BtfErrorLocation } from './errors.js';
export { Kind, KIND_NAMES, kindName, describeKind, kindFromName, KNOWN_LAYOUTS, IntEncoding, FuncLinkage, VarLinkage, type KindLayout } from './format/kinds.js';
export { parseHeader, detectEndian, btfExtent, type BtfHeader, BTF_MAGIC, HEADER_LEN_V1, HEADER_LEN_LAYOUT } from './format/header.js';
export { Btf, type ParseOptions, type TypesOptions, MAX_RESOLVE_DEPTH } from './btf/btf.js';
export type { FieldLocation, FieldStep } from './btf/fields.js';
export type { EnumeratorMatch } from './btf/enumerators.js';
export * from './btf/types.js';
export { loadBtf, btfBytesOf } from './btf/source.js';
export * from './elf/elf.js';
export * from './elf/symbols.js';
export * from './elf/relocations.js';
export * from './elf/compress.js';
export * from './split/index.js';
export { ByteSink } from './dump/sink.js';
export { dumpRaw, dumpJson, type RawDumpOptions } from './dump/raw.js';
export * from './build/builder.js';
export { StringTable, type StringTableOptions } from './build/strings.js';
export { convertBtf, type ConvertOptions } from './build/convert.js';
export { checkBtf, assertValidBtf, type CheckOptions } from './btf/check.js';
export {
  parseKernelVersion, kernelRules, kindSince, KERNEL_FEATURES, NEWEST_KNOWN_KERNEL, FIRST_BTF_KERNEL,
  KERNEL_MAX_VLEN, KERNEL_MAX_BTF_BYTES, type KernelRules, type KernelFeature,
} from './format/kernels.js';
export type { CheckOptions as SplitCheckOptions } from './split/check.js';
export { dumpC, cHeader, cDeclaration, resolveRoot, sortedTypeIds, type CDumpOptions } from './dump/c/index.js';
export { VERSION } from './version.js';
