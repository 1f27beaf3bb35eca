import type { KindLayout } from './kinds.js';

/** Reads the layout section: one `{u8 info_sz; u8 elem_sz; u16 flags}` per kind, indexed by kind. */
export function parseLayoutSection(dv: DataView, start: number, len: number, littleEndian: boolean): KindLayout[] {
  const out: KindLayout[] = [];
  for (let p = start; p + 4 <= start + len; p += 4) {
    out.push({ infoSize: dv.getUint8(p), elemSize: dv.getUint8(p + 1), flags: dv.getUint16(p + 2, littleEndian) });
  }
  return out;
}
