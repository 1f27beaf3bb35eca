/**
 * TEMPORARY: a minimal reader of the CO-RE records in a BPF object's `.BTF.ext`, for the engine's
 * tests until the real `.BTF.ext` reader (another branch of issue 10) is merged; then these
 * tests should use that and this file should go. Trusts its input (test objects from clang).
 */
import { Btf } from '../../src/btf/btf.js';
import type { CoreRelocationRecord } from '../../src/core/decision.js';
import { findSection, parseElf, sectionBytes, sectionData } from '../../src/elf/elf.js';

export interface ObjectCoreRelocations {
  btf: Btf;
  littleEndian: boolean;
  /** Per ELF section, in .BTF.ext order: its bytes and its records. */
  sections: { name: string; code: Uint8Array; records: CoreRelocationRecord[] }[];
}

export function readObjectCoreRelocations(object: Uint8Array): ObjectCoreRelocations {
  const elf = parseElf(object);
  const btf = Btf.parse(sectionData(elf, '.BTF')!);
  const ext = sectionData(elf, '.BTF.ext')!;
  const le = elf.littleEndian;
  const dv = new DataView(ext.buffer, ext.byteOffset, ext.byteLength);
  const hdrLen = dv.getUint32(4, le);
  const coreOff = dv.getUint32(24, le);
  const coreLen = dv.getUint32(28, le);
  const sections: ObjectCoreRelocations['sections'] = [];
  let p = hdrLen + coreOff;
  const end = p + coreLen;
  const recSize = dv.getUint32(p, le);
  p += 4;
  while (p < end) {
    const name = btf.str(dv.getUint32(p, le)) ?? '';
    const n = dv.getUint32(p + 4, le);
    p += 8;
    const records: CoreRelocationRecord[] = [];
    for (let i = 0; i < n; i++, p += recSize) {
      const accessStringOffset = dv.getUint32(p + 8, le);
      records.push({
        insnOffset: dv.getUint32(p, le),
        typeId: dv.getUint32(p + 4, le),
        accessStringOffset,
        access: btf.str(accessStringOffset) ?? '',
        kind: dv.getUint32(p + 12, le),
      });
    }
    const section = findSection(elf, name)!;
    sections.push({ name, code: sectionBytes(elf, section).slice(), records });
  }
  return { btf, littleEndian: le, sections };
}
