import { isElf, elfBtfSection } from '../elf/elf.js';
import { Btf, type ParseOptions } from './btf.js';

/**
 * The BTF bytes inside `bytes`: the `.BTF` section of an ELF file (vmlinux, `.ko`, BPF `.o`),
 * or the bytes themselves when they are raw BTF.
 */
export function btfBytesOf(bytes: Uint8Array): Uint8Array {
  return isElf(bytes) ? elfBtfSection(bytes) : bytes;
}

/** Parses raw BTF or the `.BTF` section of an ELF file. */
export function loadBtf(bytes: Uint8Array, opts: ParseOptions = {}): Btf {
  try {
    return Btf.parse(btfBytesOf(bytes), opts);
  } catch (e) {
    if (e instanceof Error && e.name === 'BtfError' && opts.file !== undefined) {
      const be = e as import('../errors.js').BtfError;
      if (be.file === undefined) throw be.inFile(opts.file);
    }
    throw e;
  }
}
