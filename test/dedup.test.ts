/**
 * Dedup (src/dedup) against libbpf 1.1's btf__dedup, the oracle (test/helpers/btf_dedup.c,
 * built against Debian's libbpf-dev): byte for byte on small blobs made for each rule of the
 * algorithm, on real kernels (vmlinux alone, two kernels merged, a module on its base, every
 * module of a Debian build merged), plus what the output must mean on its own: the old → new
 * map sends equal types to one id, vmlinux alone keeps every type, the kernel loads the output.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { convertBtf } from '../src/build/convert.js';
import { copyRemapped } from '../src/build/copy.js';
import { dedup, dedupModules, type DedupResult } from '../src/dedup/dedup.js';
import { dumpRaw } from '../src/dump/raw.js';
import { ByteSink } from '../src/dump/sink.js';
import { isBtfError } from '../src/errors.js';
import { makeStandalone } from '../src/split/forms.js';
import { loadModuleBtf } from '../src/split/load.js';
import { mergeModules } from '../src/split/merge.js';
import { moduleNameOf } from '../src/elf/compress.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { libbpfDedup, libbpfMergeDedup, type LibbpfDedup } from './helpers/dedup-oracle.js';
import { kernelLoad } from './helpers/kernel.js';
import { fixture, REPO_ROOT } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const SIGNED = 1;
const LINKAGE_GLOBAL = 1;

/** libbpf's answer, or a loud skip (undefined) when the oracle cannot run here. */
function oracle(t: TestContext, r: LibbpfDedup): { bytes: Uint8Array; types: number } | { failed: string } | undefined {
  if ('skipped' in r) {
    loudSkip(t, r.skipped);
    return undefined;
  }
  return r;
}

/** Dedups `bytes` (on `base`) with btfkit and libbpf and requires the same bytes; returns btfkit's result. */
function sameAsLibbpf(t: TestContext, bytes: Uint8Array, base?: Btf): DedupResult {
  const ours = dedup(bytes, base ? { base } : {});
  const theirs = oracle(t, libbpfDedup(bytes, base?.bytes));
  if (theirs) {
    assert.ok(!('failed' in theirs), `libbpf refused what btfkit deduplicated: ${'failed' in theirs ? theirs.failed : ''}`);
    assert.equal((base ? base.endId - 1 : 0) + ours.outputTypes, theirs.types, 'type count');
    assert.ok(Buffer.from(ours.bytes).equals(Buffer.from(theirs.bytes)), 'output differs from libbpf\'s btf__dedup');
  }
  return ours;
}

function raw(btf: Btf): string {
  const sink = new ByteSink();
  dumpRaw(btf, sink);
  return Buffer.from(sink.toBytes()).toString('latin1');
}

/** One compilation unit's worth of types, added to `b`: `struct node { struct node *next; int v; }` and a function on it. */
function addListUnit(b: BtfBuilder): { int: number; node: number; ptr: number; func: number } {
  const int = b.addInt('int', 4, SIGNED);
  const node = b.nextId;
  const ptr = b.addPtr(node + 1);
  const nodeId = b.addStruct('node', 16, [{ name: 'next', type: ptr, bitOffset: 0 }, { name: 'v', type: int, bitOffset: 64 }]);
  assert.equal(nodeId, node + 1);
  const proto = b.addFuncProto(int, [{ name: 'n', type: ptr }]);
  const func = b.addFunc('walk', proto, LINKAGE_GLOBAL);
  return { int, node: nodeId, ptr, func };
}

test('dedup: two copies of a self-referencing struct (a cycle through a pointer) become one', (t) => {
  const b = new BtfBuilder();
  const first = addListUnit(b);
  const second = addListUnit(b);
  const r = sameAsLibbpf(t, b.encode());
  assert.equal(r.outputTypes, r.inputTypes / 2);
  for (const k of ['int', 'node', 'ptr', 'func'] as const) assert.equal(r.map[second[k]], r.map[first[k]], k);
});

test('dedup: a struct that points to a forward declaration equals the one that points to the definition, and the FWD resolves', (t) => {
  const b = new BtfBuilder();
  // Unit 1: struct foo; struct bar { struct foo *f; };
  const fwd = b.addFwd('foo', 'struct');
  const p1 = b.addPtr(fwd);
  const bar1 = b.addStruct('bar', 8, [{ name: 'f', type: p1, bitOffset: 0 }]);
  // Unit 2: struct foo { int x; }; struct bar { struct foo *f; };
  const int = b.addInt('int', 4, SIGNED);
  const foo = b.addStruct('foo', 4, [{ name: 'x', type: int, bitOffset: 0 }]);
  const p2 = b.addPtr(foo);
  const bar2 = b.addStruct('bar', 8, [{ name: 'f', type: p2, bitOffset: 0 }]);
  const r = sameAsLibbpf(t, b.encode());
  assert.equal(r.map[bar2], r.map[bar1]);
  assert.equal(r.map[fwd], r.map[foo], 'the FWD became the struct');
  assert.equal(r.map[p1], r.map[p2]);
});

test('dedup: a lone forward declaration resolves to the one struct of its name, not to an ambiguous name or a union', (t) => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, SIGNED);
  const foo = b.addStruct('foo', 4, [{ name: 'u', type: int, bitOffset: 0 }]);
  b.addPtr(foo);
  const fooFwd = b.addFwd('foo', 'struct');
  const fooAsUnion = b.addFwd('foo', 'union');
  // Two different structs named 'dup': a FWD of that name stays.
  b.addStruct('dup', 4, [{ name: 'a', type: int, bitOffset: 0 }]);
  b.addStruct('dup', 4, [{ name: 'b', type: int, bitOffset: 0 }]);
  const dupFwd = b.addFwd('dup', 'struct');
  const r = sameAsLibbpf(t, b.encode());
  assert.equal(r.map[fooFwd], r.map[foo]);
  assert.notEqual(r.map[fooAsUnion], r.map[foo]);
  assert.equal(r.btf.kind(r.map[dupFwd]!), 7 /* FWD */);
});

test('dedup: anonymous structs, arrays, typedefs and qualifiers collapse by structure', (t) => {
  const b = new BtfBuilder();
  const unit = () => {
    const int = b.addInt('int', 4, SIGNED);
    const uint = b.addInt('unsigned int', 4, 0);
    const arr = b.addArray(int, uint, 4);
    const cint = b.addConst(int);
    const vint = b.addVolatile(cint);
    const anon = b.addStruct('', 24, [{ name: 'a', type: arr, bitOffset: 0 }, { name: 'c', type: vint, bitOffset: 128 }]);
    const td = b.addTypedef('anon_t', anon);
    return { arr, anon, td };
  };
  const x = unit();
  const y = unit();
  const r = sameAsLibbpf(t, b.encode());
  assert.equal(r.outputTypes, r.inputTypes / 2);
  assert.equal(r.map[y.anon], r.map[x.anon]);
  assert.equal(r.map[y.td], r.map[x.td]);
  assert.equal(r.map[y.arr], r.map[x.arr]);
});

test('dedup: identical arrays emitted twice inside one struct still let two copies of it merge (libbpf\'s identical-arrays rule)', (t) => {
  const b = new BtfBuilder();
  const unit = () => {
    const int = b.addInt('int', 4, SIGNED);
    const a1 = b.addArray(int, int, 2);
    const a2 = b.addArray(int, int, 2);
    return b.addStruct('pair', 16, [{ name: 'x', type: a1, bitOffset: 0 }, { name: 'y', type: a2, bitOffset: 64 }]);
  };
  const first = unit();
  // The second copy uses one array for both fields.
  const int = b.addInt('int', 4, SIGNED);
  const a = b.addArray(int, int, 2);
  const second = b.addStruct('pair', 16, [{ name: 'x', type: a, bitOffset: 0 }, { name: 'y', type: a, bitOffset: 64 }]);
  const r = sameAsLibbpf(t, b.encode());
  assert.equal(r.map[second], r.map[first]);
  void unit;
});

test('dedup: function prototypes compare by return type, parameter names and types', (t) => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, SIGNED);
  const long = b.addInt('long', 8, SIGNED);
  const p1 = b.addFuncProto(int, [{ name: 'a', type: long }]);
  const p2 = b.addFuncProto(int, [{ name: 'a', type: long }]);
  const p3 = b.addFuncProto(int, [{ name: 'b', type: long }]);
  const p4 = b.addFuncProto(long, [{ name: 'a', type: long }]);
  const p5 = b.addFuncProto(int, [{ name: 'a', type: long }, { name: '', type: 0 }]);
  const r = sameAsLibbpf(t, b.encode());
  assert.equal(r.map[p2], r.map[p1]);
  assert.equal(new Set([p1, p3, p4, p5].map((id) => r.map[id])).size, 4);
});

test('dedup: an enum declared without values meets its definition, ENUM or ENUM64; different values stay apart', (t) => {
  const b = new BtfBuilder();
  const fwdFirst = b.addEnum('e', 4, []);
  const full = b.addEnum('e', 4, [{ name: 'A', value: 1 }, { name: 'B', value: 2 }]);
  const fwdAfter = b.addEnum('e', 4, []);
  const other = b.addEnum('e', 4, [{ name: 'A', value: 3 }]);
  const fwd64 = b.addEnum('w', 4, []);
  const full64 = b.addEnum64('w', 8, [{ name: 'W', value: 1n << 40n }]);
  const r = sameAsLibbpf(t, b.encode());
  // A canonical declaration is pointed at each definition met after it: it ends on the last (libbpf's way).
  assert.equal(r.map[fwdFirst], r.map[other]);
  assert.equal(r.map[fwdAfter], r.map[full]);
  assert.notEqual(r.map[other], r.map[full]);
  assert.equal(r.map[fwd64], r.map[full64]);
});

test('dedup: hundreds of anonymous enums, equal and different, ENUM and ENUM64, and definitions of a declared name after many others, as libbpf', (t) => {
  const b = new BtfBuilder();
  const firsts: number[] = [];
  const seconds: number[] = [];
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 300; i++) {
      const id = i % 3 === 0
        ? b.addEnum64('', 8, [{ name: `V${i}`, value: BigInt(i) << 33n }])
        : b.addEnum('', 4, [{ name: `V${i}`, value: i }, { name: 'LAST', value: i + 1 }]);
      (round === 0 ? firsts : seconds).push(id);
    }
    // A named declaration between the rounds, then definitions of its name: those take the name's chain.
    if (round === 0) b.addEnum('late', 4, []);
    b.addEnum('late', 4, [{ name: `L${round}`, value: round }]);
  }
  const r = sameAsLibbpf(t, b.encode());
  firsts.forEach((id, i) => assert.equal(r.map[seconds[i]!], r.map[id], `anonymous enum ${i}`));
  assert.equal(new Set(firsts.map((id) => r.map[id])).size, 300);
});

test('dedup: among several definitions a declaration could stand for, the one libbpf\'s hash table hands out first wins', (t) => {
  // Which one that is depends on how often libbpf's candidate table has grown since each was
  // filed (every growth reverses its chains): groups of 1 to 12 definitions, at many table sizes.
  const b = new BtfBuilder();
  const pointers: number[] = [];
  for (let k = 1; k <= 12; k++) {
    for (let i = 0; i < k; i++) b.addEnum(`e${k}`, 4, [{ name: `V${k}_${i}`, value: i }]);
    for (let i = 0; i < k * 3; i++) b.addInt(`pad${k}_${i}`, 4, 0);
    pointers.push(b.addPtr(b.addEnum(`e${k}`, 4, [])));
  }
  const r = sameAsLibbpf(t, b.encode());
  for (const p of pointers) assert.equal(r.btf.vlen(r.btf.sizeOrType(r.map[p]!)), 1, 'the pointer leads to a definition');
});

test('dedup: split BTF collapses onto equal base types and keeps the rest, numbered after the base', (t) => {
  const bb = new BtfBuilder();
  const baseUnit = addListUnit(bb);
  const base = Btf.parse(bb.encode());
  const sb = new BtfBuilder({ base });
  const copy = addListUnit(sb);
  const own = sb.addStruct('only_here', 4, [{ name: 'z', type: copy.int, bitOffset: 0 }]);
  const r = sameAsLibbpf(t, sb.encode(), base);
  for (const k of ['int', 'node', 'ptr', 'func'] as const) assert.equal(r.map[copy[k]], baseUnit[k], k);
  assert.equal(r.outputTypes, 1);
  assert.equal(r.map[own], base.endId);
  assert.equal(r.btf.name(base.endId), 'only_here');
  assert.equal(r.btf.type(base.endId).kind, 4 /* STRUCT */);
});

test('dedup: a reference loop with no struct in it is a type-loop error, as libbpf refuses it', (t) => {
  const b = new BtfBuilder();
  const a = b.addTypedef('a', 2);
  b.addTypedef('b', a);
  const bytes = b.encode();
  assert.throws(() => dedup(bytes), (e: unknown) => isBtfError(e) && e.code === 'type-loop');
  const theirs = oracle(t, libbpfDedup(bytes));
  if (theirs) assert.ok('failed' in theirs, 'libbpf deduplicated a typedef loop');
});

test('dedup: a walk that reaches a VAR through a member\'s pointer is a bad-type-id error, as libbpf refuses it, even where a later member already differs', (t) => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, SIGNED);
  for (const handler of ['a', 'b']) {
    const ptr = b.addPtr(b.addVar('v', int, LINKAGE_GLOBAL));
    const typedef = b.addTypedef(handler, int);
    b.addStruct('s', 16, [{ name: 'p', type: ptr, bitOffset: 0 }, { name: 'q', type: typedef, bitOffset: 64 }]);
  }
  const bytes = b.encode();
  assert.throws(() => dedup(bytes), (e: unknown) => isBtfError(e) && e.code === 'bad-type-id');
  const theirs = oracle(t, libbpfDedup(bytes));
  if (theirs) assert.ok('failed' in theirs, 'libbpf deduplicated a struct whose walk meets a VAR');
});

test('dedup: a reference past the last type is a bad-type-id error naming the type', () => {
  const b = new BtfBuilder();
  b.addInt('int', 4, SIGNED);
  b.addPtr(99);
  assert.throws(() => dedup(b.encode()), (e: unknown) => isBtfError(e) && e.code === 'bad-type-id' && e.typeId === 2);
});

test('dedup: a 30,000-deep chain of qualifiers (libbpf\'s recursion stops not far beyond) and a 50,000-struct graph walk do not exhaust the stack', (t) => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, SIGNED);
  let top = int;
  for (let i = 0; i < 30_000; i++) top = b.addConst(top);
  // Two copies of a long linked chain of structs: the equivalence walk goes down the whole chain.
  const chain = () => {
    const first = b.nextId;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const next = i + 1 < n ? first + 2 * (i + 1) + 1 : int;
      const ptr = b.addPtr(next);
      b.addStruct(`s${i}`, 8, [{ name: 'p', type: ptr, bitOffset: 0 }]);
    }
    return first + 1;
  };
  const c1 = chain();
  const c2 = chain();
  const r = sameAsLibbpf(t, b.encode());
  assert.equal(r.map[c2], r.map[c1]);
});

test('dedup: vmlinux alone keeps every type as it was (bpftool-identical raw dump) and is byte-identical to libbpf\'s', (t) => {
  const vmlinux = fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz');
  const r = sameAsLibbpf(t, vmlinux);
  assert.equal(r.outputTypes, r.inputTypes);
  assert.ok(r.map.every((to, from) => to === from));
  assert.equal(raw(r.btf), raw(Btf.parse(vmlinux)));
});

test('dedup: two kernels\' vmlinux merged into one blob give libbpf\'s types, byte for byte, and the kernel loads the result', (t) => {
  const a = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  const c = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
  const b = new BtfBuilder();
  for (const k of [a, c]) {
    const shift = b.nextId - 1;
    for (let id = 1; id < k.endId; id++) copyRemapped(b, k, id, (v) => (v === 0 ? 0 : v + shift));
  }
  const merged = b.encode();
  const r = sameAsLibbpf(t, merged);
  assert.ok(r.outputTypes < r.inputTypes);
  assert.ok(r.outputTypes >= Math.max(a.endId, c.endId) - 1);
  const verdict = kernelLoad(r.bytes);
  if ('skipped' in verdict) return loudSkip(t, verdict.skipped);
  assert.ok(verdict.ok, `the kernel refused the deduplicated blob:\n${verdict.log.slice(-2000)}`);
});

/** `dedupModules` must give what merging and then deduplicating gives: the same bytes and the same id map. */
function sameAsTwoSteps(base: Btf, modules: { name: string; btf: Btf }[]): DedupResult {
  const oneStep = dedupModules(base, modules);
  const twoSteps = dedup(mergeModules(base, modules).bytes, { base });
  assert.ok(Buffer.from(oneStep.bytes).equals(Buffer.from(twoSteps.bytes)), 'dedupModules differs from dedup(mergeModules(...))');
  assert.deepEqual(oneStep.map, twoSteps.map, 'id maps differ');
  assert.equal(oneStep.inputTypes, twoSteps.inputTypes);
  assert.equal(oneStep.outputTypes, twoSteps.outputTypes);
  return oneStep;
}

test('dedup: a union per tracepoint, differing only in the handler typedef\'s name, stays apart; equal ones and one through a FWD merge, as libbpf', (t) => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, SIGNED);
  const event = b.addStruct('event', 8, [{ name: 'e', type: int, bitOffset: 0 }]);
  const proto = b.addFuncProto(int, []);
  const ptr = b.addPtr(proto);
  const unions: number[] = [];
  for (const name of ['h_a', 'h_b', 'h_c', 'h_a', 'h_b']) {
    const handler = b.addTypedef(name, ptr);
    unions.push(b.addUnion('', 8, [{ name: 'event', type: event, bitOffset: 0 }, { name: 'handler', type: handler, bitOffset: 0 }]));
  }
  // The same union whose first member is a FWD of the event: the walk, not the shortcut, decides.
  const fwd = b.addFwd('event', 'struct');
  unions.push(b.addUnion('', 8, [{ name: 'event', type: fwd, bitOffset: 0 }, { name: 'handler', type: b.addTypedef('h_c', ptr), bitOffset: 0 }]));
  // Members of other kinds under one name: a typedef against a pointer.
  unions.push(b.addUnion('', 8, [{ name: 'event', type: event, bitOffset: 0 }, { name: 'handler', type: ptr, bitOffset: 0 }]));
  const r = sameAsLibbpf(t, b.encode());
  const [a, bb, c, a2, b2, cFwd, other] = unions.map((u) => r.map[u]!);
  assert.equal(new Set([a, bb, c, other]).size, 4, 'unions with different handlers must stay apart');
  assert.equal(a2, a);
  assert.equal(b2, bb);
  assert.equal(cFwd, c);
});

test('dedupModules: modules merged and deduplicated in one pass give dedup(mergeModules(...)) byte for byte, with the same map', () => {
  const bb = new BtfBuilder();
  const baseUnit = addListUnit(bb);
  bb.addStruct('shared_name', 4, [{ name: 'v', type: baseUnit.int, bitOffset: 0 }]);
  const base = Btf.parse(bb.encode());
  const modules = ['m1', 'm2', 'm3'].map((name, i) => {
    const sb = new BtfBuilder({ base });
    // Names in a different order in each module, so their string offsets differ.
    if (i === 1) sb.addStruct(`only_${name}`, 4, [{ name: 'z', type: baseUnit.int, bitOffset: 0 }]);
    const copy = addListUnit(sb);
    const own = sb.addStruct('common', 8, [{ name: 'p', type: copy.ptr, bitOffset: 0 }]);
    sb.addTypedef('common_t', own);
    // A name the base holds, added as the module's own string.
    sb.addTypedef('shared_name', baseUnit.int);
    if (i !== 1) sb.addStruct(`only_${name}`, 4, [{ name: 'z', type: copy.int, bitOffset: 0 }]);
    return { name, btf: Btf.parse(sb.encode(), { base }) };
  });
  const r = sameAsTwoSteps(base, modules);
  assert.equal(r.outputTypes, 6, 'common, common_t, the shared_name typedef and three only_*');
  const bigEndian = modules.map(({ name, btf }) => ({ name, btf: Btf.parse(convertBtf(btf, { endian: 'big' }), { base }) }));
  sameAsTwoSteps(base, bigEndian);
  assert.deepEqual(dedupModules(base, []).outputTypes, 0);
  const other = Btf.parse(new BtfBuilder().encode());
  assert.throws(() => dedupModules(other, modules), (e: unknown) => isBtfError(e) && e.code === 'bad-base' && /module m1/.test(e.message));
});

test('dedupModules: the golden modules merged in one pass, as in two steps and as libbpf\'s merge + dedup', (t) => {
  const dir = 'golden/debian-6.1.0-50-cloud/modules';
  const base = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  const files = readdirSync(join(REPO_ROOT, 'test', 'fixtures', dir)).filter((f) => f.endsWith('.btf.gz')).sort();
  const modules = files.map((f) => ({ name: f, btf: loadModuleBtf(fixture(`${dir}/${f}`), base, f) }));
  const r = sameAsTwoSteps(base, modules);
  sameAsLibbpf(t, mergeModules(base, modules).bytes, base);
  assert.ok(r.outputTypes < r.inputTypes);
});

test('dedup: the golden modules on their base, each alone and standalone, as libbpf; the kernel loads the standalone results', (t) => {
  const dir = 'golden/debian-6.1.0-50-cloud/modules';
  const base = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  const files = readdirSync(join(REPO_ROOT, 'test', 'fixtures', dir)).filter((f) => f.endsWith('.btf.gz'));
  assert.ok(files.length > 0, 'no golden modules');
  for (const f of files) {
    const mod = loadModuleBtf(fixture(`${dir}/${f}`), base, f);
    const split = sameAsLibbpf(t, mod.bytes.subarray(0), base);
    assert.ok(split.outputTypes <= split.inputTypes, f);
    const standalone = sameAsLibbpf(t, makeStandalone(mod));
    const verdict = kernelLoad(standalone.bytes);
    if ('skipped' in verdict) return loudSkip(t, verdict.skipped);
    assert.ok(verdict.ok, `${f}: the kernel refused the deduplicated standalone blob:\n${verdict.log.slice(-2000)}`);
  }
});

test('dedup: every module of a Debian build merged in module-name order gives what libbpf gives (merge + dedup), through the library and the CLI', (t) => {
  const build = fetchedBuilds()[0];
  if (!build) return loudSkip(t, 'no Debian kernel build under data/ (tools/fetch-debian-kernel.sh)');
  const basePath = join(build, 'vmlinux.btf');
  const modules = findModules(join(build, 'modules'))
    .map((path) => ({ path, name: moduleNameOf(path) }))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const theirs = oracle(t, libbpfMergeDedup(basePath, modules.map((m) => m.path)));
  if (!theirs) return;
  assert.ok(!('failed' in theirs), 'libbpf failed');
  const base = Btf.parse(readFileSync(basePath));
  const loaded = modules.map((m) => ({ name: m.name, btf: loadModuleBtf(readFileSync(m.path), base, m.path) }));
  const merged = mergeModules(base, loaded);
  const r = dedup(merged.bytes, { base });
  const oneStep = dedupModules(base, loaded);
  assert.ok(Buffer.from(oneStep.bytes).equals(Buffer.from(r.bytes)), 'dedupModules differs from dedup(mergeModules(...))');
  assert.deepEqual(oneStep.map, r.map);
  assert.equal(base.endId - 1 + r.outputTypes, theirs.types, 'type count');
  assert.ok(Buffer.from(r.bytes).equals(Buffer.from(theirs.bytes)), 'output differs from libbpf\'s');
  // Every merged type lands on a type of the same kind and name.
  const out = r.btf;
  const m = Btf.parse(merged.bytes, { base });
  for (let id = m.firstId; id < m.endId; id += 97) {
    const to = r.map[id]!;
    const same = out.kind(to) === m.kind(id) || (m.kind(id) === 7 /* FWD */) || ((m.kind(id) === 6 || m.kind(id) === 19) && m.vlen(id) === 0);
    assert.ok(same, `type ${id} (${m.name(id)}) went to ${to}`);
    assert.equal(out.name(to), m.name(id));
  }
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-dedup-'));
  try {
    const out = join(dir, 'merged.btf');
    const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'btfkit.cjs'), 'merge', '--dedup', '--base', basePath, ...modules.map((x) => x.path), '-o', out], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.ok(readFileSync(out).equals(Buffer.from(theirs.bytes)), 'btfkit merge --dedup differs from libbpf');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
