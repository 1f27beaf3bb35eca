/**
 * The module commands of the shipped CLI (`dist/btfkit.cjs`): `find` and `merge`, and the
 * warnings `dump` and `find` give for a module read on a base it was not built against. Ground
 * truth is bpftool's: the golden raw dumps under test/fixtures/golden, and the installed bpftool
 * where it runs (skipped loudly without it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { Kind } from '../src/format/kinds.js';
import { checkSplit } from '../src/split/check.js';
import { makeStandalone, splitOnBase } from '../src/split/forms.js';
import { loadModuleBtf } from '../src/split/load.js';
import { findModules } from './helpers/data.js';
import { bpftoolRaw } from './helpers/kernel.js';
import { DATA_DIR, fixture, fixtureText } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const CLI = join(process.cwd(), 'dist', 'btfkit.cjs');
const dir = mkdtempSync(join(tmpdir(), 'btfkit-cli-modules-'));

function btfkit(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { maxBuffer: 1 << 30 });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const GOLDEN = 'golden/debian-6.1.0-50-cloud';
const d50 = file('vmlinux-6.1.0-50.btf', fixture(`${GOLDEN}/vmlinux.btf.gz`));
const v618 = file('vmlinux-6.18.btf', fixture('golden/running-6.18/vmlinux.btf.gz'));
const afKey = file('af_key.btf', fixture(`${GOLDEN}/modules/af_key.btf.gz`));
const vlan = file('8021q.btf', fixture(`${GOLDEN}/modules/8021q.btf.gz`));

/** The `[id] KIND 'name'` heads of bpftool's raw dump lines. */
function bpftoolTypes(rawDump: string): { id: number; kind: string; name: string }[] {
  return [...rawDump.matchAll(/^\[(\d+)\] (\S+) '([^']*)'/gm)].map((m) => ({ id: Number(m[1]), kind: m[2]!, name: m[3]! }));
}

const goldenAfKey = bpftoolTypes(fixtureText(`${GOLDEN}/modules/af_key.raw.txt.gz`));
const golden8021q = bpftoolTypes(fixtureText(`${GOLDEN}/modules/8021q.raw.txt.gz`));
const golden618 = bpftoolTypes(fixtureText('golden/running-6.18/vmlinux.raw.txt.gz'));

function idsIn(types: { id: number; kind: string; name: string }[], name: string, kind?: string): number[] {
  return types.filter((t) => t.name === name && (kind === undefined || t.kind === kind)).map((t) => t.id);
}

test('find: a type of the base is found in vmlinux, with the id bpftool gives it', () => {
  const [id] = idsIn(golden618, 'task_struct', 'STRUCT');
  const r = btfkit('find', 'task_struct', '--base', v618);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `vmlinux\t[${id}] STRUCT 'task_struct'\n`);
  assert.equal(r.stderr, '');
});

test('find: a module type is found in its module, with its id on the base', () => {
  const [id] = idsIn(goldenAfKey, 'sadb_msg', 'STRUCT');
  const r = btfkit('find', 'sadb_msg', '--base', d50, vlan, afKey);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `af_key\t[${id}] STRUCT 'sadb_msg'\n`);
  assert.equal(r.stderr, '');
  const [vlanId] = idsIn(golden8021q, 'vlan_net', 'STRUCT');
  assert.equal(btfkit('find', 'vlan_net', '--base', d50, vlan, afKey).stdout, `8021q\t[${vlanId}] STRUCT 'vlan_net'\n`);
});

test('find --kind limits the hits to one kind, in any case; an unknown kind is a usage error', () => {
  // In 6.18, memory_notify is both a struct and a function.
  const structs = idsIn(golden618, 'memory_notify', 'STRUCT');
  const funcs = idsIn(golden618, 'memory_notify', 'FUNC');
  assert.ok(structs.length === 1 && funcs.length === 1);
  const all = btfkit('find', 'memory_notify', '--base', v618);
  assert.equal(all.stdout.trimEnd().split('\n').length, 2, all.stdout);
  assert.equal(btfkit('find', 'memory_notify', '--base', v618, '--kind', 'struct').stdout, `vmlinux\t[${structs[0]}] STRUCT 'memory_notify'\n`);
  assert.equal(btfkit('find', 'memory_notify', '--base', v618, '--kind', 'FUNC').stdout, `vmlinux\t[${funcs[0]}] FUNC 'memory_notify'\n`);
  const bad = btfkit('find', 'memory_notify', '--base', v618, '--kind', 'structure');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^btfkit: unknown kind 'structure'/);
});

test('find --json prints every hit as {module, id, kind}', () => {
  const r = btfkit('find', 'memory_notify', '--base', v618, '--json');
  assert.equal(r.code, 0, r.stderr);
  const hits = JSON.parse(r.stdout) as { module: string; id: number; kind: string }[];
  const expected = golden618.filter((t) => t.name === 'memory_notify').map((t) => ({ module: 'vmlinux', id: t.id, kind: t.kind }));
  assert.deepEqual(hits, expected);
  const inModule = JSON.parse(btfkit('find', 'sadb_msg', '--base', d50, afKey, '--json').stdout);
  assert.deepEqual(inModule, [{ module: 'af_key', id: idsIn(goldenAfKey, 'sadb_msg', 'STRUCT')[0], kind: 'STRUCT' }]);
});

test('find: not found is one line on stderr and exit 1 (--json: an empty array)', () => {
  const r = btfkit('find', 'no_such_type_anywhere', '--base', d50, afKey);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `btfkit: no type named 'no_such_type_anywhere' in ${d50} or ${afKey}\n`);
  const kind = btfkit('find', 'sadb_msg', '--kind', 'union', '--base', d50, afKey);
  assert.equal(kind.code, 1);
  assert.match(kind.stderr, /^btfkit: no UNION named 'sadb_msg' in /);
  const json = btfkit('find', 'no_such_type_anywhere', '--base', d50, afKey, '--json');
  assert.equal(json.code, 1);
  assert.equal(json.stdout, '[]\n');
  assert.equal(json.stderr.split('\n').length, 2, json.stderr);
});

test('find warns when a module does not match the base it is searched on', () => {
  // af_key of Debian's 6.1.0-50 read on the 6.18 kernel's BTF: its sadb_msg is not found.
  const r = btfkit('find', 'sadb_msg', '--base', v618, afKey);
  assert.equal(r.code, 1);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.ok(lines[0]!.startsWith(`btfkit: warning: ${afKey} does not match its base ${v618}: `), lines[0]);
  assert.match(lines[0]!, /--base/);
  assert.match(lines[1]!, /^btfkit: no type named 'sadb_msg'/);
  assert.equal(btfkit('find', 'sadb_msg', '--base', d50, afKey).stderr, '');
});

test('merge: modules renumbered one after another on the base, as bpftool reads them', (t) => {
  const out = join(dir, 'merged.btf');
  const r = btfkit('merge', '--base', d50, afKey, vlan, '-o', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const ranges = JSON.parse(r.stdout) as { name: string; firstId: number; endId: number; originalFirstId: number }[];
  // bpftool's dumps of the modules: each starts at the base's end and holds so many types.
  const baseEnd = goldenAfKey[0]!.id;
  const afKeyEnd = baseEnd + goldenAfKey.length;
  assert.deepEqual(ranges, [
    { name: 'af_key', firstId: baseEnd, endId: afKeyEnd, originalFirstId: baseEnd },
    { name: '8021q', firstId: afKeyEnd, endId: afKeyEnd + golden8021q.length, originalFirstId: golden8021q[0]!.id },
  ]);
  const text = btfkit('merge', '--base', d50, afKey, vlan, '-o', join(dir, 'merged2.btf'));
  assert.equal(text.stdout, '');
  assert.equal(text.stderr, `af_key: ids ${baseEnd}..${afKeyEnd - 1} (were ${baseEnd}..${afKeyEnd - 1})\n`
    + `8021q: ids ${afKeyEnd}..${afKeyEnd + golden8021q.length - 1} (were ${baseEnd}..${baseEnd + golden8021q.length - 1})\n`);

  const dumped = bpftoolRaw(new Uint8Array(readFileSync(out)), new Uint8Array(readFileSync(d50)));
  if ('skipped' in dumped) return loudSkip(t, dumped.skipped);
  const types = bpftoolTypes(new TextDecoder().decode(dumped.text));
  assert.deepEqual(types.map((x) => x.id), Array.from({ length: goldenAfKey.length + golden8021q.length }, (_, i) => baseEnd + i));
  const heads = (ts: { kind: string; name: string }[]) => ts.map((x) => `${x.kind} '${x.name}'`);
  assert.deepEqual(heads(types.slice(0, goldenAfKey.length)), heads(goldenAfKey));
  assert.deepEqual(heads(types.slice(goldenAfKey.length)), heads(golden8021q));
  const ours = spawnSync(process.execPath, [CLI, 'dump', out, '--base', d50], { maxBuffer: 1 << 30 });
  assert.equal(Buffer.compare(ours.stdout, dumped.text), 0, 'btfkit dumps the merged blob as bpftool does');
});

test('merge refuses a module that does not match the base, unless --force', () => {
  const r = btfkit('merge', '--base', v618, afKey, '-o', join(dir, 'refused.btf'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^btfkit: error: .*af_key\.btf: does not match this base .*--force\n$/);
  assert.equal(existsSync(join(dir, 'refused.btf')), false);
});

test('real data: dump and find warn when a 6.1.0-56 module is read on the 6.1.0-55 base', (t) => {
  const b55 = join(DATA_DIR, 'debian-6.1.0-55-cloud-amd64');
  const b56 = join(DATA_DIR, 'debian-6.1.0-56-cloud-amd64');
  if (!existsSync(join(b55, 'build')) || !existsSync(join(b56, 'build'))) {
    return loudSkip(t, `needs ${b55} and ${b56} (tools/fetch-debian-kernel.sh)`);
  }
  const mod = findModules(join(b56, 'modules')).find((m) => m.endsWith('/af_key.ko'));
  if (!mod) return loudSkip(t, `no af_key.ko under ${b56}/modules`);
  const wrongBase = join(b55, 'vmlinux.btf');
  const dump = btfkit('dump', mod, '--base', wrongBase);
  assert.equal(dump.code, 0);
  assert.ok(dump.stdout.length > 0);
  assert.match(dump.stderr, new RegExp(`^btfkit: warning: ${mod} does not match its base ${wrongBase}: \\d+ broken references`));
  const find = btfkit('find', 'sadb_msg', '--base', wrongBase, mod);
  assert.ok(find.stderr.startsWith(`btfkit: warning: ${mod} does not match its base ${wrongBase}: `), find.stderr);
  const right = btfkit('find', 'sadb_msg', '--base', join(b56, 'vmlinux.btf'), mod);
  assert.equal(right.code, 0);
  assert.equal(right.stderr, '');
  assert.match(right.stdout, /^af_key\t\[\d+\] STRUCT 'sadb_msg'\n$/);
});

// ---- merge of many modules: which problem is the error -----------------------------------------

/** 70 copies of af_key on its base, with `swap` putting other files at some positions. */
function manyModules(swap: Record<number, string> = {}): string[] {
  return Array.from({ length: 70 }, (_, i) => swap[i] ?? manyCopies[i]!);
}
const afKeyBytes = readFileSync(afKey);
const manyCopies = Array.from({ length: 70 }, (_, i) => file(`af_key_${String(i).padStart(2, '0')}.btf`, afKeyBytes));
const d50Btf = Btf.parse(readFileSync(d50));
/** af_key moved onto the 6.18 base: on the 6.1.0-50 base it reads wrong. */
const foreign = file('af_key-on-6.18.btf', splitOnBase(Btf.parse(makeStandalone(loadModuleBtf(afKeyBytes, d50Btf))), Btf.parse(readFileSync(v618))).bytes);
const junk = file('junk.btf', new TextEncoder().encode('not BTF at all, just text\n'));
/** af_key with one member name moved a byte into its base string: it loads, but reads wrong. */
const misnamed = file('af_key-misnamed.btf', (() => {
  const bytes = new Uint8Array(afKeyBytes);
  const mod = loadModuleBtf(bytes, d50Btf);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let id = mod.firstId; id < mod.endId; id++) {
    if (mod.kind(id) !== Kind.Struct) continue;
    for (let i = 0; i < mod.vlen(id); i++) {
      const at = mod.recordOffset(id) + 12 + 12 * i;
      const off = dv.getUint32(at, mod.littleEndian);
      if (off > 0 && off < mod.firstStringOffset && (d50Btf.str(off) ?? '').length >= 4) {
        dv.setUint32(at, off + 1, mod.littleEndian);
        return bytes;
      }
    }
  }
  throw new Error('af_key has no member named from the base');
})());

test('merge of many modules: the first problem in module order is the error, nothing is written', () => {
  assert.equal(checkSplit(readFileSync(foreign), d50Btf).verdict, 'mismatched', 'the foreign module is refused on its own');
  assert.equal(checkSplit(readFileSync(misnamed), d50Btf).verdict, 'mismatched', 'the misnamed module is refused on its own');
  const misnamedAlone = btfkit('merge', '--base', d50, misnamed, '-o', join(dir, 'alone.btf'));
  assert.equal(misnamedAlone.code, 1);
  assert.equal(btfkit('merge', '--force', '--base', d50, misnamed, '-o', join(dir, 'alone.btf')).code, 0, 'the misnamed module loads');
  // What each problem reads like when it is the only module.
  const alone = (m: string) => btfkit('merge', '--base', d50, m, '-o', join(dir, 'alone.btf'));
  const refusedAlone = alone(foreign);
  const junkAlone = alone(junk);
  assert.equal(refusedAlone.code, 1);
  assert.match(refusedAlone.stderr, /does not match this base/);
  assert.equal(junkAlone.code, 1);
  assert.match(junkAlone.stderr, /not raw BTF, an ELF file/);
  for (const dedup of [[], ['--dedup']]) {
    const out = join(dir, `many${dedup.length}.btf`);
    const refusedFirst = btfkit('merge', ...dedup, '--base', d50, ...manyModules({ 40: foreign, 55: junk }), '-o', out);
    assert.deepEqual([refusedFirst.code, refusedFirst.stderr], [1, refusedAlone.stderr], `refusal before junk ${dedup}`);
    const junkFirst = btfkit('merge', ...dedup, '--base', d50, ...manyModules({ 40: junk, 55: foreign }), '-o', out);
    assert.deepEqual([junkFirst.code, junkFirst.stderr], [1, junkAlone.stderr], `junk before refusal ${dedup}`);
    // Refused last, a module that loads: the merge itself is done by then; nothing may be written.
    const refusedLast = btfkit('merge', ...dedup, '--base', d50, ...manyModules({ 69: misnamed }), '-o', out);
    assert.deepEqual([refusedLast.code, refusedLast.stderr], [1, misnamedAlone.stderr], `refused last ${dedup}`);
    assert.equal(existsSync(out), false);
    // All accepted: the same bytes as with --force, which checks nothing.
    const ok = btfkit('merge', ...dedup, '--base', d50, ...manyModules(), '-o', out);
    assert.equal(ok.code, 0, ok.stderr);
    const forced = btfkit('merge', ...dedup, '--force', '--base', d50, ...manyModules(), '-o', `${out}.forced`);
    assert.equal(forced.code, 0, forced.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(`${out}.forced`)), `same output ${dedup}`);
    rmSync(out);
  }
});
