import type { Btf } from '../btf/btf.js';
import { BtfBuilder } from '../build/builder.js';
import { BtfError } from '../errors.js';
import { HEADER_LEN_LAYOUT, HEADER_LEN_V1, writeHeader } from '../format/header.js';
import { copyRemapped, endianOf, OffsetStrings } from '../build/copy.js';
import { mapEquivalentTypes } from '../btf/equivalence.js';
import { rewriteOwnRecords } from './relocate.js';
import { visitRecord } from '../btf/slots.js';

/**
 * The two forms module BTF comes in, and the ways between them:
 * - split: ids continue after the base's last id, string offsets after the base's strings, and
 *   base types are referred to by their base ids (what `.ko` files carry);
 * - standalone: self-contained, ids from 1, its own string section from offset 0.
 */

/**
 * Renumbers self-contained BTF into split appearance on `base`, without changing a type: ids
 * move up by the base's type count, string offsets move to follow the base's strings (the
 * leading empty string is dropped, offset 0 stays the empty name). The result parses as split
 * BTF on `base` and holds exactly the standalone's types; no type is replaced by a base type
 * (that is what {@link splitOnBase} does).
 */
export function toSplitAppearance(standalone: Btf, base: Btf): Uint8Array {
  if (standalone.base) throw new BtfError('bad-argument', 'this BTF is already split; renumbering needs self-contained BTF');
  const idShift = base.endId - 1;
  const strShift = base.endStringOffset - 1;
  const typeLen = standalone.header.typeLen;
  const layoutLen = standalone.layout ? standalone.header.layoutLen : 0;
  const strLen = standalone.header.strLen - 1;
  const hdrLen = layoutLen ? HEADER_LEN_LAYOUT : HEADER_LEN_V1;
  const out = new Uint8Array(hdrLen + typeLen + layoutLen + strLen);
  const le = standalone.littleEndian;
  writeHeader(out, le, hdrLen, typeLen, layoutLen, strLen);
  out.set(standalone.bytes.subarray(standalone.typeStart, standalone.typeStart + typeLen), hdrLen);
  rewriteOwnRecords(standalone, (v) => (v === 0 ? 0 : v + idShift), (off) => (off === 0 ? 0 : off + strShift), out, hdrLen);
  if (layoutLen) {
    const from = standalone.header.hdrLen + standalone.header.layoutOff;
    out.set(standalone.bytes.subarray(from, from + layoutLen), hdrLen + typeLen);
  }
  const s = standalone.stringStart;
  out.set(standalone.bytes.subarray(s + 1, s + 1 + strLen), hdrLen + typeLen + layoutLen);
  return out;
}

/** The base ids that the module's own types reach, directly or through other base types, in id order. */
export function baseClosure(mod: Btf): number[] {
  const first = mod.firstId;
  const reached = new Uint8Array(first);
  const stack: number[] = [];
  const visitor = {
    type: (_slot: number, v: number) => {
      if (v !== 0 && v < first && !reached[v]) {
        reached[v] = 1;
        stack.push(v);
      }
    },
  };
  for (let id = first; id < mod.endId; id++) visitRecord(mod, id, visitor);
  while (stack.length) visitRecord(mod, stack.pop()!, visitor);
  const out: number[] = [];
  for (let id = 1; id < first; id++) if (reached[id]) out.push(id);
  return out;
}

/** Options for {@link makeStandalone}. */
export interface StandaloneOptions {
  /** Byte order of the output; default: the module's. */
  endian?: 'little' | 'big';
}

/**
 * A self-contained blob with the module's types and every base type they reach: first the
 * base types, in base id order, then the module's types in their order. Ids start at 1 and
 * the blob has its own strings, so it loads without the base (the kernel's BPF_BTF_LOAD takes
 * it), and {@link splitOnBase} turns it back into split BTF.
 *
 * @param mod the module's BTF, split on its base (any depth of base chain)
 */
export function makeStandalone(mod: Btf, opts: StandaloneOptions = {}): Uint8Array {
  if (!mod.base) throw new BtfError('bad-argument', 'this BTF is not split: it is already self-contained');
  const closure = baseClosure(mod);
  const newId = new Uint32Array(mod.endId);
  let next = 1;
  for (const id of closure) newId[id] = next++;
  for (let id = mod.firstId; id < mod.endId; id++) newId[id] = next++;
  const own = Array.from({ length: mod.ownTypeCount }, (_, i) => mod.firstId + i);
  const strings = new OffsetStrings(mod);
  strings.collect(closure);
  strings.collect(own);
  const builder = new BtfBuilder({ strings: strings.bytes() });
  const mapId = (v: number) => newId[v]!;
  for (const id of closure) copyRemapped(builder, mod, id, mapId, strings.offsetOf);
  for (const id of own) copyRemapped(builder, mod, id, mapId, strings.offsetOf);
  return builder.encode({ endian: opts.endian ?? endianOf(mod) });
}

/** What {@link splitOnBase} did, besides the bytes. */
export interface SplitResult {
  bytes: Uint8Array;
  /** Types of the input that became references to equivalent base types. */
  mappedToBase: number;
  /** Types kept as the split BTF's own. */
  kept: number;
}

/**
 * Turns self-contained BTF (a {@link makeStandalone} blob, or any complete BTF) into split BTF
 * on `base`: every type equivalent to a base type (same kind, names, sizes, offsets, values,
 * and references to equivalent types: `mapEquivalentTypes`) is dropped and references to it point at the base's
 * type; the other types keep their order and are numbered after the base's last id. Names
 * the base already has refer to the base's strings, as pahole's output does.
 */
export function splitOnBase(standalone: Btf, base: Btf, opts: StandaloneOptions = {}): SplitResult {
  if (standalone.base) throw new BtfError('bad-argument', 'this BTF is already split; splitting needs self-contained BTF');
  const map = mapEquivalentTypes(standalone, base);
  const newId = new Uint32Array(standalone.endId);
  const keep: number[] = [];
  // A base type is the image of one input type only: a later identical copy was the
  // module's own type in the original (a duplicate deduplication did not remove), so it stays.
  const claimed = new Set<number>();
  for (let id = 1; id < standalone.endId; id++) {
    const m = map[id]!;
    if (m >= 0 && !claimed.has(m)) {
      newId[id] = m;
      claimed.add(m);
    } else {
      newId[id] = base.endId + keep.length;
      keep.push(id);
    }
  }
  const builder = new BtfBuilder({ base });
  const mapId = (v: number) => newId[v]!;
  for (const id of keep) copyRemapped(builder, standalone, id, mapId);
  return {
    bytes: builder.encode({ endian: opts.endian ?? endianOf(standalone) }),
    mappedToBase: standalone.endId - 1 - keep.length,
    kept: keep.length,
  };
}
