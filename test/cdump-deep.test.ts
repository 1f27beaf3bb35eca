/**
 * Deep but finite type graphs in the C dump: long chains of qualifiers, arrays, pointers and
 * typedefs, and deep nests of records. The kernel loads such BTF and bpftool dumps it, so the
 * C dump must too (no recursion deep enough to exhaust the JS stack, no walk that revisits a
 * chain once per link): unsorted against the installed bpftool, sorted against the unsorted
 * dump where the dependencies force the order. Real cycles stay `type-loop` errors.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { IntEncoding } from '../src/format/kinds.js';
import { BtfError } from '../src/errors.js';
import { cDeclaration, cHeader, type CDumpOptions } from '../src/dump/c/index.js';
import { body71, bodyAs71, haveBpftool } from './helpers/cref.js';
import { loudSkip } from './helpers/skip.js';

const clangPresent = spawnSync('clang', ['--version'], { encoding: 'utf8' }).status === 0;

function dump(bytes: Uint8Array, opts: CDumpOptions): string {
  return cHeader(Btf.parse(bytes), opts);
}

/** What bpftool 7.1 writes for the blob (its body, as {@link body71} cuts it). */
function bpftoolBody(bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-cdeep-'));
  try {
    const file = join(dir, 'deep.btf');
    writeFileSync(file, bytes);
    const ref = spawnSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'c'], { encoding: 'latin1', maxBuffer: 1 << 28 });
    assert.equal(ref.status, 0, `bpftool failed: ${ref.stderr}`);
    return body71(ref.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `clang -target bpf -fsyntax-only` on a header; the compiler's complaint, or undefined. */
function clangComplaint(header: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-cdeep-'));
  try {
    writeFileSync(join(dir, 'vmlinux.h'), header, 'latin1');
    const c = join(dir, 'use.c');
    writeFileSync(c, '#include "vmlinux.h"\n');
    const run = spawnSync('clang', ['-target', 'bpf', '-fsyntax-only', c], { encoding: 'utf8', maxBuffer: 1 << 26 });
    return run.status === 0 ? undefined : run.stderr.split('\n').slice(0, 10).join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The unsorted dump equals bpftool's; the sorted one equals the unsorted one (in these graphs
 * every definition depends on the one before, which fixes the order whatever the sort says).
 */
function checkDeep(t: TestContext, bytes: Uint8Array, opts: { compile?: boolean } = {}): void {
  const unsorted = dump(bytes, { sorted: false });
  const sorted = dump(bytes, { sorted: true });
  assert.equal(sorted, unsorted, 'sorted dump equals unsorted dump');
  if (opts.compile) {
    if (clangPresent) assert.equal(clangComplaint(sorted), undefined);
    else loudSkip(t, 'clang is not installed');
  }
  if (!haveBpftool()) return loudSkip(t, 'bpftool is not installed');
  assert.equal(bodyAs71(unsorted), bpftoolBody(bytes), 'unsorted dump equals bpftool');
}

const DEPTH = 5000;

function withInt(): { b: BtfBuilder; int: number } {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, IntEncoding.Signed);
  b.addInt('long int', 8, IntEncoding.Signed);
  return { b, int };
}

test('5,000 const qualifiers in a row are written as bpftool writes them', (t) => {
  const { b, int } = withInt();
  let type = int;
  for (let i = 0; i < DEPTH; i++) type = b.addConst(type);
  b.addStruct('s', 4, [{ name: 'x', type, bitOffset: 0 }]);
  checkDeep(t, b.encode());
});

test('5,000 array dimensions are written as bpftool writes them', (t) => {
  const { b, int } = withInt();
  let type = int;
  for (let i = 0; i < DEPTH; i++) type = b.addArray(type, int, 1);
  b.addStruct('s', 4, [{ name: 'x', type, bitOffset: 0 }]);
  checkDeep(t, b.encode(), { compile: true });
});

test('5,000 pointers in a row are written as bpftool writes them', (t) => {
  const { b, int } = withInt();
  let type = int;
  for (let i = 0; i < DEPTH; i++) type = b.addPtr(type);
  b.addStruct('s', 8, [{ name: 'x', type, bitOffset: 0 }]);
  checkDeep(t, b.encode(), { compile: true });
});

test('5,000 pointers to prototypes taking the previous one are written as bpftool writes them', (t) => {
  // Each level is a declarator inside the parameter list of the one around it.
  const { b, int } = withInt();
  let type = int;
  for (let i = 0; i < DEPTH; i++) type = b.addPtr(b.addFuncProto(int, [{ name: 'f', type }]));
  b.addStruct('s', 8, [{ name: 'x', type, bitOffset: 0 }]);
  checkDeep(t, b.encode());
});

test('2,000 nested anonymous structs are written as bpftool writes them', (t) => {
  const { b, int } = withInt();
  let type = int;
  for (let i = 0; i < 2000; i++) type = b.addStruct('', 4, [{ name: 'x', type, bitOffset: 0 }]);
  b.addStruct('s', 4, [{ name: 'x', type, bitOffset: 0 }]);
  checkDeep(t, b.encode());
});

test('a nest of 20,000 named structs, each embedding the one before, dumps sorted as unsorted', (t) => {
  // Sorted by name (s0, s1, s10, s100, ...), s10000 comes long before s9999 and pulls in the
  // 9,000 structs below it at once.
  const { b, int } = withInt();
  let type = int;
  for (let i = 0; i < 20000; i++) type = b.addStruct(`s${i}`, 4, [{ name: 'x', type, bitOffset: 0 }]);
  checkDeep(t, b.encode(), { compile: true });
});

test('a chain of 100,000 typedefs dumps sorted as unsorted', (t) => {
  const { b, int } = withInt();
  let type = int;
  for (let i = 0; i < 100000; i++) type = b.addTypedef(`t${i}`, type);
  const started = performance.now();
  checkDeep(t, b.encode(), { compile: true });
  t.diagnostic(`${(performance.now() - started).toFixed(0)} ms`);
});

test('a chain of 100,000 typedefs with the outermost first dumps as bpftool does', (t) => {
  // Ids descending towards the base type: the first type dumped needs the whole chain.
  const { b, int } = withInt();
  const n = 100000;
  const first = b.nextId;
  for (let i = 0; i < n; i++) b.addTypedef(`t${i}`, i === n - 1 ? int : first + i + 1);
  checkDeep(t, b.encode());
});

test('a declaration 5,000 levels deep is written whole', () => {
  const { b, int } = withInt();
  let type = int;
  for (let i = 0; i < DEPTH; i++) type = b.addArray(b.addPtr(type), int, 2);
  const btf = Btf.parse(b.encode());
  const decl = cDeclaration(btf, type, 'x');
  // int *(*(*x[2])[2])...: one `*` and one `[2]` per level.
  assert.equal(decl.split('*').length - 1, DEPTH);
  assert.equal(decl.split('[2]').length - 1, DEPTH);
  assert.ok(decl.startsWith('int *(*(*'), decl.slice(0, 40));
});

test('cycles behind deep chains are still type-loop errors', () => {
  // A struct embedding itself through 5,000 const qualifiers.
  {
    const b = new BtfBuilder();
    b.addInt('int', 4, IntEncoding.Signed);
    const self = b.nextId;
    let type = self + 1;
    b.addStruct('s', 4, [{ name: 'x', type, bitOffset: 0 }]);
    for (let i = 0; i < DEPTH; i++) type = b.addConst(i === DEPTH - 1 ? self : type + 1);
    for (const sorted of [false, true]) {
      assert.throws(() => dump(b.encode(), { sorted }), (e: unknown) => e instanceof BtfError && e.code === 'type-loop', `sorted ${sorted}`);
    }
  }
  // 5,000 typedefs and qualifiers in a ring: no type at all (libbpf recurses forever).
  {
    const b = new BtfBuilder();
    b.addInt('int', 4, IntEncoding.Signed);
    const first = b.nextId;
    for (let i = 0; i < DEPTH; i++) {
      const next = i === DEPTH - 1 ? first : first + i + 1;
      if (i % 2) b.addConst(next);
      else b.addTypedef(`t${i}`, next);
    }
    for (const sorted of [false, true]) {
      assert.throws(() => dump(b.encode(), { sorted }), (e: unknown) => e instanceof BtfError && e.code === 'type-loop', `sorted ${sorted}`);
    }
  }
  // 3,000 anonymous structs, the innermost embedding the outermost: no C type at all.
  {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, IntEncoding.Signed);
    const first = b.nextId;
    const n = 3000;
    for (let i = 0; i < n; i++) b.addStruct('', 4, [{ name: 'x', type: i === n - 1 ? first : first + i + 1, bitOffset: 0 }]);
    b.addStruct('s', 4, [{ name: 'x', type: first, bitOffset: 0 }, { name: 'y', type: int, bitOffset: 0 }]);
    const bytes = b.encode();
    for (const sorted of [false, true]) {
      assert.throws(() => dump(bytes, { sorted }), (e: unknown) => e instanceof BtfError && e.code === 'type-loop', `sorted ${sorted}`);
    }
    assert.throws(() => cDeclaration(Btf.parse(bytes), first, 'x'), (e: unknown) => e instanceof BtfError && e.code === 'type-loop');
  }
});
