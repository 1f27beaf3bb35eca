/**
 * A hand assembler for small blobs: records are given as u32 words, strings as a list (or as the
 * string section's bytes), so a test states exactly the bytes it feeds the decoder.
 */
export function assemble(opts: {
  words: readonly number[]; strings: readonly string[] | Uint8Array; big?: boolean; hdrLen?: number;
  layout?: readonly (readonly [number, number, number])[]; extraHeader?: number[];
}): Uint8Array {
  const strBytes = opts.strings instanceof Uint8Array ? opts.strings : new TextEncoder().encode('\0' + opts.strings.map((s) => s + '\0').join(''));
  const hdrLen = opts.hdrLen ?? (opts.layout ? 32 : 24);
  const typeLen = opts.words.length * 4;
  const layoutLen = (opts.layout?.length ?? 0) * 4;
  const out = new Uint8Array(hdrLen + typeLen + layoutLen + strBytes.length);
  const dv = new DataView(out.buffer);
  const le = !opts.big;
  dv.setUint16(0, 0xeb9f, le);
  out[2] = 1;
  dv.setUint32(4, hdrLen, le);
  dv.setUint32(8, 0, le);
  dv.setUint32(12, typeLen, le);
  dv.setUint32(16, typeLen + layoutLen, le);
  dv.setUint32(20, strBytes.length, le);
  if (hdrLen >= 32) {
    dv.setUint32(24, layoutLen ? typeLen : 0, le);
    dv.setUint32(28, layoutLen, le);
  }
  (opts.extraHeader ?? []).forEach((b, i) => (out[32 + i] = b));
  opts.words.forEach((w, i) => dv.setUint32(hdrLen + i * 4, w >>> 0, le));
  (opts.layout ?? []).forEach(([info, elem, flags], i) => {
    const p = hdrLen + typeLen + i * 4;
    out[p] = info;
    out[p + 1] = elem;
    dv.setUint16(p + 2, flags, le);
  });
  out.set(strBytes, hdrLen + typeLen + layoutLen);
  return out;
}

/** String offset of strings[i] in the section `assemble` lays out. */
export function strOff(strings: string[], i: number): number {
  let off = 1;
  for (let k = 0; k < i; k++) off += strings[k]!.length + 1;
  return off;
}
export const info = (kind: number, vlen = 0, kflag = false) => ((kflag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;

