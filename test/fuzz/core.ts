/**
 * The CO-RE engine under the fuzzer: hostile CO-RE records written into a BPF object through
 * `encodeBtfExt` (the mutation side), and what the target runs on an object (relocation
 * against a real kernel and against the object's own BTF, and record by record where the
 * object model refuses the object).
 */
import { Btf } from '../../src/btf/btf.js';
import { parseElf, sectionData, type ElfFile } from '../../src/elf/elf.js';
import { encodeBtfExt, parseBtfExt, type BtfExt } from '../../src/ext/btf-ext.js';
import type { CoreRelocationRecord } from '../../src/core/decision.js';
import { scanBtf } from './encode.js';
import type { Rng } from './rng.js';

/**
 * Access strings libbpf's parser must refuse or bound: huge and negative indices, empty steps,
 * non-digits, a spec deeper than libbpf's 64 steps, numbers past 2^32 and 2^53.
 */
const HOSTILE_ACCESS = [
  '0:999999:1', '0:4294967295', '0:4294967296', '99999999999999999999', '0:-1', '-1', '', ':', '0:', ':0', '0::1',
  'a', '0:x', '0x10', ' 0', '0 ', '1e3', '00:01', '0:0:0:0', '+1', '0.5', '0:1:2:3:4:5:6:7:8:9',
];

/** An access string the fuzzer made up for this record. */
function hostileAccess(rng: Rng, old: string): string {
  const pick = rng.below(5);
  if (pick === 0) return rng.pick(HOSTILE_ACCESS);
  if (pick === 1) return Array.from({ length: rng.pick([63, 64, 65, 200, 5000]) }, () => String(rng.below(3))).join(':');
  if (pick === 2) return `${old}:${rng.pick([0, 1, 7, 255, 65535, 999999, 0xffffffff])}`;
  if (pick === 3) {
    // One step of the old string changed.
    const steps = old.split(':');
    steps[rng.below(steps.length)] = String(rng.pick([0, 1, 2, 3, 31, 32, 64, 1000, 0x7fffffff, 0xffffffff]));
    return steps.join(':');
  }
  return `0:${rng.below(64)}:${rng.below(64)}`;
}

/** Where a `.BTF` blob's string section lies, when it is the last part (new strings can be appended). */
function appendableStrings(btf: Uint8Array): { strLenAt: number; littleEndian: boolean; strLen: number } | undefined {
  const s = scanBtf(btf);
  if (!s || s.strStart + s.strLen !== btf.length) return undefined;
  return { strLenAt: 20, littleEndian: s.littleEndian, strLen: s.strLen };
}

/** Section header field positions of section `index` (`[offset, width]` of sh_offset and sh_size). */
function sectionFieldsOf(bytes: Uint8Array, elf: ElfFile, index: number): { offAt: number; sizeAt: number; width: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const is64 = bytes[4] === 2;
  const le = elf.littleEndian;
  const shoff = is64 ? Number(dv.getBigUint64(40, le)) : dv.getUint32(32, le);
  const shentsize = dv.getUint16(is64 ? 58 : 46, le);
  const at = shoff + index * shentsize;
  return is64 ? { offAt: at + 24, sizeAt: at + 32, width: 8 } : { offAt: at + 16, sizeAt: at + 20, width: 4 };
}

/**
 * Puts `data` as the contents of section `index`: in place when it fits in the old size exactly,
 * else appended at the end of the file with the section header pointed there.
 */
function replaceSection(bytes: Uint8Array, elf: ElfFile, index: number, data: Uint8Array): Uint8Array {
  const sec = elf.sections[index]!;
  if (data.length === sec.size) {
    const out = bytes.slice();
    out.set(data, sec.offset);
    return out;
  }
  const start = Math.ceil(bytes.length / 8) * 8;
  const out = new Uint8Array(start + data.length);
  out.set(bytes, 0);
  out.set(data, start);
  const dv = new DataView(out.buffer);
  const f = sectionFieldsOf(out, elf, index);
  if (f.width === 8) {
    dv.setBigUint64(f.offAt, BigInt(start), elf.littleEndian);
    dv.setBigUint64(f.sizeAt, BigInt(data.length), elf.littleEndian);
  } else {
    dv.setUint32(f.offAt, start, elf.littleEndian);
    dv.setUint32(f.sizeAt, data.length, elf.littleEndian);
  }
  return out;
}

/**
 * Rewrites one to four CO-RE records of an object through `encodeBtfExt`: the local type id
 * (0, past the end, extremes, another type), the access string (new hostile strings appended to
 * `.BTF`'s string table, or the offset of any other string, or a bad offset), the kind (13..255
 * and beyond) and the instruction offset (odd, past the section, another instruction). Returns
 * the new bytes and what was done, or undefined when the object has no CO-RE records that parse.
 */
export function mutateCoreRecords(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; steps: string[] } | undefined {
  let elf: ElfFile, btfBytes: Uint8Array | undefined, extBytes: Uint8Array | undefined, btf: Btf, ext: BtfExt;
  try {
    elf = parseElf(bytes);
    btfBytes = sectionData(elf, '.BTF');
    extBytes = sectionData(elf, '.BTF.ext');
    if (!btfBytes || !extBytes) return undefined;
    btf = Btf.parse(btfBytes);
    ext = parseBtfExt(extBytes, btf, { littleEndian: elf.littleEndian });
  } catch {
    return undefined;
  }
  const records: { block: number; index: number; record: CoreRelocationRecord }[] = [];
  ext.coreRelo.blocks.forEach((b, block) => b.records.forEach((record, index) => records.push({ block, index, record })));
  if (records.length === 0) return undefined;

  const steps: string[] = [];
  const strings = appendableStrings(btfBytes);
  const added: string[] = [];
  let nextStringOffset = strings?.strLen ?? 0;
  const typeCount = btf.endId - 1;
  for (let n = rng.range(1, 4); n > 0; n--) {
    const { block, index, record } = rng.pick(records);
    const r = { ...record };
    const where = `CO-RE ${ext.coreRelo.blocks[block]!.section}#${index}`;
    switch (rng.below(5)) {
      case 0: {
        r.typeId = rng.pick([0, 1, typeCount, typeCount + 1, typeCount + 1000, 0x7fffffff, 0xffffffff, rng.range(1, Math.max(1, typeCount))]);
        steps.push(`${where}: type id ${record.typeId}->${r.typeId}`);
        break;
      }
      case 1:
      case 2: {
        if (strings && rng.chance(0.75)) {
          const text = hostileAccess(rng, record.access);
          r.accessStringOffset = nextStringOffset;
          r.access = text;
          added.push(text);
          nextStringOffset += new TextEncoder().encode(text).length + 1;
          steps.push(`${where}: access '${record.access}'->'${text.length > 40 ? `${text.slice(0, 40)}...(${text.length})` : text}'`);
        } else {
          // Another string of the table (a type name, a source line), or an offset past it.
          const other = rng.pick(records).record.accessStringOffset;
          r.accessStringOffset = rng.pick([other, other + 1, 0, 1, nextStringOffset, nextStringOffset + 100, 0xffffffff]);
          steps.push(`${where}: access offset ${record.accessStringOffset}->${r.accessStringOffset}`);
        }
        break;
      }
      case 3: {
        r.kind = rng.pick([13, 14, 15, 31, 32, 255, 256, 0xffff, 0xffffffff, rng.below(13), rng.range(13, 255)]);
        steps.push(`${where}: kind ${record.kind}->${r.kind}`);
        break;
      }
      default: {
        const other = rng.pick(records).record.insnOffset;
        r.insnOffset = rng.pick([other, other + 8, other + 1, other + 4, 0, 8, 0x7ffffff8, 0xfffffff8, 0xffffffff, record.insnOffset - 8]) >>> 0;
        steps.push(`${where}: insn offset ${record.insnOffset}->${r.insnOffset}`);
      }
    }
    ext.coreRelo.blocks[block]!.records[index] = r;
    const i = records.findIndex((x) => x.block === block && x.index === index);
    records[i] = { block, index, record: r };
  }

  let out = bytes;
  try {
    out = replaceSection(out, elf, elf.sections.findIndex((s) => s.name === '.BTF.ext'), encodeBtfExt(ext));
  } catch (e) {
    steps.push(`encodeBtfExt refused: ${(e as Error).message}`);
    return { bytes, steps };
  }
  if (added.length && strings) {
    const tail = new TextEncoder().encode(added.map((s) => `${s}\0`).join(''));
    const grown = new Uint8Array(btfBytes.length + tail.length);
    grown.set(btfBytes, 0);
    grown.set(tail, btfBytes.length);
    new DataView(grown.buffer).setUint32(strings.strLenAt, strings.strLen + tail.length, strings.littleEndian);
    out = replaceSection(out, parseElf(out), elf.sections.findIndex((s) => s.name === '.BTF'), grown);
  }
  return { bytes: out, steps };
}
