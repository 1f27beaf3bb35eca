/**
 * The BTF writer: each builder method is checked by parsing the bytes back, by bpftool's raw
 * dump of the same bytes (the oracle for what the bytes mean) and, for native-endian blobs, by
 * the running kernel's BTF verifier.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { StringTable } from '../src/build/strings.js';
import { dumpRaw } from '../src/dump/raw.js';
import { ByteSink } from '../src/dump/sink.js';
import { BtfError } from '../src/errors.js';
import { Kind, KNOWN_LAYOUTS, type KindLayout } from '../src/format/kinds.js';
import { parseHeader } from '../src/format/header.js';
import type { CompositeType, EnumType, IntType, DeclTagType, TypeTagType, FwdType, UnknownKindType } from '../src/btf/types.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';
import { bpftoolRaw, kernelLoad } from './helpers/kernel.js';

const HOST_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 'little' : 'big';

function ourRaw(btf: Btf): string {
  const sink = new ByteSink();
  dumpRaw(btf, sink);
  return Buffer.from(sink.toBytes()).toString('latin1');
}

/** bpftool's raw dump of `bytes` must equal btfkit's; returns false (after a loud skip) without bpftool. */
function sameAsBpftool(t: TestContext, bytes: Uint8Array, base?: Btf): boolean {
  const ref = bpftoolRaw(bytes, base?.bytes);
  if ('skipped' in ref) {
    loudSkip(t, ref.skipped);
    return false;
  }
  assert.equal(ourRaw(Btf.parse(bytes, { base })), Buffer.from(ref.text).toString('latin1'));
  return true;
}

function acceptedByKernel(t: TestContext, bytes: Uint8Array): void {
  const verdict = kernelLoad(bytes);
  if ('skipped' in verdict) return loudSkip(t, verdict.skipped);
  assert.ok(verdict.ok, `kernel rejected the blob:\n${verdict.log}`);
}

const throwsInput = (fn: () => unknown, code = 'bad-argument') =>
  assert.throws(fn, (e: unknown) => e instanceof BtfError && e.code === code);

/** One type of every kind, shaped so the kernel's verifier accepts it. */
function everyKind(): { builder: BtfBuilder; ids: Record<string, number> } {
  const b = new BtfBuilder();
  const ids: Record<string, number> = {};
  ids.int = b.addInt('int', 4, 1);
  ids.uchar = b.addInt('unsigned char', 1, 0);
  ids.char = b.addInt('char', 1, 2);
  ids.bool = b.addInt('_Bool', 1, 4);
  ids.arr = b.addArray(ids.int, ids.int, 4);
  // The member `next` points at the pointer added right after the struct: a forward reference.
  ids.ptr = b.nextId + 1;
  ids.node = b.addStruct('node', 32, [
    { name: 'value', type: ids.int, bitOffset: 0 },
    { name: 'flags', type: ids.int, bitOffset: 32, bitfieldSize: 3 },
    { name: 'mode', type: ids.int, bitOffset: 35, bitfieldSize: 5 },
    { name: 'next', type: ids.ptr, bitOffset: 64 },
    { name: 'arr', type: ids.arr, bitOffset: 128 },
  ]);
  assert.equal(b.addPtr(ids.node), ids.ptr);
  ids.double = b.addFloat('double', 8);
  ids.union = b.addUnion('u', 8, [
    { name: 'a', type: ids.int, bitOffset: 0 },
    { name: 'd', type: ids.double, bitOffset: 0 },
    { name: '', type: ids.uchar, bitOffset: 0 },
  ]);
  ids.plain = b.addStruct('plain', 8, [
    { name: 'x', type: ids.int, bitOffset: 0 },
    { name: 'y', type: ids.int, bitOffset: 32 },
  ]);
  ids.enum = b.addEnum('e', 4, [{ name: 'A', value: 0 }, { name: 'B', value: -1 }, { name: 'C', value: 0x7fffffff }]);
  ids.uenum = b.addEnum('ue', 4, [{ name: 'UA', value: 0xffffffff }]);
  ids.e64 = b.addEnum64('e64', 8, [{ name: 'BIG', value: (1n << 64n) - 1n }, { name: 'P53', value: 2n ** 53n + 1n }, { name: 'SMALL', value: 7 }]);
  ids.s64 = b.addEnum64('s64', 8, [{ name: 'MIN', value: -(1n << 63n) }, { name: 'M1', value: -1 }, { name: 'MAX', value: (1n << 63n) - 1n }]);
  ids.fwdS = b.addFwd('fwd_s', 'struct');
  ids.fwdU = b.addFwd('fwd_u', 'union');
  ids.fwdE = b.addFwd('fwd_e', 'enum');
  ids.typedef = b.addTypedef('node_t', ids.node);
  ids.volatile = b.addVolatile(ids.int);
  ids.const = b.addConst(ids.volatile);
  ids.restrict = b.addRestrict(ids.ptr);
  ids.proto = b.addFuncProto(ids.int, [{ name: 'a', type: ids.int }, { name: 'b', type: ids.ptr }]);
  ids.func = b.addFunc('f', ids.proto, 1);
  ids.var = b.addVar('g', ids.int, 1);
  ids.datasec = b.addDatasec('.data', 4, [{ type: ids.var, offset: 0, size: 4 }]);
  ids.declTag = b.addDeclTag('tag1', ids.node, 0);
  ids.declTagFunc = b.addDeclTag('tag2', ids.func, -1);
  ids.declAttr = b.addDeclTag('dattr', ids.plain, -1, { attribute: true });
  ids.typeTag = b.addTypeTag('user', ids.int);
  ids.tagPtr = b.addPtr(ids.typeTag);
  ids.typeAttr = b.addTypeTag('attr', ids.int, { attribute: true });
  ids.attrPtr = b.addPtr(ids.typeAttr);
  ids.varargs = b.addFuncProto(0, [{ name: 'x', type: ids.int }, { name: '', type: 0 }]);
  return { builder: b, ids };
}

test('a blob with every kind parses back to what was added', () => {
  const { builder, ids } = everyKind();
  const btf = Btf.parse(builder.encode());
  assert.equal(btf.endId, builder.nextId);
  const kinds = new Set<number>();
  for (let id = 1; id < btf.endId; id++) kinds.add(btf.kind(id));
  for (let k = Kind.Int; k <= Kind.Enum64; k++) assert.ok(kinds.has(k), `no type of kind ${k}`);

  const int = btf.type(ids.int!) as IntType;
  assert.deepEqual([int.name, int.size, int.bits, int.bitOffset, int.encoding], ['int', 4, 32, 0, 1]);
  assert.equal((btf.type(ids.bool!) as IntType).encoding, 4);
  assert.deepEqual(btf.type(ids.arr!), { ...btf.type(ids.arr!), type: ids.int, indexType: ids.int, length: 4 });

  const node = btf.type(ids.node!) as CompositeType;
  assert.equal(node.kindFlag, true, 'a struct with bitfields has kind_flag set');
  assert.deepEqual(node.members.map((m) => [m.name, m.type, m.bitOffset, m.bitfieldSize]), [
    ['value', ids.int, 0, 0], ['flags', ids.int, 32, 3], ['mode', ids.int, 35, 5], ['next', ids.ptr, 64, 0], ['arr', ids.arr, 128, 0],
  ]);
  assert.equal(btf.sizeOrType(ids.ptr!), ids.node);
  assert.equal((btf.type(ids.plain!) as CompositeType).kindFlag, false, 'no bitfields, no kind_flag');
  const union = btf.type(ids.union!) as CompositeType;
  assert.deepEqual([union.kind, union.size, union.members.map((m) => m.name)], [Kind.Union, 8, ['a', 'd', '']]);

  const e = btf.type(ids.enum!) as EnumType;
  assert.equal(e.signed, true, 'a negative value makes the enum signed');
  assert.deepEqual(e.values.map((v) => [v.name, v.bigValue]), [['A', 0n], ['B', -1n], ['C', 0x7fffffffn]]);
  const ue = btf.type(ids.uenum!) as EnumType;
  assert.deepEqual([ue.signed, ue.values[0]!.bigValue], [false, 0xffffffffn]);
  const e64 = btf.type(ids.e64!) as EnumType;
  assert.deepEqual([e64.kind, e64.signed, e64.values.map((v) => v.bigValue)], [Kind.Enum64, false, [(1n << 64n) - 1n, 2n ** 53n + 1n, 7n]]);
  const s64 = btf.type(ids.s64!) as EnumType;
  assert.deepEqual([s64.signed, s64.values.map((v) => v.bigValue)], [true, [-(1n << 63n), -1n, (1n << 63n) - 1n]]);

  assert.deepEqual([(btf.type(ids.fwdS!) as FwdType).fwdKind, btf.kindFlag(ids.fwdS!)], ['struct', false]);
  assert.deepEqual([(btf.type(ids.fwdU!) as FwdType).fwdKind, btf.kindFlag(ids.fwdU!)], ['union', true]);
  // libbpf writes an enum forward declaration as a 4-byte ENUM without values.
  assert.deepEqual([btf.kind(ids.fwdE!), btf.vlen(ids.fwdE!), btf.sizeOrType(ids.fwdE!), btf.name(ids.fwdE!)], [Kind.Enum, 0, 4, 'fwd_e']);

  assert.deepEqual([btf.kind(ids.typedef!), btf.name(ids.typedef!), btf.sizeOrType(ids.typedef!)], [Kind.Typedef, 'node_t', ids.node]);
  assert.deepEqual([btf.kind(ids.const!), btf.sizeOrType(ids.const!)], [Kind.Const, ids.volatile]);
  assert.deepEqual([btf.kind(ids.restrict!), btf.sizeOrType(ids.restrict!)], [Kind.Restrict, ids.ptr]);
  assert.deepEqual([btf.kind(ids.func!), btf.vlen(ids.func!), btf.sizeOrType(ids.func!)], [Kind.Func, 1, ids.proto]);
  assert.deepEqual([btf.kind(ids.var!), btf.u32(btf.recordOffset(ids.var!) + 12)], [Kind.Var, 1]);
  const tag = btf.type(ids.declTag!) as DeclTagType;
  assert.deepEqual([tag.name, tag.type, tag.componentIndex, tag.attribute], ['tag1', ids.node, 0, false]);
  assert.equal((btf.type(ids.declTagFunc!) as DeclTagType).componentIndex, -1);
  assert.equal((btf.type(ids.declAttr!) as DeclTagType).attribute, true);
  assert.deepEqual([(btf.type(ids.typeTag!) as TypeTagType).attribute, (btf.type(ids.typeAttr!) as TypeTagType).attribute], [false, true]);
  assert.equal(btf.vlen(ids.varargs!), 2);
});

test('every-kind blob: raw dump equals bpftool, in both byte orders', (t) => {
  const { builder } = everyKind();
  const little = builder.encode();
  if (!sameAsBpftool(t, little)) return;
  const big = builder.encode({ endian: 'big' });
  assert.equal(parseHeader(big).littleEndian, false);
  sameAsBpftool(t, big);
  assert.equal(ourRaw(Btf.parse(big)), ourRaw(Btf.parse(little)));
});

test('every-kind blob is accepted by the kernel', (t) => {
  // Native order only: the big-endian and layout encodings of these types differ from this one only in framing.
  const { builder } = everyKind();
  acceptedByKernel(t, builder.encode({ endian: HOST_ENDIAN }));
});

test('header and section placement follow the BTF format', () => {
  const b = new BtfBuilder();
  b.addInt('int', 4, 1);
  const plain = b.encode();
  const { header } = parseHeader(plain);
  // 24-byte header, 16-byte INT record, then "\0int\0".
  assert.deepEqual([header.hdrLen, header.typeOff, header.typeLen, header.strOff, header.strLen, plain.length], [24, 0, 16, 16, 5, 45]);
  const withLayout = b.encode({ layout: true });
  const h2 = parseHeader(withLayout).header;
  assert.deepEqual([h2.hdrLen, h2.typeOff, h2.typeLen, h2.layoutOff, h2.layoutLen, h2.strOff, h2.strLen], [32, 0, 16, 16, 80, 96, 5]);
  const padded = b.encode({ headerLength: 32 });
  assert.deepEqual([...padded.subarray(24, 32)], [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(parseHeader(padded).header.layoutLen, 0);
  throwsInput(() => b.encode({ headerLength: 26 }));
  throwsInput(() => b.encode({ layout: true, headerLength: 24 }));
});

test('the layout section matches the one libbpf 1.8 wrote into the golden blob', () => {
  const golden = fixture('golden/running-6.18/vmlinux.layout.btf.gz');
  const gh = parseHeader(golden).header;
  const goldenLayout = golden.subarray(gh.hdrLen + gh.layoutOff, gh.hdrLen + gh.layoutOff + gh.layoutLen);
  const b = new BtfBuilder();
  b.addInt('int', 4, 1);
  const ours = b.encode({ layout: true });
  const h = parseHeader(ours).header;
  assert.deepEqual(ours.subarray(h.hdrLen + h.layoutOff, h.hdrLen + h.layoutOff + h.layoutLen), goldenLayout);
  assert.equal(h.hdrLen, gh.hdrLen);
  assert.equal(gh.layoutOff, gh.typeLen, 'libbpf puts the layout right after the types');
  assert.equal(h.layoutOff, h.typeLen);
});

test('layout blob: same raw dump as without layout, bpftool agrees', (t) => {
  const { builder } = everyKind();
  const withLayout = builder.encode({ layout: true });
  const without = builder.encode();
  assert.equal(ourRaw(Btf.parse(withLayout)), ourRaw(Btf.parse(without)));
  // The kernel judges the layout-free equivalent, `without`, in the every-kind kernel test.
  assert.deepEqual(Btf.parse(withLayout).layout, KNOWN_LAYOUTS);
  sameAsBpftool(t, withLayout);
});

test('strings are deduplicated and keep their offsets', (t) => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1);
  b.addStruct('pair', 8, [{ name: 'int', type: int, bitOffset: 0 }, { name: 'b', type: int, bitOffset: 32 }]);
  b.addTypedef('pair_t', 2);
  b.addTypedef('int_t', int);
  b.addStruct('again', 4, [{ name: 'b', type: int, bitOffset: 0 }]);
  const btf = Btf.parse(b.encode());
  const section = Buffer.from(btf.bytes.subarray(btf.stringStart, btf.stringStart + btf.header.strLen)).toString('latin1');
  // Every distinct name once, in order of first use.
  assert.equal(section, '\0int\0pair\0b\0pair_t\0int_t\0again\0');
  assert.equal(btf.nameOffset(int), (btf.type(2) as CompositeType).members[0]!.nameOffset);
  assert.equal(b.addString('pair'), 5);
  assert.equal(b.addString(''), 0);
  assert.equal(b.strings.find('missing'), undefined);
  assert.equal(b.strings.length, section.length, 'finding does not add');
  acceptedByKernel(t, b.encode({ endian: HOST_ENDIAN }));
});

test('a seeded string table is kept byte for byte and finds every string in it', () => {
  const seed = new TextEncoder().encode('\0foo\0bar\0foo\0\xff\0');
  const table = new StringTable({ seed });
  assert.equal(table.add('foo'), 1, 'the first occurrence wins');
  assert.equal(table.add('bar'), 5);
  assert.equal(table.addBytes(new Uint8Array([0xc3, 0xbf])), 13, 'non-ASCII bytes are matched as bytes');
  assert.equal(table.length, seed.length);
  assert.equal(table.add('baz'), seed.length);
  assert.deepEqual(table.bytes().subarray(0, seed.length), seed);
  throwsInput(() => new StringTable({ seed: new Uint8Array([0, 65]) }), 'bad-strings');
  throwsInput(() => new StringTable({ seed: new Uint8Array([65, 0]) }), 'bad-strings');
  assert.throws(() => table.add('a\0b'), (e: unknown) => e instanceof BtfError && e.code === 'bad-name');
});

test('split builder on the Debian 6.1 base: ids and strings continue the base, base strings are reused', (t) => {
  const baseBytes = fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz');
  const base = Btf.parse(baseBytes);
  const b = new BtfBuilder({ base });
  assert.equal(b.nextId, base.endId);
  const int = base.findOne('int', Kind.Int);
  const task = base.findOne('task_struct', Kind.Struct);
  const taskPtr = b.addPtr(task);
  const s = b.addStruct('my_module_state', 16, [
    { name: 'pid', type: int, bitOffset: 0 },
    { name: 'task', type: taskPtr, bitOffset: 64 },
  ]);
  b.addTypedef('my_module_state_t', s);
  const bytes = b.encode();
  const split = Btf.parse(bytes, { base });
  assert.equal(split.firstId, base.endId);
  assert.equal(split.firstStringOffset, base.endStringOffset);
  const st = split.type(s) as CompositeType;
  // 'pid' and 'task' are in the base's strings, so the split blob refers to them there.
  assert.ok(st.members[0]!.nameOffset < base.endStringOffset && st.members[1]!.nameOffset < base.endStringOffset);
  assert.deepEqual(st.members.map((m) => base.str(m.nameOffset)), ['pid', 'task']);
  const own = Buffer.from(split.bytes.subarray(split.stringStart, split.stringStart + split.header.strLen)).toString('latin1');
  assert.equal(own, 'my_module_state\0my_module_state_t\0', 'split strings hold only what the base lacks');
  assert.equal(split.name(s), 'my_module_state');
  // Not loaded into the kernel: BPF_BTF_LOAD takes no base, so user space cannot load split BTF.
  sameAsBpftool(t, bytes, base);
});

test('types can be copied with their names re-added to another string table', (t) => {
  const { builder, ids } = everyKind();
  const src = Btf.parse(builder.encode());
  const copy = new BtfBuilder();
  copy.addString('padding so offsets differ');
  for (let id = 1; id < src.endId; id++) assert.equal(copy.copyType(src, id, { remapStrings: true }), id);
  const dst = Btf.parse(copy.encode());
  assert.notEqual(dst.nameOffset(ids.node!), src.nameOffset(ids.node!));
  assert.equal(ourRaw(dst), ourRaw(src));
  acceptedByKernel(t, copy.encode({ endian: HOST_ENDIAN }));
  // A verbatim copy into a builder without the source's strings would dangle.
  throwsInput(() => new BtfBuilder().copyType(src, ids.node!));
  throwsInput(() => new BtfBuilder().addAll(src));
  // A name offset outside the source's strings cannot be re-added; the builder is left as it was.
  const broken = new BtfBuilder();
  broken.addRecord(Kind.Ptr, 999, 0, false, 0);
  const target = new BtfBuilder();
  assert.throws(() => target.copyType(Btf.parse(broken.encode()), 1, { remapStrings: true }), (e: unknown) => e instanceof BtfError && e.code === 'bad-string-offset');
  assert.equal(target.typeCount, 0);
  assert.equal(target.encode().length, 24 + 1);
});

test('records of unknown kinds are written through the layout section', () => {
  const layout: KindLayout[] = [...KNOWN_LAYOUTS, { infoSize: 4, elemSize: 8, flags: 0 }];
  const b = new BtfBuilder({ layout });
  const int = b.addInt('int', 4, 1);
  const odd = b.addRecord(20, b.addString('odd'), 2, true, int, [0xdeadbeef, 1, 2, 3, 4]);
  throwsInput(() => b.addRecord(20, 0, 1, false, 0, [1, 2]));
  assert.throws(() => b.addRecord(21, 0, 0, false, 0), (e: unknown) => e instanceof BtfError && e.code === 'bad-kind');
  assert.throws(() => b.encode(), (e: unknown) => e instanceof BtfError && e.code === 'bad-kind' && e.typeId === odd);
  for (const endian of ['little', 'big'] as const) {
    const btf = Btf.parse(b.encode({ layout: true, endian }));
    const t = btf.type(odd) as UnknownKindType;
    assert.deepEqual([t.rawKind, t.vlen, t.kindFlag, t.sizeOrType, t.name], [20, 2, true, int, 'odd']);
    const dv = new DataView(t.extra.buffer, t.extra.byteOffset, t.extra.byteLength);
    assert.deepEqual([0, 4, 8, 12, 16].map((o) => dv.getUint32(o, endian === 'little')), [0xdeadbeef, 1, 2, 3, 4]);
    assert.deepEqual(btf.layout, layout);
  }
});

test('addRecord writes known kinds exactly, including what the typed methods refuse', () => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1);
  const ptr = b.addRecord(Kind.Ptr, 0, 0, false, 99);
  throwsInput(() => b.addRecord(Kind.Int, 0, 0, false, 4));
  const btf = Btf.parse(b.encode());
  assert.deepEqual([btf.kind(ptr), btf.sizeOrType(ptr)], [Kind.Ptr, 99]);
  assert.equal(btf.sizeOrType(int), 4);
});

test('bad arguments throw BtfError bad-argument', () => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1);
  throwsInput(() => b.addInt('', 4, 0));
  throwsInput(() => b.addInt('x', 3, 0));
  throwsInput(() => b.addInt('x', 4, 8));
  throwsInput(() => b.addInt('x', 1, 0, { bits: 9 }));
  throwsInput(() => b.addFloat('f', 6));
  throwsInput(() => b.addPtr(-1));
  throwsInput(() => b.addPtr(1.5));
  throwsInput(() => b.addArray(int, int, 2 ** 32));
  throwsInput(() => b.addStruct('s', -1, []));
  throwsInput(() => b.addStruct('s', 4, [{ name: 'x', type: int, bitOffset: 3 }]));
  throwsInput(() => b.addStruct('s', 4, [{ name: 'x', type: int, bitOffset: 0, bitfieldSize: 256 }]));
  throwsInput(() => b.addStruct('s', 4, [{ name: 'x', type: int, bitOffset: 2 ** 24, bitfieldSize: 1 }]));
  throwsInput(() => b.addUnion('u', 4, [{ name: 'x', type: int, bitOffset: 8 }]));
  // The count is checked before the elements are looked at (a real 2^24-element array takes a second to allocate).
  throwsInput(() => b.addStruct('s', 4, { length: 0x1000000 } as unknown as never[]));
  throwsInput(() => b.addEnum('e', 4, [{ name: 'A', value: 2 ** 32 }]));
  throwsInput(() => b.addEnum('e', 4, [{ name: 'A', value: 0x80000000 }], { signed: true }));
  throwsInput(() => b.addEnum('e', 4, [{ name: 'A', value: -1 }], { signed: false }));
  throwsInput(() => b.addEnum('e', 4, [{ name: '', value: 1 }]));
  throwsInput(() => b.addEnum('e', 3, []));
  throwsInput(() => b.addEnum('e', 4, [{ name: 'A', value: 0.5 }]));
  throwsInput(() => b.addEnum64('e', 8, [{ name: 'A', value: 1n << 64n }]));
  throwsInput(() => b.addEnum64('e', 8, [{ name: 'A', value: 1n << 63n }], { signed: true }));
  throwsInput(() => b.addFwd('', 'struct'));
  throwsInput(() => b.addFwd('x', 'class' as 'struct'));
  throwsInput(() => b.addTypedef('', int));
  throwsInput(() => b.addFunc('f', 1, 3));
  throwsInput(() => b.addVar('v', int, 7));
  throwsInput(() => b.addDatasec('', 0, []));
  throwsInput(() => b.addDeclTag('t', int, -2));
  throwsInput(() => b.addTypeTag('', int));
  throwsInput(() => b.addRecord(128, 0, 0, false, 0));
  throwsInput(() => b.addRecord(Kind.Ptr, 0, 0x1000000, false, 0));
  throwsInput(() => b.encode({ endian: 'middle' as 'big' }));
  assert.equal(b.nextId, int + 1, 'rejected calls add nothing');
  // Forward references are fine until encode, which wants every referenced id to exist.
  const p = b.addPtr(int + 5);
  assert.throws(() => b.encode(), (e: unknown) => e instanceof BtfError && e.code === 'bad-type-id' && e.typeId === p);
});
