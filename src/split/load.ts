import { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { BTF_BASE_SECTION, BTF_SECTION, btfSections, isElf, parseElf, type ElfFile } from '../elf/elf.js';
import { relocateOntoBase } from './relocate.js';

/** The BTF sections of a module file, or the bytes themselves for raw BTF. */
export interface ModuleSections {
  /** The `.BTF` section (or the raw blob). */
  btf: Uint8Array;
  /** The distilled base (`.BTF.base`), when the module has one. */
  distilledBase?: Uint8Array;
  /** The module file's ELF headers (raw BTF has none), for what else is read from it. */
  elf?: ElfFile;
}

/**
 * Finds `.BTF` and `.BTF.base` in a module file; raw BTF comes back as it is. `elf`: the file's
 * headers when the caller parsed them already.
 */
export function moduleSections(bytes: Uint8Array, elf?: ElfFile): ModuleSections {
  if (!elf && !isElf(bytes)) return { btf: bytes };
  const file = elf ?? parseElf(bytes);
  const sections = btfSections(file);
  const btf = sections.get(BTF_SECTION);
  if (!btf) throw new BtfError('no-btf', 'ELF file has no .BTF section');
  const distilledBase = sections.get(BTF_BASE_SECTION);
  return distilledBase ? { btf, distilledBase, elf: file } : { btf, elf: file };
}

/**
 * Loads a module's BTF on `base`: raw split BTF or a `.ko` (decompressed), as bytes or as the
 * sections {@link moduleSections} found. A module with a distilled base (`.BTF.base`) is
 * renumbered onto `base` first, as the kernel does when it loads it. This does not check that
 * the module was built against `base`; `checkSplit` does.
 */
export function loadModuleBtf(module: Uint8Array | ModuleSections, base: Btf, file?: string): Btf {
  const where = file === undefined ? {} : { file };
  try {
    const { btf, distilledBase } = module instanceof Uint8Array ? moduleSections(module) : module;
    if (!distilledBase) return Btf.parse(btf, { base, ...where });
    const distilled = Btf.parse(distilledBase, where);
    const split = Btf.parse(btf, { base: distilled, ...where });
    return Btf.parse(relocateOntoBase(split, base), { base, ...where });
  } catch (e) {
    if (e instanceof BtfError && file !== undefined && e.file === undefined) throw e.inFile(file);
    throw e;
  }
}

/**
 * Parses a chain of blobs, each split on the one before: `[vmlinux, module]`, or deeper for
 * split BTF on split BTF. Returns the last one; its `base` links lead back to the first.
 */
export function loadSplitChain(blobs: readonly Uint8Array[], files: readonly string[] = []): Btf {
  if (blobs.length === 0) throw new BtfError('bad-argument', 'a split chain needs at least one blob');
  let btf: Btf | undefined;
  blobs.forEach((bytes, i) => {
    const file = files[i];
    const opts = { ...(btf ? { base: btf } : {}), ...(file !== undefined ? { file } : {}) };
    btf = i === 0 ? Btf.parse(moduleSections(bytes).btf, opts) : loadModuleBtf(bytes, btf!, file);
  });
  return btf!;
}
