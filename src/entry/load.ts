/**
 * `btfkit/load`: will a BPF object load on a kernel? libbpf's section-name conventions (program
 * type, attach type, BTF attach target), attach targets resolved over vmlinux and modules as
 * libbpf resolves them, kernel variables (VARs) wherever they live, including an
 * extra-variables module, and an object's externs (kfuncs, ksyms, kconfig values) resolved as
 * libbpf 1.1 resolves them. Browser-safe.
 *
 * Every name is listed: what this file does not name is not public (test/exports.test.ts).
 */

// src/load/sections.ts
export {
  SECTION_DEFS,
  sectionDefOf,
  attachTargetName,
  type SectionDef,
  type SectionMatch,
  type ProgramSection,
} from '../load/sections.js';

// src/load/attach.ts
export {
  resolveAttachTarget,
  type AttachTarget,
  type AttachResolution,
} from '../load/attach.js';

// src/load/vars.ts
export {
  listVariables,
  kernelVariables,
  type KernelVariable,
} from '../load/vars.js';

// src/load/portability.ts
export {
  checkPortability,
  externCheck,
  type CheckPortabilityOptions,
  type ExternCheck,
  type PortabilityExtern,
  type PortabilityFinding,
  type PortabilityFindingKind,
  type PortabilityProgram,
  type PortabilityResult,
} from '../load/portability.js';

// src/load/externs.ts
export {
  collectExterns,
  resolveExterns,
  kconfigMapSize,
  type BpfExtern,
  type ExternKind,
  type ExternStatus,
  type ExternTarget,
  type ExternResolution,
  type ResolveExternsOptions,
} from '../load/externs.js';

// src/load/kconfig.ts
export {
  parseKernelConfig,
  type KconfigType,
  type KconfigSlot,
  type KernelConfig,
  type KconfigLine,
} from '../load/kconfig.js';
