import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BtfError } from '../errors.js';

/**
 * Bounded reading. Whatever a path names (a file, a device that never ends, a pipe, a sparse
 * file of terabytes), btfkit reads no more of it than a BTF or ELF file can need, and never more
 * than the input limit; the limit also caps what a compressed file may inflate to.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The input limit when nothing sets another: 128 MiB, six times the largest module of a Debian
 * 6.1 kernel (amdgpu.ko, 19.5 MB decompressed) and twenty times a vmlinux's BTF. Decompressing
 * through the `xz` or `zstd` program briefly holds about twice this.
 */
export const DEFAULT_MAX_INPUT_SIZE = 128 * MiB;

/** The environment variable that sets the input limit, in MiB, when the caller gives none. */
export const MAX_INPUT_ENV = 'BTFKIT_MAX_INPUT_MIB';

/** Options of the functions that read an input file. */
export interface ReadOptions {
  /**
   * The most bytes to read from one input, and to inflate out of it when it is compressed. By
   * default `BTFKIT_MAX_INPUT_MIB` MiB when that environment variable is set, else
   * {@link DEFAULT_MAX_INPUT_SIZE}.
   */
  maxInputSize?: number;
  /**
   * Read an ELF file whole (up to the limit) instead of only its headers, `.BTF*` sections and
   * symbol tables: what a BPF object's instructions and relocations need (`btfkit core`).
   */
  wholeElf?: boolean;
}

/** The limit in force and how a user raises it, for error messages. */
export interface InputLimit {
  bytes: number;
  /** Appended to limit errors: how to raise the limit, when the environment sets it. */
  hint: string;
}

/** The input limit for these options: the option, else the environment, else the default. */
export function inputLimit(opts: ReadOptions = {}): InputLimit {
  if (opts.maxInputSize !== undefined) {
    if (!(opts.maxInputSize > 0)) throw new BtfError('bad-argument', `maxInputSize must be a positive number of bytes, not ${opts.maxInputSize}`);
    return { bytes: opts.maxInputSize, hint: '' };
  }
  const hint = `; ${MAX_INPUT_ENV}=N raises it to N MiB`;
  const env = process.env[MAX_INPUT_ENV];
  if (env === undefined || env === '') return { bytes: DEFAULT_MAX_INPUT_SIZE, hint };
  if (!/^[1-9][0-9]*$/.test(env.trim())) throw new BtfError('bad-argument', `${MAX_INPUT_ENV} is '${env}'; it must be a whole number of MiB, such as 512`);
  return { bytes: Number(env.trim()) * MiB, hint };
}

/** "the 128 MiB input limit", "the 100-byte input limit". */
export function describeLimit(limit: InputLimit): string {
  const n = limit.bytes;
  const size = n % MiB === 0 ? `${n / MiB} MiB` : n % KiB === 0 ? `${n / KiB} KiB` : `${n}-byte`;
  return `the ${size} input limit`;
}

/** The error for an input that needs more than the limit: `what` the limit `after`, and the hint. */
export function limitError(file: string | undefined, limit: InputLimit, what: string, after = ''): BtfError {
  return new BtfError('limit', `${what} ${describeLimit(limit)}${after}${limit.hint}`, file === undefined ? {} : { file });
}

/**
 * An open input: a regular file, read at any position, or a stream (pipe, socket, a /proc or
 * /dev/fd name for one), read front to back. Devices and directories are refused when opened:
 * /dev/zero would never end, and no BTF lives on a block device.
 */
export class InputFile {
  private position = 0;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    /** True for a regular file (sysfs files included), whose bytes can be read at any offset. */
    readonly regular: boolean,
    /** fstat's size: exact for ordinary files, only a hint for sysfs and procfs; 0 for streams. */
    readonly size: number,
  ) {}

  static open(path: string): InputFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw cannotRead(path, e);
    }
    try {
      const st = fstatSync(fd);
      const refuse = st.isDirectory() ? 'is a directory'
        : st.isCharacterDevice() ? 'is a character device; btfkit reads files and pipes'
          : st.isBlockDevice() ? 'is a block device; btfkit reads files and pipes'
            : undefined;
      if (refuse) throw new BtfError('io', `cannot read: ${refuse}`, { file: path });
      return new InputFile(path, fd, st.isFile(), st.isFile() ? st.size : 0);
    } catch (e) {
      closeSync(fd);
      if (e instanceof BtfError) throw e;
      throw cannotRead(path, e);
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * Reads into `target[at, at + length)` the file's bytes from offset `from` (a stream only from
   * where the last read stopped), until `length` bytes or the end of the input. Returns how
   * many bytes came.
   */
  readInto(target: Uint8Array, at: number, length: number, from: number): number {
    if (!this.regular && from !== this.position) throw new Error(`InputFile: a stream cannot be read at ${from} after ${this.position} bytes`);
    let got = 0;
    while (got < length) {
      let n: number;
      try {
        n = readSync(this.fd, target, at + got, length - got, this.regular ? from + got : null);
      } catch (e) {
        throw cannotRead(this.path, e);
      }
      if (n === 0) break;
      got += n;
    }
    this.position = from + got;
    return got;
  }

  /** Up to `length` bytes from offset `from`, fewer at the end of the input. */
  read(from: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const got = this.readInto(out, 0, length, from);
    return got === length ? out : out.slice(0, got);
  }

  /**
   * Everything from `head.length` to the end of the input, `head` (the bytes before, already
   * read) in front. More than `limit` bytes in all is an error, `what` followed by the limit,
   * raised as soon as the limit is passed: an endless stream costs the limit and no more.
   */
  readToEnd(head: Uint8Array, limit: InputLimit, what: string): Uint8Array {
    const chunks: Uint8Array[] = [head];
    let total = head.length;
    const chunkSize = 4 * MiB;
    for (;;) {
      const chunk = new Uint8Array(Math.min(chunkSize, limit.bytes + 1 - total));
      if (chunk.length === 0) throw limitError(this.path, limit, what);
      const got = this.readInto(chunk, 0, chunk.length, total);
      if (got === 0) break;
      chunks.push(got === chunk.length ? chunk : chunk.subarray(0, got));
      total += got;
    }
    if (chunks.length === 1) return head;
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function cannotRead(path: string, e: unknown): BtfError {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
  return new BtfError('io', `cannot read: ${why}`, { file: path }, { cause: e });
}
