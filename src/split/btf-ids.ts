import type { Btf } from '../btf/btf.js';
import { BTF_IDS_SECTION, findSection, type ElfFile } from '../elf/elf.js';
import { readSymbols } from '../elf/symbols.js';
import { Kind, kindName } from '../format/kinds.js';
import type { CheckStats } from './check.js';
import type { EvidenceList } from './evidence.js';
import { describeType } from './refs.js';

const BTF_ID_SYMBOL = /^__BTF_ID__(struct|union|typedef|func)__(.+)__\d+$/;
const BTF_ID_SET_SYMBOL = /^__BTF_ID__(set|set8)__/;
const BTF_ID_KINDS: Record<string, Kind> = { struct: Kind.Struct, union: Kind.Union, typedef: Kind.Typedef, func: Kind.Func };

/**
 * resolve_btfids writes, at each `__BTF_ID__<kind>__<name>__<n>` symbol of `.BTF_ids`, the id of
 * that type in the module's BTF on the base it was built with. On the right base each one
 * names a type of that kind and name. Inside a BTF_SET or BTF_SET8 the ids are sorted
 * afterwards, so there the check is that the set's ids name exactly the set's types, in any order.
 */
/** @internal */
export function checkBtfIds(elf: ElfFile, mod: Btf, ev: EvidenceList, stats: CheckStats): void {
  const section = findSection(elf, BTF_IDS_SECTION);
  if (!section || section.size === 0) return;
  const bytes = elf.bytes;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const symbols = readSymbols(elf).filter((sym) => sym.section === section.index);
  const sets = symbols.filter((sym) => BTF_ID_SET_SYMBOL.test(sym.name) && sym.size > 0)
    .map((sym) => ({ name: sym.name, start: Number(sym.value), end: Number(sym.value) + sym.size, slots: [] as { off: number; kind: Kind; name: string; symbol: string }[] }));
  const describe = (id: number) => (id >= mod.endId ? 'past the last type' : describeType(mod, id));
  const fits = (id: number, kind: Kind, name: string) => id < mod.endId && mod.kind(id) === kind && mod.name(id) === name;
  const report = (id: number, problem: string) => {
    const own = id >= mod.firstId && id < mod.endId;
    ev.add({ signal: 'btf-ids', typeId: own ? id : 0, type: own ? describeType(mod, id) : '(.BTF_ids)', ref: 'type', target: id, inBase: id < mod.firstId, found: describe(id), problem });
  };
  const idAt = (off: number) => (off + 4 <= section.size ? dv.getUint32(section.offset + off, elf.littleEndian) : 0);
  for (const sym of symbols) {
    const m = BTF_ID_SYMBOL.exec(sym.name);
    if (!m) continue;
    const off = Number(sym.value);
    const kind = BTF_ID_KINDS[m[1]!]!;
    const name = m[2]!;
    const set = sets.find((x) => off >= x.start && off < x.end);
    if (set) {
      set.slots.push({ off, kind, name, symbol: sym.name });
      continue;
    }
    const id = idAt(off);
    if (id === 0) continue; // resolve_btfids leaves ids it could not resolve at 0
    stats.btfIdsChecked++;
    if (!fits(id, kind, name)) report(id, `.BTF_ids entry ${sym.name} holds id ${id}, which should be ${kindName(kind)} '${name}' but is ${describe(id)}`);
  }
  for (const set of sets) {
    const wanted = new Map<string, number>();
    for (const slot of set.slots) wanted.set(`${slot.kind}:${slot.name}`, (wanted.get(`${slot.kind}:${slot.name}`) ?? 0) + 1);
    for (const slot of set.slots) {
      const id = idAt(slot.off);
      if (id === 0) continue;
      stats.btfIdsChecked++;
      const key = id < mod.endId ? `${mod.kind(id)}:${mod.name(id)}` : '';
      const left = wanted.get(key) ?? 0;
      if (left > 0) wanted.set(key, left - 1);
      else report(id, `${set.name} holds id ${id}, which names ${describe(id)}, not one of the set's ${set.slots.length} types`);
    }
  }
}
