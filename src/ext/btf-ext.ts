import type { CoreRelocationRecord } from '../core/decision.js';
import { BtfError, type BtfErrorCode } from '../errors.js';

/**
 * `.BTF.ext`: what a BPF object carries about its instructions besides their types: one
 * `func_info` record per function (which BTF FUNC it is), `line_info` records (source file,
 * line and column of an instruction) and CO-RE relocation records. Layout (kernel UAPI
 * `struct btf_ext_header`, libbpf's `btf_ext_info_sec`):
 *
 * ```
 * header   u16 magic 0xeB9F | u8 version 1 | u8 flags | u32 hdr_len
 *          u32 func_info_off, func_info_len, line_info_off, line_info_len
 *          u32 core_relo_off, core_relo_len            (only when hdr_len reaches them)
 * info     u32 record_size, then blocks of { u32 sec_name_off, u32 num_info, num_info records }
 * ```
 *
 * Info offsets count from the end of the header. Every number is in the object's byte order.
 * Instruction offsets are bytes from the start of the ELF section named by the block (libbpf
 * divides them by 8 when it loads; the file keeps bytes).
 */

/** The `.BTF.ext` magic, read in the blob's byte order. */
export const BTF_EXT_MAGIC = 0xeb9f;

/** `hdr_len` of a header with func_info and line_info only. */
export const BTF_EXT_HEADER_LEN_V1 = 24;
/** `hdr_len` of a header that also places the CO-RE relocation records (what clang writes). */
export const BTF_EXT_HEADER_LEN_CORE = 32;

/** Size of the fields each record kind has, the smallest `record_size` a header may declare. */
export const FUNC_INFO_MIN_SIZE = 8;
export const LINE_INFO_MIN_SIZE = 16;
export const CORE_RELO_MIN_SIZE = 16;

const INFO_BLOCK_HEADER = 8;

/** The header fields as stored (offsets relative to the end of the header). */
export interface BtfExtHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  funcInfoOff: number;
  funcInfoLen: number;
  lineInfoOff: number;
  lineInfoLen: number;
  /** Absent when `hdrLen` is too short to hold it (objects from before CO-RE). */
  coreReloOff?: number;
  coreReloLen?: number;
}

/** One `bpf_func_info`: the function starting at `insnOffset` has BTF FUNC `typeId`. */
export interface FuncInfoRecord {
  /** Byte offset of the function's first instruction in its ELF section. */
  insnOffset: number;
  typeId: number;
}

/** One `bpf_line_info`, its strings read from `.BTF`. */
export interface LineInfoRecord {
  insnOffset: number;
  fileNameOffset: number;
  /** Offset of the source line's text in the `.BTF` string table. */
  lineOffset: number;
  /** Source line number (the upper 22 bits of `line_col`). */
  line: number;
  /** Column (the lower 10 bits of `line_col`). */
  column: number;
  fileName: string;
  /** The source line's text, as clang stored it. */
  lineText: string;
}

/** The records of one ELF section (one `btf_ext_info_sec` block). */
export interface BtfExtBlock<R> {
  /** The ELF section the instruction offsets count in (`kprobe/x`, `.text`...). */
  section: string;
  sectionNameOffset: number;
  records: R[];
}

/** One of the three infos: its stride and its per-section blocks, in file order. */
export interface BtfExtInfo<R> {
  /** `record_size` as declared; records larger than the fields known here keep this stride. */
  recordSize: number;
  blocks: BtfExtBlock<R>[];
}

/** A decoded `.BTF.ext` section. */
export interface BtfExt {
  littleEndian: boolean;
  header: BtfExtHeader;
  funcInfo: BtfExtInfo<FuncInfoRecord>;
  lineInfo: BtfExtInfo<LineInfoRecord>;
  /** Empty (record size 16, no blocks) when the header has no CO-RE part or it is empty. */
  coreRelo: BtfExtInfo<CoreRelocationRecord>;
}

/**
 * Where `.BTF.ext` reads its names: the object's `.BTF` (a `Btf` has this method), whose
 * string table holds section names, file names, source lines and access strings.
 */
export interface BtfStringSource {
  /** The string at `offset`, or undefined when it lies outside the string table. */
  str(offset: number): string | undefined;
}

/** Options of {@link parseBtfExt}. */
export interface ParseBtfExtOptions {
  /**
   * The byte order the blob must have (the ELF's). Without it the order is taken from the
   * magic; with it, a blob in the other order is an error.
   */
  littleEndian?: boolean;
  /** Named in error messages. */
  file?: string;
}

function fail(code: BtfErrorCode, detail: string, offset: number, file: string | undefined): never {
  throw new BtfError(code, `.BTF.ext: ${detail}`, { offset, file });
}

/**
 * Decodes a `.BTF.ext` section, checking everything libbpf checks (and the string offsets it
 * leaves to later): a malformed section ends in a {@link BtfError} naming the field and the
 * byte offset in the section. Counts are checked against the bytes present before anything
 * is allocated from them.
 *
 * @param bytes the section's contents.
 * @param strings the object's `.BTF` (or anything with its string table's `str`).
 */
export function parseBtfExt(bytes: Uint8Array, strings: BtfStringSource, opts: ParseBtfExtOptions = {}): BtfExt {
  const file = opts.file;
  if (bytes.length < 8) fail('truncated', `section is ${bytes.length} bytes, shorter than the 8 bytes that hold magic, version, flags and hdr_len`, 0, file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (dv.getUint16(0, true) === BTF_EXT_MAGIC) le = true;
  else if (dv.getUint16(0, false) === BTF_EXT_MAGIC) le = false;
  else fail('bad-magic', `magic is 0x${dv.getUint16(0, true).toString(16).padStart(4, '0')} (little-endian reading), not 0xeb9f`, 0, file);
  if (opts.littleEndian !== undefined && opts.littleEndian !== le) {
    fail('bad-magic', `section is ${le ? 'little' : 'big'}-endian but its ELF file is ${opts.littleEndian ? 'little' : 'big'}-endian`, 0, file);
  }
  const u32 = (off: number) => dv.getUint32(off, le);
  const version = bytes[2]!;
  const flags = bytes[3]!;
  if (version !== 1) fail('bad-version', `version is ${version}, only 1 exists`, 2, file);
  if (flags !== 0) fail('bad-header', `flags is 0x${flags.toString(16)}, no flag is defined`, 3, file);
  const hdrLen = u32(4);
  if (hdrLen < BTF_EXT_HEADER_LEN_V1) fail('bad-header', `hdr_len is ${hdrLen}, shorter than the ${BTF_EXT_HEADER_LEN_V1} bytes up to line_info_len`, 4, file);
  if (hdrLen > bytes.length) fail('truncated', `hdr_len is ${hdrLen} but the section has only ${bytes.length} bytes`, 4, file);
  const header: BtfExtHeader = {
    magic: BTF_EXT_MAGIC, version, flags, hdrLen,
    funcInfoOff: u32(8), funcInfoLen: u32(12), lineInfoOff: u32(16), lineInfoLen: u32(20),
  };
  if (hdrLen >= BTF_EXT_HEADER_LEN_CORE) {
    header.coreReloOff = u32(24);
    header.coreReloLen = u32(28);
  }

  const ctx: InfoContext = { bytes, dv, le, hdrLen, strings, file };
  const funcInfo = readInfo(ctx, 'func_info', 8, header.funcInfoOff, header.funcInfoLen, FUNC_INFO_MIN_SIZE, (at) => ({
    insnOffset: u32(at),
    typeId: u32(at + 4),
  }));
  const lineInfo = readInfo(ctx, 'line_info', 16, header.lineInfoOff, header.lineInfoLen, LINE_INFO_MIN_SIZE, (at) => {
    const fileNameOffset = u32(at + 4);
    const lineOffset = u32(at + 8);
    const lineCol = u32(at + 12);
    return {
      insnOffset: u32(at),
      fileNameOffset,
      lineOffset,
      line: lineCol >>> 10,
      column: lineCol & 0x3ff,
      fileName: stringAt(ctx, fileNameOffset, 'file_name_off', at + 4),
      lineText: stringAt(ctx, lineOffset, 'line_off', at + 8),
    };
  });
  const coreRelo = header.coreReloOff === undefined
    ? { recordSize: CORE_RELO_MIN_SIZE, blocks: [] }
    : readInfo(ctx, 'core_relo', 24, header.coreReloOff, header.coreReloLen!, CORE_RELO_MIN_SIZE, (at): CoreRelocationRecord => {
      const accessStringOffset = u32(at + 8);
      return {
        insnOffset: u32(at),
        typeId: u32(at + 4),
        accessStringOffset,
        access: stringAt(ctx, accessStringOffset, 'access_str_off', at + 8),
        kind: u32(at + 12),
      };
    });
  return { littleEndian: le, header, funcInfo, lineInfo, coreRelo };
}

interface InfoContext {
  bytes: Uint8Array;
  dv: DataView;
  le: boolean;
  hdrLen: number;
  strings: BtfStringSource;
  file: string | undefined;
}

function stringAt(ctx: InfoContext, offset: number, field: string, at: number): string {
  const s = ctx.strings.str(offset);
  if (s === undefined) fail('bad-string-offset', `${field} ${offset} lies outside the .BTF string table`, at, ctx.file);
  return s;
}

/**
 * Reads one info. `headerField` is where its `*_off` sits in the header, for messages that
 * point at the field that is wrong.
 */
function readInfo<R>(
  ctx: InfoContext, name: string, headerField: number, off: number, len: number, minRecordSize: number,
  readRecord: (at: number) => R,
): BtfExtInfo<R> {
  const { bytes, dv, le, file } = ctx;
  if (len === 0) return { recordSize: minRecordSize, blocks: [] };
  if (off % 4 !== 0) fail('bad-section', `${name}_off ${off} is not a multiple of 4`, headerField, file);
  const start = ctx.hdrLen + off;
  // Compared by subtraction: off and len are untrusted u32s whose sum may pass 2^32.
  if (off > bytes.length - ctx.hdrLen || len > bytes.length - start) {
    fail('truncated', `${name} (${len} bytes at ${name}_off ${off}, byte ${start}) runs past the end of the section (${bytes.length} bytes)`, headerField, file);
  }
  if (len < 4) fail('bad-section', `${name}_len is ${len}, too short for its record size`, headerField + 4, file);
  const end = start + len;
  const recordSize = dv.getUint32(start, le);
  if (recordSize < minRecordSize) fail('bad-size', `${name} record size is ${recordSize}, smaller than the ${minRecordSize} bytes of its fields`, start, file);
  if (recordSize % 4 !== 0) fail('bad-size', `${name} record size ${recordSize} is not a multiple of 4`, start, file);
  const blocks: BtfExtBlock<R>[] = [];
  let at = start + 4;
  while (at < end) {
    if (end - at < INFO_BLOCK_HEADER) fail('truncated', `${name} block header needs 8 bytes, only ${end - at} are left`, at, file);
    const sectionNameOffset = dv.getUint32(at, le);
    const count = dv.getUint32(at + 4, le);
    if (count === 0) fail('bad-vlen', `${name} block has num_info 0`, at + 4, file);
    // The count is checked against the bytes left before any record is read or stored.
    if (count > (end - at - INFO_BLOCK_HEADER) / recordSize) {
      fail('truncated', `${name} block declares ${count} records of ${recordSize} bytes, only ${end - at - INFO_BLOCK_HEADER} bytes are left in ${name}`, at + 4, file);
    }
    const section = stringAt(ctx, sectionNameOffset, `${name} sec_name_off`, at);
    at += INFO_BLOCK_HEADER;
    const records: R[] = new Array(count);
    for (let i = 0; i < count; i++, at += recordSize) records[i] = readRecord(at);
    blocks.push({ section, sectionNameOffset, records });
  }
  return { recordSize, blocks };
}

/** Options of {@link encodeBtfExt}. */
export interface EncodeBtfExtOptions {
  /** Byte order; default the one the decoded section had. */
  littleEndian?: boolean;
}

/**
 * Encodes `.BTF.ext` from its decoded form: the header (with `hdr_len` as in `ext.header`,
 * 32 unless it was shorter), then func_info, line_info and core_relo one after the other,
 * each with its record size. String offsets are written as stored (the `*Offset` fields; the
 * decoded strings are not looked up). Bytes of records larger than the fields known here are
 * written as zeros. Clang's sections come out byte for byte as they went in.
 */
export function encodeBtfExt(ext: BtfExt, opts: EncodeBtfExtOptions = {}): Uint8Array {
  const le = opts.littleEndian ?? ext.littleEndian;
  const hdrLen = ext.header.hdrLen >= BTF_EXT_HEADER_LEN_CORE ? ext.header.hdrLen : BTF_EXT_HEADER_LEN_V1;
  const withCore = hdrLen >= BTF_EXT_HEADER_LEN_CORE;
  if (!withCore && ext.coreRelo.blocks.length > 0) {
    throw new BtfError('bad-argument', `.BTF.ext: hdr_len ${ext.header.hdrLen} has no room for the ${ext.coreRelo.blocks.length} CO-RE relocation blocks`);
  }
  const infoSize = (info: BtfExtInfo<unknown>, min: number): number => {
    if (info.recordSize < min || info.recordSize % 4 !== 0) {
      throw new BtfError('bad-argument', `.BTF.ext: record size ${info.recordSize} must be a multiple of 4 and at least ${min}`);
    }
    if (info.blocks.length === 0) return 0;
    return 4 + info.blocks.reduce((n, b) => n + INFO_BLOCK_HEADER + b.records.length * info.recordSize, 0);
  };
  const funcLen = infoSize(ext.funcInfo, FUNC_INFO_MIN_SIZE);
  const lineLen = infoSize(ext.lineInfo, LINE_INFO_MIN_SIZE);
  const coreLen = infoSize(ext.coreRelo, CORE_RELO_MIN_SIZE);
  const out = new Uint8Array(hdrLen + funcLen + lineLen + coreLen);
  const dv = new DataView(out.buffer);
  const u32 = (at: number, v: number) => dv.setUint32(at, v, le);
  dv.setUint16(0, BTF_EXT_MAGIC, le);
  out[2] = 1;
  out[3] = 0;
  u32(4, hdrLen);
  u32(8, 0);
  u32(12, funcLen);
  u32(16, funcLen);
  u32(20, lineLen);
  if (withCore) {
    u32(24, funcLen + lineLen);
    u32(28, coreLen);
  }
  const writeInfo = <R>(info: BtfExtInfo<R>, at: number, write: (r: R, at: number) => void): void => {
    if (info.blocks.length === 0) return;
    u32(at, info.recordSize);
    at += 4;
    for (const b of info.blocks) {
      if (b.records.length === 0) throw new BtfError('bad-argument', `.BTF.ext: the block of section ${b.section} has no records (libbpf refuses num_info 0)`);
      u32(at, b.sectionNameOffset);
      u32(at + 4, b.records.length);
      at += INFO_BLOCK_HEADER;
      for (const r of b.records) {
        write(r, at);
        at += info.recordSize;
      }
    }
  };
  writeInfo(ext.funcInfo, hdrLen, (r, at) => {
    u32(at, r.insnOffset);
    u32(at + 4, r.typeId);
  });
  writeInfo(ext.lineInfo, hdrLen + funcLen, (r, at) => {
    if (r.line > 0x3fffff || r.column > 0x3ff) throw new BtfError('bad-argument', `.BTF.ext: line ${r.line} column ${r.column} do not fit line_col (22 and 10 bits)`);
    u32(at, r.insnOffset);
    u32(at + 4, r.fileNameOffset);
    u32(at + 8, r.lineOffset);
    u32(at + 12, ((r.line << 10) | r.column) >>> 0);
  });
  writeInfo(ext.coreRelo, hdrLen + funcLen + lineLen, (r, at) => {
    u32(at, r.insnOffset);
    u32(at + 4, r.typeId);
    u32(at + 8, r.accessStringOffset);
    u32(at + 12, r.kind);
  });
  return out;
}
