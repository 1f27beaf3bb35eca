import type { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { HEADER_LEN_V1, HOST_LITTLE_ENDIAN, writeHeader } from '../format/header.js';
import { MAX_KNOWN_KIND, describeKind } from '../format/kinds.js';
import { Rec, infoKind, infoVlen, RECORD_SHAPES } from '../format/records.js';
import { StringTable } from './strings.js';

const latin1 = new TextDecoder('latin1');

function swapped(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * A blob's own type records as host-order u32 words, each record editable in place or
 * replaceable by one of another size, plus records appended after the last id. Every id keeps
 * its number: this is how libbpf rewrites an object's BTF before loading it, and what the
 * sanitizer and the BPF object fix-ups are written on. Names can be added; the original string
 * section is kept byte for byte in front of them.
 *
 * @internal
 */
export class TypeRewrite {
  readonly btf: Btf;
  readonly strings: StringTable;
  /** One entry per own type and per appended type, index `id - btf.firstId`. */
  private readonly records: Uint32Array[] = [];

  constructor(btf: Btf) {
    this.btf = btf;
    if (btf.layout) {
      for (let i = 0; i < btf.typeOffsets.length; i++) {
        const kind = infoKind(btf.u32(btf.typeOffsets[i]! + Rec.INFO_OFF));
        if (kind === 0 || kind > MAX_KNOWN_KIND) {
          throw new BtfError('unsupported', `${describeKind(kind)} cannot be rewritten: btfkit does not know what its record holds`, { typeId: btf.firstId + i, offset: btf.typeOffsets[i]! + Rec.INFO_OFF });
        }
      }
    }
    this.strings = new StringTable({ base: btf.base, seed: btf.bytes.subarray(btf.stringStart, btf.stringStart + btf.header.strLen) });
    const typeWords = btf.header.typeLen >>> 2;
    const all = new Uint32Array(typeWords);
    new Uint8Array(all.buffer).set(btf.bytes.subarray(btf.typeStart, btf.typeStart + typeWords * 4));
    if (btf.littleEndian !== HOST_LITTLE_ENDIAN) for (let i = 0; i < all.length; i++) all[i] = swapped(all[i]!);
    const offsets = btf.typeOffsets;
    for (let i = 0; i < offsets.length; i++) {
      const start = (offsets[i]! - btf.typeStart) >>> 2;
      const end = i + 1 < offsets.length ? (offsets[i + 1]! - btf.typeStart) >>> 2 : typeWords;
      this.records.push(all.subarray(start, end));
    }
  }

  /** One past the last id, appended types included. */
  get endId(): number {
    return this.btf.firstId + this.records.length;
  }

  /** Whether `id` is a record of this blob (own or appended), not a base type or void. */
  isOwn(id: number): boolean {
    return id >= this.btf.firstId && id < this.endId;
  }

  /** The words of own type `id`; edits are kept. */
  record(id: number): Uint32Array {
    const r = this.records[id - this.btf.firstId];
    if (!r) throw new BtfError('bad-type-id', `type ${id} is not one of this blob's own types`);
    return r;
  }

  /** Replaces own type `id`'s record, possibly with one of another length. */
  replace(id: number, words: Uint32Array): void {
    this.record(id);
    this.records[id - this.btf.firstId] = words;
  }

  /** Appends a record; returns its id. */
  append(words: Uint32Array): number {
    this.records.push(words);
    return this.endId - 1;
  }

  /** The info word of any type (own, appended or base); 0 for void. */
  info(id: number): number {
    if (id === 0) return 0;
    return this.isOwn(id) ? this.record(id)[Rec.INFO_WORD]! : this.btf.info(id);
  }

  kind(id: number): number {
    return infoKind(this.info(id));
  }

  /** Word `word` of any type's record (base types read from the base). */
  word(id: number, word: number): number {
    if (this.isOwn(id)) return this.record(id)[word]!;
    const owner = this.btf.owner(id);
    if (!owner) throw new BtfError('bad-type-id', `type ${id} does not exist`);
    return owner.u32(owner.recordOffset(id) + word * 4);
  }

  /** The bytes of the name at `off` (without its NUL), from the original sections or the added strings. */
  nameBytes(off: number): Uint8Array {
    if (off === 0) return new Uint8Array(0);
    const loc = this.btf.locateString(off);
    if (loc) {
      const b = loc.btf.bytes;
      const end = b.indexOf(0, loc.pos);
      return b.subarray(loc.pos, end < 0 ? b.length : end);
    }
    const all = this.strings.bytes();
    const pos = off - this.strings.firstOffset;
    if (pos < 0 || pos >= all.length) throw new BtfError('bad-string-offset', `name offset ${off} is outside the string sections`);
    return all.subarray(pos, all.indexOf(0, pos));
  }

  /** The name at `off` as text (bytes read as Latin-1, which is lossless for any name). */
  name(off: number): string {
    return latin1.decode(this.nameBytes(off));
  }

  /** Calls `visit(wordIndex)` for every word of `id`'s record that holds a name offset. */
  forEachNameWord(id: number, visit: (word: number, element: number) => void): void {
    const r = this.record(id);
    const info = r[Rec.INFO_WORD]!;
    const shape = RECORD_SHAPES[infoKind(info)];
    if (!shape) return;
    for (const f of shape.fixed) if (f.holds === 'name') visit(f.at >>> 2, -1);
    const names = shape.element.filter((f) => f.holds === 'name');
    if (names.length === 0) return;
    const vlen = infoVlen(info);
    for (let i = 0, e = Rec.TYPE_HEADER_SIZE + shape.infoSize; i < vlen; i++, e += shape.elemSize) {
      for (const f of names) visit((e + f.at) >>> 2, i);
    }
  }

  /**
   * The blob: a 24-byte header, the records in id order, the strings. No layout section: the
   * records may have changed kinds, and every kernel reads the classic header only.
   */
  encode(endian: 'little' | 'big' = this.btf.littleEndian ? 'little' : 'big'): Uint8Array {
    let words = 0;
    for (const r of this.records) words += r.length;
    const strings = this.strings.bytes();
    const out = new Uint8Array(HEADER_LEN_V1 + words * 4 + strings.length);
    const le = endian === 'little';
    writeHeader(out, le, HEADER_LEN_V1, words * 4, 0, strings.length);
    const typeWords = new Uint32Array(out.buffer, HEADER_LEN_V1, words);
    let p = 0;
    for (const r of this.records) {
      typeWords.set(r, p);
      p += r.length;
    }
    if (le !== HOST_LITTLE_ENDIAN) for (let i = 0; i < typeWords.length; i++) typeWords[i] = swapped(typeWords[i]!);
    out.set(strings, HEADER_LEN_V1 + words * 4);
    return out;
  }
}
