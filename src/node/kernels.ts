import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Btf } from '../btf/btf.js';
import { TypeSet } from '../btf/typeset.js';
import { moduleNameOf } from '../elf/compress.js';
import { BtfError } from '../errors.js';
import { loadModuleBtf } from '../split/load.js';
import { loadBtfFile, readInput, type ReadOptions } from './files.js';
import { KernelBtf } from './sysfs.js';

/** One kernel to check objects against: a label for people and its BTF, vmlinux and modules. */
export interface KernelTarget {
  /** The path given, or `path/subfolder` for a kernel found in a folder of kernels. */
  label: string;
  set: TypeSet;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const MODULE_FILE = /\.ko(\.(xz|zst|gz))?$/;

/** Every module file under `dir`, at any depth, sorted by path. */
function moduleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (MODULE_FILE.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** How a folder holds one kernel, if it does. */
function kernelFolderKind(dir: string): 'sysfs' | 'build' | undefined {
  if (existsSync(join(dir, 'vmlinux'))) return 'sysfs';
  if (existsSync(join(dir, 'vmlinux.btf'))) return 'build';
  return undefined;
}

function folderTarget(dir: string, kind: 'sysfs' | 'build', label: string, opts: ReadOptions): KernelTarget {
  if (kind === 'sysfs') return { label, set: new KernelBtf(dir, opts).typeSet() };
  const vmlinux = loadBtfFile(join(dir, 'vmlinux.btf'), opts);
  const modulesDir = join(dir, 'modules');
  const files = isDirectory(modulesDir) ? moduleFiles(modulesDir) : [];
  const modules = files.map((f) => [moduleNameOf(f), () => loadModuleBtf(readInput(f, opts), vmlinux, f)] as [string, () => Btf]);
  return { label, set: new TypeSet(vmlinux, modules) };
}

/**
 * The kernels a path stands for, told apart by what is in it:
 * - a file: a vmlinux BTF (raw or ELF), without modules;
 * - a folder with a `vmlinux` file: laid out like /sys/kernel/btf (one file per module);
 * - a folder with `vmlinux.btf`: a kernel build as tools/fetch-debian-kernel.sh leaves it, its
 *   modules the `.ko` files (compressed or not) anywhere under `modules/`;
 * - any other folder: a folder of kernels, one per subfolder of either kind above, in name
 *   order; subfolders of neither kind are not kernels and are passed over. A folder with no
 *   kernel at all is an error.
 * Modules are read when a search reaches them.
 */
export function kernelTargets(path: string, opts: ReadOptions = {}): KernelTarget[] {
  if (!isDirectory(path)) return [{ label: path, set: new TypeSet(loadBtfFile(path, opts)) }];
  const kind = kernelFolderKind(path);
  if (kind) return [folderTarget(path, kind, path, opts)];
  let entries: string[];
  try {
    entries = readdirSync(path).sort();
  } catch (e) {
    throw new BtfError('io', `cannot list ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
  }
  const targets: KernelTarget[] = [];
  for (const name of entries) {
    const sub = join(path, name);
    if (!isDirectory(sub)) continue;
    const subKind = kernelFolderKind(sub);
    if (subKind) targets.push(folderTarget(sub, subKind, join(path, name), opts));
  }
  if (targets.length === 0) {
    throw new BtfError('not-found', `${path} holds no kernel: no vmlinux, no vmlinux.btf, and no subfolder with either`, { file: path });
  }
  return targets;
}
