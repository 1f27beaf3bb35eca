/**
 * Field iteration (src/btf/slots.ts) and the record vocabulary it derives from
 * (src/format/records.ts): every type id and name offset where `include/uapi/linux/btf.h` puts
 * it, written out here by hand rather than taken from the descriptor table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/btf/btf.js';
import { recordEnd, visitRecord, wordRole, WordRole } from '../src/btf/slots.js';
import { KNOWN_LAYOUTS } from '../src/format/kinds.js';
import { assemble, info, strOff } from './helpers/assemble.js';
import { K } from './helpers/craft.js';
import { fixture } from './helpers/paths.js';

const S = ['int', 's', 'a', 'b', 'u', 'c', 'e', 'X', 'Y', 'f', 't', 'fn', 'x', 'y', 'v', '.data', 'float', 'tag', 'tt', 'e64', 'Z'];
const n = (name: string) => strOff(S, S.indexOf(name));

/** One record of every kind, ids 1..19 in kind order. */
const WORDS = [
  n('int'), info(K.INT), 4, (1 << 24) | 32, // [1]
  0, info(K.PTR), 1, // [2]
  0, info(K.ARRAY), 0, 1, 1, 4, // [3]
  n('s'), info(K.STRUCT, 2), 8, n('a'), 1, 0, n('b'), 2, 32, // [4]
  n('u'), info(K.UNION, 1), 4, n('c'), 1, 0, // [5]
  n('e'), info(K.ENUM, 2), 4, n('X'), 0, n('Y'), 1, // [6]
  n('f'), info(K.FWD), 0, // [7]
  n('t'), info(K.TYPEDEF), 1, // [8]
  0, info(K.VOLATILE), 1, // [9]
  0, info(K.CONST), 1, // [10]
  0, info(K.RESTRICT), 2, // [11]
  n('fn'), info(K.FUNC, 1), 13, // [12]
  0, info(K.FUNC_PROTO, 2), 1, n('x'), 1, n('y'), 2, // [13]
  n('v'), info(K.VAR), 1, 1, // [14]
  n('.data'), info(K.DATASEC, 2), 8, 14, 0, 4, 14, 4, 4, // [15]
  n('float'), info(K.FLOAT), 4, // [16]
  n('tag'), info(K.DECL_TAG), 4, 0xffffffff, // [17]
  n('tt'), info(K.TYPE_TAG), 1, // [18]
  n('e64'), info(K.ENUM64, 1), 8, n('Z'), 1, 0, // [19]
];

type Seen = [holds: 'type' | 'name', offset: number, use: string, index: number, value: number];

/** What btf.h says each record holds: [what, byte offset from the record's start, use, element index, value]. */
const EXPECTED: Record<number, Seen[]> = {
  1: [['name', 0, 'type', -1, n('int')]],
  2: [['name', 0, 'type', -1, 0], ['type', 8, 'pointee', -1, 1]],
  3: [['name', 0, 'type', -1, 0], ['type', 12, 'array-element', -1, 1], ['type', 16, 'array-index', -1, 1]],
  4: [['name', 0, 'type', -1, n('s')], ['name', 12, 'member', 0, n('a')], ['type', 16, 'member', 0, 1], ['name', 24, 'member', 1, n('b')], ['type', 28, 'member', 1, 2]],
  5: [['name', 0, 'type', -1, n('u')], ['name', 12, 'member', 0, n('c')], ['type', 16, 'member', 0, 1]],
  6: [['name', 0, 'type', -1, n('e')], ['name', 12, 'enumerator', 0, n('X')], ['name', 20, 'enumerator', 1, n('Y')]],
  7: [['name', 0, 'type', -1, n('f')]],
  8: [['name', 0, 'type', -1, n('t')], ['type', 8, 'typedef', -1, 1]],
  9: [['name', 0, 'type', -1, 0], ['type', 8, 'modifier', -1, 1]],
  10: [['name', 0, 'type', -1, 0], ['type', 8, 'modifier', -1, 1]],
  11: [['name', 0, 'type', -1, 0], ['type', 8, 'modifier', -1, 2]],
  12: [['name', 0, 'type', -1, n('fn')], ['type', 8, 'func-proto', -1, 13]],
  13: [['name', 0, 'type', -1, 0], ['type', 8, 'return', -1, 1], ['name', 12, 'param', 0, n('x')], ['type', 16, 'param', 0, 1], ['name', 20, 'param', 1, n('y')], ['type', 24, 'param', 1, 2]],
  14: [['name', 0, 'type', -1, n('v')], ['type', 8, 'var', -1, 1]],
  15: [['name', 0, 'type', -1, n('.data')], ['type', 12, 'datasec-entry', 0, 14], ['type', 24, 'datasec-entry', 1, 14]],
  16: [['name', 0, 'type', -1, n('float')]],
  17: [['name', 0, 'type', -1, n('tag')], ['type', 8, 'decl-tag', -1, 4]],
  18: [['name', 0, 'type', -1, n('tt')], ['type', 8, 'type-tag', -1, 1]],
  19: [['name', 0, 'type', -1, n('e64')], ['name', 12, 'enumerator', 0, n('Z')]],
};

function visited(btf: Btf, id: number): Seen[] {
  const rec = btf.recordOffset(id);
  const seen: Seen[] = [];
  visitRecord(btf, id, {
    type: (slot, value, use, index) => seen.push(['type', slot - rec, use, index, value]),
    name: (slot, value, use, index) => seen.push(['name', slot - rec, use, index, value]),
    unknownPayload: () => assert.fail(`[${id}] reported as a kind btfkit does not know`),
  });
  return seen;
}

for (const big of [false, true]) {
  test(`visitRecord finds every type id and name offset where btf.h puts it, in record order (${big ? 'big' : 'little'}-endian)`, () => {
    const btf = Btf.parse(assemble({ words: WORDS, strings: S, big }));
    assert.equal(btf.endId, 20);
    for (let id = 1; id < btf.endId; id++) {
      assert.equal(btf.kind(id), id, 'one record per kind, in kind order');
      assert.deepEqual(visited(btf, id), EXPECTED[id], `[${id}]`);
    }
  });
}

test('a record of a kind btfkit does not know: only its name is visited, and unknownPayload is told', () => {
  const layout = [...KNOWN_LAYOUTS.map((l) => [l.infoSize, l.elemSize, l.flags] as const), [4, 4, 0] as const];
  const btf = Btf.parse(assemble({ words: [n('int'), info(20, 1), 7, 9, 10], strings: S, layout }));
  const seen: unknown[] = [];
  visitRecord(btf, 1, {
    type: () => assert.fail('no type id can be known in an unknown payload'),
    name: (slot, value, use, index) => seen.push([slot - btf.recordOffset(1), value, use, index]),
    unknownPayload: (kind) => seen.push(kind),
  });
  assert.deepEqual(seen, [[0, n('int'), 'type', -1], 20]);
  assert.deepEqual([0, 1, 2, 3, 4].map((w) => wordRole(20, w)), [WordRole.Name, WordRole.Plain, WordRole.Unknown, WordRole.Unknown, WordRole.Unknown]);
});

test('wordRole says of every word of every 6.18 vmlinux record what visitRecord says of it', () => {
  const btf = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
  const roles = new Map<number, WordRole>();
  const visitor = {
    type: (slot: number) => roles.set(slot, WordRole.TypeId),
    name: (slot: number) => roles.set(slot, WordRole.Name),
  };
  let words = 0;
  for (let id = 1; id < btf.endId; id++) {
    roles.clear();
    visitRecord(btf, id, visitor);
    const rec = btf.recordOffset(id);
    const kind = btf.kind(id);
    for (let at = rec, w = 0; at < recordEnd(btf, id); at += 4, w++, words++) {
      const want = roles.get(at) ?? WordRole.Plain;
      if (wordRole(kind, w) !== want) assert.fail(`[${id}] word ${w}: wordRole says ${WordRole[wordRole(kind, w)]}, visitRecord ${WordRole[want]}`);
    }
  }
  assert.ok(words > btf.endId * 3);
});
