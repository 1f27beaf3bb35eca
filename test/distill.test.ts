/**
 * Distilling a module's base (libbpf's btf__distill_base) on crafted BTF, where every rule can
 * be seen, and on the golden Debian 6.1.0-50 modules. The real-data sweep against libbpf and
 * bpftool 7.5 is distill-sweep.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { isBtfError } from '../src/errors.js';
import { Kind } from '../src/format/kinds.js';
import { distillBase } from '../src/split/distill.js';
import { relocateOntoBase } from '../src/split/relocate.js';
import { definitionText } from './helpers/definition.js';
import { fixture } from './helpers/paths.js';

/** A base with one of each kind a module reaches, and a module using them. */
function crafted() {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1); // 1
  const funcType = b.addFuncProto(int, []); // 2
  b.addFunc('some_func', funcType, 1); // 3
  const list = b.addStruct('list_head', 16, []); // 4 (members do not matter here)
  const listPtr = b.addPtr(list); // 5
  b.addStruct('list_head', 24, [{ name: 'next', type: listPtr, bitOffset: 0 }]); // 6: never reached; relocation tells the two apart by size
  const anon = b.addStruct('', 8, [{ name: 'a', type: int, bitOffset: 0 }, { name: 'b', type: int, bitOffset: 32 }]); // 7
  const u64 = b.addInt('long long unsigned int', 8, 0); // 8
  const e64 = b.addEnum64('big_enum', 8, [{ name: 'BIG', value: 1n << 40n }]); // 9
  const td = b.addTypedef('u64', u64); // 10
  const arr = b.addArray(td, int, 4); // 11
  const fwd = b.addFwd('opaque', 'union'); // 12
  const flt = b.addFloat('double', 8); // 13
  const holder = b.addStruct('holder', 24, [{ name: 'l', type: listPtr, bitOffset: 0 }, { name: 'x', type: int, bitOffset: 64 }]); // 14
  const base = Btf.parse(b.encode());
  const m = new BtfBuilder({ base });
  const fwdPtr = m.addPtr(fwd); // the module's own PTRs
  const holderPtr = m.addPtr(holder);
  m.addStruct('mod_thing', 96, [
    { name: 'anon', type: anon, bitOffset: 0 },
    { name: 'arr', type: arr, bitOffset: 64 },
    { name: 'list', type: list, bitOffset: 320 },
    { name: 'e', type: e64, bitOffset: 448 },
    { name: 'o', type: fwdPtr, bitOffset: 512 },
    { name: 'd', type: flt, bitOffset: 576 },
    { name: 'holder', type: holderPtr, bitOffset: 640 },
  ]);
  return { base, mod: Btf.parse(m.encode(), { base }), ids: { int, funcType, list, listPtr, anon, u64, e64, td, arr, fwd, flt, holder } };
}

test('distill: named INT, FLOAT, FWD, STRUCT, UNION and ENUM go into the distilled base, the rest the module reaches into its split BTF', () => {
  const { base, mod, ids } = crafted();
  const d = distillBase(mod);
  const db = Btf.parse(d.base);
  // Base id order; the struct without members but with its size; ENUM64 as a memberless 8-byte ENUM.
  assert.deepEqual(d.distilledIds, [ids.int, ids.list, ids.u64, ids.e64, ids.fwd, ids.flt, ids.holder]);
  const shown = Array.from({ length: db.ownTypeCount }, (_, i) => [db.kind(i + 1), db.name(i + 1), db.kind(i + 1) === Kind.Fwd ? db.kindFlag(i + 1) : db.sizeOrType(i + 1), db.vlen(i + 1)]);
  assert.deepEqual(shown, [
    [Kind.Int, 'int', 4, 0], [Kind.Struct, 'list_head', 16, 0], [Kind.Int, 'long long unsigned int', 8, 0],
    [Kind.Enum, 'big_enum', 8, 0], [Kind.Fwd, 'opaque', true, 0], [Kind.Float, 'double', 8, 0], [Kind.Struct, 'holder', 24, 0],
  ]);
  // holder is named: its member types (the PTR to list_head) are not followed. The anonymous
  // struct, the array and the typedef are copied, in base id order.
  assert.deepEqual(d.movedIds, [ids.anon, ids.td, ids.arr]);
  const split = Btf.parse(d.split, { base: db });
  assert.equal(split.firstId, db.endId);
  assert.equal(split.ownTypeCount, mod.ownTypeCount + 3);
  assert.equal(split.name(split.firstId + 2), 'mod_thing'); // the module's own types come first
  assert.deepEqual([split.kind(split.firstId + 3), split.kind(split.firstId + 4), split.kind(split.firstId + 5)], [Kind.Struct, Kind.Typedef, Kind.Array]);
  // Relocated back onto the base, every type of the module reads as before, at its old id.
  const back = Btf.parse(relocateOntoBase(split, base), { base });
  for (let id = mod.firstId; id < mod.endId; id++) assert.equal(definitionText(back, id), definitionText(mod, id), `type ${id}`);
  // A name the distilled base holds is not stored again (libbpf's btf__add_str looks in the base first).
  const thing = split.type(split.firstId + 2);
  assert.ok(thing.kind === Kind.Struct);
  assert.ok(thing.members[6]!.nameOffset < db.endStringOffset, 'member "holder" names the distilled base\'s string');
  assert.ok(thing.members[0]!.nameOffset >= db.endStringOffset, 'member "anon" has a string of its own');
});

test('distill: a module that refers to a base FUNC cannot be distilled, and the error names both types', () => {
  const { base } = crafted();
  const m = new BtfBuilder({ base });
  m.addDeclTag('tag', 3, -1); // a decl tag on the base's FUNC 'some_func'
  const mod = Btf.parse(m.encode(), { base });
  assert.throws(() => distillBase(mod), (e) => isBtfError(e) && e.code === 'unsupported' && e.typeId === base.endId
    && /DECL_TAG 'tag'/.test(e.message) && /FUNC 'some_func'/.test(e.message));
});

test('distill: BTF that is not split has no base to distill', () => {
  const { base } = crafted();
  assert.throws(() => distillBase(base), (e) => isBtfError(e) && e.code === 'bad-argument');
});

test('distill: the golden 6.1.0-50 modules relocate back onto their base with every type as before', () => {
  const d50 = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  for (const name of ['8021q', 'af_key', 'nf_tables', 'xfs']) {
    const mod = Btf.parse(fixture(`golden/debian-6.1.0-50-cloud/modules/${name}.btf.gz`), { base: d50 });
    const d = distillBase(mod);
    const split = Btf.parse(d.split, { base: Btf.parse(d.base) });
    const back = Btf.parse(relocateOntoBase(split, d50), { base: d50 });
    assert.equal(back.firstId, mod.firstId);
    for (let id = mod.firstId; id < mod.endId; id++) assert.equal(definitionText(back, id), definitionText(mod, id), `${name}: type ${id}`);
  }
});
