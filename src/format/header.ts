import { BtfError } from '../errors.js';

export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
/** Header length before the 2026 layout fields. */
export const HEADER_LEN_V1 = 24;
/** Header length with `layout_off`/`layout_len`. */
export const HEADER_LEN_LAYOUT = 32;

/** `struct btf_header`, with offsets relative to the end of the header as on the wire. */
export interface BtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
  /** 0 when the header is shorter than 32 bytes. */
  layoutOff: number;
  layoutLen: number;
}

/** True on a little-endian host: typed-array views of little-endian BTF need no byte swap there. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Detects the byte order from the magic; undefined if the bytes are not BTF. */
export function detectEndian(bytes: Uint8Array): 'little' | 'big' | undefined {
  if (bytes.length < 2) return undefined;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) return 'little';
  if (bytes[0] === 0xeb && bytes[1] === 0x9f) return 'big';
  return undefined;
}

/**
 * How many bytes a raw BTF blob spans according to its header: `hdr_len` plus the end of its
 * furthest section. A reader can fetch exactly that much from a file or stream instead of all of
 * it. Nothing is checked here ({@link parseHeader} does that); `bytes` needs only the first 32
 * bytes (or `hdr_len`, if less). Undefined when `bytes` has no BTF magic or stops short of those
 * fields.
 */
export function btfExtent(bytes: Uint8Array): number | undefined {
  const endian = detectEndian(bytes);
  if (endian === undefined || bytes.length < 8) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = endian === 'little';
  const hdrLen = dv.getUint32(4, le);
  if (bytes.length < Math.min(hdrLen, HEADER_LEN_LAYOUT)) return undefined;
  const field = (off: number) => (off + 4 <= hdrLen ? dv.getUint32(off, le) : 0);
  // As in parseHeader, layout_off means nothing when layout_len is 0. Sums of u32s stay exact.
  const layoutLen = field(28);
  const end = Math.max(field(8) + field(12), field(16) + field(20), layoutLen ? field(24) + layoutLen : 0);
  return hdrLen + end;
}

/**
 * Reads and checks the header the way libbpf does: sections must lie inside the blob, the
 * type section must be 4-byte aligned and end before the strings, and the optional layout
 * section must sit between types and strings. Bytes past the fields btfkit knows must be zero.
 */
export function parseHeader(bytes: Uint8Array): { header: BtfHeader; littleEndian: boolean } {
  const endian = detectEndian(bytes);
  if (endian === undefined) {
    if (bytes.length < 2) throw new BtfError('truncated', `input is ${bytes.length} bytes, too short for a BTF header`, { offset: 0 });
    if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
      throw new BtfError('bad-magic', 'this is an ELF file, not raw BTF: read it with loadBtf, which takes the BTF from its .BTF section', { offset: 0 });
    }
    const seen = ((bytes[0]! << 8) | bytes[1]!).toString(16).padStart(4, '0');
    throw new BtfError('bad-magic', `not BTF: magic bytes are 0x${seen}, expected 9f eb (little-endian) or eb 9f (big-endian)`, { offset: 0 });
  }
  const le = endian === 'little';
  if (bytes.length < HEADER_LEN_V1) {
    throw new BtfError('truncated', `input is ${bytes.length} bytes, shorter than the ${HEADER_LEN_V1}-byte BTF header`, { offset: 0 });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[2]!;
  const flags = bytes[3]!;
  const hdrLen = dv.getUint32(4, le);
  if (version !== BTF_VERSION) {
    throw new BtfError('bad-version', `BTF version ${version} is not supported (only version ${BTF_VERSION} exists)`, { offset: 2 });
  }
  if (hdrLen < HEADER_LEN_V1) {
    throw new BtfError('bad-header', `hdr_len ${hdrLen} is shorter than the ${HEADER_LEN_V1} bytes every BTF header has`, { offset: 4 });
  }
  if (hdrLen > bytes.length) {
    throw new BtfError('truncated', `hdr_len ${hdrLen} is larger than the whole input (${bytes.length} bytes)`, { offset: 4 });
  }
  const field = (off: number) => (off + 4 <= hdrLen ? dv.getUint32(off, le) : 0);
  const header: BtfHeader = {
    magic: BTF_MAGIC, version, flags, hdrLen,
    typeOff: field(8), typeLen: field(12), strOff: field(16), strLen: field(20),
    layoutOff: field(24), layoutLen: field(28),
  };
  for (let i = HEADER_LEN_LAYOUT; i < hdrLen; i++) {
    if (bytes[i] !== 0) {
      throw new BtfError('bad-header', `header byte ${i} is 0x${bytes[i]!.toString(16)}; bytes past the known header fields must be zero`, { offset: i });
    }
  }
  const dataLen = bytes.length - hdrLen;
  const sectionEnd = (name: string, off: number, len: number, at: number) => {
    if (off + len > dataLen) {
      throw new BtfError('truncated', `${name} section at ${off}+${len} ends past the data (${dataLen} bytes after the ${hdrLen}-byte header)`, { offset: at });
    }
  };
  sectionEnd('type', header.typeOff, header.typeLen, 8);
  sectionEnd('string', header.strOff, header.strLen, 16);
  if (header.typeOff % 4 !== 0) {
    throw new BtfError('bad-section', `type section offset ${header.typeOff} is not 4-byte aligned`, { offset: 8 });
  }
  if (header.typeOff + header.typeLen > header.strOff) {
    throw new BtfError('bad-section', `type section (${header.typeOff}+${header.typeLen}) overlaps or follows the string section at ${header.strOff}`, { offset: 8 });
  }
  if (header.layoutLen !== 0) {
    sectionEnd('layout', header.layoutOff, header.layoutLen, 24);
    if (header.layoutOff % 4 !== 0) {
      throw new BtfError('bad-section', `layout section offset ${header.layoutOff} is not 4-byte aligned`, { offset: 24 });
    }
    if (header.layoutOff < header.typeOff + header.typeLen || header.layoutOff + header.layoutLen > header.strOff) {
      throw new BtfError('bad-section', `layout section (${header.layoutOff}+${header.layoutLen}) must sit between the types (ending at ${header.typeOff + header.typeLen}) and the strings (at ${header.strOff})`, { offset: 24 });
    }
    if (header.layoutLen % 4 !== 0) {
      throw new BtfError('bad-layout', `layout section length ${header.layoutLen} is not a multiple of 4 (one {info_sz, elem_sz, flags} entry per kind)`, { offset: 28 });
    }
  }
  return { header, littleEndian: le };
}

/**
 * Writes a header for sections laid out as libbpf lays them out: types, then the optional
 * layout section, then the strings, each right after the other.
 */
export function writeHeader(out: Uint8Array, littleEndian: boolean, hdrLen: number, typeLen: number, layoutLen: number, strLen: number): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint16(0, BTF_MAGIC, littleEndian);
  out[2] = BTF_VERSION;
  out[3] = 0;
  dv.setUint32(4, hdrLen, littleEndian);
  dv.setUint32(8, 0, littleEndian);
  dv.setUint32(12, typeLen, littleEndian);
  dv.setUint32(16, typeLen + layoutLen, littleEndian);
  dv.setUint32(20, strLen, littleEndian);
  if (hdrLen >= HEADER_LEN_LAYOUT) {
    dv.setUint32(24, layoutLen ? typeLen : 0, littleEndian);
    dv.setUint32(28, layoutLen, littleEndian);
  }
  out.fill(0, HEADER_LEN_LAYOUT, Math.max(HEADER_LEN_LAYOUT, hdrLen));
}
