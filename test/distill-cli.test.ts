/**
 * `btfkit distill`, `relocate`, `rebase` and `check --from`, run as shipped (dist/btfkit.cjs),
 * on the golden 6.1.0-50 af_key module's BTF put into an object compiled here.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { BTF_BASE_SECTION, BTF_SECTION, btfSections, parseElf } from '../src/elf/elf.js';
import { editElfSections } from '../src/elf/write.js';
import { fixture } from './helpers/paths.js';
import { definitionText } from './helpers/definition.js';
import { loadModuleBtf } from '../src/split/load.js';
import { loudSkip } from './helpers/skip.js';

const CLI = join(process.cwd(), 'dist', 'btfkit.cjs');
const dir = mkdtempSync(join(tmpdir(), 'btfkit-distill-cli-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
const file = (name: string, bytes: Uint8Array) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
const out = (name: string) => join(dir, name);

const d50 = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
const afKey = fixture('golden/debian-6.1.0-50-cloud/modules/af_key.btf.gz');
const base = file('d50.btf', d50.bytes);
const v618 = file('v618.btf', fixture('golden/running-6.18/vmlinux.btf.gz'));
const plusPtr = (() => {
  const b = new BtfBuilder({ strings: d50.bytes.subarray(d50.stringStart, d50.stringStart + d50.header.strLen) });
  b.addAll(d50);
  b.addPtr(1);
  return file('d50-plus-ptr.btf', b.encode());
})();

function moduleObject(t: TestContext): string | undefined {
  const src = file('m.c', new TextEncoder().encode('int af_key_marker;\n'));
  const obj = out('m.o');
  const r = spawnSync('cc', ['-c', '-o', obj, src], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    loudSkip(t, `cannot compile an object with cc: ${r.error?.message ?? r.stderr}`);
    return undefined;
  }
  return file('af_key.o', editElfSections(new Uint8Array(readFileSync(obj)), { set: { [BTF_SECTION]: afKey } }));
}

test('distill CLI: the .ko gets .BTF and .BTF.base; read on its base every original type keeps its id, name and definition; --base-out/--split-out hold the same blobs', (t) => {
  const mod = moduleObject(t);
  if (!mod) return;
  const r = run('distill', mod, '--base', base, '-o', out('af_key.d.o'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^btfkit: distilled base of \d+ types; \d+ base types copied into the module's BTF\n$/);
  const original = run('dump', mod, '--base', base).stdout;
  const distilled = run('dump', out('af_key.d.o'), '--base', base);
  assert.equal(distilled.status, 0, distilled.stderr);
  // Each original type keeps its id, kind and name; references may now lead to the module's
  // copies of base typedefs and pointers, so what they lead to is compared by definition.
  const heads = (dump: string) => dump.split('\n').map((l) => /^\[\d+\] \S+ '[^']*'/.exec(l)?.[0]).filter((l) => l !== undefined);
  assert.deepEqual(heads(distilled.stdout).slice(0, heads(original).length), heads(original));
  const before = loadModuleBtf(new Uint8Array(readFileSync(mod)), d50);
  const after = loadModuleBtf(new Uint8Array(readFileSync(out('af_key.d.o'))), d50);
  for (let id = before.firstId; id < before.endId; id++) assert.equal(definitionText(after, id), definitionText(before, id), `type ${id}`);
  const raw = run('distill', mod, '--base', base, '--base-out', out('b.raw'), '--split-out', out('s.raw'));
  assert.equal(raw.status, 0, raw.stderr);
  const sections = btfSections(parseElf(new Uint8Array(readFileSync(out('af_key.d.o')))));
  assert.deepEqual(sections.get(BTF_BASE_SECTION), new Uint8Array(readFileSync(out('b.raw'))));
  assert.deepEqual(sections.get(BTF_SECTION), new Uint8Array(readFileSync(out('s.raw'))));
  // Distilling twice is refused; so is -o for raw input.
  assert.equal(run('distill', out('af_key.d.o'), '--base', base, '-o', out('x')).status, 1);
  const rawOut = run('distill', file('af_key.btf', afKey), '--base', base, '-o', out('y'));
  assert.equal(rawOut.status, 1);
  assert.match(rawOut.stderr, /--base-out and --split-out/);
});

test('relocate CLI: a distilled .ko relocated onto its base dumps as the distilled one read there, with no .BTF.base left; --raw writes the split BTF', (t) => {
  const mod = moduleObject(t);
  if (!mod) return;
  assert.equal(run('distill', mod, '--base', base, '-o', out('r.d.o')).status, 0);
  const r = run('relocate', out('r.d.o'), '--base', base, '-o', out('r.o'));
  assert.equal(r.status, 0, r.stderr);
  const relocated = parseElf(new Uint8Array(readFileSync(out('r.o'))));
  assert.ok(!relocated.sections.some((s) => s.name === BTF_BASE_SECTION));
  assert.equal(run('dump', out('r.o'), '--base', base).stdout, run('dump', out('r.d.o'), '--base', base).stdout);
  assert.equal(run('relocate', out('r.d.o'), '--base', base, '-o', out('r.raw'), '--raw').status, 0);
  assert.deepEqual(new Uint8Array(readFileSync(out('r.raw'))), btfSections(relocated).get(BTF_SECTION));
  // Onto 6.18 it is refused: one line naming a type and why.
  const refused = run('relocate', out('r.d.o'), '--base', v618, '-o', out('r618.o'));
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^btfkit: error: .*cannot be relocated onto .*INT 'char' of size 1 and encoding SIGNED has no counterpart in the base/);
  assert.equal(refused.stderr.split('\n').length, 2);
  const plain = run('relocate', mod, '--base', base, '-o', out('z'));
  assert.equal(plain.status, 1);
  assert.match(plain.stderr, /no distilled base/);
});

test('rebase CLI: onto its base plus one PTR every base type is kept and the result checks matched there; onto 6.18 refused with the reasons', (t) => {
  const mod = moduleObject(t);
  if (!mod) return;
  const r = run('rebase', mod, '--from', base, '--to', plusPtr, '-o', out('rb.o'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { rebased: boolean; counts: Record<string, number>; types: unknown[] };
  assert.equal(report.rebased, true);
  assert.equal(report.counts.refused, 0);
  assert.equal(report.counts.moved, 0);
  assert.ok(report.counts.kept! > 10);
  const check = run('check', out('rb.o'), '--base', plusPtr);
  assert.equal(check.status, 0, check.stdout);
  // Raw in, raw out.
  const raw = run('rebase', file('af_key2.btf', afKey), '--from', base, '--to', plusPtr, '-o', out('rb.raw'));
  assert.equal(raw.status, 0, raw.stderr);
  assert.match(raw.stderr, /named base types: \d+ kept, 0 moved, 0 changed/);
  assert.deepEqual(new Uint8Array(readFileSync(out('rb.raw'))), btfSections(parseElf(new Uint8Array(readFileSync(out('rb.o'))))).get(BTF_SECTION));
  const refused = run('rebase', mod, '--from', base, '--to', v618, '-o', out('rb618.o'));
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /^btfkit: error: .*cannot be rebased onto .*: \d+ of the \d+ base types the module uses cannot be placed on the new base: \[\d+\] INT 'char'/);
  assert.equal(run('rebase', mod, '--from', base, '-o', out('q')).status, 2);
});

test('check --from OLD: a module mismatched on BASE says whether a rebase from OLD would succeed', (t) => {
  const mod = moduleObject(t);
  if (!mod) return;
  const r = run('check', mod, '--base', v618, '--from', base, '--json');
  assert.equal(r.status, 3);
  const [report] = JSON.parse(r.stdout) as { verdict: string; rebase: { possible: boolean; summary: string } }[];
  assert.equal(report!.verdict, 'mismatched');
  assert.equal(report!.rebase.possible, false);
  assert.match(report!.rebase.summary, /refused: .*INT 'char'/);
  // Built on 6.18 it is not: then it cannot be rebased from there.
  const wrongFrom = run('check', mod, '--base', plusPtr, '--from', v618);
  assert.doesNotMatch(wrongFrom.stdout, /would succeed/);
});

test('distill, relocate, rebase, stamp: --help prints the usage, missing arguments are usage errors (exit 2)', () => {
  for (const cmd of ['distill', 'relocate', 'rebase', 'stamp']) {
    const help = run(cmd, '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, new RegExp(`^Usage:\\n  btfkit ${cmd} `));
    const usage = run(cmd);
    assert.equal(usage.status, 2, `${cmd} with no arguments`);
  }
});
