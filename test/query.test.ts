/**
 * The query module (src/btf/query.ts) against libbpf itself: pointer size as
 * `determine_ptr_size` finds it, `btf__resolve_size` and `btf__align_of` on every type of real
 * kernels, through `Btf` and the C dump; essential names as `bpf_core_essential_name_len`.
 * libbpf answers through test/helpers/btf_query.c, built against the installed libbpf.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfError } from '../src/errors.js';
import { essentialName, essentialNameLength, sizeOfOrFailure } from '../src/btf/query.js';
import { cHeader, TypeTable } from '../src/dump/c/index.js';
import { CContext, CText } from '../src/dump/c/context.js';
import { alignOf as columnAlignOf, resolvedSize as columnSizeOf } from '../src/dump/c/records.js';
import { ByteSink } from '../src/dump/sink.js';
import { assemble, info, strOff } from './helpers/assemble.js';
import { K } from './helpers/craft.js';
import { body71, bodyAs71, haveBpftool } from './helpers/cref.js';
import { libbpfAnswers, type LibbpfAnswers } from './helpers/libbpf.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const int = (bits: number, signed = true) => ((signed ? 1 << 24 : 0) | bits) >>> 0;

/**
 * `longs` as INTs (name and size, in id order), then `char`, `void *` and
 * `struct s { char c; void *p; }` laid out for 4-byte pointers: `p` at byte 4, 8 bytes in all.
 */
function withLongs(longs: readonly (readonly [string, number])[]): { bytes: Uint8Array; ptr: number; struct: number } {
  const strings = [...longs.map(([name]) => name), 'char', 's', 'c', 'p'];
  const at = (name: string) => strOff(strings, strings.indexOf(name));
  const words: number[] = [];
  for (const [name, size] of longs) words.push(at(name), info(K.INT), size, int(size * 8));
  const char = longs.length + 1;
  const ptr = char + 1;
  const struct = ptr + 1;
  words.push(at('char'), info(K.INT), 1, int(8));
  words.push(0, info(K.PTR), 0);
  words.push(at('s'), info(K.STRUCT, 2), 8, at('c'), char, 0, at('p'), ptr, 32);
  return { bytes: assemble({ words, strings }), ptr, struct };
}

/** Every id's size and alignment, btfkit's answer in libbpf's terms (errors as libbpf reports them: no size < 0, no alignment 0). */
function answersOf(btf: Btf): { sizes: number[]; aligns: number[] } {
  const sizes: number[] = [];
  const aligns: number[] = [];
  for (let id = 1; id < btf.endId; id++) {
    try {
      sizes[id] = btf.sizeof(id);
    } catch (e) {
      if (!(e instanceof BtfError)) throw e;
      sizes[id] = -1;
    }
    try {
      aligns[id] = btf.alignof(id);
    } catch (e) {
      if (!(e instanceof BtfError)) throw e;
      aligns[id] = 0;
    }
  }
  return { sizes, aligns };
}

/** Compares btfkit with libbpf on every id; a failure names the first ids that differ. */
function assertAgrees(btf: Btf, oracle: LibbpfAnswers, what: string): void {
  const ours = answersOf(btf);
  assert.equal(oracle.sizes.length, btf.endId, `${what}: libbpf and btfkit see the same number of types`);
  const bad: string[] = [];
  for (let id = 1; id < btf.endId && bad.length < 10; id++) {
    const libbpfSize = oracle.sizes[id]! < 0 ? -1 : oracle.sizes[id]!;
    if (ours.sizes[id] !== libbpfSize || ours.aligns[id] !== oracle.aligns[id]) {
      bad.push(`[${id}] size ${ours.sizes[id]} vs libbpf ${oracle.sizes[id]}, align ${ours.aligns[id]} vs libbpf ${oracle.aligns[id]}`);
    }
  }
  assert.deepEqual(bad, [], `${what}: sizes and alignments that differ from libbpf's`);
}

function oracleOr(t: TestContext, bytes: Uint8Array, base?: Uint8Array): LibbpfAnswers | undefined {
  const answers = libbpfAnswers(bytes, base);
  if ('skipped' in answers) {
    loudSkip(t, answers.skipped);
    return undefined;
  }
  return answers;
}

test('two longs of different sizes: pointer size, sizeof, alignof and the C header all take the first in id order, as libbpf', (t) => {
  // `long` (4 bytes, id 1) before `long int` (8 bytes, id 2): libbpf's determine_ptr_size takes
  // the first INT spelled as a long, in id order, so pointers are 4 bytes.
  const { bytes, ptr, struct } = withLongs([['long', 4], ['long int', 8]]);
  const btf = Btf.parse(bytes);
  assert.equal(btf.pointerSize, 4);
  assert.equal(btf.sizeof(ptr), 4);
  assert.equal(btf.alignof(ptr), 4);
  assert.equal(btf.alignof(struct), 4);
  assert.equal(btf.sizeof(struct), 8);
  // With 4-byte pointers `p` at byte 4 is where C puts it: no padding and no packing. (With
  // 8-byte pointers it would be misaligned, and the struct written as packed.)
  const header = cHeader(btf, { sorted: false });
  assert.ok(header.includes('struct s {\n\tchar c;\n\tvoid *p;\n};\n'), header);
  assert.ok(!header.includes('packed'), header);

  const oracle = oracleOr(t, bytes);
  if (!oracle) return;
  assert.equal(oracle.pointerSize, 4, 'libbpf: btf__pointer_size');
  assertAgrees(btf, oracle, 'two longs');
  if (!haveBpftool()) return loudSkip(t, 'bpftool is not installed: the header is checked against libbpf\'s sizes only');
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-query-'));
  try {
    const file = join(dir, 'longs.btf');
    writeFileSync(file, bytes);
    const run = spawnSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'c'], { encoding: 'latin1' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(bodyAs71(header), body71(run.stdout), 'the header equals what bpftool (libbpf\'s btf_dump) writes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pointer size: only 4- and 8-byte INTs spelled as a long count; none means 8, as libbpf sizes pointers then', (t) => {
  const cases: { longs: [string, number][]; want: number; libbpf: number }[] = [
    { longs: [['long int', 8], ['long', 4]], want: 8, libbpf: 8 },
    // A 2-byte `long` tells nothing; neither does a name that is not one of libbpf's spellings.
    { longs: [['long', 2], ['long long', 4], ['int unsigned long', 4]], want: 4, libbpf: 4 },
    { longs: [['unsigned int long', 8]], want: 8, libbpf: 8 },
    { longs: [['long unsigned', 4]], want: 4, libbpf: 4 },
    { longs: [['int', 4]], want: 8, libbpf: 0 },
  ];
  for (const c of cases) {
    const { bytes } = withLongs(c.longs);
    const btf = Btf.parse(bytes);
    assert.equal(btf.pointerSize, c.want, JSON.stringify(c.longs));
    const oracle = oracleOr(t, bytes);
    if (!oracle) return;
    assert.equal(oracle.pointerSize, c.libbpf, `libbpf on ${JSON.stringify(c.longs)}`);
    assertAgrees(btf, oracle, JSON.stringify(c.longs));
  }
});

test('split BTF takes its base\'s pointer size first, then its own long', () => {
  const base = Btf.parse(withLongs([['long int', 8]]).bytes);
  const baseless = Btf.parse(withLongs([['int', 4]]).bytes);
  const S = ['long'];
  // Split string offsets continue the base's.
  const split = (on: Btf) => Btf.parse(assemble({ words: [on.endStringOffset + strOff(S, 0), info(K.INT), 4, int(32)], strings: S }), { base: on });
  assert.equal(split(base).pointerSize, 8);
  assert.equal(split(baseless).pointerSize, 4);
  assert.equal(baseless.pointerSize, 8);
});

test('6.18 vmlinux: sizeof and alignof equal libbpf\'s btf__resolve_size and btf__align_of on every type', (t) => {
  const bytes = fixture('golden/running-6.18/vmlinux.btf.gz');
  const oracle = oracleOr(t, bytes);
  if (!oracle) return;
  const btf = Btf.parse(bytes);
  assert.equal(btf.pointerSize, oracle.pointerSize);
  assertAgrees(btf, oracle, '6.18 vmlinux');
});

test('Debian 6.1: sizeof and alignof equal libbpf\'s on every type of the base and of modules split on it', (t) => {
  const baseBytes = fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz');
  const base = Btf.parse(baseBytes);
  const oracle = oracleOr(t, baseBytes);
  if (!oracle) return;
  assertAgrees(base, oracle, 'Debian 6.1 vmlinux');
  for (const m of ['af_key', 'xfs']) {
    const bytes = fixture(`golden/debian-6.1.0-50-cloud/modules/${m}.btf.gz`);
    const mod = Btf.parse(bytes, { base });
    const answers = oracleOr(t, bytes, baseBytes);
    if (!answers) return;
    assert.equal(mod.pointerSize, answers.pointerSize, m);
    assertAgrees(mod, answers, `Debian 6.1 ${m}`);
  }
});

test('alignof works out records nested deeper than any walk limit, as libbpf does, and refuses records that contain themselves', (t) => {
  // int; then 2,000 structs, each holding the one before (struct s1 { int a; }, struct s2 { struct s1 a; }...).
  const S = ['int', 'a'];
  const words = [strOff(S, 0), info(K.INT), 4, int(32)];
  const depth = 2000;
  for (let k = 0; k < depth; k++) words.push(0, info(K.STRUCT, 1), 4, strOff(S, 1), k + 1, 0);
  const bytes = assemble({ words, strings: S });
  const btf = Btf.parse(bytes);
  const outer = depth + 1;
  assert.equal(btf.alignof(outer), 4);
  assert.equal(btf.sizeof(outer), 4);
  const oracle = oracleOr(t, bytes);
  if (oracle) assertAgrees(btf, oracle, `${depth} nested structs`);

  // struct s { struct s a; } and typedef t t: libbpf would recurse for ever.
  const loops = Btf.parse(assemble({ words: [0, info(K.STRUCT, 1), 4, strOff(S, 1), 1, 0, strOff(S, 0), info(K.TYPEDEF), 2], strings: S }));
  for (const id of [1, 2]) {
    assert.throws(() => loops.alignof(id), (e: unknown) => e instanceof BtfError && e.code === 'type-loop', `[${id}]`);
    assert.throws(() => loops.alignof(id), (e: unknown) => e instanceof BtfError && e.code === 'type-loop', `[${id}] asked again`);
  }
});

test('a zero-sized INT has alignment 0, libbpf\'s "none", and so has a record holding one', (t) => {
  const S = ['z', 's', 'a'];
  const words = [
    strOff(S, 0), info(K.INT), 0, 0, // [1] a 0-byte INT
    strOff(S, 1), info(K.STRUCT, 1), 4, strOff(S, 2), 1, 0, // [2] struct s { z a; }
    0, info(K.ARRAY), 0, 2, 1, 3, // [3] struct s[3]
  ];
  const bytes = assemble({ words, strings: S });
  const btf = Btf.parse(bytes);
  assert.deepEqual([1, 2, 3].map((id) => btf.alignof(id)), [0, 0, 0]);
  const oracle = oracleOr(t, bytes);
  if (oracle) assertAgrees(btf, oracle, 'zero-sized INT');
});

/**
 * The C dump sizes and aligns from its own typed-array columns (src/dump/c/records.ts), for
 * speed; on every type they must give the query module's answers (which the tests above hold to
 * libbpf's): no size or no alignment is 0 there.
 */
function assertColumnsAgree(btf: Btf, what: string): void {
  const ctx = new CContext(new TypeTable(btf), new CText(new ByteSink(), 1 << 30));
  assert.equal(ctx.ptrSize, btf.pointerSize, `${what}: pointer size`);
  const bad: string[] = [];
  for (let id = 1; id < btf.endId && bad.length < 10; id++) {
    const size = Math.max(0, sizeOfOrFailure(btf, id));
    let align: number;
    try {
      align = btf.alignof(id);
    } catch (e) {
      if (!(e instanceof BtfError)) throw e;
      align = 0;
    }
    const [cSize, cAlign] = [columnSizeOf(ctx, id), columnAlignOf(ctx, id)];
    if (cSize !== size || cAlign !== align) bad.push(`[${id}] size ${cSize} vs ${size}, align ${cAlign} vs ${align}`);
  }
  assert.deepEqual(bad, [], `${what}: the C dump's sizes and alignments that differ from the query module's`);
}

test('the C dump\'s column copies of sizeof and alignof agree with the query module on every type of 6.18 and Debian 6.1', () => {
  assertColumnsAgree(Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz')), '6.18 vmlinux');
  const base = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  assertColumnsAgree(base, 'Debian 6.1 vmlinux');
  for (const m of ['af_key', '8021q', 'nf_tables', 'xfs']) {
    assertColumnsAgree(Btf.parse(fixture(`golden/debian-6.1.0-50-cloud/modules/${m}.btf.gz`), { base }), `Debian 6.1 ${m}`);
  }
  for (const longs of [[['long', 4], ['long int', 8]], [['int', 4]]] as [string, number][][]) {
    assertColumnsAgree(Btf.parse(withLongs(longs).bytes), JSON.stringify(longs));
  }
});

test('essential names: the part before the last ___ between two non-underscores, as libbpf\'s bpf_core_essential_name_len', () => {
  const cases: [string, string][] = [
    ['task_struct___v1', 'task_struct'],
    ['a___b___c', 'a___b'],
    ['ab___c', 'ab'],
    ['task_struct', 'task_struct'],
    // The separator needs something other than '_' on each side.
    ['x____y', 'x____y'],
    ['x___', 'x___'],
    ['___x', '___x'],
    ['_a___b', '_a'],
    ['a___', 'a___'],
    ['', ''],
  ];
  for (const [name, want] of cases) {
    assert.equal(essentialName(name), want, name);
    assert.equal(essentialNameLength(name), want.length, name);
  }
});
