/**
 * Distill, relocate, rebase and stamp on real data: every module of a Debian 6.1 build (A,
 * the newest build under DATA_DIR) and another build's base (B; and an rt build's base when
 * BTFKIT_RT_BUILD names one, a base whose types really differ).
 *
 * "The same definitions" is {@link definitionText}: each type's members, values and
 * parameters with every referenced type spelled out down to the first named type, which is
 * named only. Distilled modules read on A, and on B, must give every one of the module's own
 * types the definition it has in the original read on A.
 *
 * Oracles: bpftool 7.5 (libbpf 1.5, relocates a .ko's .BTF.base when it reads it; BPFTOOL75
 * names it, .ci/run unpacks it from bookworm-backports), and libbpf's btf__distill_base
 * (libbpf >= 1.5; BTFKIT_LIBBPF_DIR names a directory with include/bpf/*.h and libbpf.a,
 * since Debian 12 ships 1.1 and bookworm-backports 1.4.6).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpRaw } from '../src/dump/raw.js';
import { BTF_BASE_SECTION, BTF_SECTION, parseElf, sectionBytes } from '../src/elf/elf.js';
import { editElfSections } from '../src/elf/write.js';
import { Kind } from '../src/format/kinds.js';
import { checkSplit } from '../src/split/check.js';
import { distillBase } from '../src/split/distill.js';
import { loadModuleBtf } from '../src/split/load.js';
import { rebaseModule } from '../src/split/rebase.js';
import { BTF_BASE_CHECKSUM_SECTION, checksumSection } from '../src/split/stamp.js';
import { coreTargetBuilds, fetchedBuilds, findModules } from './helpers/data.js';
import { definitionText } from './helpers/definition.js';
import { DATA_DIR, REPO_ROOT } from './helpers/paths.js';
import { byHandOracle, loudSkip } from './helpers/skip.js';

const REQUIRE_DATA = process.env.BTFKIT_REQUIRE_DATA === '1';
const work = mkdtempSync(join(tmpdir(), 'btfkit-distill-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

const builds = fetchedBuilds().filter((d) => existsSync(join(d, 'modules')))
  .sort((a, b) => Number(/6\.1\.0-(\d+)/.exec(basename(b))?.[1] ?? 0) - Number(/6\.1\.0-(\d+)/.exec(basename(a))?.[1] ?? 0));
const A = builds[0];
const B = builds[1];
/** An rt build's base: BTFKIT_RT_BUILD, else the one .ci/run fetches into data/core-targets. */
const RT = process.env.BTFKIT_RT_BUILD ?? coreTargetBuilds().find((d) => /-rt-/.test(basename(d)));

function skipWithoutData(t: TestContext): boolean {
  if (A && B) return false;
  const why = `needs two builds under ${DATA_DIR} (found ${builds.length}); run tools/fetch-debian-kernel.sh twice`;
  if (REQUIRE_DATA) assert.fail(why);
  loudSkip(t, why);
  return true;
}

const read = (f: string) => new Uint8Array(readFileSync(f));
const baseOf = (dir: string) => Btf.parse(read(join(dir, 'vmlinux.btf')));

function rawOf(btf: Btf): Buffer {
  const sink = new ByteSink();
  dumpRaw(btf, sink);
  return Buffer.from(sink.toBytes());
}

/** Every own type of `got` (from `gotFirst` on) has the definition of the type at the same place in `want`. */
function sameDefinitions(want: Btf, got: Btf, what: string): void {
  assert.ok(got.ownTypeCount >= want.ownTypeCount, `${what}: ${got.ownTypeCount} types, fewer than the original's ${want.ownTypeCount}`);
  for (let i = 0; i < want.ownTypeCount; i++) {
    const w = definitionText(want, want.firstId + i);
    const g = definitionText(got, got.firstId + i);
    if (w !== g) assert.fail(`${what}: type ${want.firstId + i} (now ${got.firstId + i}) reads\n  ${g}\nnot\n  ${w}`);
  }
}

interface Distilled { file: string; ko: Uint8Array; original: Btf; base: Uint8Array; split: Uint8Array }

let distilledCache: Distilled[] | undefined;
/** Every module of A, distilled, as a .ko; computed once for the tests that need it. */
function distilledModules(baseA: Btf): Distilled[] {
  distilledCache ??= findModules(join(A!, 'modules')).map((file) => {
    const bytes = read(file);
    const original = loadModuleBtf(bytes, baseA, file);
    const d = distillBase(original);
    const ko = editElfSections(bytes, { set: { [BTF_SECTION]: d.split, [BTF_BASE_SECTION]: d.base } });
    return { file, ko, original, base: d.base, split: d.split };
  });
  return distilledCache;
}

test('distill: every module of A, read on A and on B, defines its types as the original on A; the rest of the ELF is unchanged', (t) => {
  if (skipWithoutData(t)) return;
  const baseA = baseOf(A!);
  const baseB = baseOf(B!);
  const mods = distilledModules(baseA);
  assert.ok(mods.length > 100, `only ${mods.length} modules`);
  for (const m of mods) {
    const name = relative(DATA_DIR, m.file);
    const before = parseElf(read(m.file));
    const after = parseElf(m.ko);
    const names = (e: typeof before) => e.sections.map((s) => s.name).filter((n) => n !== BTF_BASE_SECTION);
    assert.deepEqual(names(after), names(before), `${name}: sections`);
    for (const s of before.sections) {
      if (s.name === BTF_SECTION || s.index === 0) continue;
      const a = after.sections.find((x) => x.name === s.name && x.type === s.type)!;
      if (s.index === before.shstrndx) {
        // The name table gains '.BTF.base' at its end.
        assert.ok(Buffer.from(sectionBytes(after, a)).subarray(0, s.size).equals(Buffer.from(sectionBytes(before, s))), `${name}: ${s.name}`);
        continue;
      }
      assert.deepEqual([a.flags, a.addralign, a.entsize, a.size], [s.flags, s.addralign, s.entsize, s.size], `${name}: ${s.name} header`);
      if (s.type !== 8) assert.ok(Buffer.from(sectionBytes(after, a)).equals(Buffer.from(sectionBytes(before, s))), `${name}: ${s.name} contents`);
    }
    // The distilled base holds only named INT, FLOAT, ENUM, STRUCT, UNION and FWD, as the kernel requires.
    const db = Btf.parse(m.base);
    for (let id = 1; id < db.endId; id++) {
      assert.ok([Kind.Int, Kind.Float, Kind.Enum, Kind.Struct, Kind.Union, Kind.Fwd].includes(db.kind(id)) && db.name(id) !== '', `${name}: distilled base type ${id}`);
    }
    sameDefinitions(m.original, loadModuleBtf(m.ko, baseA, m.file), `${name} on its own base`);
    sameDefinitions(m.original, loadModuleBtf(m.ko, baseB, m.file), `${name} on ${basename(B!)}`);
    assert.equal(checkSplit(m.ko, baseA).verdict, 'matched', `${name}: check on its own base`);
  }
});

const BPFTOOL75 = process.env.BPFTOOL75;

test('distill: bpftool 7.5 (libbpf 1.5) reads every distilled .ko of A on A and on B and prints what btfkit prints', (t) => {
  if (skipWithoutData(t)) return;
  if (!BPFTOOL75 || !existsSync(BPFTOOL75)) {
    loudSkip(t, 'set BPFTOOL75 to bookworm-backports\' bpftool 7.5 (apt-get download bpftool/bookworm-backports; dpkg -x; see .ci/run)');
    return;
  }
  const baseA = baseOf(A!);
  const mods = distilledModules(baseA);
  const files = mods.map((m, i) => {
    const f = join(work, `${i}.ko`);
    writeFileSync(f, m.ko);
    return f;
  });
  const banner = execFileSync(BPFTOOL75, ['version']);
  for (const build of [A!, B!]) {
    const vmlinux = join(build, 'vmlinux.btf');
    const base = build === A ? baseA : baseOf(build);
    const cmdFile = join(work, 'cmds');
    writeFileSync(cmdFile, files.map((f) => `btf dump file ${f} format raw\nversion\n`).join(''));
    // bpftool 7.5's batch mode ends every run with 'reading batch file failed: Bad file
    // descriptor' and exit 255, whatever happened: each dump is found by the banners instead.
    const run = spawnSync(BPFTOOL75, ['--base-btf', vmlinux, 'batch', 'file', cmdFile], { maxBuffer: 2 ** 31 - 1 });
    const out = run.stdout;
    let start = 0;
    files.forEach((f, i) => {
      const at = out.indexOf(banner, start);
      assert.ok(at >= 0, `bpftool 7.5 stopped before ${relative(DATA_DIR, mods[i]!.file)}: ${run.stderr.toString()}`);
      const theirs = out.subarray(start, at);
      start = at + banner.length;
      const ours = rawOf(loadModuleBtf(read(f), base, f));
      if (!ours.equals(theirs)) assert.fail(`${relative(DATA_DIR, mods[i]!.file)} on ${basename(build)}: btfkit and bpftool 7.5 print different dumps`);
    });
  }
});

const LIBBPF_DIR = process.env.BTFKIT_LIBBPF_DIR;

test('distill: the distilled base and split BTF of every module of A are the bytes libbpf\'s btf__distill_base writes (after the header for libbpf 1.8)', (t) => {
  if (skipWithoutData(t)) return;
  if (!LIBBPF_DIR || !existsSync(join(LIBBPF_DIR, 'libbpf.a'))) {
    byHandOracle(t, 'needs libbpf >= 1.5 (btf__distill_base), which no Debian 12 package has (1.1; backports 1.4.6): build it by hand and set BTFKIT_LIBBPF_DIR to a directory with include/bpf/btf.h and libbpf.a');
    return;
  }
  const oracle = join(work, 'distill_base');
  const cc = spawnSync('cc', ['-O2', '-Wall', `-I${join(LIBBPF_DIR, 'include')}`, '-o', oracle, join(REPO_ROOT, 'test', 'helpers', 'distill_base.c'), join(LIBBPF_DIR, 'libbpf.a'), '-lelf', '-lz'], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const baseA = baseOf(A!);
  const mods = distilledModules(baseA);
  const out = join(work, 'libbpf');
  execFileSync('mkdir', ['-p', out]);
  execFileSync(oracle, [join(A!, 'vmlinux.btf'), out, ...mods.map((m) => m.file)]);
  // Byte for byte when libbpf writes the 24-byte header as 1.5 does; libbpf 1.8 writes a 32-byte
  // one (without a layout section), and then what follows the header must be equal.
  const hdrLen = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(4, true);
  const same = (theirs: Uint8Array, ours: Uint8Array) => (hdrLen(theirs) === hdrLen(ours)
    ? Buffer.from(theirs).equals(Buffer.from(ours))
    : Buffer.from(theirs.subarray(hdrLen(theirs))).equals(Buffer.from(ours.subarray(hdrLen(ours)))));
  let wholeBlobs = 0;
  mods.forEach((m, i) => {
    const name = relative(DATA_DIR, m.file);
    const err = join(out, `${i}.err`);
    assert.ok(!existsSync(err), `${name}: libbpf refused: ${existsSync(err) ? readFileSync(err, 'utf8') : ''}`);
    const theirBase = read(join(out, `${i}.base`));
    assert.ok(same(theirBase, m.base), `${name}: distilled base differs from libbpf's`);
    assert.ok(same(read(join(out, `${i}.split`)), m.split), `${name}: split BTF differs from libbpf's`);
    if (hdrLen(theirBase) === hdrLen(m.base)) wholeBlobs++;
  });
  t.diagnostic(`${wholeBlobs} of ${mods.length} modules compared byte for byte, header included`);
});

function rebaseSweep(t: TestContext, target: string): void {
  const baseA = baseOf(A!);
  const newBase = baseOf(target);
  const counts = { rebased: 0, refused: 0, kept: 0, moved: 0, changed: 0, refusedTypes: 0 };
  const reasons = new Map<string, number>();
  for (const file of findModules(join(A!, 'modules'))) {
    const name = relative(DATA_DIR, file);
    const original = loadModuleBtf(read(file), baseA, file);
    const r = rebaseModule(original, newBase);
    counts.kept += r.counts.kept;
    counts.moved += r.counts.moved;
    counts.changed += r.counts.changed;
    if (r.bytes) {
      counts.rebased++;
      sameDefinitions(original, Btf.parse(r.bytes, { base: newBase }), `${name} rebased onto ${basename(target)}`);
      continue;
    }
    counts.refused++;
    for (const ty of r.types.filter((x) => x.fate === 'refused')) {
      counts.refusedTypes++;
      // A refusal must hold in the new base: no type of that kind and name with the old size (or several).
      const oldKind = baseA.kind(ty.fromId);
      const oldName = baseA.name(ty.fromId);
      const same = newBase.find(oldName).filter((id) => newBase.kind(id) === oldKind || (oldKind === Kind.Enum64 && newBase.kind(id) === Kind.Enum) || (oldKind === Kind.Enum && newBase.kind(id) === Kind.Enum64));
      const sized = same.filter((id) => newBase.sizeOrType(id) === baseA.sizeOrType(ty.fromId));
      assert.ok(sized.length !== 1 || same.length > 1, `${name}: ${ty.type} refused (${ty.reason}) though the new base has exactly one of that name and size`);
      assert.match(ty.reason ?? '', new RegExp(`'${oldName.replace(/[^\w]/g, '.')}'`), `${name}: the refusal names the type`);
      const key = ty.reason!.replace(/\[\d+\] /, '');
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
  }
  const top = [...reasons].sort((x, y) => y[1] - x[1]).slice(0, 3).map(([r, n]) => `${n}× ${r}`).join('; ');
  process.stderr.write(`rebase ${basename(A!)} -> ${basename(target)}: ${counts.rebased} rebased, ${counts.refused} refused; base types kept ${counts.kept}, moved ${counts.moved}, changed ${counts.changed}, refused ${counts.refusedTypes}${top ? `; most refused: ${top}` : ''}\n`);
  t.diagnostic(JSON.stringify(counts));
}

test('rebase: every module of A rebased onto B reads there as on A, or is refused for a reason that holds in B', (t) => {
  if (skipWithoutData(t)) return;
  rebaseSweep(t, B!);
});

test('rebase: every module of A onto an rt build\'s base (types that really differ): rebased and reading as on A, or refused for a reason that holds', (t) => {
  if (skipWithoutData(t)) return;
  if (!RT || !existsSync(join(RT, 'vmlinux.btf'))) {
    const why = 'no rt build: .ci/run fetches one into data/core-targets (BTFKIT_KERNEL_FLAVOUR=rt-amd64 BTFKIT_KERNEL_MODULES=0 tools/fetch-debian-kernel.sh data/core-targets), or set BTFKIT_RT_BUILD';
    if (REQUIRE_DATA) assert.fail(why);
    loudSkip(t, why);
    return;
  }
  rebaseSweep(t, RT);
});

test('stamp: every stamped module of A checks matched on A and mismatched (checksum) on B and on A with one PTR appended', (t) => {
  if (skipWithoutData(t)) return;
  const baseA = baseOf(A!);
  const baseB = baseOf(B!);
  const strings = baseA.bytes.subarray(baseA.stringStart, baseA.stringStart + baseA.header.strLen);
  const grown = new BtfBuilder({ strings });
  grown.addAll(baseA);
  grown.addPtr(1);
  const baseAPlus = Btf.parse(grown.encode());
  const stamp = checksumSection(baseA);
  for (const file of findModules(join(A!, 'modules'))) {
    const name = relative(DATA_DIR, file);
    const ko = editElfSections(read(file), { set: { [BTF_BASE_CHECKSUM_SECTION]: stamp } });
    const own = checkSplit(ko, baseA);
    assert.deepEqual([own.verdict, own.reason], ['matched', 'checksum'], `${name} on its own base: ${own.summary}`);
    for (const [other, what] of [[baseB, basename(B!)], [baseAPlus, 'A + one PTR']] as const) {
      const r = checkSplit(ko, other);
      assert.deepEqual([r.verdict, r.reason, r.evidence[0]?.signal], ['mismatched', 'checksum', 'checksum'], `${name} on ${what}: ${r.summary}`);
    }
  }
});

test('rebase CLI: every module of A with .BTF_ids, rebased onto B, checks matched there (resolve_btfids\' ids renumbered, sets sorted again)', (t) => {
  if (skipWithoutData(t)) return;
  const withIds = findModules(join(A!, 'modules')).filter((f) => parseElf(read(f)).sections.some((s) => s.name === '.BTF_ids' && s.size > 0));
  assert.ok(withIds.length > 0, 'no module of A has .BTF_ids');
  const cli = join(REPO_ROOT, 'dist', 'btfkit.cjs');
  for (const file of withIds) {
    const out = join(work, basename(file));
    const r = spawnSync(process.execPath, [cli, 'rebase', file, '--from', join(A!, 'vmlinux.btf'), '--to', join(B!, 'vmlinux.btf'), '-o', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const check = spawnSync(process.execPath, [cli, 'check', out, '--base', join(B!, 'vmlinux.btf')], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${relative(DATA_DIR, file)} rebased onto ${basename(B!)}: ${check.stdout}`);
  }
});
