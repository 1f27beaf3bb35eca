/**
 * An append-only byte buffer for text output. Dumps write bytes, not JS strings, so names are
 * copied from the string section as they are (byte-identical to bpftool even for non-UTF-8
 * names) and large dumps avoid string concatenation.
 */
export class ByteSink {
  private buf: Uint8Array;
  private pos = 0;
  private readonly chunks: Uint8Array[] = [];
  private total = 0;
  private readonly flushTo: ((chunk: Uint8Array) => void) | undefined;

  /**
   * With `flushTo`, full chunks are handed over as they fill (for streaming to stdout). A chunk
   * is a view of the sink's own buffer, which is written over once `flushTo` returns: consume
   * it there (write it out) or copy it. Reusing the buffer spares allocating (and the kernel
   * zeroing) a fresh megabyte per chunk.
   */
  constructor(flushTo?: (chunk: Uint8Array) => void, chunkSize = 1 << 20) {
    this.buf = new Uint8Array(chunkSize);
    this.flushTo = flushTo;
  }

  private spill(need: number): void {
    const chunk = this.buf.subarray(0, this.pos);
    this.total += this.pos;
    this.pos = 0;
    if (this.flushTo) {
      this.flushTo(chunk);
      if (need > this.buf.length) this.buf = new Uint8Array(need);
    } else {
      this.chunks.push(chunk);
      this.buf = new Uint8Array(Math.max(this.buf.length, need));
    }
  }

  /** Appends a string of code units below 256 (ASCII text, kind names, numbers). */
  ascii(s: string): this {
    const n = s.length;
    if (this.pos + n > this.buf.length) this.spill(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
    return this;
  }

  byte(c: number): this {
    if (this.pos >= this.buf.length) this.spill(1);
    this.buf[this.pos++] = c;
    return this;
  }

  /** Appends `src[start, end)`. */
  bytes(src: Uint8Array, start: number, end: number): this {
    const n = end - start;
    if (this.pos + n > this.buf.length) this.spill(n);
    if (n < 32) {
      const b = this.buf;
      let p = this.pos;
      for (let i = start; i < end; i++) b[p++] = src[i]!;
      this.pos = p;
    } else {
      this.buf.set(src.subarray(start, end), this.pos);
      this.pos += n;
    }
    return this;
  }

  /** Appends a non-negative integer below 2^53 in decimal. */
  uint(n: number): this {
    if (n < 10) return this.byte(48 + n);
    if (this.pos + 20 > this.buf.length) this.spill(20);
    const b = this.buf;
    let digits = 0;
    for (let t = n; t >= 1; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (n >= 1) {
      const q = Math.floor(n / 10);
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    return this;
  }

  /** Appends a signed integer in decimal. */
  int(n: number): this {
    if (n < 0) {
      this.byte(45);
      return this.uint(-n);
    }
    return this.uint(n);
  }

  /** Everything written so far, as one array (when not streaming). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.total + this.pos);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    out.set(this.buf.subarray(0, this.pos), p);
    return out;
  }

  /** Hands over what is left (when streaming). */
  flush(): void {
    if (this.pos === 0) return;
    if (this.flushTo) this.flushTo(this.buf.subarray(0, this.pos));
    else this.chunks.push(this.buf.slice(0, this.pos));
    this.total += this.pos;
    this.pos = 0;
  }
}

/** Decodes the sink's bytes as UTF-8 text. */
export function sinkText(sink: ByteSink): string {
  return new TextDecoder().decode(sink.toBytes());
}
