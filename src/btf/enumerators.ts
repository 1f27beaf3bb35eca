import { Kind } from '../format/kinds.js';
import { Rec } from '../format/records.js';
import type { Btf } from './btf.js';
import type { EnumType, EnumValue } from './types.js';

/** An enumerator found by {@link Btf.findEnumerator}: its value, and where it is declared. */
export interface EnumeratorMatch extends EnumValue {
  /** The ENUM or ENUM64 that declares it. */
  type: number;
  /** Its index among that type's values. */
  index: number;
}

const utf8Encoder = new TextEncoder();

/** @internal The implementation of {@link Btf.findEnumerator}. */
export function findEnumerators(btf: Btf, name: string): EnumeratorMatch[] {
  const chain: Btf[] = [];
  for (let b: Btf | undefined = btf; b; b = b.base) chain.unshift(b);
  const key = utf8Encoder.encode(name);
  const found: EnumeratorMatch[] = [];
  if (key.length === 0) return found;
  for (const blob of chain) {
    for (let i = 0; i < blob.typeOffsets.length; i++) {
      const rec = blob.typeOffsets[i]!;
      const info = blob.u32(rec + Rec.INFO_OFF);
      const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
      if (kind !== Kind.Enum && kind !== Kind.Enum64) continue;
      const vlen = info & Rec.INFO_VLEN_MASK;
      // This scans every record and every enumerator of a vmlinux: the layout is written out
      // (src/format/records.ts) rather than read through calls. Both kinds' elements start with the name.
      const stride = kind === Kind.Enum ? Rec.ENUM_SIZE : Rec.ENUM64_SIZE;
      // Names are compared as bytes where they lie, so scanning every enumerator of vmlinux decodes none.
      for (let j = 0; j < vlen; j++) {
        const loc = blob.locateString(blob.u32(rec + Rec.TYPE_HEADER_SIZE + j * stride + Rec.ENUM_NAME_OFF));
        if (!loc || !sameName(loc.btf.bytes, loc.pos, key)) continue;
        const id = blob.firstId + i;
        const value = (btf.type(id) as EnumType).values[j]!;
        found.push({ ...value, type: id, index: j });
      }
    }
  }
  return found;
}

/** True when the NUL-terminated string at `bytes[pos]` is `key`. */
function sameName(bytes: Uint8Array, pos: number, key: Uint8Array): boolean {
  if (bytes[pos + key.length] !== 0) return false;
  for (let k = 0; k < key.length; k++) if (bytes[pos + k] !== key[k]) return false;
  return true;
}
