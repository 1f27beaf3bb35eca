/**
 * The CO-RE engine against libbpf 1.1 itself: test/bpf-engine/core_engine.bpf.c (every kind, flavors,
 * anonymous members, arrays incl. flexible ones, signed and unsigned bitfields, ENUM64, missing
 * fields and types, type_matches, memory-size patches), compiled by clang 14 and 19, relocated
 * by btfkit and by libbpf (test/helpers/core_oracle.c through test/helpers/core-compare.ts, bpf_object__load with btf_custom_path)
 * against real kernels and a target crafted here; the big-endian twins must decide as the
 * little-endian objects do.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { BtfBuilder } from '../src/build/builder.js';
import { Btf } from '../src/btf/btf.js';
import { relocateObject } from '../src/core/object.js';
import { CORE_KIND_NAMES, CoreKind } from '../src/core/kinds.js';
import type { CorePatchResult } from '../src/core/patch.js';
import type { CoreDecision } from '../src/core/decision.js';
import { IntEncoding } from '../src/format/kinds.js';
import { scratchDir } from './helpers/cc.js';
import { compare } from './helpers/core-compare.js';
import { libbpfCore, type OracleTarget } from './helpers/core-oracle.js';
import { DATA_DIR, REPO_ROOT, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const SOURCE = join(REPO_ROOT, 'test', 'bpf-engine', 'core_engine.bpf.c');

/** Compiles the test program; undefined (with the reason) when this clang cannot. */
function compile(clang: string, target: 'bpfel' | 'bpfeb', defines: string[] = []): Uint8Array | string {
  const out = join(scratchDir(), `core_engine.${clang}.${target}.${defines.join('')}.o`);
  const multiarch = spawnSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).stdout?.trim() || 'x86_64-linux-gnu';
  const run = spawnSync(clang, ['-g', '-O2', '-target', target, `-I/usr/include/${multiarch}`, ...defines, '-c', SOURCE, '-o', out], { encoding: 'utf8' });
  if (run.error) return `${clang} is not installed: ${run.error.message}`;
  if (run.status !== 0) throw new Error(`${clang} failed on ${SOURCE}:\n${run.stderr}`);
  return new Uint8Array(readFileSync(out));
}

/** A target with the btfkit_* types, laid out differently from the program's view of them. */
function craftedTarget(): Uint8Array {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, IntEncoding.Signed);
  const uint = b.addInt('unsigned int', 4, 0);
  const short = b.addInt('short', 2, IntEncoding.Signed);
  const llong = b.addInt('long long', 8, IntEncoding.Signed);
  const ullong = b.addInt('unsigned long long', 8, 0);
  const voidPtr = b.addPtr(0);
  const intArray0 = b.addArray(int, int, 0);
  const inner = b.addStruct('', 4, [{ name: 'lo', type: short, bitOffset: 0 }, { name: 'hi', type: short, bitOffset: 16 }]);
  const union = b.addUnion('', 4, [{ name: '', type: inner, bitOffset: 0 }, { name: 'both', type: int, bitOffset: 0 }]);
  b.addStruct('btfkit_anon', 12, [
    { name: 'before', type: int, bitOffset: 0 }, { name: 'extra', type: int, bitOffset: 32 },
    { name: '', type: union, bitOffset: 64 }, { name: 'tail', type: intArray0, bitOffset: 96 },
  ]);
  const bits = b.addStruct('btfkit_bits', 24, [
    { name: 'pad', type: llong, bitOffset: 0 },
    { name: 's', type: uint, bitOffset: 69, bitfieldSize: 3 },
    { name: 'u', type: int, bitOffset: 75, bitfieldSize: 5 },
    { name: 'wide', type: llong, bitOffset: 128 },
  ]);
  b.addStruct('btfkit_sized', 24, [
    { name: 'u', type: ullong, bitOffset: 0 }, { name: 's', type: llong, bitOffset: 64 }, { name: 'p', type: voidPtr, bitOffset: 128 },
  ]);
  const bitsPtr = b.addPtr(bits);
  b.addStruct('btfkit_matches', 16, [{ name: 'a', type: int, bitOffset: 0 }, { name: 'p', type: bitsPtr, bitOffset: 64 }]);
  b.addTypedef('btfkit_bits_t', bits);
  b.addStruct('btfkit_amb', 4, [{ name: 'x', type: int, bitOffset: 0 }]);
  b.addStruct('btfkit_amb___v2', 8, [{ name: 'y', type: int, bitOffset: 0 }, { name: 'x', type: int, bitOffset: 32 }]);
  return b.encode();
}

function targets(): { name: string; bytes: Uint8Array }[] {
  const list = [
    { name: 'crafted', bytes: craftedTarget() },
    { name: 'golden debian-6.1.0-50', bytes: fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz') },
    { name: 'golden running-6.18', bytes: fixture('golden/running-6.18/vmlinux.btf.gz') },
  ];
  for (const build of ['debian-6.1.0-55-cloud-amd64', 'debian-6.1.0-56-cloud-amd64']) {
    const path = join(DATA_DIR, build, 'vmlinux.btf');
    if (existsSync(path)) list.push({ name: build, bytes: new Uint8Array(readFileSync(path)) });
    else process.stderr.write(`SKIP core-libbpf target ${build}: ${path} not fetched (tools/fetch-debian-kernel.sh)\n`);
  }
  if (existsSync('/sys/kernel/btf/vmlinux')) list.push({ name: 'running kernel', bytes: new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux')) });
  return list;
}

interface Outcome { decision: CoreDecision; patch: CorePatchResult }

/** btfkit's decisions and patches for every record of an object, in .BTF.ext order. */
function relocate(object: Uint8Array, target: Uint8Array): Outcome[] {
  return relocateObject(object, Btf.parse(target)).relocations.map(({ decision, patch }) => ({ decision, patch }));
}

/** A target as the oracle takes it: a file. */
function oracleTarget(target: { name: string; bytes: Uint8Array }): OracleTarget {
  const path = join(scratchDir(), `core-libbpf-${target.name.replace(/\W+/g, '_')}.btf`);
  writeFileSync(path, target.bytes);
  return { label: target.name, vmlinux: path };
}

test('core-libbpf: btfkit decides and patches as libbpf 1.1 on real and crafted targets', (t) => {
  if (!existsSync('/usr/include/bpf/bpf_helpers.h')) return loudSkip(t, 'libbpf-dev headers are not installed');
  const ts = targets();
  for (const clang of ['clang-14', 'clang-19']) {
    const object = compile(clang, 'bpfel');
    if (typeof object === 'string') {
      loudSkip(t, object);
      continue;
    }
    for (const target of ts) {
      let n: number;
      try {
        n = compare(`${clang} bpfel`, object, oracleTarget(target)).relocations;
      } catch (e) {
        if ((e as { skipped?: boolean }).skipped) return loudSkip(t, (e as Error).message);
        throw e;
      }
      t.diagnostic(`${clang} on ${target.name}: ${n} relocations equal to libbpf's`);
      assert.ok(n >= 40, `${clang} on ${target.name}: only ${n} relocations compared`);
    }
  }
});

test('core-libbpf: two matching candidates at different offsets are an ambiguity error, as in libbpf', (t) => {
  const object = compile('clang-19', 'bpfel', ['-DAMBIGUOUS']);
  if (typeof object === 'string') return loudSkip(t, object);
  const target = { name: 'crafted', bytes: craftedTarget() };
  const oracle = libbpfCore(object, oracleTarget(target));
  if ('skipped' in oracle) return loudSkip(t, oracle.skipped);
  assert.equal(oracle.core, 'failed');
  assert.equal(oracle.relocations[0]?.result, 'error', 'libbpf should fail this relocation');
  const [first] = relocate(object, target.bytes);
  assert.match(first!.decision.error ?? '', /field offset ambiguity/);
  assert.equal(first!.decision.candidates.considered, 2);
  assert.ok(first!.patch.error, 'an ambiguous relocation patches nothing');
});

test('core-libbpf: big-endian objects decide as their little-endian twins', (t) => {
  for (const clang of ['clang-14', 'clang-19']) {
    const le = compile(clang, 'bpfel');
    const be = compile(clang, 'bpfeb');
    if (typeof le === 'string' || typeof be === 'string') {
      loudSkip(t, String(typeof le === 'string' ? le : be));
      continue;
    }
    for (const target of [{ name: 'crafted', bytes: craftedTarget() }, { name: 'golden running-6.18', bytes: fixture('golden/running-6.18/vmlinux.btf.gz') }]) {
      // clang emits the bitfield reads with a different number of records per byte order, so
      // decisions are compared by what they relocate (kind and local spec), not by position.
      const byAccess = (outcomes: Outcome[]) => {
        const map = new Map<string, Set<string>>();
        for (const { decision: d, patch } of outcomes) {
          const key = `${CORE_KIND_NAMES[d.record.kind]} ${d.local.spec}`;
          // Only where a bitfield's bits sit in the loaded word depends on the byte order.
          const value = d.record.kind === CoreKind.FieldLShiftU64 ? '' : String(d.newValue);
          const what = `${d.target?.spec} ${value} poison=${d.poison}/${patch.poisoned} error=${d.error}`;
          map.set(key, (map.get(key) ?? new Set()).add(what));
        }
        return map;
      };
      const a = byAccess(relocate(le, target.bytes));
      const b = byAccess(relocate(be, target.bytes));
      assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), `${clang} on ${target.name}: relocated accesses`);
      for (const [key, set] of a) assert.deepEqual(b.get(key), set, `${clang} ${key} on ${target.name}`);
      assert.ok(a.size >= 30, `${clang} on ${target.name}: only ${a.size} accesses compared`);
    }
  }
});
