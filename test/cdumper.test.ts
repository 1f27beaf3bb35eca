/**
 * The stateful C dumper (CDumper, libbpf's btf_dump__dump_type) against libbpf itself, and
 * single declarations of functions and variables (cDeclaration) against bpftool's kfunc
 * prototypes and a BPF program's source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { loadBtf } from '../src/btf/source.js';
import { BtfBuilder } from '../src/build/builder.js';
import { BtfError } from '../src/errors.js';
import { IntEncoding, Kind } from '../src/format/kinds.js';
import { ByteSink } from '../src/dump/sink.js';
import { C_PRELUDE, CDumper, cDeclaration, cHeader } from '../src/dump/c/index.js';
import { fixture, fixtureText } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';
import { buildCHelper, scratchDir } from './helpers/cc.js';

const G618 = 'golden/running-6.18';

let vmlinux618: Btf | undefined;
const btf618 = () => (vmlinux618 ??= Btf.parse(fixture(`${G618}/vmlinux.btf.gz`)));

/** What libbpf 1.1 predates: the mode attributes v7.8's libbpf puts on enums C cannot size. */
const as11 = (text: string) => text.replace(/ __attribute__\(\(mode\((byte|word)\)\)\)/g, '');

/**
 * Builds test/helpers/btf_dump_type.c against the installed libbpf and runs it on `bytes` with
 * `ids`: what each btf_dump__dump_type call wrote, or the reason it could not run.
 */
let calls = 0;

function libbpfDumpTypes(bytes: Uint8Array, ids: readonly number[]): string[] | { skipped: string } {
  const tool = buildCHelper('btf_dump_type', { libbpf: true });
  if ('skipped' in tool) return tool;
  const file = join(scratchDir(), `types-${process.pid}-${calls++}.btf`);
  writeFileSync(file, bytes);
  try {
    const run = spawnSync(tool.path, [file, ...ids.map(String)], { encoding: 'latin1', maxBuffer: 1 << 28 });
    assert.equal(run.status, 0, `btf_dump_type: ${run.stderr}`);
    const parts = run.stdout.split(/^\/\* end of \d+ \*\/\n/m);
    assert.equal(parts.length, ids.length + 1);
    return parts.slice(0, ids.length);
  } finally {
    rmSync(file, { force: true });
  }
}

test('CDumper writes what libbpf\'s btf_dump__dump_type writes, call after call on one dumper (6.18)', (t) => {
  const btf = btf618();
  const taskStruct = btf.findOne('task_struct', Kind.Struct);
  const file = btf.findOne('file', Kind.Struct);
  const typedef = btf.findOne('irq_handler_t', Kind.Typedef);
  const enumType = btf.findOne('bpf_func_id', Kind.Enum);
  const func = btf.findOne('FSE_buildCTable_rle', Kind.Func);
  const funcType = btf.type(func);
  assert.ok(funcType.kind === Kind.Func);
  const proto = funcType.type;
  // task_struct pulls in much; the others add only what is new; again, nothing; a function
  // (no C definition), nothing.
  const ids = [taskStruct, typedef, enumType, proto, file, taskStruct, func, 0];
  const expected = libbpfDumpTypes(btf.bytes, ids);
  if (!Array.isArray(expected)) return loudSkip(t, expected.skipped);
  const dumper = new CDumper(btf);
  const actual = ids.map((id) => dumper.dumpTypeText(id));
  ids.forEach((id, i) => assert.equal(as11(actual[i]!), expected[i], `call ${i + 1}: type ${id}`));
  assert.ok(expected[0]!.includes('struct task_struct {') && expected[3]!.length > 0 && expected[5] === '');
});

test('CDumper over every type in BTF order writes the body of the unsorted header (6.18)', () => {
  const btf = btf618();
  const golden = fixtureText(`${G618}/vmlinux.unsorted.h.gz`);
  const body = golden.slice(C_PRELUDE.length, golden.indexOf('\n/* BPF kfuncs */\n'));
  const dumper = new CDumper(btf);
  const sink = new ByteSink();
  for (let id = 1; id < btf.endId; id++) dumper.dumpType(id, sink);
  assert.ok(new TextDecoder().decode(sink.toBytes()) === body, 'the body of bpftool v7.8 `format c unsorted`');
});

test('CDumper refuses ids out of range and types C cannot express', () => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, IntEncoding.Signed);
  const self = b.nextId;
  b.addStruct('loop', 4, [{ name: 'self', type: self, bitOffset: 0 }]);
  b.addStruct('fine', 4, [{ name: 'x', type: int, bitOffset: 0 }]);
  const btf = Btf.parse(b.encode());
  const dumper = new CDumper(btf);
  assert.throws(() => dumper.dumpTypeText(btf.endId), (e: unknown) => e instanceof BtfError && e.code === 'bad-type-id');
  assert.throws(() => dumper.dumpTypeText(-1), (e: unknown) => e instanceof BtfError && e.code === 'bad-type-id');
  assert.equal(new CDumper(btf).dumpTypeText(self + 1), 'struct fine {\n\tint x;\n};\n\n');
  // A dumper that failed is spent: its state is that of a dump cut short.
  const failed = new CDumper(btf);
  assert.throws(() => failed.dumpTypeText(self), (e: unknown) => e instanceof BtfError && e.code === 'type-loop');
  assert.throws(() => failed.dumpTypeText(self + 1), (e: unknown) => e instanceof BtfError && e.code === 'type-loop');
});

// ---------------------------------------------------------------------------------------------
// Declarations of functions and variables.

test('cDeclaration of a function is its prototype as bpftool writes kfuncs (every 6.18 kfunc)', () => {
  const btf = btf618();
  const golden = fixtureText(`${G618}/vmlinux.sorted.h.gz`);
  const section = golden.slice(golden.indexOf('/* BPF kfuncs */'));
  let checked = 0;
  for (const line of section.split('\n')) {
    const m = /^extern (?:__bpf_fastcall )?(.*) __weak __ksym;$/.exec(line);
    if (!m) continue;
    // Renamed types (___N) depend on the whole dump; a lone declaration starts afresh.
    if (m[1]!.includes('___')) continue;
    // The function's name is the first identifier before `(` outside attributes.
    const plain = m[1]!.replace(/ __attribute__\(\((?:[^()]|\([^()]*\))*\)\)/g, '');
    const name = /([A-Za-z_][A-Za-z0-9_]*)\(/.exec(plain)![1]!;
    const ids = btf.find(name, Kind.Func);
    assert.equal(ids.length, 1, name);
    assert.equal(cDeclaration(btf, ids[0]!), m[1], name);
    checked++;
  }
  assert.ok(checked > 100, `checked ${checked} kfuncs`);
  // A name given replaces the function's own.
  const acquire = btf.findOne('bpf_task_acquire', Kind.Func);
  assert.equal(cDeclaration(btf, acquire, 'f'), 'struct task_struct *f(struct task_struct *p)');
});

test('cDeclaration of a variable declares its type under its name (globals of a BPF program, as in its source)', () => {
  // test/bpf/maps_globals.bpf.c declares these; C allows its qualifiers in either order, clang
  // keeps typedef names, and `char LICENSE[]` gets the size of its initialiser. (The ksym of
  // type `const void` gets no VAR.)
  const source = [
    'const volatile __u32 sample_rate', 'const volatile __u64 start_ns', 'const volatile char target_comm[16]',
    'const volatile int verbosity', '__u64 packets_seen', 'int last_cpu', '__u64 drops', 'struct flow_stats aggregate',
    '__u32 private_counter', '__u32 hist[32]', '__u64 tunables[4]', 'int LINUX_KERNEL_VERSION', '_Bool CONFIG_BPF_JIT',
    'char LICENSE[13]', 'struct inner_map inner_a', 'struct inner_map inner_b',
  ];
  const qualifiersSorted = (decl: string) => decl.replace(/^((?:(?:const|volatile) )+)/, (q) => q.trim().split(' ').sort().join(' ') + ' ');
  for (const variant of ['clang14.bpfel', 'clang19.bpfeb']) {
    const btf = loadBtf(fixture(`bpf/maps_globals.${variant}.o.gz`));
    const declared = new Map<string, string>();
    for (let id = 1; id < btf.endId; id++) {
      if (btf.kind(id) === Kind.Var) declared.set(btf.name(id), cDeclaration(btf, id));
    }
    for (const decl of source) {
      const name = /(\w+)(\[\d+\])?$/.exec(decl)![1]!;
      assert.equal(qualifiersSorted(declared.get(name) ?? '(no VAR)'), decl, `${variant}: ${name}`);
    }
    // A map is an anonymous struct, written out in full.
    assert.match(declared.get('flows')!, /^struct \{\n\tint \(\*type\)\[1\];\n[^]*\n\} flows$/);
  }
});

test('cDeclaration of sections and declaration tags is empty; a header still has no variables', () => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, IntEncoding.Signed);
  const v = b.addVar('counter', int, 1);
  const sec = b.addDatasec('.data', 4, [{ type: v, offset: 0, size: 4 }]);
  const tag = b.addDeclTag('hot', v, -1);
  const btf = Btf.parse(b.encode());
  assert.equal(cDeclaration(btf, v), 'int counter');
  assert.equal(cDeclaration(btf, v, 'renamed'), 'int renamed');
  assert.equal(cDeclaration(btf, sec), '');
  assert.equal(cDeclaration(btf, tag), '');
  assert.ok(!cHeader(btf, { sorted: false }).includes('counter'));
});
