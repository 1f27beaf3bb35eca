/**
 * The C header dump (`btfkit dump --format c`) against bpftool v7.8's goldens, byte for byte;
 * sorted output against shuffled inputs; the emit algorithm on many generated type graphs
 * against the installed bpftool (7.1, whose unsorted output differs only where noted); single
 * declarations against the declarations inside the goldens; malformed input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { Kind } from '../src/format/kinds.js';
import { loadBtf } from '../src/btf/source.js';
import { BtfError } from '../src/errors.js';
import { ByteSink } from '../src/dump/sink.js';
import { cDeclaration, dumpC, resolveRoot, sortedTypeIds, TypeTable, type CDumpOptions } from '../src/dump/c/index.js';
import { fixture, fixtureText } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';
import { bitfield, Crafter, K } from './helpers/craft.js';
import { body71, bodyAs71, haveBpftool, referenceSortedHeader } from './helpers/cref.js';

const G618 = 'golden/running-6.18';
const G61 = 'golden/debian-6.1.0-50-cloud';
const MODULES = ['af_key', '8021q', 'nf_tables', 'xfs'];

function header(btf: Btf, opts: CDumpOptions = {}): Uint8Array {
  const sink = new ByteSink();
  dumpC(btf, sink, opts);
  return sink.toBytes();
}

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Byte equality that reports the first differing line with a little context, not megabytes. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (Buffer.compare(actual, expected) === 0) return;
  const a = latin1(actual).split('\n');
  const e = latin1(expected).split('\n');
  let i = 0;
  while (i < a.length && i < e.length && a[i] === e[i]) i++;
  const context = e.slice(Math.max(0, i - 3), i).map((l) => `    ${JSON.stringify(l)}`).join('\n');
  assert.fail(`${what}: first difference at line ${i + 1}\n  after:\n${context}\n  expected: ${JSON.stringify(e[i])}\n  actual:   ${JSON.stringify(a[i])}\n  (${actual.length} vs ${expected.length} bytes)`);
}

let vmlinux618: Btf | undefined;
const btf618 = () => (vmlinux618 ??= Btf.parse(fixture(`${G618}/vmlinux.btf.gz`)));
let base61: Btf | undefined;
const btf61 = () => (base61 ??= Btf.parse(fixture(`${G61}/vmlinux.btf.gz`)));
const module61 = (m: string) => Btf.parse(fixture(`${G61}/modules/${m}.btf.gz`), { base: btf61() });

test('6.18 vmlinux: sorted header equals bpftool v7.8 `format c`', () => {
  assertSameBytes(header(btf618()), fixture(`${G618}/vmlinux.sorted.h.gz`), 'sorted header');
});

test('6.18 vmlinux: unsorted header equals bpftool v7.8 `format c unsorted`', () => {
  assertSameBytes(header(btf618(), { sorted: false }), fixture(`${G618}/vmlinux.unsorted.h.gz`), 'unsorted header');
});

test('6.18 vmlinux: roots task_struct and sk_buff equal bpftool v7.8 `root_id 114 root_id 873`', () => {
  const btf = btf618();
  // The golden was made with these ids; make sure they still name what the file says.
  assert.equal(btf.name(114), 'task_struct');
  assert.equal(btf.name(873), 'sk_buff');
  assertSameBytes(header(btf, { roots: [114, 873] }), fixture(`${G618}/roots-task_struct-sk_buff.h.gz`), 'roots header');
});

test('Debian 6.1 base: sorted and unsorted headers equal bpftool v7.8', () => {
  assertSameBytes(header(btf61()), fixture(`${G61}/vmlinux.sorted.h.gz`), 'sorted header');
  assertSameBytes(header(btf61(), { sorted: false }), fixture(`${G61}/vmlinux.unsorted.h.gz`), 'unsorted header');
});

for (const m of MODULES) {
  test(`Debian 6.1 module ${m}, split on its base: header equals bpftool v7.8 --base-btf`, () => {
    assertSameBytes(header(module61(m)), fixture(`${G61}/modules/${m}.sorted.h.gz`), `${m} header`);
  });
}

// ---------------------------------------------------------------------------------------------
// Sorted output does not depend on type ids.

/** A tiny deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The same BTF with its own types in a random order: records are moved whole, and every type
 * reference to a moved type is rewritten to its new id (base types, for split BTF, stay put).
 * Strings and the header are unchanged.
 */
function shuffleTypes(btf: Btf, seed: number): Uint8Array {
  const first = btf.firstId;
  const n = btf.ownTypeCount;
  const order = Array.from({ length: n }, (_, i) => first + i);
  const random = prng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const newId = new Map<number, number>();
  order.forEach((old, k) => newId.set(old, first + k));
  const map = (id: number) => (id >= first ? newId.get(id)! : id);
  const out = btf.bytes.slice();
  const dv = new DataView(out.buffer);
  const le = btf.littleEndian;
  const end = btf.typeStart + btf.header.typeLen;
  let p = btf.typeStart;
  for (const old of order) {
    const src = btf.recordOffset(old);
    const len = (old + 1 < btf.endId ? btf.recordOffset(old + 1) : end) - src;
    out.set(btf.bytes.subarray(src, src + len), p);
    const get = (o: number) => dv.getUint32(p + o, le);
    const remap = (o: number) => dv.setUint32(p + o, map(get(o)), le);
    const info = get(4);
    const kind = (info >>> 24) & 0x7f;
    const vlen = info & 0xffffff;
    switch (kind) {
      case K.PTR: case K.TYPEDEF: case K.VOLATILE: case K.CONST: case K.RESTRICT: case K.FUNC:
      case K.VAR: case K.DECL_TAG: case K.TYPE_TAG:
        remap(8);
        break;
      case K.ARRAY:
        remap(12);
        remap(16);
        break;
      case K.STRUCT: case K.UNION:
        for (let i = 0; i < vlen; i++) remap(12 + i * 12 + 4);
        break;
      case K.FUNC_PROTO:
        remap(8);
        for (let i = 0; i < vlen; i++) remap(12 + i * 8 + 4);
        break;
      case K.DATASEC:
        for (let i = 0; i < vlen; i++) remap(12 + i * 12);
        break;
      default:
        break;
    }
    p += len;
  }
  return out;
}

test('sorted output is the same whatever order the types come in (6.18, shuffled)', () => {
  const shuffled = Btf.parse(shuffleTypes(btf618(), 618));
  assert.notEqual(shuffled.name(114), 'task_struct', 'the shuffle moved types');
  assertSameBytes(header(shuffled), fixture(`${G618}/vmlinux.sorted.h.gz`), 'sorted header of shuffled BTF');
});

test('sorted output is the same whatever order the types come in (Debian 6.1 base and nf_tables, shuffled)', () => {
  assertSameBytes(header(Btf.parse(shuffleTypes(btf61(), 61))), fixture(`${G61}/vmlinux.sorted.h.gz`), 'shuffled base');
  const shuffledModule = Btf.parse(shuffleTypes(module61('nf_tables'), 7), { base: btf61() });
  assertSameBytes(header(shuffledModule), fixture(`${G61}/modules/nf_tables.sorted.h.gz`), 'shuffled module');
});

test('ties bpftool breaks by type id: same-named records whose members have the same names', () => {
  // Two `struct foo` differing only in size tie on rank, names and hash (the hash covers
  // names, not sizes or offsets), so bpftool orders them by id: the lower id is written first
  // and keeps the name, the other becomes foo___2. Shuffling ids swaps them; docs/C-HEADER.md
  // lists this among the ties.
  for (const smallFirst of [true, false]) {
    const c = new Crafter();
    const int = c.int('int', 4, 32, 1);
    const small = () => c.struct('foo', 4, [{ name: 'a', type: int, offset: 0 }]);
    const big = () => c.struct('foo', 8, [{ name: 'a', type: int, offset: 0 }]);
    if (smallFirst) { small(); big(); } else { big(); small(); }
    const text = latin1(header(Btf.parse(c.build().bytes)));
    const plain = text.slice(text.indexOf('struct foo {'), text.indexOf('};', text.indexOf('struct foo {')));
    const sizedAsEight = plain.includes('long: 0;');
    assert.equal(sizedAsEight, !smallFirst, 'the first type by id keeps the plain name');
    assert.ok(text.includes('struct foo___2 {'));
  }
});

test('sorted dump leaves out the type that sorts first (bpftool starts at its second entry)', () => {
  // bpftool sorts ids 0..n-1 (void included) and then dumps entries 1..n-1 of the sorted list,
  // as if entry 0 were void. An unreferenced anonymous enum sorts first (rank 0) by its first
  // enumerator, so the one starting with A_Y is never written; the unsorted dump has both.
  const c = new Crafter();
  c.enum(undefined, 4, [{ name: 'B_X', value: 1 }]);
  c.enum(undefined, 4, [{ name: 'A_Y', value: 2 }]);
  const btf = Btf.parse(c.build().bytes);
  const sorted = latin1(header(btf));
  const unsorted = latin1(header(btf, { sorted: false }));
  assert.ok(sorted.includes('B_X = 1,') && !sorted.includes('A_Y'));
  assert.ok(unsorted.includes('B_X = 1,') && unsorted.includes('A_Y = 2,'));
});

test('sortedTypeIds lists every id once, void included', () => {
  const c = new Crafter();
  const int = c.int('int', 4, 32, 1);
  c.ptr(int);
  c.struct('s', 4, [{ name: 'x', type: int, offset: 0 }]);
  const ids = sortedTypeIds(new TypeTable(Btf.parse(c.build().bytes)));
  assert.deepEqual([...ids].sort((a, b) => a - b), [0, 1, 2, 3]);
  // int (rank 2) before the named struct (rank 3) before the pointer and void (rank 10).
  assert.deepEqual([...ids], [1, 3, 0, 2]);
});

test('sorted dumps that skip hashing equal dumping bpftool\'s full sorted order type by type (tie-heavy graphs)', () => {
  // bpftool's loop: every id in the fully sorted order (hash and id breaking all ties), from the
  // second entry on, then the kfuncs. dumpC hashes only the runs whose order can show; the
  // result must be the same.
  let reorderedRuns = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const btf = Btf.parse(tieHeavyBtf(seed));
    const reference = referenceSortedHeader(btf);
    const fast = header(btf);
    assert.equal(latin1(fast), latin1(reference), `seed ${seed}`);
    if (latin1(fast).includes('struct f')) reorderedRuns++;
  }
  assert.ok(reorderedRuns > 50, `${reorderedRuns} of 300 graphs write forward declarations`);
});

/**
 * Many anonymous pointers, qualifiers, prototypes, arrays and anonymous structs (all tied at
 * rank 10 with empty names) leading to a few forward declarations, enums, typedefs and structs.
 */
function tieHeavyBtf(seed: number): Uint8Array {
  const random = prng(seed);
  const below = (n: number) => Math.floor(random() * n);
  const pick = <T>(a: readonly T[]): T => a[below(a.length)]!;
  const c = new Crafter();
  const int = c.int('int', 4, 32, 1);
  c.int('long int', 8, 64, 1);
  const nodes = [int];
  for (let i = below(5) + 1; i > 0; i--) {
    switch (below(4)) {
      case 0: nodes.push(c.fwd(pick(['fa', 'fb', 'fc']), random() < 0.5)); break;
      case 1: nodes.push(c.enum(random() < 0.5 ? undefined : pick(['ea', 'eb']), 4, [{ name: pick(['X', 'Y']), value: below(5) }])); break;
      case 2: nodes.push(c.typedef(pick(['ta', 'tb']), random() < 0.5 ? int : c.ptr(0))); break;
      default: nodes.push(c.struct(pick(['sa', 'sb']), 4, [{ name: 'm', type: int, offset: 0 }])); break;
    }
  }
  for (let i = 5 + below(25); i > 0; i--) {
    const ref = () => pick(nodes);
    switch (below(6)) {
      case 0: case 1: nodes.push(c.ptr(ref())); break;
      case 2: nodes.push(c.const(ref())); break;
      case 3: nodes.push(c.proto(ref(), Array.from({ length: below(3) }, () => ({ type: ref() })))); break;
      case 4: nodes.push(c.struct(undefined, 8, [{ name: 'p', type: c.ptr(ref()), offset: 0 }])); break;
      default: nodes.push(c.array(ref(), int, 2)); break;
    }
  }
  return c.build().bytes;
}

// ---------------------------------------------------------------------------------------------
// The emit algorithm against the installed bpftool on generated type graphs.

/**
 * A random type graph: integers, pointers, arrays, structs and unions with arbitrary member
 * offsets and bitfields (so padding and packing come up), enums of every size, typedefs
 * (including names btf_dump treats specially), qualifiers, prototypes, forward declarations and
 * type tags. References mostly point backwards, sometimes forwards, so cycles through records
 * and typedefs occur.
 */
function randomBtf(seed: number): Uint8Array {
  const random = prng(seed);
  const below = (n: number) => Math.floor(random() * n);
  const pick = <T>(a: readonly T[]): T => a[below(a.length)]!;
  const names = ['foo', 'bar', 'baz', 'a', 'b', 'x', 'u32', 'long', '__builtin_va_list', '__gnuc_va_list', 'foo'.repeat(90)];
  const c = new Crafter();
  c.int('int', 4, 32, 1);
  c.int('char', 1, 8, 2);
  c.int('long int', 8, 64, 1);
  const total = 3 + 8 + below(20);
  const ref = () => (random() < 0.1 ? below(total + 1) : below(c.nextId));
  const maybeName = () => (random() < 0.3 ? undefined : pick(names));
  while (c.nextId <= total) {
    switch (below(15)) {
      case 0: case 1: c.ptr(ref()); break;
      case 2: c.array(ref(), 1, below(4)); break;
      case 3: case 4: {
        const members = [];
        const withBitfields = random() < 0.4;
        let off = 0;
        for (let j = below(5); j > 0; j--) {
          const bits = withBitfields && random() < 0.5 ? 1 + below(12) : 0;
          off += below(3) * 8 * (1 + below(4)) + (bits ? below(8) : 0);
          members.push({ name: random() < 0.2 ? undefined : pick(['a', 'b', 'c', 'x']), type: ref(), offset: withBitfields ? bitfield(off, bits) : off });
          off += bits || 8 * (1 + below(8));
        }
        const size = Math.ceil(off / 8) + below(9);
        if (random() < 0.5) c.struct(maybeName(), size, members, withBitfields);
        else c.union(maybeName(), size, members, withBitfields);
        break;
      }
      case 5: c.enum(maybeName(), pick([1, 2, 4, 8]), Array.from({ length: below(4) }, () => ({ name: pick(['V1', 'V2', 'foo', 'a']), value: below(1000) - 500 })), random() < 0.5); break;
      case 6: c.enum64(maybeName(), pick([4, 8]), Array.from({ length: below(4) }, () => ({ name: pick(['W1', 'W2', 'foo']), value: BigInt(below(1000)) << BigInt(below(40)) })), random() < 0.5); break;
      case 7: c.fwd(pick(names), random() < 0.5); break;
      case 8: case 9: c.typedef(pick(names), ref()); break;
      case 10: c.const(ref()); break;
      case 11: c.volatile(ref()); break;
      case 12: c.proto(ref(), Array.from({ length: below(4) }, (_, j) => ({ name: random() < 0.5 ? `p${j}` : undefined, type: ref() }))); break;
      case 13: c.typeTag(pick(['user', 'rcu']), ref()); break;
      default: c.float('double', 8); break;
    }
  }
  return c.build().bytes;
}

test('generated type graphs: unsorted headers match the installed bpftool (7.1) where it has no newer features', (t) => {
  if (!haveBpftool()) return loudSkip(t, 'bpftool is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-cdump-'));
  try {
    let compared = 0;
    let refused = 0;
    /** Graphs btfkit refuses with a typed error where bpftool dies on a signal. */
    const bpftoolKilled: string[] = [];
    for (let seed = 1; seed <= 150; seed++) {
      const bytes = randomBtf(seed);
      const file = join(dir, `g${seed}.btf`);
      writeFileSync(file, bytes);
      let ours: string | undefined;
      let error: unknown;
      try {
        ours = latin1(header(Btf.parse(bytes), { sorted: false }));
      } catch (e) {
        error = e;
      }
      if (error !== undefined) {
        assert.ok(error instanceof BtfError, `seed ${seed}: ${String(error)}`);
        refused++;
        // A cycle of pointers, qualifiers and typedefs alone sends libbpf into endless
        // recursion; bpftool is not asked about those.
        if (error.code === 'type-loop' && /refers back to itself/.test(error.message)) continue;
      }
      const ref = spawnSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'c'], { encoding: 'latin1', timeout: 20000, maxBuffer: 1 << 26 });
      if (error !== undefined) {
        assert.notEqual(ref.status, 0, `seed ${seed}: we refused (${String(error)}) but bpftool wrote a header`);
        if (ref.signal) bpftoolKilled.push(`seed ${seed}: bpftool ${ref.signal}, btfkit ${String(error)}`);
        continue;
      }
      assert.equal(ref.status, 0, `seed ${seed}: bpftool failed: ${ref.stderr}`);
      assert.equal(bodyAs71(ours!), body71(ref.stdout), `seed ${seed}`);
      compared++;
    }
    assert.ok(compared > 100, `compared ${compared} headers (${refused} refused)`);
    t.diagnostic(`compared ${compared}, refused ${refused}; bpftool killed by a signal on ${bpftoolKilled.length}${bpftoolKilled.length ? `: ${bpftoolKilled.join('; ')}` : ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BPF objects from clang 14 and 19, both byte orders: headers match the installed bpftool (7.1)', (t) => {
  if (!haveBpftool()) return loudSkip(t, 'bpftool is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-cdump-'));
  try {
    for (const name of ['types', 'core', 'maps_globals']) {
      for (const variant of ['clang14.bpfel', 'clang19.bpfel', 'clang14.bpfeb', 'clang19.bpfeb']) {
        const rel = `bpf/${name}.${variant}.o.gz`;
        const bytes = fixture(rel);
        const file = join(dir, `${name}.${variant}.o`);
        writeFileSync(file, bytes);
        const ours = latin1(header(loadBtf(bytes), { sorted: false }));
        const ref = spawnSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'c'], { encoding: 'latin1', maxBuffer: 1 << 26 });
        assert.equal(ref.status, 0, `${rel}: ${ref.stderr}`);
        // Type tags with kind_flag (`__attribute__((...))` rather than btf_type_tag) are newer
        // than libbpf 1.1; these objects have none.
        assert.equal(bodyAs71(ours), body71(ref.stdout), rel);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// What bpftool 7.1 predates, checked against libbpf's documented rules.

test('enum sizes C cannot infer get mode attributes; 64-bit values keep their width', () => {
  const c = new Crafter();
  c.enum('one', 1, [{ name: 'ONE_A', value: 1 }]);
  c.enum('word', 8, [{ name: 'WORD_A', value: 1 }]);
  c.enum64('wide_small', 8, [{ name: 'WS_A', value: 7n }]);
  c.enum64('wide_big', 8, [{ name: 'WB_A', value: 1n << 40n }, { name: 'WB_B', value: -1n }], true);
  c.enum64('wide_unsigned', 8, [{ name: 'WU_A', value: (1n << 64n) - 1n }]);
  c.enum('neg', 4, [{ name: 'NEG_A', value: -5 }], true);
  c.enum('pos', 4, [{ name: 'POS_A', value: 0xfffffffb }]);
  c.int('long int', 8, 64, 1);
  const text = latin1(header(Btf.parse(c.build().bytes), { sorted: false }));
  assert.match(text, /enum one \{\n\tONE_A = 1,\n\} __attribute__\(\(mode\(byte\)\)\);/);
  assert.match(text, /enum word \{\n\tWORD_A = 1,\n\} __attribute__\(\(mode\(word\)\)\);/);
  assert.match(text, /enum wide_small \{\n\tWS_A = 7ULL,\n\} __attribute__\(\(mode\(word\)\)\);/);
  assert.match(text, /enum wide_big \{\n\tWB_A = 1099511627776LL,\n\tWB_B = -1LL,\n\};/);
  assert.match(text, /enum wide_unsigned \{\n\tWU_A = 18446744073709551615ULL,\n\};/);
  assert.match(text, /NEG_A = -5,/);
  assert.match(text, /POS_A = 4294967291,/);
});

test('type tags: btf_type_tag, or the attribute itself when kind_flag is set', () => {
  const c = new Crafter();
  const int = c.int('int', 4, 32, 1);
  const user = c.typeTag('user', int);
  const aligned = c.typeTag('aligned(8)', int, true);
  c.struct('tagged', 16, [{ name: 'u', type: c.ptr(user), offset: 0 }, { name: 'v', type: c.ptr(aligned), offset: 64 }]);
  const text = latin1(header(Btf.parse(c.build().bytes), { sorted: false }));
  assert.ok(text.includes('\tint __attribute__((btf_type_tag("user"))) *u;\n'), text);
  assert.ok(text.includes('\tint __attribute__((aligned(8))) *v;\n'), text);
});

test('kfunc prototypes: functions tagged bpf_kfunc, by name, behind BPF_NO_KFUNC_PROTOTYPES', () => {
  const c = new Crafter();
  const int = c.int('int', 4, 32, 1);
  const proto = c.proto(int, [{ name: 'x', type: int }]);
  const zeta = c.func('bpf_zeta', proto, 1);
  const alpha = c.func('bpf_alpha', proto, 1);
  const plain = c.func('not_a_kfunc', proto, 1);
  c.declTag('bpf_kfunc', zeta);
  c.declTag('bpf_kfunc', alpha);
  c.declTag('bpf_fastcall', alpha);
  c.declTag('bpf_kfunc', plain, 0);
  c.declTag('bpf_kfunc_not', plain);
  const text = latin1(header(Btf.parse(c.build().bytes)));
  const section = text.slice(text.indexOf('/* BPF kfuncs */'));
  assert.ok(section.startsWith('/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n'
    + 'extern __bpf_fastcall int bpf_alpha(int x) __weak __ksym;\n'
    + 'extern int bpf_zeta(int x) __weak __ksym;\n'
    + '#endif\n\n'), section);
  // Roots leave the section out, as bpftool does with root_id.
  assert.ok(!latin1(header(Btf.parse(c.build().bytes), { roots: [int] })).includes('BPF kfuncs'));
});

test('GCC Arm SIMD base types get the aliases clang needs', () => {
  // Integers are written (here: aliased) when a definition being written uses them.
  const c = new Crafter();
  const p8 = c.int('__Poly8_t', 1, 8, 0);
  const p64 = c.int('__Poly64_t', 8, 64, 0);
  c.struct('simd', 16, [{ name: 'a', type: p8, offset: 0 }, { name: 'b', type: p64, offset: 64 }]);
  const text = latin1(header(Btf.parse(c.build().bytes), { sorted: false }));
  assert.ok(text.includes('typedef unsigned char __Poly8_t;\n\ntypedef unsigned long long __Poly64_t;\n\nstruct simd {\n\t__Poly8_t a;\n\t__Poly64_t b;\n};'), text);
});

// ---------------------------------------------------------------------------------------------
// Single declarations.

test('cDeclaration writes C declarators: arrays of pointers, pointers to functions, qualifiers', () => {
  const c = new Crafter();
  const int = c.int('int', 4, 32, 1);
  const fwd = c.fwd('foo');
  const arr = c.array(c.ptr(fwd), int, 4);
  const voidPtr = c.ptr(0);
  const cb = c.ptr(c.proto(int, [{ name: 'arg', type: voidPtr }]));
  const constChar = c.ptr(c.const(c.int('char', 1, 8, 2)));
  const ptrToArray = c.ptr(c.array(int, int, 3));
  const noArgs = c.proto(c.ptr(int), []);
  const matrix = c.array(c.array(int, int, 3), int, 2);
  const variadic = c.proto(int, [{ name: 'fmt', type: constChar }, { type: 0 }]);
  const btf = Btf.parse(c.build().bytes);
  assert.equal(cDeclaration(btf, arr, 'bar'), 'struct foo *bar[4]');
  assert.equal(cDeclaration(btf, cb, 'cb'), 'int (*cb)(void *arg)');
  assert.equal(cDeclaration(btf, constChar), 'const char *');
  assert.equal(cDeclaration(btf, ptrToArray, 'p'), 'int (*p)[3]');
  assert.equal(cDeclaration(btf, noArgs, 'f'), 'int *f(void)');
  assert.equal(cDeclaration(btf, matrix, 'm'), 'int m[2][3]');
  assert.equal(cDeclaration(btf, variadic, 'printk'), 'int printk(const char *fmt, ...)');
  assert.equal(cDeclaration(btf, 0, 'v'), 'void v');
  assert.throws(() => cDeclaration(btf, 999), (e: unknown) => e instanceof BtfError && e.code === 'bad-type-id');
});

/** The member lines of `struct name { ... }` in a header, one string per member, outer tab removed. */
function memberLines(text: string, keyword: string, name: string): string[] {
  const start = text.indexOf(`\n${keyword} ${name} {\n`);
  assert.ok(start >= 0, `${keyword} ${name} in the golden`);
  const end = text.indexOf('\n};\n', start);
  return text.slice(text.indexOf('{\n', start) + 2, end).split('\n');
}

test('cDeclaration agrees with every one-line member declaration of big 6.18 structs in the golden', () => {
  const btf = btf618();
  const golden = fixtureText(`${G618}/vmlinux.sorted.h.gz`);
  let checked = 0;
  for (const name of ['task_struct', 'sk_buff', 'file_operations', 'inode', 'bpf_prog_aux', 'net_device', 'super_block']) {
    const ids = btf.find(name, Kind.Struct);
    assert.equal(ids.length, 1);
    const type = btf.type(ids[0]!);
    assert.ok(type.kind === Kind.Struct);
    const lines = memberLines(golden, 'struct', name);
    let li = 0;
    for (const m of type.members) {
      while (/^\t(long|int|short|char): \d+;$/.test(lines[li]!)) li++;
      const line = lines[li++]!;
      // An anonymous record written inline spans lines up to its closing brace.
      if (line.endsWith('{')) {
        while (!lines[li]!.startsWith('\t}')) li++;
        li++;
        continue;
      }
      // Renamed types (___N) depend on the whole dump; a lone declaration starts afresh.
      if (line.includes('___')) continue;
      const expected = line.slice(1, -1);
      const actual = cDeclaration(btf, m.type, m.name) + (m.bitfieldSize ? `: ${m.bitfieldSize}` : '');
      assert.equal(actual, expected, `${name}.${m.name}`);
      checked++;
    }
  }
  assert.ok(checked > 500, `checked ${checked} members`);
});

test('resolveRoot takes ids, names and C-keyword names, and refuses ambiguous ones', () => {
  const btf = btf618();
  assert.equal(resolveRoot(btf, '114'), 114);
  assert.equal(resolveRoot(btf, '0x72'), 114);
  assert.equal(resolveRoot(btf, 'task_struct'), 114);
  assert.equal(resolveRoot(btf, 'struct sk_buff'), 873);
  assert.equal(btf.name(resolveRoot(btf, 'union bpf_attr')), 'bpf_attr');
  assert.equal(btf.kind(resolveRoot(btf, 'typedef u64')), Kind.Typedef);
  assert.throws(() => resolveRoot(btf, 'struct no_such_type_here'), (e: unknown) => e instanceof BtfError && e.code === 'not-found');
  assert.throws(() => resolveRoot(btf, '99999999'), (e: unknown) => e instanceof BtfError && e.code === 'bad-type-id');
  // A name two definitions share (crafted: a struct and a typedef both called foo).
  const c = new Crafter();
  const int = c.int('int', 4, 32, 1);
  const s = c.struct('foo', 4, [{ name: 'a', type: int, offset: 0 }]);
  const td = c.typedef('foo', s);
  const crafted = Btf.parse(c.build().bytes);
  assert.throws(() => resolveRoot(crafted, 'foo'), (e: unknown) => e instanceof BtfError && e.code === 'ambiguous' && /names 2 types/.test(e.message));
  assert.equal(resolveRoot(crafted, 'struct foo'), s);
  assert.equal(resolveRoot(crafted, 'typedef foo'), td);
});

// ---------------------------------------------------------------------------------------------
// Malformed input.

function dumpError(bytes: Uint8Array, opts: CDumpOptions = {}): BtfError {
  try {
    header(Btf.parse(bytes), opts);
  } catch (e) {
    assert.ok(e instanceof BtfError, `expected a BtfError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the dump to fail');
}

test('malformed input ends in a typed error naming the type', () => {
  {
    const c = new Crafter();
    c.ptr(5);
    const e = dumpError(c.build().bytes);
    assert.equal(e.code, 'bad-type-id');
    assert.equal(e.typeId, 1);
  }
  {
    const c = new Crafter();
    const int = c.int('int', 4, 32, 1);
    c.struct('s', 4, [{ name: { off: 1 << 20 }, type: int, offset: 0 }]);
    const e = dumpError(c.build().bytes);
    assert.equal(e.code, 'bad-string-offset');
    assert.equal(e.member, 0);
  }
  {
    // A pointer that points at itself through a const: no C type, endless recursion in libbpf.
    const c = new Crafter();
    c.ptr(2);
    c.const(1);
    assert.equal(dumpError(c.build().bytes).code, 'type-loop');
  }
  {
    // Members without alignment (a bitfield typed as a forward declaration): bpftool 7.1 dies of
    // SIGFPE on such graphs. A member that needs padding before it is named by index; padding
    // after the last member belongs to the struct.
    const c = new Crafter();
    const fwd = c.fwd('f', false);
    const int = c.int('int', 4, 32, 1);
    c.struct('tail', 2, [{ name: 'a', type: fwd, offset: bitfield(0, 3) }], true);
    c.struct('inner', 4, [{ name: 'a', type: int, offset: bitfield(0, 3) }, { name: 'b', type: fwd, offset: 16 }], true);
    const tail = dumpError(c.build().bytes, { roots: [3] });
    assert.equal(tail.code, 'bad-member');
    assert.equal(tail.typeId, 3);
    assert.equal(tail.member, undefined);
    assert.match(tail.message, /tail padding/);
    const inner = dumpError(c.build().bytes, { roots: [4] });
    assert.equal(inner.code, 'bad-member');
    assert.equal(inner.typeId, 4);
    assert.equal(inner.member, 1);
  }
  {
    // A struct that embeds itself.
    const c = new Crafter();
    c.struct('s', 4, [{ name: 'self', type: 1, offset: 0 }]);
    assert.equal(dumpError(c.build().bytes, { sorted: false }).code, 'type-loop');
  }
  {
    // An anonymous struct pointing at itself cannot be forward-declared (libbpf: unsatisfiable cycle).
    const c = new Crafter();
    c.struct(undefined, 8, [{ name: 'next', type: 2, offset: 0 }]);
    c.ptr(1);
    c.struct('outer', 8, [{ name: 'inner', type: 1, offset: 0 }]);
    assert.equal(dumpError(c.build().bytes).code, 'type-loop');
  }
  {
    // Kind 0 in the middle of the types: btf_dump refuses kinds it cannot write.
    const c = new Crafter();
    c.int('int', 4, 32, 1);
    c.type(0, undefined, 0, false, 0);
    assert.equal(dumpError(c.build().bytes).code, 'bad-kind');
  }
  {
    // A function typed by something other than a prototype.
    const c = new Crafter();
    const int = c.int('int', 4, 32, 1);
    c.func('f', int);
    assert.equal(dumpError(c.build().bytes).code, 'bad-func');
  }
  {
    const c = new Crafter();
    c.int('int', 4, 32, 1);
    assert.equal(dumpError(c.build().bytes, { roots: [7] }).code, 'bad-type-id');
  }
});

test('types nested to an exponential size end in an error, not a hang', () => {
  // Each anonymous struct holds two of the one before: 2^40 copies to visit and write inline.
  {
    const c = new Crafter();
    let inner = c.struct(undefined, 4, [{ name: 'x', type: c.int('int', 4, 32, 1), offset: 0 }]);
    for (let i = 0; i < 40; i++) {
      inner = c.struct(undefined, 8, [{ name: 'a', type: inner, offset: 0 }, { name: 'b', type: inner, offset: 32 }]);
    }
    c.struct('top', 8, [{ name: 't', type: inner, offset: 0 }]);
    const e = dumpError(c.build().bytes);
    assert.equal(e.code, 'limit');
    assert.match(e.message, /without end|would exceed/);
  }
  // The same with prototypes taking two of the previous one, declared through one typedef.
  {
    const c = new Crafter();
    let proto = c.proto(c.int('int', 4, 32, 1), []);
    for (let i = 0; i < 40; i++) proto = c.proto(proto, [{ name: 'a', type: proto }, { name: 'b', type: proto }]);
    c.typedef('fn_t', c.ptr(proto));
    const e = dumpError(c.build().bytes, { sorted: false });
    assert.equal(e.code, 'limit');
    const d = (() => {
      try {
        cDeclaration(Btf.parse(c.build().bytes), proto, 'f');
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    assert.ok(d instanceof BtfError && d.code === 'limit', String(d));
  }
});

test('a chain of 50,000 qualifiers is written, sorted or not (docs/C-HEADER.md says so)', () => {
  // libbpf writes the qualifiers of the base type before it, one `const ` per level; its size
  // lookup gives up after 32 levels, so the member counts as sizeless and padding fills the
  // struct (bpftool 7.1 writes exactly this, in about 6 s).
  const c = new Crafter();
  let t = c.int('int', 4, 32, 1);
  for (let i = 0; i < 50000; i++) t = c.const(t);
  c.struct('s', 4, [{ name: 'x', type: t, offset: 0 }]);
  const btf = Btf.parse(c.build().bytes);
  const unsorted = latin1(header(btf, { sorted: false }));
  assert.ok(unsorted.includes(`struct s {\n\t${'const '.repeat(50000)}int x;\n\tint: 32;\n};`));
  assert.equal(latin1(header(btf)), unsorted);
});
