import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { TypeSet } from '../btf/typeset.js';
import { loadModuleBtf } from '../split/load.js';
import { loadBtf } from '../btf/source.js';
import { SYSFS_BTF_DIR, readInput, type ReadOptions } from './files.js';

/**
 * The running kernel's BTF as /sys/kernel/btf publishes it: `vmlinux` and one file per loaded
 * module that has BTF, each module split on vmlinux. Nothing is read until asked for, and
 * each blob is parsed once.
 *
 * @example
 * ```ts
 * const kernel = new KernelBtf();
 * kernel.moduleNames();                        // ['nf_tables', 'xfs', ...]
 * const xfs = kernel.module('xfs');            // split on kernel.vmlinux, loaded now
 * kernel.typeSet().find('xfs_inode');         // [{module: 'xfs', id: ..., ...}]
 * ```
 */
export class KernelBtf {
  private vmlinuxBtf: Btf | undefined;
  private readonly modules = new Map<string, Btf>();
  private names: string[] | undefined;

  /**
   * @param dir where the BTF files are; /sys/kernel/btf by default (another directory laid out the same way works too).
   * @param readOptions how much of each file to read at most (see {@link ReadOptions}).
   */
  constructor(readonly dir: string = SYSFS_BTF_DIR, private readonly readOptions: ReadOptions = {}) {}

  /** The kernel's own BTF, read on first use. */
  get vmlinux(): Btf {
    if (!this.vmlinuxBtf) {
      const file = join(this.dir, 'vmlinux');
      // Raw BTF in /sys/kernel/btf; an ELF vmlinux in a folder laid out the same way.
      this.vmlinuxBtf = loadBtf(readInput(file, this.readOptions), { file });
    }
    return this.vmlinuxBtf;
  }

  /** Names of the modules with BTF, sorted; the directory is listed once. */
  moduleNames(): string[] {
    if (!this.names) {
      let entries: string[];
      try {
        entries = readdirSync(this.dir);
      } catch (e) {
        throw new BtfError('io', `cannot list ${this.dir}: ${(e as Error).message}`, { file: this.dir }, { cause: e });
      }
      this.names = entries.filter((n) => n !== 'vmlinux').sort();
    }
    return this.names;
  }

  /** True when the kernel publishes BTF for this module. */
  hasModule(name: string): boolean {
    return this.moduleNames().includes(name);
  }

  /** A module's BTF, split on {@link vmlinux}, read on first use. */
  module(name: string): Btf {
    let btf = this.modules.get(name);
    if (!btf) {
      if (name === 'vmlinux' || name.includes('/') || !this.hasModule(name)) {
        throw new BtfError('not-found', `the kernel has no BTF for a module named '${name}'`, { file: join(this.dir, name) });
      }
      const file = join(this.dir, name);
      // Raw split BTF as /sys/kernel/btf has it; a folder laid out the same way may hold the
      // modules' .ko files instead (with a distilled base, relocated onto vmlinux).
      btf = loadModuleBtf(readInput(file, this.readOptions), this.vmlinux, file);
      this.modules.set(name, btf);
    }
    return btf;
  }

  /** Modules parsed so far. */
  loadedModules(): string[] {
    return [...this.modules.keys()];
  }

  /** vmlinux and every module, searchable as one; modules load as searches reach them. */
  typeSet(): TypeSet {
    return new TypeSet(this.vmlinux, this.moduleNames().map((n) => [n, () => this.module(n)] as [string, () => Btf]));
  }

  /** @deprecated Renamed {@link typeSet}; this name goes in the next release. */
  union(): TypeSet {
    return this.typeSet();
  }
}
