import { Btf } from '../btf/btf.js';
import { BtfBuilder } from '../build/builder.js';
import { copyRemapped, endianOf } from '../build/copy.js';
import { BtfError } from '../errors.js';
import { Kind } from '../format/kinds.js';

/** A kernel's BTF with its variables split off into a module of their own. */
export interface SplitVariables {
  /** The kernel's types without VARs and DATASECs (nor the DECL_TAGs on them), ids compacted. */
  base: Uint8Array;
  /** Split BTF on `base` holding only the VARs, DATASECs and their DECL_TAGs. */
  variables: Uint8Array;
  /** Old id → id in `base` or in `variables` (ids continue `base`'s). */
  map: Uint32Array;
}

/**
 * Splits a kernel's variables off its BTF: the layout proposed for a kernel whose vmlinux BTF
 * leaves its VARs and DATASECs (per-CPU variables, `.data..percpu`) to a separate "extra"
 * module (`vmlinux_btf_extra`), split on vmlinux, so that tools which need no variables read
 * less. Every other type keeps its order; references are renumbered. Tools that look variables
 * up (ksyms, `btfkit vars`) must search that module as well as vmlinux.
 */
export function splitOffVariables(kernel: Btf): SplitVariables {
  if (kernel.base) throw new BtfError('bad-argument', 'splitting variables off needs a self-contained kernel BTF, not split BTF');
  const moved = new Uint8Array(kernel.endId);
  for (let id = 1; id < kernel.endId; id++) {
    const k = kernel.kind(id);
    if (k === Kind.Var || k === Kind.Datasec) moved[id] = 1;
  }
  // A DECL_TAG belongs with what it tags (it may tag a VAR).
  for (let id = 1; id < kernel.endId; id++) {
    if (kernel.kind(id) === Kind.DeclTag && moved[kernel.sizeOrType(id)]) moved[id] = 1;
  }
  const map = new Uint32Array(kernel.endId);
  let next = 1;
  for (let id = 1; id < kernel.endId; id++) if (!moved[id]) map[id] = next++;
  for (let id = 1; id < kernel.endId; id++) if (moved[id]) map[id] = next++;
  const mapId = (v: number) => {
    if (v >= kernel.endId) throw new BtfError('bad-type-id', `type ${v} does not exist`);
    return map[v]!;
  };
  const endian = endianOf(kernel);
  const baseBuilder = new BtfBuilder();
  for (let id = 1; id < kernel.endId; id++) {
    if (moved[id]) continue;
    if (copyRemapped(baseBuilder, kernel, id, mapId) !== map[id]) throw new Error('id drift splitting variables off');
  }
  const base = baseBuilder.encode({ endian });
  const splitBuilder = new BtfBuilder({ base: Btf.parse(base) });
  for (let id = 1; id < kernel.endId; id++) {
    if (!moved[id]) continue;
    if (copyRemapped(splitBuilder, kernel, id, mapId) !== map[id]) throw new Error('id drift splitting variables off');
  }
  return { base, variables: splitBuilder.encode({ endian }), map };
}
