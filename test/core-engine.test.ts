/**
 * The CO-RE engine on small BTF built here: spec parsing and its errors, libbpf's narrowing of
 * candidate lists, module targets, anonymous local types, and the patch step on instructions
 * of both byte orders. test/core-libbpf.test.ts holds the engine to libbpf itself.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { BtfBuilder } from '../src/build/builder.js';
import { Btf } from '../src/btf/btf.js';
import { TypeSet } from '../src/btf/typeset.js';
import { CoreRelocator } from '../src/core/engine.js';
import { CoreKind } from '../src/core/kinds.js';
import { CORE_POISON_HELPER, patchCoreInstruction } from '../src/core/patch.js';
import { formatCoreSpec, parseCoreSpec } from '../src/core/spec.js';
import { typesCompatible, typesMatch } from '../src/core/match.js';
import type { CoreDecision, CoreRelocationRecord } from '../src/core/decision.js';
import { IntEncoding } from '../src/format/kinds.js';
import { isBtfError } from '../src/errors.js';

/** struct s { int a; struct { int b; int c[4]; }; int flex[]; } and enum e { E0, E1 = 5 }. */
function localBtf(): { btf: Btf; s: number; e: number; anon: number } {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, IntEncoding.Signed);
  const arr4 = b.addArray(int, int, 4);
  const arr0 = b.addArray(int, int, 0);
  const anon = b.addStruct('', 20, [{ name: 'b', type: int, bitOffset: 0 }, { name: 'c', type: arr4, bitOffset: 32 }]);
  const s = b.addStruct('s', 24, [{ name: 'a', type: int, bitOffset: 0 }, { name: '', type: anon, bitOffset: 32 }, { name: 'flex', type: arr0, bitOffset: 192 }]);
  const e = b.addEnum('e', 4, [{ name: 'E0', value: 0 }, { name: 'E1', value: 5 }]);
  return { btf: Btf.parse(b.encode()), s, e, anon };
}

const record = (typeId: number, access: string, kind: number): CoreRelocationRecord => ({ insnOffset: 0, typeId, accessStringOffset: 0, access, kind });

test('core-engine: local specs walk anonymous members, arrays and flexible arrays, in libbpf\'s text', () => {
  const { btf, s, e } = localBtf();
  assert.equal(formatCoreSpec(parseCoreSpec(btf, s, '0:1:1:2', CoreKind.FieldByteOffset)), `[${s}] struct s.c[2] (0:1:1:2 @ offset 16)`);
  assert.equal(formatCoreSpec(parseCoreSpec(btf, s, '0:2:7', CoreKind.FieldByteOffset)), `[${s}] struct s.flex[7] (0:2:7 @ offset 52)`);
  assert.equal(formatCoreSpec(parseCoreSpec(btf, s, '1', CoreKind.FieldByteOffset)), `[${s}] struct s[1] (1 @ offset 24)`);
  assert.equal(formatCoreSpec(parseCoreSpec(btf, e, '1', CoreKind.EnumValue)), `[${e}] enum e::E1 = 5`);
  assert.equal(formatCoreSpec(parseCoreSpec(btf, s, '0', CoreKind.TypeSize)), `[${s}] struct s`);
});

test('core-engine: access strings libbpf refuses are bad-input errors naming the type', () => {
  const { btf, s, e } = localBtf();
  const bad: [number, string, number, RegExp][] = [
    [s, '1', CoreKind.TypeExists, /needs the access string "0"/],
    [s, '', CoreKind.FieldByteOffset, /empty/],
    [s, '0:x', CoreKind.FieldByteOffset, /not numbers/],
    [s, '0:-1', CoreKind.FieldByteOffset, /negative/],
    [s, '0:3', CoreKind.FieldByteOffset, /past the 3 members/],
    [s, '0:1:1:4', CoreKind.FieldByteOffset, /past the array's 4 elements/],
    [s, '0:0:0', CoreKind.FieldByteOffset, /no members or elements/],
    [e, '2', CoreKind.EnumValue, /past the enum's 2 values/],
    [s, '0', CoreKind.EnumValueExists, /needs an enum/],
    [s, Array(65).fill('0').join(':'), CoreKind.FieldByteOffset, /more than 64 steps/],
  ];
  for (const [id, access, kind, message] of bad) {
    assert.throws(() => parseCoreSpec(btf, id, access, kind), (err: unknown) => isBtfError(err) && err.code === 'bad-input' && err.typeId === id && message.test(err.message), `'${access}'`);
  }
});

/** A target with two flavors of s: only s___b has `a` where the local has it. */
function twoFlavorTarget(): Btf {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, IntEncoding.Signed);
  b.addStruct('s___a', 4, [{ name: 'z', type: int, bitOffset: 0 }]);
  b.addStruct('s___b', 8, [{ name: 'q', type: int, bitOffset: 0 }, { name: 'a', type: int, bitOffset: 32 }]);
  return Btf.parse(b.encode());
}

test('core-engine: a local type\'s candidates narrow to those that matched, for later relocations (libbpf\'s cache)', () => {
  const { btf, s } = localBtf();
  const relocator = new CoreRelocator(btf, twoFlavorTarget());
  const first = relocator.resolve(record(s, '0', CoreKind.FieldExists));
  assert.deepEqual(first.candidates, { considered: 2, matched: 2 });
  const second = relocator.resolve(record(s, '0:0', CoreKind.FieldByteOffset));
  assert.deepEqual(second.candidates, { considered: 2, matched: 1 });
  assert.equal(second.newValue, 4n);
  assert.equal(second.target?.name, 's___b');
  const third = relocator.resolve(record(s, '0', CoreKind.TypeSize));
  assert.deepEqual(third.candidates, { considered: 1, matched: 1 });
  assert.equal(third.newValue, 8n);
  // A fresh relocator (another object load) starts from every candidate again: sizes 4 and 8 disagree.
  const fresh = new CoreRelocator(btf, twoFlavorTarget()).resolve(record(s, '0', CoreKind.TypeSize));
  assert.match(fresh.error ?? '', /relocation decision ambiguity/);
});

test('core-engine: a type only a module has resolves in that module; vmlinux first when it has one', () => {
  const { btf, s } = localBtf();
  const vb = new BtfBuilder();
  vb.addInt('int', 4, IntEncoding.Signed);
  const vmlinux = Btf.parse(vb.encode());
  const mb = new BtfBuilder({ base: vmlinux });
  const modS = mb.addStruct('s', 16, [{ name: 'x', type: 1, bitOffset: 0 }, { name: 'a', type: 1, bitOffset: 96 }]);
  const module = Btf.parse(mb.encode(), { base: vmlinux });
  const d = new CoreRelocator(btf, new TypeSet(vmlinux, [['mod_s', module]])).resolve(record(s, '0:0', CoreKind.FieldByteOffset));
  assert.deepEqual(d.target && { btf: d.target.btf, typeId: d.target.typeId }, { btf: 'mod_s', typeId: modS });
  assert.equal(d.newValue, 12n);
  const withBase = new CoreRelocator(btf, new TypeSet(twoFlavorTarget(), [['mod_s', () => { throw new Error('modules must not load when vmlinux has candidates'); }]]));
  assert.equal(withBase.resolve(record(s, '0:0', CoreKind.FieldByteOffset)).target?.btf, 'vmlinux');
});

test('core-engine: anonymous and missing local types fail the relocation; local_type_id needs neither name nor target', () => {
  const { btf, anon } = localBtf();
  const relocator = new CoreRelocator(btf, twoFlavorTarget());
  assert.match(relocator.resolve(record(anon, '0:0', CoreKind.FieldByteOffset)).error ?? '', /anonymous/);
  assert.match(relocator.resolve(record(999, '0', CoreKind.TypeExists)).error ?? '', /does not exist/);
  const local = relocator.resolve(record(anon, '0', CoreKind.TypeIdLocal));
  assert.equal(local.error, undefined);
  assert.deepEqual([local.origValue, local.newValue, local.validate], [BigInt(anon), BigInt(anon), false]);
});

function decision(over: Partial<CoreDecision>): CoreDecision {
  return {
    record: record(1, '0:0', CoreKind.FieldByteOffset), kind: CoreKind.FieldByteOffset,
    local: { btf: 'local', typeId: 1, name: 's', access: '0:0', spec: '' }, target: null,
    candidates: { considered: 1, matched: 1 }, origValue: 0n, newValue: 0n, validate: true, poison: false, ...over,
  };
}

/** One instruction: code, dst/src registers, off, imm, in the given byte order. */
function insn(code: number, dst: number, src: number, off: number, imm: number, le = true): Uint8Array {
  const bytes = new Uint8Array(8);
  const dv = new DataView(bytes.buffer);
  bytes[0] = code;
  bytes[1] = le ? (src << 4) | dst : (dst << 4) | src;
  dv.setInt16(2, off, le);
  dv.setInt32(4, imm, le);
  return bytes;
}

test('core-engine: patching ALU immediates, load offsets and sizes, ld_imm64, with libbpf\'s checks', () => {
  // r1 += 4 (ALU64 | ADD | K)
  const alu = insn(0x07, 1, 0, 0, 4);
  assert.deepEqual(patchCoreInstruction(alu, 0, true, decision({ origValue: 4n, newValue: 1268n })).patches, [{ field: 'imm', from: 4n, to: 1268n }]);
  assert.equal(new DataView(alu.buffer).getInt32(4, true), 1268);
  assert.match(patchCoreInstruction(insn(0x07, 1, 0, 0, 5), 0, true, decision({ origValue: 4n, newValue: 8n })).error ?? '', /holds 5, not the expected 4/);
  assert.match(patchCoreInstruction(insn(0x0f, 1, 2, 0, 0), 0, true, decision({ origValue: 0n, newValue: 8n })).error ?? '', /register/);
  // r0 = *(u32 *)(r1 + 4), big-endian: offset and size change
  const ldx = insn(0x61, 0, 1, 4, 0, false);
  const res = patchCoreInstruction(ldx, 0, false, decision({ origValue: 4n, newValue: 8n, origSize: 4, newSize: 8 }));
  assert.deepEqual(res.patches.map((p) => p.field), ['off', 'size']);
  assert.equal(ldx[0], 0x79);
  assert.equal(new DataView(ldx.buffer).getInt16(2, false), 8);
  assert.match(patchCoreInstruction(insn(0x61, 0, 1, 4, 0), 0, true, decision({ origValue: 4n, newValue: 40000n })).error ?? '', /16-bit/);
  const unsafe = patchCoreInstruction(insn(0x61, 0, 1, 4, 0), 0, true, decision({ origValue: 4n, newValue: 8n, origSize: 4, newSize: 8, failMemSizeAdjust: true }));
  assert.equal(unsafe.poisoned, true);
  // ld_imm64 r1 = 5; a 64-bit value lands in both slots
  const ld = new Uint8Array([...insn(0x18, 1, 0, 0, 5), ...insn(0, 0, 0, 0, 0)]);
  patchCoreInstruction(ld, 0, true, decision({ origValue: 5n, newValue: 0xffffffffffffffe0n }));
  assert.deepEqual([new DataView(ld.buffer).getUint32(4, true), new DataView(ld.buffer).getUint32(12, true)], [0xffffffe0, 0xffffffff]);
});

test('core-engine: a poisoned decision becomes call 0xbad2310, in both slots of an ld_imm64', () => {
  for (const le of [true, false]) {
    const ld = new Uint8Array([...insn(0x18, 1, 0, 0, 5, le), ...insn(0, 0, 0, 0, 0, le)]);
    const res = patchCoreInstruction(ld, 0, le, decision({ poison: true }));
    assert.equal(res.poisoned, true);
    for (const at of [0, 8]) {
      const dv = new DataView(ld.buffer, at, 8);
      assert.deepEqual([ld[at], ld[at + 1], dv.getInt16(2, le), dv.getInt32(4, le)], [0x85, 0, 0, CORE_POISON_HELPER]);
    }
  }
  assert.match(patchCoreInstruction(insn(0x18, 1, 0, 0, 5), 0, true, decision({ poison: true })).error ?? '', /second slot/);
  assert.match(patchCoreInstruction(new Uint8Array(8), 4, true, decision({})).error ?? '', /multiple of 8/);
});

test('types that use the next one twice, 28 deep, end in a limit error in well under ten seconds, not 2^28 comparisons (found by the fuzzer)', () => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, IntEncoding.Signed);
  let proto = b.addFuncProto(int, [{ name: 'a', type: int }]);
  for (let i = 0; i < 28; i++) {
    const p = b.addPtr(proto);
    proto = b.addFuncProto(int, [{ name: 'a', type: p }, { name: 'b', type: p }]);
  }
  let record = b.addStruct('leaf', 4, [{ name: 'x', type: int, bitOffset: 0 }]);
  for (let i = 0; i < 28; i++) record = b.addStruct(`s${i}`, 8, [{ name: 'x', type: record, bitOffset: 0 }, { name: 'y', type: record, bitOffset: 32 }]);
  // Anonymous records, each holding the next one twice, searched for a member that is not there.
  let anon = b.addStruct('', 4, [{ name: 'z', type: int, bitOffset: 0 }]);
  for (let i = 0; i < 28; i++) anon = b.addStruct('', 8, [{ name: '', type: anon, bitOffset: 0 }, { name: '', type: anon, bitOffset: 32 }]);
  b.addStruct('outer', 8, [{ name: '', type: anon, bitOffset: 0 }]);
  const local = new BtfBuilder();
  const lint = local.addInt('int', 4, IntEncoding.Signed);
  const lOuter = local.addStruct('outer', 8, [{ name: 'missing', type: lint, bitOffset: 0 }]);
  const target = Btf.parse(b.encode());
  const start = Date.now();
  for (const [f, id] of [[typesCompatible, proto], [typesMatch, record]] as const) {
    assert.throws(() => f(target, id, target, id), (e: unknown) => isBtfError(e) && e.code === 'limit', f.name);
  }
  const relocator = new CoreRelocator(Btf.parse(local.encode()), new TypeSet(target));
  const d = relocator.resolve({ insnOffset: 0, typeId: lOuter, accessStringOffset: 0, access: '0:0', kind: CoreKind.FieldByteOffset });
  assert.match(d.error ?? '', /visited more than 1000000 members/);
  assert.ok(Date.now() - start < 10_000, `took ${Date.now() - start} ms`);
});
