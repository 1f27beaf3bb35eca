/**
 * Type equivalence (src/btf/equivalence.ts): the structural relation defined there, against
 * cases built to sit on each side of it, and on real kernel BTF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { Kind } from '../src/format/kinds.js';
import { mapEquivalentTypes, mapOntoBase, typesEquivalent } from '../src/btf/equivalence.js';
import { fixture } from './helpers/paths.js';

const GOLDEN = 'golden/debian-6.1.0-50-cloud';
const debBytes = fixture(`${GOLDEN}/vmlinux.btf.gz`);
const deb = Btf.parse(debBytes);

/** `struct list { struct list *next; int v; }`, its types added in the order `order` gives. */
function list(order: 'int-first' | 'struct-first', opts: { vOffset?: number; vName?: string } = {}): { btf: Btf; list: number } {
  const b = new BtfBuilder();
  const member = (next: number, int: number) => [
    { name: 'next', type: next, bitOffset: 0 },
    { name: opts.vName ?? 'v', type: int, bitOffset: opts.vOffset ?? 64 },
  ];
  let id: number;
  if (order === 'int-first') {
    const int = b.addInt('int', 4, 1);
    const ptr = b.addPtr(int + 2);
    id = b.addStruct('list', 16, member(ptr, int));
  } else {
    id = b.addStruct('list', 16, member(3, 2));
    b.addInt('int', 4, 1);
    b.addPtr(id);
  }
  return { btf: Btf.parse(b.encode({ endian: 'little' })), list: id };
}

test('a self-referencing struct is equivalent to the same struct numbered otherwise, and not to one that differs in a word or a name', () => {
  const a = list('int-first');
  const b = list('struct-first');
  assert.notEqual(a.list, b.list);
  assert.equal(typesEquivalent(a.btf, a.list, b.btf, b.list), true);
  assert.equal(typesEquivalent(b.btf, b.list, a.btf, a.list), true);
  const moved = list('struct-first', { vOffset: 96 });
  assert.equal(typesEquivalent(a.btf, a.list, moved.btf, moved.list), false, 'a member offset differs');
  const renamed = list('struct-first', { vName: 'w' });
  assert.equal(typesEquivalent(a.btf, a.list, renamed.btf, renamed.list), false, 'a member name differs');
  assert.equal(typesEquivalent(a.btf, 0, b.btf, 0), true, 'void is void');
  assert.equal(typesEquivalent(a.btf, a.list, b.btf, 99), false, 'a missing type is equivalent to nothing');
  const map = mapEquivalentTypes(a.btf, b.btf);
  assert.equal(map[a.list], b.list);
  assert.equal(mapOntoBase, mapEquivalentTypes);
});

test('equivalence is not identity: two parses of one blob hold equivalent, not identical, types', () => {
  const again = Btf.parse(debBytes);
  const task = deb.findOne('task_struct', Kind.Struct);
  assert.notEqual(again.owner(task), deb.owner(task));
  assert.equal(typesEquivalent(deb, task, again, task), true);
  assert.equal(typesEquivalent(deb, task, deb, task), true);
  const running = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
  assert.equal(typesEquivalent(deb, task, running, running.findOne('task_struct', Kind.Struct)), false, 'another kernel\'s task_struct');
});

test('no FWD resolution: vmlinux\'s forward declaration of garp_port is not equivalent to 8021q\'s struct', () => {
  const q8021 = Btf.parse(fixture(`${GOLDEN}/modules/8021q.btf.gz`), { base: deb });
  const [fwd, struct] = q8021.find('garp_port');
  assert.equal(q8021.kind(fwd!), Kind.Fwd);
  assert.equal(q8021.kind(struct!), Kind.Struct);
  assert.equal(typesEquivalent(q8021, fwd!, q8021, struct!), false);
});

test('within one comparison a type matches one type only: duplicates on the other side make the pair not equivalent', () => {
  const one = new BtfBuilder();
  const int = one.addInt('int', 4, 1);
  const pair = one.addStruct('pair', 8, [{ name: 'a', type: int, bitOffset: 0 }, { name: 'b', type: int, bitOffset: 32 }]);
  const two = new BtfBuilder();
  const int1 = two.addInt('int', 4, 1);
  const int2 = two.addInt('int', 4, 1);
  const dup = two.addStruct('pair', 8, [{ name: 'a', type: int1, bitOffset: 0 }, { name: 'b', type: int2, bitOffset: 32 }]);
  const a = Btf.parse(one.encode({ endian: 'little' }));
  const b = Btf.parse(two.encode({ endian: 'little' }));
  assert.equal(typesEquivalent(a, int, b, int1), true);
  assert.equal(typesEquivalent(a, int, b, int2), true);
  // libbpf's dedup tolerates this (btf_dedup_identical_types); equivalence as defined does not.
  assert.equal(typesEquivalent(a, pair, b, dup), false);
  assert.equal(typesEquivalent(b, dup, a, pair), true, 'the other way round, both ints of b map onto a\'s one int');
});
