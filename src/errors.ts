/**
 * What went wrong, for code that reacts to errors: every {@link BtfError} has one. The codes
 * from `truncated` to `no-btf` name a malformed part of the input; the rest say the input was
 * fine but the request, the system or a limit was not. README.md ("Errors") has the same list
 * as a table.
 */
export type BtfErrorCode =
  /** The input ends before something it declares (a header, a section, a record). */
  | 'truncated'
  /** Not BTF: the first bytes are not the BTF magic (or not any format btfkit reads). */
  | 'bad-magic'
  /** A BTF version other than 1. */
  | 'bad-version'
  /** A header field that cannot be right (hdr_len, non-zero bytes past the known fields). */
  | 'bad-header'
  /** Sections misaligned, overlapping or out of order. */
  | 'bad-section'
  /** The string section's framing: empty, unterminated, too long, or not starting with "". */
  | 'bad-strings'
  /** A name offset outside every string section. */
  | 'bad-string-offset'
  /** A name the kernel would refuse (not an identifier where one is needed, missing, ...). */
  | 'bad-name'
  /** A type id that does not exist: a reference in the input, or an id a caller passed. */
  | 'bad-type-id'
  /** A kind btfkit cannot size or write, or a kind used where it is not allowed. */
  | 'bad-kind'
  /** An element count (vlen) a kind does not allow. */
  | 'bad-vlen'
  /** A size that does not fit the kind, or a type that has no size where one is needed. */
  | 'bad-size'
  /** A struct or union member that cannot be laid out (offset, bitfield, alignment). */
  | 'bad-member'
  | 'bad-array'
  | 'bad-func'
  | 'bad-var'
  | 'bad-datasec'
  /** A DECL_TAG or TYPE_TAG that cannot be right. */
  | 'bad-tag'
  /** The layout section, or an entry of it, is malformed. */
  | 'bad-layout'
  /** References that loop, or nest deeper than btfkit follows. */
  | 'type-loop'
  /** Split BTF read on a base it does not fit (or a distilled base that cannot be relocated). */
  | 'bad-base'
  /** A malformed ELF file. */
  | 'bad-elf'
  /** An ELF file without a `.BTF` section. */
  | 'no-btf'
  /**
   * Malformed input that no code above describes: today, compressed data that does not
   * inflate (the decompressor's own error is the `cause`).
   */
  | 'bad-input'
  /** Valid BTF that the kernel asked about (a release, or every kernel btfkit knows) cannot load. */
  | 'unsupported'
  /** What the caller asked for does not exist: no type by that name, no member on a field path, no such module. */
  | 'not-found'
  /** A name that belongs to several types where the caller asked for one. */
  | 'ambiguous'
  /**
   * An argument or option the caller passed is not valid: a malformed field path or kernel
   * version, an out-of-range builder argument, a non-positive size limit, BTF in the wrong form
   * for the operation (split where self-contained is needed). The input itself may be fine.
   */
  | 'bad-argument'
  /**
   * The system failed: a file cannot be opened, read or listed, or a decompressor program cannot
   * run. The operating system's error is the `cause`.
   */
  | 'io'
  /**
   * A bound btfkit keeps was passed: the input limit (`btfkit/node`: `maxInputSize`), the size
   * a compressed file may inflate to, the output and work a C header may take, the 4 GiB a type
   * section can hold. (Up to 0.1.0 the input limit's code was `'too-large'`.)
   */
  | 'limit';

/** One entry per code: the compiler refuses this object when a code is added to the union but not here. */
const KNOWN_CODES: Record<BtfErrorCode, true> = {
  'truncated': true, 'bad-magic': true, 'bad-version': true, 'bad-header': true, 'bad-section': true,
  'bad-strings': true, 'bad-string-offset': true, 'bad-name': true, 'bad-type-id': true, 'bad-kind': true,
  'bad-vlen': true, 'bad-size': true, 'bad-member': true, 'bad-array': true, 'bad-func': true, 'bad-var': true,
  'bad-datasec': true, 'bad-tag': true, 'bad-layout': true, 'type-loop': true, 'bad-base': true, 'bad-elf': true,
  'no-btf': true, 'bad-input': true, 'unsupported': true, 'not-found': true, 'ambiguous': true,
  'bad-argument': true, 'io': true, 'limit': true,
};

/** Every {@link BtfErrorCode}, in the order the type lists them. @internal */
export const BTF_ERROR_CODES = Object.keys(KNOWN_CODES) as readonly BtfErrorCode[];

/** Where in the input a problem sits; every field is optional because not every problem has all of them. */
export interface BtfErrorLocation {
  /** Type id the problem belongs to. */
  typeId?: number;
  /** Byte offset in the input blob (from its first byte, header included). */
  offset?: number;
  /** Index of a member, enum value, parameter or variable within its type. */
  member?: number;
  /** File the blob came from, when known. */
  file?: string;
}

/**
 * The brand {@link isBtfError} looks for. `Symbol.for` keys live in a registry every realm of
 * a JavaScript agent shares, so a `BtfError` made by another copy of btfkit (a second install,
 * a bundle, a `node:vm` context or an iframe) carries the same brand where `instanceof` fails.
 */
const BRAND: unique symbol = Symbol.for('btfkit.BtfError');

/**
 * The one error type btfkit throws: for bad input (every malformed, truncated or hostile blob
 * ends in one that names what is wrong and where, so callers never see a raw `RangeError` or
 * `TypeError` from deep inside the decoder), and for requests it cannot serve (see
 * {@link BtfErrorCode}). An error caused by another one (a failed read, a decompressor's
 * complaint) has it as its `cause`.
 */
export class BtfError extends Error {
  override readonly name = 'BtfError';
  readonly code: BtfErrorCode;
  readonly typeId: number | undefined;
  readonly offset: number | undefined;
  readonly member: number | undefined;
  file: string | undefined;
  /** The message without the location prefix. */
  readonly detail: string;

  static {
    Object.defineProperty(this.prototype, BRAND, { value: true });
  }

  /**
   * @param where what the message names besides `detail`: the file, type, element and offset.
   * @param options `cause`: the error this one reports (ES2022 error cause).
   */
  constructor(code: BtfErrorCode, detail: string, where: BtfErrorLocation = {}, options?: { cause?: unknown }) {
    super(formatMessage(detail, where), options);
    this.code = code;
    this.detail = detail;
    this.typeId = where.typeId;
    this.offset = where.offset;
    this.member = where.member;
    this.file = where.file;
  }

  /**
   * The message for output that names `file` already (a report headed by it): without the file
   * name when the problem is in that file, the whole message when it is in another one.
   */
  messageIn(file: string): string {
    if (this.file !== file) return this.message;
    return formatMessage(this.detail, { typeId: this.typeId, offset: this.offset, member: this.member });
  }

  /** Returns a copy that names the file the blob came from (and keeps the `cause`). */
  inFile(file: string): BtfError {
    const where = { typeId: this.typeId, offset: this.offset, member: this.member, file };
    return new BtfError(this.code, this.detail, where, 'cause' in this ? { cause: this.cause } : undefined);
  }
}

/**
 * True when `e` is a {@link BtfError}, from this copy of btfkit or any other: unlike
 * `instanceof`, it holds across package copies, bundles and realms (`node:vm` contexts,
 * iframes), because it tests a brand registered with `Symbol.for`. (Errors that crossed a
 * worker boundary by structured clone are plain `Error`s and are not recognised.)
 *
 * @example
 * ```ts
 * try {
 *   Btf.parse(bytes);
 * } catch (e) {
 *   if (!isBtfError(e)) throw e;
 *   console.error(e.code, e.message);
 * }
 * ```
 */
export function isBtfError(e: unknown): e is BtfError {
  return typeof e === 'object' && e !== null && (e as { [BRAND]?: unknown })[BRAND] === true;
}

function formatMessage(detail: string, where: BtfErrorLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.file);
  if (where.typeId !== undefined) parts.push(`type [${where.typeId}]`);
  if (where.member !== undefined) parts.push(`element ${where.member}`);
  if (where.offset !== undefined) parts.push(`at byte ${where.offset} (0x${where.offset.toString(16)})`);
  return parts.length ? `${parts.join(', ')}: ${detail}` : detail;
}
