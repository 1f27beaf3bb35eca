/**
 * The one error type btfkit throws for bad input. Every malformed, truncated or hostile blob
 * ends in a `BtfError` that names what is wrong and where, so callers never see a raw
 * `RangeError` or `TypeError` from deep inside the decoder.
 */
export type BtfErrorCode =
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-header'
  | 'bad-section'
  | 'bad-strings'
  | 'bad-string-offset'
  | 'bad-name'
  | 'bad-type-id'
  | 'bad-kind'
  | 'bad-vlen'
  | 'bad-size'
  | 'bad-member'
  | 'bad-array'
  | 'bad-func'
  | 'bad-var'
  | 'bad-datasec'
  | 'bad-tag'
  | 'bad-layout'
  | 'type-loop'
  | 'bad-base'
  | 'bad-elf'
  | 'no-btf'
  | 'bad-input'
  /** The input needs more than the reader's limit (`btfkit/node`: `maxInputSize`). */
  | 'too-large'
  /** Valid BTF that the kernel asked about (a release, or every kernel btfkit knows) cannot load. */
  | 'unsupported';

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

export class BtfError extends Error {
  override readonly name = 'BtfError';
  readonly code: BtfErrorCode;
  readonly typeId: number | undefined;
  readonly offset: number | undefined;
  readonly member: number | undefined;
  file: string | undefined;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(code: BtfErrorCode, detail: string, where: BtfErrorLocation = {}) {
    super(formatMessage(detail, where));
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

  /** Returns a copy that names the file the blob came from. */
  inFile(file: string): BtfError {
    const e = new BtfError(this.code, this.detail, {
      typeId: this.typeId, offset: this.offset, member: this.member, file,
    });
    return e;
  }
}

function formatMessage(detail: string, where: BtfErrorLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.file);
  if (where.typeId !== undefined) parts.push(`type [${where.typeId}]`);
  if (where.member !== undefined) parts.push(`element ${where.member}`);
  if (where.offset !== undefined) parts.push(`at byte ${where.offset} (0x${where.offset.toString(16)})`);
  return parts.length ? `${parts.join(', ')}: ${detail}` : detail;
}
