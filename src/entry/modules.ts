/**
 * `btfkit/modules`: split BTF, the form kernel modules carry: reading a module on its base
 * (relocating a distilled `.BTF.base` first), judging whether a base is the right one,
 * converting between split and self-contained forms, distilling a module's base, rebasing it
 * onto another build's base, stamping it with its base's checksum, merging modules,
 * deduplicating (libbpf's btf__dedup, split-aware) and searching a kernel
 * with its modules as one (the type set itself is in `btfkit/query`). Browser-safe; `btfkit/node` reads the files and /sys/kernel/btf.
 *
 * Every name is listed: what this file does not name is not public (test/exports.test.ts).
 */

// src/split/load.ts
export {
  loadModuleBtf,
  loadSplitChain,
  moduleSections,
  type ModuleSections,
} from '../split/load.js';

// src/split/check.ts
export {
  checkSplit,
  formatCheck,
  formatEvidence,
  selfContained,
  type SplitCheck,
  type SplitVerdict,
  type Evidence,
  type EvidenceSignal,
  type CheckStats,
  type CheckOptions as SplitCheckOptions,
  type SplitReason,
} from '../split/check.js';

// src/split/distill.ts
export {
  distillBase,
  type DistilledModule,
} from '../split/distill.js';

// src/split/rebase.ts
export {
  rebaseModule,
  rebaseHint,
  rebaseBtfIds,
  type RebaseResult,
  type RebasedType,
  type RebaseFate,
  type RebaseHint,
} from '../split/rebase.js';

// src/split/stamp.ts
export {
  baseChecksum,
  checksumSection,
  parseChecksumSection,
  sameChecksum,
  checksumHex,
  BTF_BASE_CHECKSUM_SECTION,
  CHECKSUM_SECTION_SIZE,
  type BaseChecksum,
} from '../split/stamp.js';

// src/split/relocate.ts
export {
  matchDistilledBase,
  relocateOntoBase,
  type DistilledMatch,
} from '../split/relocate.js';

// src/split/forms.ts
export {
  toSplitAppearance,
  makeStandalone,
  splitOnBase,
  baseClosure,
  type SplitResult,
  type StandaloneOptions,
} from '../split/forms.js';

// src/split/variables.ts
export {
  splitOffVariables,
  type SplitVariables,
} from '../split/variables.js';

// src/split/merge.ts
export {
  mergeModules,
  type NamedBtf,
  type MergedRange,
  type MergeResult,
} from '../split/merge.js';

// src/dedup/dedup.ts
export {
  dedup,
  dedupModules,
  type DedupOptions,
  type DedupResult,
} from '../dedup/dedup.js';

// src/split/refs.ts
export {
  describeType,
} from '../split/refs.js';
