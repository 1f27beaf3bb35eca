/**
 * `btfkit/load`: will a BPF object load on a kernel? libbpf's section-name conventions (program
 * type, attach type, BTF attach target), attach targets resolved over vmlinux and modules as
 * libbpf resolves them, and kernel variables (VARs) wherever they live, including an
 * extra-variables module. Browser-safe.
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
  type CheckPortabilityOptions,
  type ExternCheck,
  type PortabilityExtern,
  type PortabilityFinding,
  type PortabilityFindingKind,
  type PortabilityProgram,
  type PortabilityResult,
} from '../load/portability.js';
