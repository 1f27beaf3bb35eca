import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { BtfError } from '../errors.js';
import type { Btf } from '../btf/btf.js';
import { loadBtf } from '../btf/source.js';
import { loadModuleBtf } from '../split/load.js';
import { maybeDecompress } from './compressed.js';

/** Where the running kernel publishes its BTF. */
export const SYSFS_BTF_DIR = '/sys/kernel/btf';
export const SYSFS_VMLINUX = `${SYSFS_BTF_DIR}/vmlinux`;

/**
 * Reads a whole file, decompressing `.ko.xz`/`.ko.zst`/`.ko.gz` modules (found by their magic
 * bytes), and turns I/O failures into a {@link BtfError} that names the file.
 */
export function readInput(path: string): Uint8Array {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new BtfError('bad-input', `cannot read: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`, { file: path });
  }
  return maybeDecompress(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), path);
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
export interface LoadFileOptions {
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
  const baseBtf = typeof base === 'string' ? loadBtfFile(base) : base;
  const bytes = readInput(path);
  return baseBtf ? loadModuleBtf(bytes, baseBtf, path) : loadBtf(bytes, { file: path });
}
