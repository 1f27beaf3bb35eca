import { createRequire } from 'node:module';
import { BtfError } from '../errors.js';
import { detectCompression, type Compression } from '../elf/compress.js';
import { DEFAULT_MAX_INPUT_SIZE, InputFile, inputLimit, limitError, type InputLimit, type ReadOptions } from './input.js';

/**
 * The default cap on a decompressed module: {@link DEFAULT_MAX_INPUT_SIZE}, the input limit.
 * @deprecated Use {@link DEFAULT_MAX_INPUT_SIZE}, or the `maxInputSize` option.
 */
export const MAX_DECOMPRESSED_SIZE = DEFAULT_MAX_INPUT_SIZE;

type ZstdSync = (buf: Uint8Array, opts?: { maxOutputLength?: number }) => Buffer;

// zlib and child_process are loaded on first use: most inputs are not compressed, and the CLI's
// start-up time counts in every command. (In the CommonJS bundle of the CLI, import.meta.url is
// defined by the bundler: see tools/bundle-cli.mjs.)
const require = createRequire(import.meta.url);
const zlibModule = () => require('node:zlib') as typeof import('node:zlib');
const childProcess = () => require('node:child_process') as typeof import('node:child_process');

/**
 * Inflates a compressed module. gzip uses Node's zlib; zstd uses zlib too where Node has it
 * (22.15+), else the `zstd` program; xz uses the `xz` program (Node has no xz decoder). The
 * output is capped at `maxSize` bytes (by default the input limit, see
 * {@link ReadOptions.maxInputSize}): the decompressor stops as soon as it passes it, so a
 * decompression bomb ends in an error that names the limit.
 */
export function decompressModule(bytes: Uint8Array, kind: Compression, file?: string, maxSize?: number): Uint8Array {
  return inflate(bytes, kind, file, inputLimit(maxSize === undefined ? {} : { maxInputSize: maxSize }));
}

/** {@link decompressModule} with a limit that knows how the user raises it. @internal */
export function inflate(bytes: Uint8Array, kind: Compression, file: string | undefined, limit: InputLimit): Uint8Array {
  const where = file === undefined ? {} : { file };
  // The data is bad when the decompressor refuses it; the system is when the decompressor cannot run.
  const corrupt = (why: string, cause?: unknown): never => {
    throw new BtfError('bad-input', `cannot decompress ${kind} data: ${why}`, where, cause === undefined ? undefined : { cause });
  };
  const cannotRun = (why: string, cause: unknown): never => {
    throw new BtfError('io', `cannot decompress ${kind} data: ${why}`, where, { cause });
  };
  const tooLarge = (): never => {
    throw limitError(file, limit, `${kind} output exceeds`, ' (a decompression bomb?)');
  };
  const asBytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const zlib = zlibModule();
  const inflateInProcess = (run: () => Buffer): Uint8Array => {
    try {
      return asBytes(run());
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') tooLarge();
      return corrupt((e as Error).message, e);
    }
  };
  if (kind === 'gzip') return inflateInProcess(() => zlib.gunzipSync(bytes, { maxOutputLength: limit.bytes }));
  if (kind === 'zstd') {
    const native = (zlib as unknown as { zstdDecompressSync?: ZstdSync }).zstdDecompressSync;
    if (native) return inflateInProcess(() => native(bytes, { maxOutputLength: limit.bytes }));
  }
  const program = kind === 'xz' ? 'xz' : 'zstd';
  // spawnSync kills the program once its output passes maxBuffer.
  const run = childProcess().spawnSync(program, ['-d', '-c', '-q'], { input: bytes, maxBuffer: limit.bytes, stdio: ['pipe', 'pipe', 'pipe'] });
  if (run.error) {
    const code = (run.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') cannotRun(`the '${program}' program is not installed`, run.error);
    if (code === 'ENOBUFS') tooLarge();
    cannotRun(run.error.message, run.error);
  }
  if (run.status !== 0) corrupt(`${program} exited with status ${run.status}: ${run.stderr.toString().trim() || 'no message'}`);
  return asBytes(run.stdout);
}

/** `bytes` inflated when its magic says gzip, xz or zstd; as it is otherwise. */
export function maybeDecompress(bytes: Uint8Array, file?: string, opts: ReadOptions = {}): Uint8Array {
  const kind = detectCompression(bytes);
  return kind ? inflate(bytes, kind, file, inputLimit(opts)) : bytes;
}

/**
 * Reads a whole file, within the input limit, and, when its magic says it is gzip, xz or zstd,
 * inflates it, so `.ko.xz`, `.ko.zst` and `.ko.gz` read like `.ko`. Other files come back as
 * they are. (`readInput` reads only what btfkit needs of a file; this reads all of it.)
 */
export function readMaybeCompressed(path: string, opts: ReadOptions = {}): Uint8Array {
  const limit = inputLimit(opts);
  const input = InputFile.open(path);
  let raw: Uint8Array;
  try {
    if (input.regular && input.size > limit.bytes) throw limitError(path, limit, `the file is ${input.size} bytes, more than`);
    raw = input.readToEnd(new Uint8Array(0), limit, 'the file is larger than');
  } finally {
    input.close();
  }
  const kind = detectCompression(raw);
  return kind ? inflate(raw, kind, path, limit) : raw;
}
