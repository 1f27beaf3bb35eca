import { writeFileSync, writeSync } from 'node:fs';
import { ByteSink } from '../dump/sink.js';
import { CommandError } from './args.js';

/**
 * Thrown when the reader of standard output (or error) has gone (`btfkit ... | head`). It is no
 * failure: the command stops writing and ends quietly, as bpftool does when SIGPIPE ends it.
 */
export class OutputClosed extends Error {
  constructor() {
    super('the reader of the output has gone');
  }
}

/**
 * Writes every byte, retrying short writes (pipes). Every write to stdout and stderr goes
 * through here, synchronously, so that a closed pipe is an EPIPE from this call (which the
 * caller can handle) and never an 'error' event on `process.stdout` that kills the process
 * with a stack trace.
 */
function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) {
    try {
      off += writeSync(fd, chunk, off, chunk.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      // EPIPE from a pipe; ECONNRESET from a socket (a parent's stdio) closed with data unread.
      if (code === 'EPIPE' || code === 'ECONNRESET') throw new OutputClosed();
      throw e;
    }
  }
}

const encoder = new TextEncoder();

/** Writes text to standard output; throws {@link OutputClosed} when its reader has gone. */
export function print(text: string): void {
  writeAll(1, encoder.encode(text));
}

/** Writes text to standard error; a closed stderr is ignored (there is nowhere left to complain). */
export function printError(text: string): void {
  try {
    writeAll(2, encoder.encode(text));
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
}

/** A `btfkit: warning: ...` line on stderr: the command goes on. */
export function warn(text: string): void {
  printError(`btfkit: warning: ${text}\n`);
}

/**
 * A sink that streams to standard output in 64 KiB chunks: a bigger buffer saves few system
 * calls but costs its fresh pages (a page fault each on first touch).
 */
export function stdoutSink(): ByteSink {
  return new ByteSink((chunk) => writeAll(1, chunk), 1 << 16);
}

/**
 * Runs `write` (which prints a command's results) and returns `exitCode`, also when the reader
 * of stdout leaves early: a closed pipe must not turn a verdict (`check`'s 0, 1, 3 or 4) into
 * another one.
 */
export function printing(exitCode: number, write: () => void): number {
  try {
    write();
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
  return exitCode;
}

/** Writes an output file (`-o OUT`); failing to is one `btfkit: error:` line naming OUT. */
export function writeOutputFile(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why: Record<string, string> = {
      ENOENT: 'no such directory',
      ENOTDIR: 'a component of the path is not a directory',
      EISDIR: 'is a directory',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EROFS: 'read-only file system',
      ENOSPC: 'no space left on device',
      EDQUOT: 'disk quota exceeded',
    };
    throw new CommandError(`cannot write ${path}: ${(err.code !== undefined && why[err.code]) || err.message}`);
  }
}
