import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BtfError } from '../errors.js';
import { detectCompression, type Compression } from '../elf/compress.js';

/** Largest decompressed module btfkit accepts; the biggest real modules are far below this. */
export const MAX_DECOMPRESSED_SIZE = 1 << 30;

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
 * output is capped at {@link MAX_DECOMPRESSED_SIZE} so a decompression bomb ends in an error.
 */
export function decompressModule(bytes: Uint8Array, kind: Compression, file?: string, maxSize = MAX_DECOMPRESSED_SIZE): Uint8Array {
  const where = file === undefined ? {} : { file };
  const fail = (why: string): never => {
    throw new BtfError('bad-input', `cannot decompress ${kind} data: ${why}`, where);
  };
  const asBytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const zlib = zlibModule();
  if (kind === 'gzip') {
    try {
      return asBytes(zlib.gunzipSync(bytes, { maxOutputLength: maxSize }));
    } catch (e) {
      return fail((e as Error).message);
    }
  }
  if (kind === 'zstd') {
    const native = (zlib as unknown as { zstdDecompressSync?: ZstdSync }).zstdDecompressSync;
    if (native) {
      try {
        return asBytes(native(bytes, { maxOutputLength: maxSize }));
      } catch (e) {
        return fail((e as Error).message);
      }
    }
  }
  const program = kind === 'xz' ? 'xz' : 'zstd';
  const run = childProcess().spawnSync(program, ['-d', '-c', '-q'], { input: bytes, maxBuffer: maxSize, stdio: ['pipe', 'pipe', 'pipe'] });
  if (run.error) {
    const code = (run.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(`the '${program}' program is not installed`);
    if (code === 'ENOBUFS') fail(`output exceeds ${maxSize} bytes`);
    fail(run.error.message);
  }
  if (run.status !== 0) fail(`${program} exited with status ${run.status}: ${run.stderr.toString().trim() || 'no message'}`);
  return asBytes(run.stdout);
}

/** `bytes` inflated when its magic says gzip, xz or zstd; as it is otherwise. */
export function maybeDecompress(bytes: Uint8Array, file?: string): Uint8Array {
  const kind = detectCompression(bytes);
  return kind ? decompressModule(bytes, kind, file) : bytes;
}

/**
 * Reads a file and, when its magic says it is gzip, xz or zstd, inflates it, so `.ko.xz`,
 * `.ko.zst` and `.ko.gz` read like `.ko`. Other files come back as they are. (This module reads
 * files itself rather than through files.ts, so files.ts can use {@link maybeDecompress}.)
 */
export function readMaybeCompressed(path: string): Uint8Array {
  let raw: Uint8Array;
  try {
    const b = readFileSync(path);
    raw = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new BtfError('bad-input', `cannot read: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`, { file: path });
  }
  return maybeDecompress(raw, path);
}
