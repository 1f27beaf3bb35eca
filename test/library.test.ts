/**
 * Library conveniences: kind names in error messages, void apart from unknown kinds, field
 * offsets by member path, types of split BTF with its base, enumerators by name. Real types are
 * checked against independent oracles: clang's `__builtin_offsetof` over the header bpftool
 * wrote for the same kernel, and the enumerator values printed in bpftool's headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpC } from '../src/dump/c/index.js';
import { BtfError } from '../src/errors.js';
import { Kind, KNOWN_LAYOUTS, describeKind, type KindLayout } from '../src/format/kinds.js';
import { fixture, fixtureText } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const RUNNING = 'golden/running-6.18';
const DEBIAN = 'golden/debian-6.1.0-50-cloud';

const throwsBtfError = (code: string, message: RegExp, typeId?: number) => (e: unknown) => {
  assert.ok(e instanceof BtfError, `expected a BtfError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  if (typeId !== undefined) assert.equal(e.typeId, typeId, e.message);
  return true;
};

// ---------------------------------------------------------------- kind names in errors

/** int; a FUNC_PROTO returning it; a FUNC of that prototype. */
function smallBtf(): { btf: Btf; int: number; proto: number; func: number } {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1);
  const proto = b.addFuncProto(int, []);
  const func = b.addFunc('f', proto, 1);
  return { btf: Btf.parse(b.encode()), int, proto, func };
}

/** A blob with a record of kind 20, which btfkit knows only through the layout section. */
function unknownKindBtf(): { btf: Btf; odd: number } {
  const layout: KindLayout[] = [...KNOWN_LAYOUTS, { infoSize: 4, elemSize: 0, flags: 0 }];
  const b = new BtfBuilder({ layout });
  const int = b.addInt('int', 4, 1);
  const odd = b.addRecord(20, b.addString('odd'), 0, false, int, [7]);
  return { btf: Btf.parse(b.encode({ layout: true })), odd };
}

test('error messages name kinds as bpftool does, and keep the number only for void and unknown kinds', () => {
  assert.equal(describeKind(Kind.Struct), 'STRUCT');
  assert.equal(describeKind(Kind.FuncProto), 'FUNC_PROTO');
  assert.equal(describeKind(Kind.Void), 'kind 0 (void)');
  assert.equal(describeKind(25), 'kind 25 (unknown)');

  const { btf, proto, func } = smallBtf();
  assert.throws(() => btf.sizeof(func), throwsBtfError('bad-size', /^type \[3\]: FUNC has no size$/, func));
  assert.throws(() => btf.alignof(proto), throwsBtfError('bad-size', /FUNC_PROTO has no alignment/, proto));
  assert.throws(() => btf.sizeof(0), throwsBtfError('bad-size', /kind 0 \(void\) has no size/));

  const { btf: odd, odd: oddId } = unknownKindBtf();
  assert.throws(() => dumpC(odd, new ByteSink()), throwsBtfError('bad-kind', /kind 20 \(unknown\) has no C form/, oddId));
  assert.throws(() => new BtfBuilder().addRecord(25, 0, 0, false, 0), throwsBtfError('bad-kind', /kind 25 \(unknown\)/));
  assert.throws(() => new BtfBuilder().addRecord(Kind.Struct, 0, 1, false, 4, [0]), throwsBtfError('bad-argument', /STRUCT with vlen 1 takes 12 bytes/));
});

// ---------------------------------------------------------------- void and unknown kinds

test('void has Kind.Void; records of kinds btfkit does not know have Kind.Unknown', () => {
  assert.equal(Kind.Void, 0);
  assert.notEqual(Kind.Unknown, Kind.Void);
  assert.ok(Kind.Unknown < 0 || Kind.Unknown > 0x7f, 'Kind.Unknown must not be a number a record can carry');

  const { btf, odd } = unknownKindBtf();
  const v = btf.type(0);
  assert.equal(v.kind, Kind.Void);
  const u = btf.type(odd);
  assert.equal(u.kind, Kind.Unknown);
  assert.ok(u.kind === Kind.Unknown && u.rawKind === 20);
  assert.equal(btf.kind(odd), 20, 'Btf.kind gives the wire number');
  assert.equal(btf.kind(0), Kind.Void);

  // A record of kind 0 (which only void may have) is something btfkit cannot read, not void.
  const b = new BtfBuilder();
  const zero = b.addRecord(0, 0, 0, false, 0);
  const withZero = Btf.parse(b.encode({ layout: true }));
  assert.equal(withZero.type(zero).kind, Kind.Unknown);
});

// ---------------------------------------------------------------- field offsets

/**
 * struct outer {                       // 32 bytes
 *   int a;                             // bits 0
 *   union {                            // [5] anonymous, at bit 32
 *     int b;
 *     struct { int c; unsigned d:3, e:5; };   // anonymous
 *   };
 *   int arr[4];                        // bit 96
 *   struct self s;                     // bit 224; struct self holds itself as an anonymous member
 * };
 */
function handBuilt() {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1);
  const uint = b.addInt('unsigned int', 4, 0);
  const inner = b.addStruct('', 8, [
    { name: 'c', type: int, bitOffset: 0 },
    { name: 'd', type: uint, bitOffset: 32, bitfieldSize: 3 },
    { name: 'e', type: uint, bitOffset: 35, bitfieldSize: 5 },
  ]);
  const union = b.addUnion('', 8, [{ name: 'b', type: int, bitOffset: 0 }, { name: '', type: inner, bitOffset: 0 }]);
  const arr = b.addArray(int, int, 4);
  const self = b.nextId;
  b.addStruct('self', 4, [{ name: '', type: self, bitOffset: 0 }]);
  const outer = b.addStruct('outer', 32, [
    { name: 'a', type: int, bitOffset: 0 },
    { name: '', type: union, bitOffset: 32 },
    { name: 'arr', type: arr, bitOffset: 96 },
    { name: 's', type: self, bitOffset: 224 },
  ]);
  const typedef = b.addTypedef('outer_t', outer);
  return { btf: Btf.parse(b.encode()), int, uint, inner, union, arr, self, outer, typedef };
}

test('fieldOffset walks member paths, through anonymous members, subscripts and typedefs', () => {
  const { btf, int, uint, inner, union, arr, outer, typedef } = handBuilt();
  assert.deepEqual(btf.fieldOffset(outer, 'a'), { bitOffset: 0, bitfieldSize: 0, type: int, path: [{ parent: outer, index: 0, name: 'a' }] });
  assert.deepEqual(btf.fieldOffset(outer, 'b'), {
    bitOffset: 32, bitfieldSize: 0, type: int,
    path: [{ parent: outer, index: 1, name: '' }, { parent: union, index: 0, name: 'b' }],
  });
  assert.deepEqual(btf.fieldOffset(typedef, 'e'), {
    bitOffset: 32 + 35, bitfieldSize: 5, type: uint,
    path: [{ parent: outer, index: 1, name: '' }, { parent: union, index: 1, name: '' }, { parent: inner, index: 2, name: 'e' }],
  });
  assert.deepEqual(btf.fieldOffset(outer, 'arr[3]'), {
    bitOffset: 96 + 3 * 32, bitfieldSize: 0, type: int,
    path: [{ parent: outer, index: 2, name: 'arr' }, { parent: arr, index: 3 }],
  });
  assert.equal(btf.fieldOffset(arr, '[2]').bitOffset, 64);
});

test('fieldOffset names the type, the path so far and the member when the path goes wrong', () => {
  const { btf, union, arr, outer, self } = handBuilt();
  assert.throws(() => btf.fieldOffset(outer, 'zz'), throwsBtfError('not-found', /STRUCT 'outer' has no member 'zz'/, outer));
  assert.throws(() => btf.fieldOffset(outer, 'arr[4]'), throwsBtfError('not-found', /anonymous ARRAY \(the type of 'arr' in \[\d+\] STRUCT 'outer'\) has 4 elements, so \[4\] is out of range/, arr));
  assert.throws(() => btf.fieldOffset(outer, 'a.x'), throwsBtfError('not-found', /INT 'int' \(the type of 'a' in \[\d+\] STRUCT 'outer'\) is not a STRUCT or UNION, so it has no member 'x'/));
  assert.throws(() => btf.fieldOffset(outer, 'a[1]'), throwsBtfError('not-found', /is not an ARRAY/));
  assert.throws(() => btf.fieldOffset(outer, 'd.x'), throwsBtfError('not-found', /'d' in STRUCT 'outer' is a bitfield/, outer));
  // The anonymous union is searched once; a record that holds itself ends the search too.
  assert.throws(() => btf.fieldOffset(outer, 's.zz'), throwsBtfError('not-found', /STRUCT 'self' \(the type of 's' in \[\d+\] STRUCT 'outer'\) has no member 'zz'/, self));
  assert.throws(() => btf.fieldOffset(union, 'zz'), throwsBtfError('not-found', /anonymous UNION has no member 'zz'/, union));
  for (const bad of ['', '.a', 'a.', 'a..b', 'a[', 'a[x]', '[1', 'a b', 'a->b']) {
    assert.throws(() => btf.fieldOffset(outer, bad), throwsBtfError('bad-argument', /field path/), JSON.stringify(bad));
  }
  assert.throws(() => btf.fieldOffset(999, 'a'), throwsBtfError('bad-type-id', /999/));
  // A flexible array takes any subscript, until the offset stops being exact.
  const flex = new BtfBuilder();
  const byte = flex.addInt('char', 1, 0);
  const long = flex.addInt('long', 8, 1);
  const tail = flex.addStruct('tail', 8, [{ name: 'n', type: byte, bitOffset: 0 }, { name: 'data', type: flex.addArray(long, byte, 0), bitOffset: 64 }]);
  const flexible = Btf.parse(flex.encode());
  assert.equal(flexible.fieldOffset(tail, 'data[1000]').bitOffset, 64 + 1000 * 64);
  assert.throws(() => flexible.fieldOffset(tail, 'data[999999999999999]'), throwsBtfError('bad-argument', /beyond any offset/));
});

/** Member paths of the 6.18 kernel's types; several cross anonymous unions and structs. */
const KERNEL_FIELDS: [keyword: 'struct' | 'union', type: string, path: string][] = [
  ['struct', 'task_struct', 'se.vruntime'],
  ['struct', 'task_struct', 'se.avg.util_avg'],
  ['struct', 'task_struct', 'comm[3]'],
  ['struct', 'task_struct', 'pid'],
  ['struct', 'task_struct', 'thread.fsbase'],
  ['struct', 'sk_buff', 'dev'],
  ['struct', 'sk_buff', 'tstamp'],
  ['struct', 'sk_buff', 'len'],
  ['struct', 'sk_buff', 'cb[5]'],
  ['struct', 'sk_buff', 'protocol'],
  ['struct', 'page', 'mapping'],
  ['struct', 'page', 'compound_head'],
  ['union', 'bpf_attr', 'map_type'],
  ['union', 'bpf_attr', 'prog_type'],
  ['union', 'bpf_attr', 'link_create.target_fd'],
];

/** clang's `offsetof` for each path, compiled against `header`; undefined when clang is missing. */
function clangOffsets(header: string, fields: typeof KERNEL_FIELDS): bigint[] | undefined {
  if (spawnSync('clang', ['--version']).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-offsets-'));
  try {
    writeFileSync(join(dir, 'vmlinux.h'), header);
    const lines = fields.map(([kw, type, path]) => `  __builtin_offsetof(${kw} ${type}, ${path}),`);
    writeFileSync(join(dir, 'offsets.c'), `#include "vmlinux.h"\nunsigned long offsets[] = {\n${lines.join('\n')}\n};\n`);
    const r = spawnSync('clang', ['-target', 'bpf', '-S', '-emit-llvm', '-o', '-', join(dir, 'offsets.c')], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    const init = /^@offsets = .*\[((?:i64 \d+(?:, )?)+)\]/m.exec(r.stdout);
    assert.ok(init, 'the offsets array in clang\'s IR');
    return init[1]!.split(', ').map((v) => BigInt(v.slice(4)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('fieldOffset on the 6.18 kernel agrees with clang\'s offsetof over bpftool\'s header', (t) => {
  const btf = Btf.parse(fixture(`${RUNNING}/vmlinux.btf.gz`));
  const want = clangOffsets(fixtureText(`${RUNNING}/vmlinux.unsorted.h.gz`), KERNEL_FIELDS);
  if (!want) return loudSkip(t, 'clang is not installed');
  KERNEL_FIELDS.forEach(([kw, type, path], i) => {
    const id = btf.findOne(type, kw === 'struct' ? Kind.Struct : Kind.Union);
    const got = btf.fieldOffset(id, path);
    assert.equal(got.bitOffset % 8, 0, `${type}.${path}`);
    assert.equal(BigInt(got.bitOffset / 8), want[i], `${type}.${path}`);
  });
  // sk_buff.dev sits in an anonymous struct in an anonymous union: the path lists them all.
  const skb = btf.findOne('sk_buff', Kind.Struct);
  const dev = btf.fieldOffset(skb, 'dev');
  assert.ok(dev.path.length > 2, JSON.stringify(dev.path));
  assert.equal(dev.path[0]!.parent, skb);
  for (const step of dev.path.slice(0, -1)) assert.equal(step.name, '', 'the members crossed on the way are anonymous');
  for (const step of dev.path.slice(1)) assert.equal(btf.name(step.parent), '', 'so are the records they lead into');
  assert.equal(dev.path.at(-1)!.name, 'dev');
});

// ---------------------------------------------------------------- split BTF with its base

test('types({ withBase: true }) of split BTF visits the base\'s types, then its own', () => {
  const base = Btf.parse(fixture(`${DEBIAN}/vmlinux.btf.gz`));
  const mod = Btf.parse(fixture(`${DEBIAN}/modules/8021q.btf.gz`), { base });
  const own = [...mod.types()].map((v) => v.id);
  assert.equal(own[0], mod.firstId);
  assert.equal(own.length, mod.ownTypeCount);
  const all = [...mod.types({ withBase: true })];
  assert.equal(all.length, mod.endId - 1);
  all.forEach((v, i) => assert.equal(v.id, i + 1));
  assert.deepEqual(all.slice(base.endId - 1).map((v) => v.id), own);
  assert.ok(all.some((v) => v.kind === Kind.Struct && v.name === 'task_struct'), 'base types are included');
  // On base BTF the option changes nothing.
  const { btf: small } = smallBtf();
  assert.deepEqual([...small.types({ withBase: true })], [...small.types()]);
});

// ---------------------------------------------------------------- enumerators

/** Every `NAME = value` of the C header, as bpftool printed it. */
function headerEnumerators(text: string, name: string): bigint[] {
  const re = new RegExp(`^\\t${name} = (-?\\d+)(?:ULL|LL)?,?$`, 'gm');
  return [...text.matchAll(re)].map((m) => BigInt(m[1]!));
}

test('findEnumerator finds ENUM and ENUM64 values by name, with the values bpftool prints', () => {
  const btf = Btf.parse(fixture(`${RUNNING}/vmlinux.btf.gz`));
  const header = fixtureText(`${RUNNING}/vmlinux.unsorted.h.gz`);
  const names = ['TASK_COMM_LEN', 'BPF_MAP_TYPE_HASH', 'RPM_INVALID', 'PERF_EVENT_STATE_DEAD', 'BPF_F_CTXLEN_MASK', 'PERF_CONTEXT_USER', '__MAX_BPF_REG'];
  const kinds = new Set<Kind>();
  for (const name of names) {
    const want = headerEnumerators(header, name);
    assert.equal(want.length, 1, `${name} in bpftool's header`);
    const got = btf.findEnumerator(name);
    assert.equal(got.length, 1, name);
    const m = got[0]!;
    assert.equal(m.name, name);
    assert.equal(m.bigValue, want[0], name);
    assert.equal(m.value, Number(want[0]), name);
    const owner = btf.type(m.type);
    assert.ok(owner.kind === Kind.Enum || owner.kind === Kind.Enum64, name);
    assert.equal(owner.values[m.index]!.name, name);
    kinds.add(owner.kind);
  }
  assert.deepEqual([...kinds].sort((a, b) => a - b), [Kind.Enum, Kind.Enum64]);
  assert.deepEqual(btf.findEnumerator('NO_SUCH_ENUMERATOR_X'), []);
  assert.deepEqual(btf.findEnumerator('TASK_COMM_LE'), []);
  assert.deepEqual(btf.findEnumerator(''), []);
});

test('findEnumerator on split BTF finds the base\'s enumerators and the module\'s own', () => {
  const base = Btf.parse(fixture(`${DEBIAN}/vmlinux.btf.gz`));
  const mod = Btf.parse(fixture(`${DEBIAN}/modules/8021q.btf.gz`), { base });
  const inBase = mod.findEnumerator('TASK_COMM_LEN');
  assert.equal(inBase.length, 1);
  assert.ok(inBase[0]!.type < mod.firstId);
  assert.equal(inBase[0]!.bigValue, headerEnumerators(fixtureText(`${DEBIAN}/vmlinux.sorted.h.gz`), 'TASK_COMM_LEN')[0]);
  // An enumerator of the module's own, as bpftool printed the module's header.
  const modHeader = fixtureText(`${DEBIAN}/modules/8021q.sorted.h.gz`);
  const own = [...mod.types()].find((v) => v.kind === Kind.Enum && v.values.length > 0 && headerEnumerators(modHeader, v.values[0]!.name).length === 1);
  assert.ok(own && own.kind === Kind.Enum, 'the module declares an enum');
  const name = own.values[0]!.name;
  const found = mod.findEnumerator(name);
  assert.deepEqual(found.map((m) => [m.type, m.index]), [[own.id, 0]]);
  assert.equal(found[0]!.bigValue, headerEnumerators(modHeader, name)[0]);
  assert.deepEqual(base.findEnumerator(name), []);
});
