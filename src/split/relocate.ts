import type { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { Kind, describeKind } from '../format/kinds.js';
import { arrayElemType, intData, intEncoding as encodingOf } from '../format/records.js';
import { visitRecord } from '../btf/slots.js';
import { describeType } from './refs.js';

/**
 * Distilled bases (`.BTF.base`, Linux 6.11+): a module built with
 * `pahole --btf_features=distilled_base` carries split BTF on a small base of its own that
 * names only the vmlinux types it uses (named INT, FLOAT, ENUM, STRUCT, UNION, FWD). Loading
 * it means finding each of those types in the real base and renumbering the module onto it,
 * which is what the kernel does at module load (btf_relocate).
 */

/** The outcome of matching a distilled base against a real base. */
export interface DistilledMatch {
  /** Distilled base id to real base id, for every type that has exactly one counterpart. */
  map: Map<number, number>;
  /** Distilled types without a counterpart (or with several), and why. */
  missing: { id: number; reason: string }[];
}

/**
 * Finds each type of `split`'s distilled base in `base`. The rules are the kernel's: a named
 * INT matches by name, size and encoding; a FLOAT by name and size; an ENUM by name and size
 * (an ENUM64 of that name counts); a STRUCT or UNION by name and kind, and by size too when
 * the module embeds it (a member of that type, not a pointer to it) or when the base holds
 * several of that name; a FWD by name and struct/union flavour. Exactly one counterpart is
 * required.
 *
 * `split` is the module's BTF parsed on its distilled base; a distilled base alone (a `Btf`
 * with no base) works too but then cannot know which structs are embedded.
 */
export function matchDistilledBase(split: Btf, base: Btf): DistilledMatch {
  const distilled = split.base ?? split;
  const embedded = split.base ? embeddedComposites(split) : new Set<number>();
  const map = new Map<number, number>();
  const missing: { id: number; reason: string }[] = [];
  for (let id = 1; id < distilled.endId; id++) {
    const kind = distilled.kind(id);
    const name = distilled.name(id);
    const what = describeType(distilled, id);
    if (!name) {
      missing.push({ id, reason: `${what} is anonymous; a distilled base holds only named types` });
      continue;
    }
    const size = distilled.sizeOrType(id);
    let candidates: number[];
    switch (kind) {
      case Kind.Int: {
        const enc = intEncoding(distilled, id);
        candidates = base.find(name, Kind.Int).filter((b) => base.sizeOrType(b) === size && intEncoding(base, b) === enc);
        break;
      }
      case Kind.Float:
        candidates = base.find(name, Kind.Float).filter((b) => base.sizeOrType(b) === size);
        break;
      case Kind.Enum:
        candidates = base.find(name).filter((b) => (base.kind(b) === Kind.Enum || base.kind(b) === Kind.Enum64) && base.sizeOrType(b) === size);
        break;
      case Kind.Struct: case Kind.Union: {
        const sameKind = base.find(name, kind);
        const needsSize = embedded.has(id) || sameKind.length > 1;
        candidates = needsSize ? sameKind.filter((b) => base.sizeOrType(b) === size) : sameKind;
        break;
      }
      case Kind.Fwd: {
        const union = distilled.kindFlag(id);
        candidates = base.find(name).filter((b) => {
          const k = base.kind(b);
          return k === Kind.Fwd ? base.kindFlag(b) === union : k === (union ? Kind.Union : Kind.Struct);
        });
        break;
      }
      default:
        missing.push({ id, reason: `${what}: a distilled base holds only INT, FLOAT, ENUM, STRUCT, UNION and FWD types` });
        continue;
    }
    if (candidates.length === 1) {
      map.set(id, candidates[0]!);
    } else if (candidates.length === 0) {
      const sized = kind === Kind.Fwd ? '' : ` of size ${size}${kind === Kind.Int ? ` and encoding ${encodingText(intEncoding(distilled, id))}` : ''}`;
      missing.push({ id, reason: `${what}${sized} has no counterpart in the base${embedded.has(id) ? ' (the module embeds it, so its size must match)' : ''}` });
    } else {
      missing.push({ id, reason: `${what} has ${candidates.length} candidates in the base (ids ${candidates.slice(0, 5).join(', ')}), so the module cannot be placed on it unambiguously` });
    }
  }
  return { map, missing };
}

/** An INT encoding as bpftool prints it. */
function encodingText(enc: number): string {
  return enc === 1 ? 'SIGNED' : enc === 2 ? 'CHAR' : enc === 4 ? 'BOOL' : enc === 0 ? '(none)' : `0x${enc.toString(16)}`;
}

function intEncoding(btf: Btf, id: number): number {
  const o = btf.owner(id)!;
  return encodingOf(intData(o, o.recordOffset(id)));
}

/** Distilled-base structs and unions that a split struct or union holds by value. */
function embeddedComposites(split: Btf): Set<number> {
  const out = new Set<number>();
  const distilledEnd = split.firstId;
  for (let id = split.firstId; id < split.endId; id++) {
    const k = split.kind(id);
    if (k !== Kind.Struct && k !== Kind.Union) continue;
    visitRecord(split, id, { type: (_slot, ref) => {
      let cur = ref;
      for (let depth = 0; cur !== 0 && depth < 64; depth++) {
        if (cur >= split.endId) return;
        const ck = split.kind(cur);
        if (ck === Kind.Const || ck === Kind.Volatile || ck === Kind.Restrict || ck === Kind.Typedef || ck === Kind.TypeTag) {
          cur = split.sizeOrType(cur);
        } else if (ck === Kind.Array) {
          const o = split.owner(cur)!;
          cur = arrayElemType(o, o.recordOffset(cur));
        } else {
          if ((ck === Kind.Struct || ck === Kind.Union) && cur < distilledEnd) out.add(cur);
          return;
        }
      }
    } });
  }
  return out;
}

/**
 * Rewrites a split blob's own records in a copy of its bytes: every type id through `mapId`
 * and every name offset through `mapName`. The header and section sizes stay as they are,
 * so this is only for renumberings that keep the string section. Kinds btfkit does not know
 * are refused, since ids inside them cannot be found.
 * @internal
 */
export function rewriteOwnRecords(btf: Btf, mapId: (id: number) => number, mapName: (off: number) => number, into?: Uint8Array, at = 0): Uint8Array {
  const out = into ?? btf.bytes.slice();
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const le = btf.littleEndian;
  // Slots are absolute offsets in btf.bytes; `shift` moves them to where the records sit in `out`.
  const shift = into ? at - btf.typeStart : 0;
  for (let id = btf.firstId; id < btf.endId; id++) {
    visitRecord(btf, id, {
      type: (slot, v) => dv.setUint32(slot + shift, mapId(v), le),
      name: (slot, v) => dv.setUint32(slot + shift, mapName(v), le),
      unknownPayload: (kind) => { throw new BtfError('bad-kind', `the type ids inside a record of ${describeKind(kind)} cannot be renumbered: btfkit does not know where they sit`, { typeId: id }); },
    });
  }
  return out;
}

/**
 * Renumbers a module's BTF from its distilled base (`.BTF.base`) onto the real base, as the
 * kernel does when it loads such a module: module ids move to follow the base's last id,
 * references to distilled types become references to their counterparts, names of distilled
 * types become the base's names, and the module's own strings move after the base's.
 *
 * @param split the module's `.BTF` parsed on its `.BTF.base`
 * @returns split BTF bytes to parse on `base`
 */
export function relocateOntoBase(split: Btf, base: Btf): Uint8Array {
  const distilled = split.base;
  if (!distilled || distilled.base) throw new BtfError('bad-base', 'relocation needs the module BTF parsed on its distilled base (.BTF.base)');
  const { map, missing } = matchDistilledBase(split, base);
  if (missing.length) {
    throw new BtfError('bad-base', `the module's distilled base does not fit this base: ${missing[0]!.reason}${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`);
  }
  const idShift = base.endId - distilled.endId;
  const strShift = base.endStringOffset - distilled.endStringOffset;
  // Names of distilled types become the names of their counterparts; other distilled strings
  // are looked up in the base by text.
  const nameMap = new Map<number, number>();
  for (const [d, b] of map) nameMap.set(distilled.nameOffset(d), base.nameOffset(b));
  let baseStrings: Map<string, number> | undefined;
  const mapName = (off: number): number => {
    if (off === 0) return 0;
    if (off >= distilled.endStringOffset) return off + strShift;
    const mapped = nameMap.get(off);
    if (mapped !== undefined) return mapped;
    baseStrings ??= stringIndex(base);
    const text = distilled.str(off) ?? '';
    const found = baseStrings.get(text);
    if (found === undefined) throw new BtfError('bad-base', `string '${text}' of the distilled base is not in the base`);
    return found;
  };
  const mapId = (id: number): number => {
    if (id === 0) return 0;
    if (id >= distilled.endId) return id + idShift;
    const b = map.get(id);
    if (b === undefined) throw new BtfError('bad-base', `distilled base type ${id} has no counterpart`);
    return b;
  };
  return rewriteOwnRecords(split, mapId, mapName);
}

/** Every string of a blob chain (innermost base first wins), by text. */
export function stringIndex(btf: Btf): Map<string, number> {
  const out = new Map<string, number>();
  const chain: Btf[] = [];
  for (let b: Btf | undefined = btf; b; b = b.base) chain.unshift(b);
  const dec = new TextDecoder('utf-8', { fatal: false });
  for (const b of chain) {
    const s = b.stringStart;
    const len = b.header.strLen;
    const bytes = b.bytes;
    let p = 0;
    while (p < len) {
      let e = bytes.indexOf(0, s + p);
      if (e < 0 || e > s + len) e = s + len;
      const text = dec.decode(bytes.subarray(s + p, e));
      const off = b.firstStringOffset + p;
      if (!out.has(text)) out.set(text, off);
      p = e - s + 1;
    }
  }
  return out;
}
