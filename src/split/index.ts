/** Split BTF: loading on a base, mismatch checks, standalone and split forms, merging. */
export { checkSplit, formatCheck, formatEvidence, selfContained, type SplitCheck, type SplitVerdict, type Evidence, type EvidenceSignal, type CheckStats, type CheckOptions } from './check.js';
export { loadModuleBtf, loadSplitChain, moduleSections, type ModuleSections } from './load.js';
export { matchDistilledBase, relocateOntoBase, type DistilledMatch } from './relocate.js';
export { toSplitAppearance, makeStandalone, splitOnBase, baseClosure, type SplitResult, type StandaloneOptions } from './forms.js';
export { mapOntoBase } from './equivalence.js';
export { mergeModules, TypeUnion, type NamedBtf, type MergedRange, type MergeResult, type TypeHit, type ModuleSource } from './merge.js';
export { describeType } from './refs.js';
export { visitRecord, type RecordVisitor, type TypeUse, type NameUse } from '../btf/slots.js';
