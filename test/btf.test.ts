import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/btf/btf.js';
import { BtfError } from '../src/errors.js';
import { Kind } from '../src/format/kinds.js';
import { fixture } from './helpers/paths.js';
import { assemble, strOff, info } from './helpers/assemble.js';

// int; struct s { int a; unsigned b:3; }; enum64 e { NEG = -2 }; const int; typedef t = const int
const S = ['int', 's', 'a', 'b', 'e', 'NEG', 't'];
const SMALL = [
  strOff(S, 0), info(Kind.Int), 4, (1 << 24) | 32, // [1] int, signed, 32 bits
  strOff(S, 1), info(Kind.Struct, 2, true), 8, // [2] struct s
  strOff(S, 2), 1, 0,
  strOff(S, 3), 1, (3 << 24) | 32,
  strOff(S, 4), info(Kind.Enum64, 1, true), 8, // [3] enum64 e, signed
  strOff(S, 5), 0xfffffffe, 0xffffffff,
  0, info(Kind.Const), 1, // [4] const int
  strOff(S, 6), info(Kind.Typedef), 4, // [5] typedef t
];

for (const big of [false, true]) {
  test(`typed views decode every field (${big ? 'big' : 'little'}-endian)`, () => {
    const btf = Btf.parse(assemble({ words: SMALL, strings: S, big }));
    assert.equal(btf.littleEndian, !big);
    assert.equal(btf.endId, 6);
    const int = btf.type(1);
    assert.ok(int.kind === Kind.Int);
    assert.deepEqual([int.name, int.size, int.bits, int.signed], ['int', 4, 32, true]);
    const s = btf.type(2);
    assert.ok(s.kind === Kind.Struct);
    assert.deepEqual(s.members.map((m) => [m.name, m.type, m.bitOffset, m.bitfieldSize]), [['a', 1, 0, 0], ['b', 1, 32, 3]]);
    const e = btf.type(3);
    assert.ok(e.kind === Kind.Enum64);
    assert.equal(e.values[0]!.bigValue, -2n);
    assert.equal(e.values[0]!.value, -2);
    assert.equal(btf.resolve(5), 1);
    assert.equal(btf.sizeof(5), 4);
    assert.equal(btf.sizeof(2), 8);
    assert.equal(btf.alignof(2), 4);
    assert.deepEqual(btf.find('t'), [5]);
    assert.equal(btf.findOne('s', Kind.Struct), 2);
    assert.deepEqual(btf.find('s', Kind.Union), []);
  });
}

test('a header longer than 32 bytes is read when its extra bytes are zero, refused otherwise', () => {
  const ok = Btf.parse(assemble({ words: SMALL, strings: S, hdrLen: 40 }));
  assert.equal(ok.endId, 6);
  assert.throws(() => Btf.parse(assemble({ words: SMALL, strings: S, hdrLen: 40, extraHeader: [0, 0, 7] })),
    (e: unknown) => e instanceof BtfError && e.code === 'bad-header' && e.offset === 34);
});

test('kinds btfkit does not know are sized through the layout section', () => {
  const layout: [number, number, number][] = Array.from({ length: 21 }, () => [0, 0, 0] as [number, number, number]);
  layout[20] = [4, 8, 0];
  const words = [
    strOff(S, 0), info(Kind.Int), 4, (1 << 24) | 32,
    strOff(S, 1), info(20, 2), 99, 0xaabbccdd, 1, 2, 3, 4, // [2] kind 20: 4-byte info + 2×8-byte elements
    0, info(Kind.Ptr), 2, // [3] still found after it
  ];
  const btf = Btf.parse(assemble({ words, strings: S, layout }));
  assert.equal(btf.endId, 4);
  const u = btf.type(2);
  assert.ok(u.kind === Kind.Unknown && 'extra' in u);
  assert.equal(u.rawKind, 20);
  assert.equal(u.kindName, 'UNKNOWN');
  assert.equal(u.extra.length, 20);
  assert.equal(btf.type(3).kind, Kind.Ptr);
});

test('an unknown kind without a layout section is an error naming the kind and its offset', () => {
  const words = [strOff(S, 0), info(Kind.Int), 4, (1 << 24) | 32, 0, info(42), 0];
  assert.throws(() => Btf.parse(assemble({ words, strings: S })),
    (e: unknown) => e instanceof BtfError && e.code === 'bad-kind' && e.typeId === 2 && e.offset === 24 + 16 && /kind 42/.test(e.message));
});

test('truncated and malformed headers give typed errors', () => {
  const good = assemble({ words: SMALL, strings: S });
  for (let n = 0; n < good.length; n += 7) {
    assert.throws(() => Btf.parse(good.subarray(0, n)), BtfError, `truncated to ${n} bytes`);
  }
  const badMagic = good.slice();
  badMagic[0] = 0;
  assert.throws(() => Btf.parse(badMagic), (e: unknown) => e instanceof BtfError && e.code === 'bad-magic');
  const hugeVlen = assemble({ words: [0, info(Kind.Struct, 0xffffff), 4], strings: [] });
  assert.throws(() => Btf.parse(hugeVlen), (e: unknown) => e instanceof BtfError && e.code === 'truncated' && e.typeId === 1);
});

test('a typedef loop is reported, not followed forever', () => {
  const words = [strOff(S, 6), info(Kind.Typedef), 2, 0, info(Kind.Const), 1];
  const btf = Btf.parse(assemble({ words, strings: S }));
  assert.throws(() => btf.resolve(1), (e: unknown) => e instanceof BtfError && e.code === 'type-loop');
  assert.throws(() => btf.sizeof(1), (e: unknown) => e instanceof BtfError && e.code === 'type-loop');
});

test('kernel BTF: lookups, sizes and alignments agree with the struct records', () => {
  const btf = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
  assert.equal(btf.endId - 1, 126585);
  const task = btf.findOne('task_struct', Kind.Struct);
  assert.equal(task, 114); // the golden README names task_struct as id 114
  const t = btf.type(task);
  assert.ok(t.kind === Kind.Struct);
  assert.equal(btf.sizeof(task), t.size);
  assert.equal(btf.pointerSize, 8);
  // Every complete struct's size is a multiple of its alignment, as C requires.
  let checked = 0;
  for (let id = 1; id < btf.endId; id++) {
    if (btf.kind(id) !== Kind.Struct) continue;
    const size = btf.sizeOrType(id);
    const align = btf.alignof(id);
    assert.ok(size % align === 0, `struct [${id}] size ${size} align ${align}`);
    checked++;
  }
  assert.ok(checked > 10000);
});

test('Btf.parse of an ELF file says it is one and points at loadBtf', () => {
  const object = fixture('bpf/maps_globals.clang14.bpfel.o.gz');
  assert.throws(() => Btf.parse(object), (e: unknown) => e instanceof BtfError && e.code === 'bad-magic' && /ELF file.*loadBtf/.test(e.message));
});

test('Btf.parse of split BTF without its base says a base is needed', () => {
  const module = fixture('golden/debian-6.1.0-50-cloud/modules/af_key.btf.gz');
  assert.throws(() => Btf.parse(module), (e: unknown) => e instanceof BtfError && /split BTF.*read on its base \(the `base` option\)/.test(e.message));
});
