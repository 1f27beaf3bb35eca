/**
 * The public surface is deliberate: each entry point of the package, imported by the package's
 * own name (self-reference, through package.json "exports"), exports exactly the names listed
 * here at run time, and its declarations compile for a strict TypeScript user without the
 * members marked `@internal`. Adding or removing a public name means editing this list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Every entry point and its runtime names, sorted. Types are not runtime names; the compile check covers them. */
const SURFACE: Record<string, string[]> = {
  'btfkit': [
    'BTF_MAGIC', 'Btf', 'BtfBuilder', 'BtfError', 'ByteSink', 'FIRST_BTF_KERNEL', 'FuncLinkage',
    'HEADER_LEN_LAYOUT', 'HEADER_LEN_V1', 'IntEncoding', 'KERNEL_FEATURES', 'KERNEL_MAX_BTF_BYTES',
    'KERNEL_MAX_VLEN', 'KIND_NAMES', 'KNOWN_LAYOUTS', 'Kind', 'MAX_RESOLVE_DEPTH', 'NEWEST_KNOWN_KERNEL',
    'StringTable', 'VERSION', 'VarLinkage', 'assertValidBtf', 'btfBytesOf', 'btfExtent', 'checkBtf',
    'convertBtf', 'describeKind', 'detectEndian', 'dumpJson', 'dumpRaw', 'isBtfError', 'kernelRules',
    'kindFromName', 'kindName', 'kindSince', 'loadBtf', 'needsObjectFixups', 'parseHeader', 'parseKernelVersion',
    'prepareObjectBtf', 'sanitizeBtf',
  ],
  'btfkit/c': [
    'CDumper', 'cDeclaration', 'cHeader', 'dumpC', 'resolveRoot', 'sortedTypeIds',
  ],
  'btfkit/elf': [
    'BTF_BASE_SECTION', 'BTF_EXT_SECTION', 'BTF_IDS_SECTION', 'BTF_SECTION', 'COMPRESSION_SUFFIX', 'ElfType',
    'Machine', 'SectionFlag', 'SectionType', 'SymbolBinding', 'SymbolType', 'btfSections', 'detectCompression',
    'elfBtfSection', 'elfRole', 'findSection', 'isElf', 'moduleNameOf', 'parseElf', 'readRelocations',
    'readSymbols', 'relocationSections', 'relocationsFor', 'sectionBytes', 'sectionData', 'symbolTables',
    'symbolsInSection', 'editElfSections',
  ],
  'btfkit/ext': [
    'AluOp', 'AtomicOp', 'BTF_EXT_HEADER_LEN_CORE', 'BTF_EXT_HEADER_LEN_V1', 'BTF_EXT_MAGIC', 'BpfRelocationType',
    'CORE_RELO_MIN_SIZE', 'CallKind', 'FUNC_INFO_MIN_SIZE', 'INSN_SIZE', 'InsnClass', 'InsnMode', 'InsnPatcher',
    'InsnSize', 'InsnSource', 'JmpOp', 'LD_IMM64', 'LINE_INFO_MIN_SIZE', 'LdImm64Kind', 'decodeInsn', 'decodeInsns',
    'encodeBtfExt', 'encodeInsn', 'encodeInsns', 'formatInsn', 'insnClass', 'isCall', 'isExit', 'isLdImm64',
    'isMemoryClass', 'ldImm64Value', 'memAccessSize', 'parseBpfObject', 'parseBtfExt', 'programSection',
    'withMemAccessSize',
  ],
  'btfkit/query': [
    'TypeSet', 'TypeUnion', 'alignOf', 'declaredPointerSize', 'essentialName', 'mapEquivalentTypes', 'mapOntoBase',
    'pointerSize', 'sizeOf', 'skipModsAndTypedefs', 'typesEquivalent', 'visitRecord',
  ],
  'btfkit/load': [
    'SECTION_DEFS', 'attachTargetName', 'checkPortability', 'collectExterns', 'externCheck', 'kconfigMapSize', 'kernelVariables', 'listVariables',
    'parseKernelConfig', 'resolveExterns', 'sectionDefOf', 'resolveAttachTarget',
  ],
  'btfkit/core': [
    'CORE_KIND_NAMES', 'CORE_POISON_HELPER', 'CORE_SPEC_MAX_LEN', 'CoreKind', 'CoreRelocator', 'calcRelocation',
    'coreKindFamily', 'coreKindName', 'fieldsCompatible', 'formatCoreSpec', 'matchCoreSpec', 'minimizeBtf',
    'minimizeBtfFor', 'parseCoreSpec', 'patchCoreInstruction', 'rawStepsOf', 'relocateObject', 'resolveCoreRelocations',
    'typesCompatible', 'typesMatch',
  ],
  'btfkit/modules': [
    'baseClosure', 'checkSplit', 'dedup', 'dedupModules', 'describeType', 'formatCheck', 'formatEvidence', 'loadModuleBtf', 'loadSplitChain',
    'makeStandalone', 'matchDistilledBase', 'mergeModules', 'moduleSections', 'relocateOntoBase', 'selfContained',
    'splitOffVariables', 'splitOnBase', 'toSplitAppearance', 'distillBase', 'rebaseModule', 'rebaseHint', 'rebaseBtfIds', 'baseChecksum', 'checksumSection',
    'parseChecksumSection', 'sameChecksum', 'checksumHex', 'BTF_BASE_CHECKSUM_SECTION', 'CHECKSUM_SECTION_SIZE',
  ],
  'btfkit/node': [
    'DEFAULT_MAX_INPUT_SIZE', 'KernelBtf', 'MAX_DECOMPRESSED_SIZE', 'MAX_INPUT_ENV', 'SYSFS_BTF_DIR',
    'SYSFS_VMLINUX', 'decompressModule', 'defaultBasePath', 'kernelTargets', 'loadBtfFile', 'maybeDecompress', 'readInput',
    'readMaybeCompressed', 'readModule', 'readWholeInput',
  ],
};

test('package.json exports exactly the entry points this test knows, each with types and code', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, { types: string; default: string }>; sideEffects: unknown };
  const subpaths = Object.keys(pkg.exports).map((p) => (p === '.' ? 'btfkit' : `btfkit/${p.slice(2)}`));
  assert.deepEqual(subpaths.sort(), Object.keys(SURFACE).sort());
  for (const [path, target] of Object.entries(pkg.exports)) {
    assert.deepEqual(Object.keys(target), ['types', 'default'], `${path}: "types" must come first`);
    assert.equal(target.types.replace(/\.d\.ts$/, ''), target.default.replace(/\.js$/, ''), `${path}: types and code are one module`);
  }
  // Bundlers may drop any module whose exports go unused: no module of the library acts on import.
  assert.equal(pkg.sideEffects, false);
});

for (const [entry, names] of Object.entries(SURFACE)) {
  test(`${entry} exports exactly its listed names`, async () => {
    const mod = (await import(entry)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(mod).sort(), [...names].sort());
    for (const name of names) assert.notEqual(mod[name], undefined, `${entry}: ${name} is undefined`);
  });
}

test('no name is exported by two entry points', () => {
  const seen = new Map<string, string>();
  for (const [entry, names] of Object.entries(SURFACE)) {
    for (const name of names) {
      assert.equal(seen.get(name), undefined, `${name} is in ${seen.get(name)} and ${entry}`);
      seen.set(name, entry);
    }
  }
});

test('the declarations compile for a strict user, without internal members', async () => {
  const ts = (await import('typescript')).default;
  // Inside the package, so that `btfkit/...` resolves to it through its exports, as for a user.
  const file = resolve('dist/test/exports-consumer.ts');
  const entries = Object.keys(SURFACE);
  writeFileSync(file, [
    ...entries.map((e, i) => `import * as entry${i} from '${e}';`),
    `export const entries = [${entries.map((_, i) => `entry${i}`).join(', ')}];`,
    // Each line below must be an error; an unused @ts-expect-error is one too.
    'declare const btf: entry0.Btf;',
    ...['dv', 'u32(0)', 'i32(0)', 'recordOffset(1)'].map((m) => `// @ts-expect-error internal\nbtf.${m};`),
    "// @ts-expect-error internal\nimport { readType } from 'btfkit';",
    "// @ts-expect-error internal\nimport { elfFail, ElfReader, SHN_UNDEF } from 'btfkit/elf';",
    "// @ts-expect-error internal\nimport { inflate } from 'btfkit/node';",
    '',
  ].join('\n'));
  try {
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, skipLibCheck: false, types: ['node'],
      module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : '';
      return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
    });
    assert.deepEqual(problems, []);
    const declarations = program.getSourceFiles().map((f) => f.fileName).filter((f) => f.includes('/dist/src/'));
    assert.ok(declarations.some((f) => f.endsWith('/dist/src/btf/btf.d.ts')), 'the check read the shipped declarations');
  } finally {
    rmSync(file, { force: true });
  }
});
