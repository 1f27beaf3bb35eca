import type { TypeSet } from '../btf/typeset.js';
import { Kind } from '../format/kinds.js';
import { attachTargetName, sectionDefOf, type SectionDef } from './sections.js';

/** Where a program's BTF attach target was found. */
export interface AttachTarget {
  /** `vmlinux` (the type set's base name) or the module's name. */
  btf: string;
  /** The type's id in that BTF (a module's split id: what BPF_PROG_LOAD's attach_btf_id takes). */
  id: number;
  /** The name looked up (`btf_trace_sched_switch`, `bpf_lsm_file_open`, `do_unlinkat`). */
  name: string;
}

/** What a program section needs to attach, and whether the kernel has it. */
export interface AttachResolution {
  section: string;
  /** libbpf's program type (`tracing`, `kprobe`...), or null when libbpf knows no entry for the section. */
  programType: string | null;
  attachType: string | null;
  /** Whether the attach target is a kernel BTF type (fentry, fexit, fmod_ret, tp_btf, lsm, iter). */
  needsBtfTarget: boolean;
  /** The target, when one was needed and found. */
  target: AttachTarget | null;
  /** Why the program cannot attach there (or why it could not be judged); absent when all is well. */
  reason?: string;
}

/** libbpf's buffer for the prefixed name (BTF_MAX_NAME_SIZE): longer names fail with ENAMETOOLONG. */
const MAX_ATTACH_NAME = 127;

/**
 * Resolves a program's attach target as libbpf does when it loads the program
 * (libbpf_find_attach_btf_id → find_kernel_btf_id): the section name says what to look for,
 * vmlinux is searched first (the first type of that name and kind, in id order), then each
 * module in the set's order (libbpf takes the kernel's order of BTF objects).
 *
 * `module:function` (libbpf ≥ 1.3) restricts the search to that module; libbpf 1.1 would look
 * for a function with the colon in its name and fail, which the reason says.
 */
export function resolveAttachTarget(set: TypeSet, sectionName: string): AttachResolution {
  const sec = sectionDefOf(sectionName);
  if (!sec) {
    return { section: sectionName, programType: null, attachType: null, needsBtfTarget: false, target: null,
      reason: `libbpf knows no program type for section '${sectionName}'` };
  }
  const result: AttachResolution = {
    section: sectionName, programType: sec.def.programType, attachType: sec.def.attachType, needsBtfTarget: sec.def.attachBtf, target: null,
  };
  if (!sec.def.attachBtf) return result;
  if (sec.def.programType === 'ext') {
    result.reason = 'freplace programs attach to another BPF program, not to the kernel: not judged here';
    return result;
  }
  if (sec.extra === '') {
    result.reason = `section '${sectionName}' names no attach target (libbpf refuses to load it unless bpf_program__set_attach_target sets one)`;
    return result;
  }
  return lookUp(set, sec.def, sec.extra, result);
}

function lookUp(set: TypeSet, def: SectionDef, extra: string, result: AttachResolution): AttachResolution {
  let wantedModule: string | undefined;
  let fn = extra;
  const colon = extra.indexOf(':');
  if (colon >= 0 && def.attachType !== 'trace_raw_tp' && def.attachType !== 'trace_iter') {
    wantedModule = extra.slice(0, colon);
    fn = extra.slice(colon + 1);
  }
  const { name, kind: which } = attachTargetName(def, fn);
  const kind = which === 'typedef' ? Kind.Typedef : Kind.Func;
  if (name.length > MAX_ATTACH_NAME) {
    result.reason = `attach target name '${name}' is longer than libbpf's ${MAX_ATTACH_NAME} characters`;
    return result;
  }
  const kindName = which === 'typedef' ? 'TYPEDEF' : 'FUNC';
  if (wantedModule !== undefined) {
    const btf = wantedModule === set.baseName ? set.base : set.module(wantedModule);
    if (!btf) {
      result.reason = `module '${wantedModule}' is not in the target (module:function needs libbpf >= 1.3; 1.1 looks for '${name}' and fails)`;
      return result;
    }
    const id = btf.find(name, kind).find((x) => x >= btf.firstId || btf === set.base);
    if (id === undefined) result.reason = `${kindName} '${name}' is not in ${wantedModule}`;
    else result.target = { btf: wantedModule, id, name };
    return result;
  }
  const inBase = set.base.find(name, kind);
  if (inBase.length > 0) {
    result.target = { btf: set.baseName, id: inBase[0]!, name };
    return result;
  }
  for (const mod of set.moduleNames()) {
    const btf = set.module(mod)!;
    const id = btf.find(name, kind).find((x) => x >= btf.firstId);
    if (id !== undefined) {
      result.target = { btf: mod, id, name };
      return result;
    }
  }
  const modules = set.moduleNames().length;
  result.reason = `${kindName} '${name}' is in neither ${set.baseName} nor ${modules === 1 ? 'its module' : `any of its ${modules} modules`}`;
  return result;
}
