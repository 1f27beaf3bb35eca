import { writeSync } from 'node:fs';
import { ByteSink } from '../dump/sink.js';

/** Writes every byte, retrying short writes (pipes) and ending quietly when the reader has gone. */
export function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) {
    try {
      off += writeSync(fd, chunk, off, chunk.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EPIPE') process.exit(0);
      throw e;
    }
  }
}

/**
 * A sink that streams to standard output in 64 KiB chunks: a bigger buffer saves few system
 * calls but costs its fresh pages (a page fault each on first touch).
 */
export function stdoutSink(): ByteSink {
  return new ByteSink((chunk) => writeAll(1, chunk), 1 << 16);
}
