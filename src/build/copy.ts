import type { Btf } from '../btf/btf.js';
import type { BtfBuilder } from './builder.js';
import { BtfError } from '../errors.js';
import { describeKind } from '../format/kinds.js';
import { Rec } from '../format/records.js';
import { recordEnd, wordRole, WordRole } from '../btf/slots.js';

/*
 * Types written by copying records of a parsed blob rather than field by field: each record as
 * it is, its type ids and names passed through mappings. Renumbering between split and
 * standalone forms and merging modules write their types this way, and deduplication will.
 */

/**
 * Copies type `id` of `src` into `builder` with every type id passed through `mapId` and every
 * name offset through `mapName` (by default: the name is re-added to the builder's string
 * table, so the copy is right whatever string section the builder writes). Returns the new id.
 * @internal
 */
export function copyRemapped(
  builder: BtfBuilder, src: Btf, id: number, mapId: (id: number) => number,
  mapName: (off: number) => number = (off) => addName(builder, src, off, id),
): number {
  const owner = src.owner(id);
  if (!owner) throw new BtfError('bad-type-id', `type ${id} does not exist`);
  const rec = owner.recordOffset(id);
  const words = (recordEnd(owner, id) - rec) / 4;
  const info = owner.u32(rec + Rec.INFO_OFF);
  const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
  let nameOff = 0;
  let sizeOrType = 0;
  const payload = new Array<number>(words - Rec.TYPE_HEADER_WORDS);
  for (let w = 0; w < words; w++) {
    let v = owner.u32(rec + w * 4);
    switch (wordRole(kind, w)) {
      case WordRole.TypeId: v = mapId(v); break;
      case WordRole.Name: v = mapName(v); break;
      case WordRole.Unknown:
        throw new BtfError('bad-kind', `the type ids inside a record of ${describeKind(kind)} cannot be renumbered: btfkit does not know where they sit`, { typeId: id });
    }
    if (w === Rec.NAME_WORD) nameOff = v;
    else if (w === Rec.SIZE_OR_TYPE_WORD) sizeOrType = v;
    else if (w >= Rec.TYPE_HEADER_WORDS) payload[w - Rec.TYPE_HEADER_WORDS] = v;
  }
  return builder.addRecord(kind, nameOff, info & Rec.INFO_VLEN_MASK, info >>> Rec.INFO_KIND_FLAG_SHIFT === 1, sizeOrType, payload);
}

/** The bytes of the name at `off` (without its NUL), wherever in the chain it lives. */
export function nameBytes(src: Btf, off: number, id?: number): Uint8Array {
  const loc = src.locateString(off);
  if (!loc) throw new BtfError('bad-string-offset', `name offset ${off} lies outside every string section`, id === undefined ? {} : { typeId: id });
  const bytes = loc.btf.bytes;
  let end = bytes.indexOf(0, loc.pos);
  if (end < 0) end = bytes.length;
  return bytes.subarray(loc.pos, end);
}

function addName(builder: BtfBuilder, src: Btf, off: number, id: number): number {
  return off === 0 ? 0 : builder.strings.addBytes(nameBytes(src, off, id));
}

/**
 * A string section assembled from names of a source chain, one copy per source offset: no text
 * lookups, so copying thousands of types costs one map entry per distinct name.
 * @internal
 */
export class OffsetStrings {
  /** New offset per source offset. */
  private readonly map = new Map<number, number>();
  private buf = new Uint8Array(4096);
  private len = 1;

  constructor(private readonly src: Btf) {}

  /** Records every name of the given types. */
  collect(ids: Iterable<number>): void {
    for (const id of ids) {
      const owner = this.src.owner(id)!;
      const rec = owner.recordOffset(id);
      const words = (recordEnd(owner, id) - rec) / 4;
      const kind = (owner.u32(rec + Rec.INFO_OFF) >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
      for (let w = 0; w < words; w++) {
        if (wordRole(kind, w) === WordRole.Name) this.add(owner.u32(rec + w * 4), id);
      }
    }
  }

  private add(off: number, id: number): void {
    if (off === 0 || this.map.has(off)) return;
    const b = nameBytes(this.src, off, id);
    if (this.len + b.length + 1 > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + b.length + 1));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.map.set(off, this.len);
    this.buf.set(b, this.len);
    this.buf[this.len + b.length] = 0;
    this.len += b.length + 1;
  }

  /** The new offset of source offset `off` (which {@link collect} must have seen). */
  readonly offsetOf = (off: number): number => (off === 0 ? 0 : this.map.get(off)!);

  /** The section: the empty string, then each name once. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** The byte order to write a blob derived from `btf` in: the same as its own. */
export function endianOf(btf: Btf): 'little' | 'big' {
  return btf.littleEndian ? 'little' : 'big';
}
