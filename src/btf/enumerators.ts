import { Kind } from '../format/kinds.js';
import { enum64NameOff, enumNameOff, infoKind, infoVlen, readInfo } from '../format/records.js';
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
      const info = readInfo(blob, rec);
      const kind = infoKind(info);
      if (kind !== Kind.Enum && kind !== Kind.Enum64) continue;
      const vlen = infoVlen(info);
      const nameOff = kind === Kind.Enum ? enumNameOff : enum64NameOff;
      // Names are compared as bytes where they lie, so scanning every enumerator of vmlinux decodes none.
      for (let j = 0; j < vlen; j++) {
        const loc = blob.locateString(nameOff(blob, rec, j));
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
