/**
 * `btfkit/core`: CO-RE (Compile Once, Run Everywhere) relocation as libbpf 1.1 does it, offline
 * and browser-safe: the local spec of each `.BTF.ext` CO-RE record, candidates by essential name
 * over a target's vmlinux and modules, matching, the value of each of the 13 kinds, ambiguity and
 * poisoning, libbpf's spec text, and patching an instruction with a decision as a separate step;
 * minimized BTF (bpftool's `gen min_core_btf`) from the decisions.
 *
 * Every name is listed: what this file does not name is not public (test/exports.test.ts).
 */

// src/core/kinds.ts
export {
  CoreKind,
  CORE_KIND_NAMES,
  coreKindFamily,
  coreKindName,
} from '../core/kinds.js';

// src/core/decision.ts
export {
  type CoreRelocationRecord,
  type CoreDecision,
  type CoreBtfOrigin,
  type CoreSpecSummary,
  type CoreTargetSpec,
  type CoreRawStep,
} from '../core/decision.js';

// src/core/engine.ts
export {
  CoreRelocator,
  resolveCoreRelocations,
  type CoreRelocatorOptions,
} from '../core/engine.js';

// src/core/spec.ts
export {
  parseCoreSpec,
  formatCoreSpec,
  rawStepsOf,
  CORE_SPEC_MAX_LEN,
  type CoreSpec,
  type CoreAccessor,
} from '../core/spec.js';

// src/core/match.ts
export {
  matchCoreSpec,
  fieldsCompatible,
  typesCompatible,
  typesMatch,
} from '../core/match.js';

// src/core/values.ts
export {
  calcRelocation,
  type RelocationValues,
} from '../core/values.js';

// src/core/patch.ts
export {
  patchCoreInstruction,
  CORE_POISON_HELPER,
  type CorePatch,
  type CorePatchResult,
} from '../core/patch.js';

// src/core/object.ts
export {
  relocateObject,
  type ObjectCoreRelocation,
  type ObjectCoreResult,
} from '../core/object.js';

// src/core/minimize.ts
export {
  minimizeBtf,
  minimizeBtfFor,
  type MinimizeInput,
  type MinimizeOptions,
  type MinimizedBtf,
  type MinimizedModule,
} from '../core/minimize.js';
