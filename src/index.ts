/**
 * btfkit: the BPF Type Format toolkit. This entry point has no Node-only imports and runs in
 * browsers too; file and sysfs access live in `btfkit/node`.
 */
export { BtfError, type BtfErrorCode, type BtfErrorLocation } from './errors.js';
export { Kind, KIND_NAMES, kindName, kindFromName, KNOWN_LAYOUTS, IntEncoding, FuncLinkage, VarLinkage, type KindLayout } from './format/kinds.js';
export { parseHeader, detectEndian, type BtfHeader, BTF_MAGIC, HEADER_LEN_V1, HEADER_LEN_LAYOUT } from './format/header.js';
export { Btf, type ParseOptions, MAX_RESOLVE_DEPTH } from './btf/btf.js';
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
export type { CheckOptions as SplitCheckOptions } from './split/check.js';
export { dumpC, cHeader, cDeclaration, CDumper, resolveRoot, sortedTypeIds, type CDumpOptions } from './dump/c/index.js';
export { VERSION } from './version.js';
