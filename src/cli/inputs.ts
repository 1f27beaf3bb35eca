import { BtfError } from '../errors.js';
import type { Btf } from '../btf/btf.js';
import { btfBytesOf, loadBtf } from '../btf/source.js';
import { parseHeader } from '../format/header.js';
import { statSync } from 'node:fs';
import { TypeSet } from '../btf/typeset.js';
import { moduleNameOf } from '../elf/compress.js';
import { defaultBasePath, loadBtfFile, readInput, SYSFS_BTF_DIR, SYSFS_VMLINUX } from '../node/files.js';
import { KernelBtf } from '../node/sysfs.js';
import { checkSplit, formatEvidence } from '../split/check.js';
import { loadModuleBtf } from '../split/load.js';
import { warn } from './output.js';

/**
 * True for split BTF (raw or an ELF file's .BTF), as libbpf decides: its string section does not
 * start with the empty string.
 */
export function looksSplit(bytes: Uint8Array, file: string): boolean {
  try {
    const btf = btfBytesOf(bytes);
    const { header } = parseHeader(btf);
    return header.strLen === 0 || btf[header.hdrLen + header.strOff] !== 0;
  } catch (e) {
    if (e instanceof BtfError && e.file === undefined) throw e.inFile(file);
    throw e;
  }
}

/** The error for split BTF that has no base to be read on: it names the flag that gives one. */
export function baseNeeded(file: string): BtfError {
  return new BtfError('bad-base', "this is split BTF (a module's types, numbered after its base's): give the vmlinux it was built against with --base BASE", { file });
}

/**
 * Reads FILE for a command that prints or re-encodes it. Split BTF is read on BASE (`--base`,
 * or /sys/kernel/btf/vmlinux for the other files there); without a base it is an error naming
 * --base. A FILE that does not read correctly on an explicit BASE is still read, as bpftool
 * reads it, after a warning on stderr.
 */
export function loadInput(file: string, basePath: string | undefined): Btf {
  const bytes = readInput(file);
  if (basePath === undefined) {
    const kernelBase = defaultBasePath(file);
    // The running kernel's own files always match each other: no need to check.
    if (kernelBase !== undefined) return loadModuleBtf(bytes, loadBtfFile(kernelBase), file);
    if (looksSplit(bytes, file)) throw baseNeeded(file);
    return loadBtf(bytes, { file });
  }
  const base = loadBtfFile(basePath);
  warnIfWrongBase(bytes, base, file, basePath);
  return loadModuleBtf(bytes, base, file);
}

/**
 * One `btfkit: warning:` line when `checkSplit` finds that FILE does not read correctly on BASE:
 * mismatched (its references land on the wrong base types and strings), or self-contained BTF
 * that reading as split BTF shifts onto the base.
 */
export function warnIfWrongBase(bytes: Uint8Array, base: Btf, file: string, basePath: string): void {
  const r = checkSplit(bytes, base, { file, maxEvidence: 1 });
  if (r.verdict === 'mismatched') {
    const first = r.evidence[0] ? `; first: ${formatEvidence(r.evidence[0])}` : '';
    warn(`${file} does not match its base ${basePath}: ${r.summary}${first}; the names and ids read from it are likely wrong (give the vmlinux it was built against with --base)`);
  } else if (r.verdict === 'standalone' || r.verdict === 'not-split') {
    warn(`${file} is self-contained BTF, not split BTF: read on the base ${basePath}, its ids start after the base's and its names come from the base's strings; leave out --base to read it on its own`);
  }
}

/**
 * The kernel BTF a search command looks in, and how to say so in a message: with neither FILEs
 * nor --base, the running kernel (vmlinux and every module under /sys/kernel/btf); one FILE that
 * is a directory, a folder laid out like /sys/kernel/btf; otherwise BASE (default
 * /sys/kernel/btf/vmlinux) with each FILE as a module on it, loaded when a search reaches it
 * (with a warning when it does not match BASE).
 */
export function typeSetOf(files: string[], basePath: string | undefined): { set: TypeSet; searched: string } {
  if (files.length === 0 && basePath === undefined) {
    const set = new KernelBtf().typeSet();
    return { set, searched: `vmlinux or the ${set.moduleNames().length} modules under ${SYSFS_BTF_DIR}` };
  }
  if (files.length === 1 && basePath === undefined && isDirectory(files[0]!)) {
    const set = new KernelBtf(files[0]!).typeSet();
    return { set, searched: `vmlinux or the ${set.moduleNames().length} modules under ${files[0]}` };
  }
  const basePathUsed = basePath ?? SYSFS_VMLINUX;
  const base = loadBtfFile(basePathUsed);
  const load = (file: string): Btf => {
    const bytes = readInput(file);
    // A module read on the wrong base finds wrong names, or none, without a word otherwise.
    warnIfWrongBase(bytes, base, file, basePathUsed);
    return loadModuleBtf(bytes, base, file);
  };
  const set = new TypeSet(base, files.map((f) => [moduleNameOf(f), () => load(f)] as [string, () => Btf]));
  const searched = files.length ? `${basePathUsed} or ${files.length === 1 ? files[0] : `the ${files.length} modules given`}` : basePathUsed;
  return { set, searched };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
