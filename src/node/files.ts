import { basename, dirname, resolve } from 'node:path';
import { BtfError } from '../errors.js';
import type { Btf } from '../btf/btf.js';
import { loadBtf } from '../btf/source.js';
import { isElf, type ElfFile } from '../elf/elf.js';
import { detectCompression } from '../elf/compress.js';
import { btfExtent, detectEndian } from '../format/header.js';
import { loadModuleBtf, moduleSections, type ModuleSections } from '../split/load.js';
import { inflate } from './compressed.js';
import { readElfImage } from './elf-image.js';
import { InputFile, inputLimit, limitError, type InputLimit, type ReadOptions } from './input.js';

export { DEFAULT_MAX_INPUT_SIZE, MAX_INPUT_ENV, type ReadOptions } from './input.js';

/** Where the running kernel publishes its BTF. */
export const SYSFS_BTF_DIR = '/sys/kernel/btf';
export const SYSFS_VMLINUX = `${SYSFS_BTF_DIR}/vmlinux`;

/** Enough of a file to tell what it is: every magic, and a whole ELF64 header. */
const PROBE_SIZE = 64;

/**
 * Reads what btfkit needs of a BTF input: raw BTF, an ELF file, or either compressed with gzip,
 * xz or zstd (`.ko.gz`, `.ko.xz`, `.ko.zst`, found by their magic bytes, which are inflated).
 * Reading is bounded whatever the path names (see {@link ReadOptions.maxInputSize}):
 * - raw BTF: up to the end of its sections as the header gives them; bytes after that too when
 *   the whole file is within the limit (so `checkBtf` can report them), never from a pipe;
 * - an ELF file: an image as long as the file in which only the headers, the `.BTF*` sections,
 *   the symbol tables `.BTF_ids` needs and a BPF object's programs, data and relocations are
 *   read, the rest zeros (see `readElfImage`); from a pipe, all of it;
 * - a compressed file: all of it, inflated up to the limit;
 * - anything else: an error after its first bytes. Devices (/dev/zero) and directories are
 *   refused; pipes (`/dev/stdin`, `<(...)`) are read front to back.
 * I/O failures and limits are {@link BtfError}s that name the file.
 */
export function readInput(path: string, opts: ReadOptions = {}): Uint8Array {
  return readParsedInput(path, opts).bytes;
}

/**
 * Reads a whole ELF file (a compressed one inflated), for commands that write it back with
 * some sections changed: {@link readInput} with `wholeElf`.
 */
export function readWholeInput(path: string, opts: ReadOptions = {}): Uint8Array {
  return readInput(path, { ...opts, wholeElf: true });
}

/**
 * Reads a module file as {@link readInput} does (a `.ko`, compressed or not, or raw split BTF)
 * and finds its BTF sections, parsing the ELF headers once: what `checkSplit` and
 * `loadModuleBtf` take, for callers that check and load many modules (`btfkit merge`).
 */
export function readModule(path: string, opts: ReadOptions = {}): ModuleSections {
  const { bytes, elf } = readParsedInput(path, opts);
  try {
    return moduleSections(bytes, elf);
  } catch (e) {
    if (e instanceof BtfError && e.file === undefined) throw e.inFile(path);
    throw e;
  }
}

/** {@link readInput}, with the ELF headers when reading them parsed them already. */
function readParsedInput(path: string, opts: ReadOptions): { bytes: Uint8Array; elf?: ElfFile } {
  const limit = inputLimit(opts);
  const input = InputFile.open(path);
  try {
    return readOpenInput(input, limit, opts.wholeElf === true);
  } finally {
    input.close();
  }
}

function readOpenInput(input: InputFile, limit: InputLimit, wholeElf: boolean): { bytes: Uint8Array; elf?: ElfFile } {
  const probe = input.read(0, PROBE_SIZE);
  const whole = (what: string) => ({ bytes: input.readToEnd(probe, limit, what) });
  if (detectEndian(probe)) {
    const extent = btfExtent(probe);
    if (extent === undefined) return { bytes: probe }; // too short for a header: the parser says so
    // A regular file's size is exact except in sysfs, where it may be 4096: read to the end of
    // the sections in any case, and to the end of a file the limit holds.
    const withinLimit = input.regular && input.size <= limit.bytes;
    if (extent > limit.bytes) {
      if (withinLimit) return whole('the file is larger than'); // cannot hold its sections: the parser says so
      throw limitError(input.path, limit, `the BTF header puts the end of its sections at byte ${extent}, past`);
    }
    const end = withinLimit ? Math.max(extent, input.size) : extent;
    if (end <= probe.length) return { bytes: probe.subarray(0, end) };
    const bytes = new Uint8Array(end);
    bytes.set(probe);
    const got = input.readInto(bytes, probe.length, end - probe.length, probe.length);
    return { bytes: probe.length + got === end ? bytes : bytes.subarray(0, probe.length + got) };
  }
  if (isElf(probe)) {
    if (wholeElf) return whole('the ELF file is larger than');
    if (!input.regular) return whole('the ELF file arriving through the pipe is larger than');
    const { image, elf } = readElfImage(input, probe, limit);
    return elf ? { bytes: image, elf } : { bytes: image };
  }
  const compression = detectCompression(probe);
  if (compression) {
    if (input.regular && input.size > limit.bytes) throw limitError(input.path, limit, `the ${compression} file is ${input.size} bytes, more than`);
    return { bytes: inflate(whole(`the ${compression} file is larger than`).bytes, compression, input.path, limit) };
  }
  if (probe.length < 4) return { bytes: probe }; // the parser reports it as too short
  const seen = Array.from(probe.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new BtfError('bad-magic', `not raw BTF, an ELF file or a gzip, xz or zstd file: it starts with bytes ${seen}`, { file: input.path, offset: 0 });
}

/**
 * For a file under /sys/kernel/btf/ other than vmlinux, the base it needs: the kernel's vmlinux
 * BTF. Undefined for every other file.
 */
export function defaultBasePath(path: string): string | undefined {
  const abs = resolve(path);
  if (dirname(abs) === SYSFS_BTF_DIR && basename(abs) !== 'vmlinux') return SYSFS_VMLINUX;
  return undefined;
}

/** Options for {@link loadBtfFile}. */
export interface LoadFileOptions extends ReadOptions {
  /** A base BTF, or the path of one; defaults to /sys/kernel/btf/vmlinux for module files there. */
  base?: Btf | string;
}

/**
 * Loads raw BTF or an ELF file's `.BTF` from disk, with its base when it is split BTF. A module
 * that carries a distilled base (`.BTF.base`) is relocated onto the base first, as the kernel does.
 */
export function loadBtfFile(path: string, opts: LoadFileOptions = {}): Btf {
  let base = opts.base;
  if (base === undefined) base = defaultBasePath(path);
  const limits: ReadOptions = opts.maxInputSize === undefined ? {} : { maxInputSize: opts.maxInputSize };
  const baseBtf = typeof base === 'string' ? loadBtfFile(base, limits) : base;
  const bytes = readInput(path, limits);
  return baseBtf ? loadModuleBtf(bytes, baseBtf, path) : loadBtf(bytes, { file: path });
}
