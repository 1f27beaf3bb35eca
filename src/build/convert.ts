import type { Btf } from '../btf/btf.js';
import { HEADER_LEN_LAYOUT, HEADER_LEN_V1 } from '../format/header.js';
import { BtfBuilder } from './builder.js';
import type { sanitizeBtf } from './sanitize.js';

/** Options for {@link convertBtf}; each defaults to what the input has. */
export interface ConvertOptions {
  /** Byte order of the output. */
  endian?: 'little' | 'big';
  /** Whether the output carries the layout section (libbpf 1.8's 32-byte header format). */
  layout?: boolean;
  /**
   * Refuse (a {@link BtfError} with code `unsupported`) to write what this kernel cannot read:
   * see `EncodeOptions.forKernel`. Only a check: nothing is rewritten to fit ({@link sanitizeBtf}
   * rewrites).
   */
  forKernel?: string | true;
}

/**
 * Re-encodes a parsed blob's own types (split BTF stays split on the same base) in another
 * byte order and/or with or without the layout section.
 *
 * The string section is carried over byte for byte and the type records word for word, so with
 * no option changed the output equals the input, as long as the input is laid out the way
 * every writer lays it out (types right after the header, then the layout section, then the
 * strings, with nothing after them and a zero header `flags` byte); otherwise it is normalised
 * to that. The header length is kept unless the layout section is added (at least 32 bytes)
 * or removed (back to 24).
 *
 * Records of kinds above 19 are copied too, but only in their own byte order: their field
 * widths are unknown, so a byte-order change throws a {@link BtfError} (`bad-kind`), as
 * libbpf refuses to swap them.
 *
 * @example
 * ```ts
 * const big = convertBtf(Btf.parse(bytes), { endian: 'big' });
 * const back = convertBtf(Btf.parse(big), { endian: 'little' }); // equals bytes
 * ```
 */
export function convertBtf(btf: Btf, opts: ConvertOptions = {}): Uint8Array {
  const hadLayout = btf.layout !== undefined;
  const layout = opts.layout ?? hadLayout;
  const endian = opts.endian ?? (btf.littleEndian ? 'little' : 'big');
  const builder = new BtfBuilder({
    base: btf.base,
    strings: btf.bytes.subarray(btf.stringStart, btf.stringStart + btf.header.strLen),
    layout: btf.layout,
  });
  builder.addAll(btf);
  const minimum = layout ? HEADER_LEN_LAYOUT : HEADER_LEN_V1;
  const kept = btf.header.hdrLen;
  // An odd-sized or oversized header (which only a hand-made blob has) is normalised.
  const keepable = kept % 4 === 0 && kept <= 4096;
  let headerLength = minimum;
  if (keepable && layout === hadLayout) headerLength = kept;
  else if (keepable && layout) headerLength = Math.max(minimum, kept);
  return builder.encode({ endian, layout, headerLength, forKernel: opts.forKernel });
}
