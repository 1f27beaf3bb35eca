import type { Btf } from '../btf/btf.js';
import type { TypeSet } from '../btf/typeset.js';
import { cDeclaration } from '../dump/c/index.js';
import { Kind } from '../format/kinds.js';
import { readVlen, secinfoAt, Rec, varLinkage } from '../format/records.js';

/** One kernel variable (a VAR) as its BTF describes it. */
export interface KernelVariable {
  /** `vmlinux` or the module's name. */
  btf: string;
  /** The VAR's id in that BTF. */
  id: number;
  name: string;
  /** BTF_VAR_STATIC (0), BTF_VAR_GLOBAL_ALLOCATED (1) or BTF_VAR_GLOBAL_EXTERN (2). */
  linkage: 'static' | 'global' | 'extern' | number;
  /** The DATASEC that places it (`.data..percpu` for per-CPU variables), or null when none does. */
  section: string | null;
  /** Offset and size in that section; null without one. */
  offset: number | null;
  size: number | null;
  /** The variable's type id. */
  typeId: number;
  /** Its C declaration (`struct rq runqueues`). */
  declaration: string;
}

const LINKAGE: readonly KernelVariable['linkage'][] = ['static', 'global', 'extern'];

/**
 * Every VAR a blob defines itself (not its base's), in id order, each with the DATASEC that
 * places it. pahole puts per-CPU variables into vmlinux BTF (`.data..percpu`); a module's
 * BTF holds its own; a BPF object's holds its globals.
 */
export function listVariables(btf: Btf, where = 'vmlinux'): KernelVariable[] {
  const placed = new Map<number, { section: string; offset: number; size: number }>();
  for (let id = btf.firstId; id < btf.endId; id++) {
    if (btf.kind(id) !== Kind.Datasec) continue;
    const o = btf.owner(id)!;
    const rec = o.recordOffset(id);
    const section = btf.name(id);
    const n = readVlen(o, rec);
    for (let i = 0; i < n; i++) {
      const at = rec + secinfoAt(i);
      const v = o.u32(at + Rec.SECINFO_TYPE_OFF);
      if (!placed.has(v)) placed.set(v, { section, offset: o.u32(at + Rec.SECINFO_OFFSET_OFF), size: o.u32(at + Rec.SECINFO_SIZE_OFF) });
    }
  }
  const out: KernelVariable[] = [];
  for (let id = btf.firstId; id < btf.endId; id++) {
    if (btf.kind(id) !== Kind.Var) continue;
    const o = btf.owner(id)!;
    const linkage = varLinkage(o, o.recordOffset(id));
    const where2 = placed.get(id);
    out.push({
      btf: where,
      id,
      name: btf.name(id),
      linkage: LINKAGE[linkage] ?? linkage,
      section: where2?.section ?? null,
      offset: where2?.offset ?? null,
      size: where2?.size ?? null,
      typeId: btf.sizeOrType(id),
      declaration: cDeclaration(btf, id),
    });
  }
  return out;
}

/** Every VAR of a type set: vmlinux's, then each module's own, in the set's module order. */
export function kernelVariables(set: TypeSet): KernelVariable[] {
  const out = listVariables(set.base, set.baseName);
  for (const name of set.moduleNames()) out.push(...listVariables(set.module(name)!, name));
  return out;
}
