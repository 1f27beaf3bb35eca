/**
 * The BPF object model (src/bpf/object.ts) against libbpf: every fixture object is opened by
 * libbpf 1.1 (test/helpers/bpf_object_open.c, bpf_object__open_file, whose debug log names each
 * program it found and each relocation it collected and what it refers to), and btfkit must
 * find the same functions, relocations and reference kinds. Malformed objects end in BtfErrors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeInsn, isCall } from '../src/bpf/insn.js';
import { parseBpfObject, programSection, type BpfObject } from '../src/bpf/object.js';
import { parseElf, sectionData } from '../src/elf/elf.js';
import { isBtfError } from '../src/errors.js';
import { buildCHelper, scratchDir } from './helpers/cc.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const OBJECTS = [
  ...readdirSync(join(FIXTURES, 'bpf')).filter((f) => f.endsWith('.o.gz')).map((f) => `bpf/${f}`),
  ...readdirSync(join(FIXTURES, 'bpf-insn')).filter((f) => f.endsWith('.o.gz')).map((f) => `bpf-insn/${f}`),
].sort();

/** What libbpf's open log says about an object, as comparable lines. */
function libbpfView(log: string): { functions: string[]; relocations: string[] } {
  const functions: string[] = [];
  const relocations: string[] = [];
  let target = '';
  let pending: string | undefined;
  const flush = (kind: string) => {
    if (pending !== undefined) relocations.push(`${pending} ${kind}`);
    pending = undefined;
  };
  for (const line of log.split('\n')) {
    let m = /^libbpf: sec '(.*)': found program '(.*)' at insn offset \d+ \((\d+) bytes\), code size \d+ insns \((\d+) bytes\)$/.exec(line);
    if (m) functions.push(`${m[1]} ${m[2]} @${m[3]} +${m[4]}`);
    m = /^libbpf: sec '.*': collecting relocation for section\(\d+\) '(.*)'$/.exec(line);
    if (m) {
      flush('code');
      target = m[1]!;
    }
    m = /^libbpf: sec '.*': relo #\d+: insn #(\d+) against '(.*)'$/.exec(line);
    if (m) {
      flush('code');
      pending = `${target} #${m[1]} ${m[2]}`;
    }
    if (/^libbpf: prog '.*': found map /.test(line)) flush('map');
    if (/^libbpf: prog '.*': found data map /.test(line)) flush('global-data');
    if (/^libbpf: prog '.*': found extern /.test(line)) flush('extern');
  }
  flush('code');
  return { functions, relocations };
}

function btfkitView(o: BpfObject): { functions: string[]; relocations: string[] } {
  const functions = o.programs.flatMap((p) => p.functions.map((f) => `${p.name} ${f.name} @${f.offset} +${f.size}`));
  const relocations = o.programs.flatMap((p) => p.relocations.map((r) => {
    // libbpf logs nothing more for references to code (calls and function addresses).
    const kind = r.kind === 'subprogram-call' || r.kind === 'subprogram-address' ? 'code' : r.kind;
    return `${p.name} #${r.insnIndex} ${r.symbol} ${kind}`;
  }));
  return { functions, relocations };
}

test('programs, functions and relocations are the ones libbpf finds when it opens the object', (t) => {
  const helper = buildCHelper('bpf_object_open', { libbpf: true });
  if ('skipped' in helper) return loudSkip(t, helper.skipped);
  let relocations = 0;
  const kinds = new Set<string>();
  const refused: string[] = [];
  // libbpf 1.1 opens objects of the host's byte order only; big-endian twins are compared below.
  for (const rel of OBJECTS.filter((f) => f.includes('.bpfel.'))) {
    const bytes = fixture(rel);
    const path = join(scratchDir(), rel.replace('/', '_').replace(/\.gz$/, ''));
    writeFileSync(path, bytes);
    const r: { status: number | null; stdout: string } = spawnSync(helper.path, [path], { encoding: 'utf8' });
    const theirs = libbpfView(r.stdout);
    const o = parseBpfObject(bytes, { file: rel });
    const ours = btfkitView(o);
    // libbpf logs the programs first; it may then refuse the object for reasons of its own
    // (libbpf 1.1 cannot size some .rodata sections clang 14 writes), before relocations.
    assert.deepEqual(ours.functions.sort(), theirs.functions.sort(), `${rel}: functions`);
    if (r.status !== 0) {
      refused.push(rel);
      continue;
    }
    assert.deepEqual(ours.relocations.sort(), theirs.relocations.sort(), `${rel}: relocations`);
    relocations += ours.relocations.length;
    for (const p of o.programs) for (const x of p.relocations) kinds.add(x.kind);
  }
  assert.ok(relocations > 100, `only ${relocations} relocations compared`);
  assert.ok(refused.length <= 2, `libbpf refused ${refused.join(', ')}`);
  assert.deepEqual([...kinds].sort(), ['extern', 'global-data', 'map', 'subprogram-address', 'subprogram-call']);
});

test('big-endian objects have the functions and references of their little-endian twins', () => {
  // Code may differ between byte orders (byte swaps), so offsets do; what refers to what may not.
  const strip = (o: BpfObject) => ({
    functions: o.programs.flatMap((p) => p.functions.map((f) => `${p.name} ${f.name}`)).sort(),
    references: [...new Set(o.programs.flatMap((p) => p.relocations.map((r) => `${p.name} ${r.symbol} ${r.kind}`)))].sort(),
    // A bitfield read may take one more CO-RE record (a byte_sz) on big-endian: compare what is relocated.
    records: o.programs.map((p) => `${p.name} ${p.funcInfo.length} ${[...new Set(p.coreRelocations.map((r) => `${r.typeId}:${r.access}:${r.kind}`))].sort().join(',')}`),
  });
  let twins = 0;
  for (const rel of OBJECTS.filter((f) => f.includes('.bpfel.'))) {
    const el = parseBpfObject(fixture(rel));
    const eb = parseBpfObject(fixture(rel.replace('.bpfel.', '.bpfeb.')));
    assert.equal(eb.littleEndian, false);
    assert.deepEqual(strip(eb), strip(el), rel);
    twins++;
  }
  assert.ok(twins >= 10);
});

test('the CO-RE object: its program, subprogram calls, kfunc externs and records per section', () => {
  const o = parseBpfObject(fixture('bpf/core.clang19.bpfeb.o.gz'), { file: 'core.o' });
  assert.equal(o.littleEndian, false);
  assert.ok(o.btf && o.ext);
  const p = programSection(o, 'tp_btf/sched_process_exec');
  assert.ok(p);
  assert.deepEqual(p.functions.map((f) => f.name), ['handle_exec']);
  assert.equal(p.coreRelocations.length, 19);
  assert.equal(p.funcInfo.length, 1);
  assert.ok(p.lineInfo.length > 10);
  // Each CO-RE record sits on an instruction the compiler made for a field access or a constant.
  for (const r of p.coreRelocations) {
    const insn = decodeInsn(p.bytes, r.insnOffset, false);
    assert.ok(!isCall(insn), `CO-RE record at ${r.insnOffset} is on a call`);
    assert.match(r.access, /^\d+(:\d+)*$/);
  }
  const kfuncs = p.relocations.filter((r) => r.kind === 'extern').map((r) => r.symbol);
  assert.deepEqual(kfuncs.sort(), ['bpf_cgroup_from_id', 'bpf_task_acquire', 'bpf_task_release']);
});

/** A copy of the object with a change made through a little-endian DataView. */
function mutated(rel: string, change: (b: Uint8Array, dv: DataView) => void): Uint8Array {
  const b = new Uint8Array(fixture(rel));
  change(b, new DataView(b.buffer, b.byteOffset, b.byteLength));
  return b;
}

function sectionOffset(bytes: Uint8Array, name: string): number {
  const s = parseElf(bytes).sections.find((x) => x.name === name);
  assert.ok(s, name);
  return s.offset;
}

test('objects btfkit cannot take as BPF objects, and malformed ones, end in BtfErrors', () => {
  const rel = 'bpf/core.clang19.bpfel.o.gz';
  const expect = (bytes: Uint8Array, code: string, text: RegExp) => {
    assert.throws(() => parseBpfObject(bytes, { file: 'x.o' }), (e: unknown) => {
      assert.ok(isBtfError(e), String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, text);
      assert.equal(e.file, 'x.o');
      return true;
    });
  };
  expect(mutated(rel, (_b, dv) => dv.setUint16(18, 62, true)), 'bad-elf', /e_machine is 62, BPF is 247/);
  expect(mutated(rel, (_b, dv) => dv.setUint16(16, 2, true)), 'bad-elf', /e_type is 2/);
  expect(mutated(rel, (b) => { b[4] = 1; }), 'bad-elf', /./);
  // The first relocation of the program section moved off an instruction boundary.
  const original = fixture(rel);
  const relOff = sectionOffset(original, '.reltp_btf/sched_process_exec');
  expect(mutated(rel, (_b, dv) => dv.setBigUint64(relOff, dv.getBigUint64(relOff, true) + 4n, true)), 'bad-elf', /not on an instruction/);
  // ...and onto an instruction that is neither a call nor ld_imm64 (instruction 1: r8 = r0).
  expect(mutated(rel, (_b, dv) => dv.setBigUint64(relOff, 8n, true)), 'bad-elf', /neither a call nor ld_imm64/);
  // A CO-RE record moved into the second slot of an ld_imm64, and one naming no section of the object.
  const ext = sectionData(parseElf(original), '.BTF.ext')!;
  const extOff = sectionOffset(original, '.BTF.ext');
  const coreStart = extOff + 32 + new DataView(ext.buffer, ext.byteOffset).getUint32(24, true);
  expect(mutated(rel, (_b, dv) => dv.setUint32(coreStart + 4 + 8, 24, true)), 'bad-input', /core_relo record for section tp_btf\/sched_process_exec has insn_off 24/);
  expect(mutated(rel, (_b, dv) => dv.setUint32(coreStart + 4 + 8, 4, true)), 'bad-input', /insn_off 4/);
  expect(mutated(rel, (_b, dv) => dv.setUint32(coreStart + 4, 1, true)), 'bad-input', /names section '.*', which is not a program section/);
  // .BTF.ext problems keep their own codes, with the file named.
  expect(mutated(rel, (_b, dv) => dv.setUint32(coreStart + 8, 0, true)), 'bad-vlen', /num_info 0/);
});
