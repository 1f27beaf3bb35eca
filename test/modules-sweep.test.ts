/**
 * Module BTF on real data: two Debian 6.1 cloud builds fetched into DATA_DIR by
 * tools/fetch-debian-kernel.sh (each: vmlinux.btf and every module's .ko).
 *
 * - check: every module of build A on A's base is matched, every module of build B on B's;
 *   A's modules on B's base are mismatched exactly when bpftool's raw dump of the module on B
 *   differs from its raw dump on A (no miss, no false alarm);
 * - standalone then split gives back every module of A dumping exactly as bpftool dumped the
 *   original, and the running kernel's BPF_BTF_LOAD accepts every standalone blob;
 * - merge of every module of A reads in bpftool on A's base, each module's part dumping as the
 *   module itself;
 * - loading every module of A on its base, timed beside bpftool doing the same.
 *
 * bpftool runs in batch mode (`bpftool --base-btf BASE batch file CMDS`, a `version` command
 * after each dump as separator), so the base is parsed once per batch, and it runs in child
 * processes while btfkit works, using the second core.
 *
 * Without data this skips loudly; with BTFKIT_REQUIRE_DATA=1 it fails instead.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpRaw } from '../src/dump/raw.js';
import { checkSplit, type SplitCheck } from '../src/split/check.js';
import { makeStandalone, splitOnBase } from '../src/split/forms.js';
import { mergeModules } from '../src/split/merge.js';
import { loadModuleBtf } from '../src/split/load.js';
import { readModule } from '../src/node/files.js';
import { moduleNameOf } from '../src/elf/compress.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { DATA_DIR } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';
import { kernelLoad } from './helpers/kernel.js';

const BPFTOOL = process.env.BPFTOOL ?? 'bpftool';
const REQUIRE_DATA = process.env.BTFKIT_REQUIRE_DATA === '1';
const work = mkdtempSync(join(tmpdir(), 'btfkit-modsweep-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

interface Build {
  name: string;
  dir: string;
  abi: number;
  vmlinux: string;
  modules: string[];
}


function findBuilds(): Build[] {
  return fetchedBuilds()
    .filter((dir) => existsSync(join(dir, 'modules')))
    .map((dir) => ({ name: basename(dir), dir }))
    .map(({ name, dir }) => ({
      name, dir, abi: Number(/6\.1\.0-(\d+)/.exec(name)?.[1] ?? 0), vmlinux: join(dir, 'vmlinux.btf'), modules: findModules(join(dir, 'modules')),
    }))
    .sort((a, b) => b.abi - a.abi);
}

const builds = findBuilds();
/** A: the newest build, whose modules are checked on every other build's base. */
const A = builds[0];
const others = builds.slice(1);
const haveData = A !== undefined && others.length > 0;

function skipWithoutData(t: TestContext): boolean {
  if (haveData) return false;
  const why = `needs two builds under ${DATA_DIR} (found ${builds.length}); run tools/fetch-debian-kernel.sh twice (e.g. the newest and 55)`;
  if (REQUIRE_DATA) assert.fail(why);
  loudSkip(t, why);
  return true;
}

const bpftoolBanner: Buffer | undefined = (() => {
  try {
    return execFileSync(BPFTOOL, ['version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
})();

const sha = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');

/** What bpftool printed for one module: a hash of its raw dump, or its failure. */
interface Printed { ok: boolean; hash: string; text?: Buffer }

function execBpftool(args: string[]): Promise<{ ok: boolean; out: Buffer; err: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(BPFTOOL, args, { encoding: 'buffer', maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: stdout, err: stderr.toString(), ms: performance.now() - t0 });
    });
  });
}

/**
 * Raw dumps of `files` split on `base`, by bpftool in batch mode. A batch ends at the first
 * file bpftool cannot read; that one is recorded as failed and the batch resumes after it.
 * Returns the dumps and the wall time bpftool took.
 */
async function bpftoolDumps(files: readonly string[], base: string, keepText: boolean): Promise<{ dumps: Printed[]; ms: number }> {
  const banner = bpftoolBanner!;
  const dumps: Printed[] = [];
  let ms = 0;
  while (dumps.length < files.length) {
    const rest = files.slice(dumps.length);
    const cmds = rest.map((f) => `btf dump file ${f} format raw\nversion\n`).join('');
    const cmdFile = join(work, `batch-${process.pid}-${dumps.length}.txt`);
    writeFileSync(cmdFile, cmds);
    const r = await execBpftool(['--base-btf', base, 'batch', 'file', cmdFile]);
    ms += r.ms;
    let start = 0;
    for (let at = r.out.indexOf(banner, start); at >= 0 && dumps.length < files.length; at = r.out.indexOf(banner, start)) {
      const text = r.out.subarray(start, at);
      dumps.push({ ok: true, hash: sha(text), ...(keepText ? { text } : {}) });
      start = at + banner.length;
    }
    if (!r.ok && dumps.length < files.length) dumps.push({ ok: false, hash: '' });
    else if (r.ok && dumps.length < files.length) throw new Error(`bpftool batch ended early without an error after ${dumps.length} files: ${r.err}`);
  }
  return { dumps, ms };
}

function rawOf(btf: Btf): Uint8Array {
  const sink = new ByteSink();
  dumpRaw(btf, sink);
  return sink.toBytes();
}

// bpftool's work starts at once, in child processes, while btfkit's tests run: A's modules on
// A's base, then on each other build's base.
const oracle = haveData && bpftoolBanner ? (() => {
  const own = bpftoolDumps(A!.modules, A!.vmlinux, false);
  const other = new Map<string, Promise<{ dumps: Printed[]; ms: number }>>();
  let chain: Promise<unknown> = own;
  for (const b of others) {
    const p = chain.then(() => bpftoolDumps(A!.modules, b.vmlinux, false));
    other.set(b.name, p);
    chain = p;
  }
  return { own, other };
})() : undefined;

const read = (f: string) => new Uint8Array(readFileSync(f));
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rel = (f: string) => relative(DATA_DIR, f);

test('check: every module matched on its own base; on another build exactly where bpftool decodes it differently', async (t) => {
  if (skipWithoutData(t)) return;
  const checkAll = (b: Build, base: Btf) => {
    const out: SplitCheck[] = [];
    let ms = 0;
    let max = 0;
    for (const f of b.modules) {
      const bytes = read(f);
      const t0 = performance.now();
      out.push(checkSplit(bytes, base, { file: f, maxEvidence: 3 }));
      const d = performance.now() - t0;
      ms += d;
      if (d > max) max = d;
    }
    return { out, ms, max };
  };
  const count = (r: { out: SplitCheck[] }) => r.out.reduce<Record<string, number>>((acc, c) => ({ ...acc, [c.verdict]: (acc[c.verdict] ?? 0) + 1 }), {});
  const signals = (r: { out: SplitCheck[] }) => r.out.reduce<Record<string, number>>((acc, c) => {
    for (const s of Object.keys(c.signals)) acc[s] = (acc[s] ?? 0) + 1;
    return acc;
  }, {});
  const bases = new Map(builds.map((b) => [b.name, Btf.parse(read(b.vmlinux), { file: b.vmlinux })]));
  // Every build's modules on their own base.
  for (const b of builds) {
    const r = checkAll(b, bases.get(b.name)!);
    const bad = r.out.filter((c) => c.verdict !== 'matched').map((c) => `${rel(c.file!)}: ${c.summary}`);
    t.diagnostic(`${b.name} modules on their own base: ${JSON.stringify(count(r))}; check per module: mean ${(r.ms / b.modules.length).toFixed(2)} ms, max ${r.max.toFixed(1)} ms, all ${fmt(r.ms)}`);
    assert.deepEqual(bad.slice(0, 20), [], `${b.name} modules on their own base`);
  }
  // A's modules on every other base, against bpftool's reading.
  const own = oracle ? (await oracle.own).dumps : undefined;
  if (!oracle) loudSkip(t, 'bpftool is not installed: no ground truth for the other-base verdicts');
  for (const b of others) {
    const r = checkAll(A!, bases.get(b.name)!);
    t.diagnostic(`${A!.name} modules on ${b.name}: ${JSON.stringify(count(r))}; modules per signal ${JSON.stringify(signals(r))}`);
    if (!oracle || !own) continue;
    const other = (await oracle.other.get(b.name)!).dumps;
    let differ = 0;
    const wrong: string[] = [];
    A!.modules.forEach((f, i) => {
      const decodesDifferently = !other[i]!.ok || !own[i]!.ok || other[i]!.hash !== own[i]!.hash;
      if (decodesDifferently) differ++;
      const said = r.out[i]!.verdict;
      if (decodesDifferently && said !== 'mismatched') wrong.push(`miss: ${rel(f)}: ${said}`);
      if (!decodesDifferently && said === 'mismatched') wrong.push(`false alarm: ${rel(f)}: ${r.out[i]!.summary}`);
    });
    const misses = wrong.filter((w) => w.startsWith('miss')).length;
    t.diagnostic(`ground truth, bpftool raw dump on ${A!.name} vs ${b.name}: ${differ} of ${A!.modules.length} decode differently; btfkit: ${misses} misses, ${wrong.length - misses} false alarms`);
    assert.deepEqual(wrong.slice(0, 20), [], `${A!.name} modules on ${b.name}`);
  }
});

test('readModule: each module of A, its ELF headers parsed once, checks and loads as the whole file does, on both bases', (t) => {
  if (skipWithoutData(t)) return;
  for (const b of builds) {
    const base = Btf.parse(read(b.vmlinux), { file: b.vmlinux });
    let mismatched = 0;
    for (const f of A!.modules) {
      const whole = read(f);
      const sections = readModule(f);
      assert.ok(sections.elf, `${rel(f)}: readModule keeps the parsed headers`);
      const viaSections = checkSplit(sections, base, { file: f, maxEvidence: 3 });
      assert.deepEqual(viaSections, checkSplit(whole, base, { file: f, maxEvidence: 3 }), `${rel(f)} on ${b.name}`);
      if (viaSections.verdict === 'mismatched') mismatched++;
      else assert.deepEqual(loadModuleBtf(sections, base, f).bytes, loadModuleBtf(whole, base, f).bytes, `${rel(f)} loaded on ${b.name}`);
    }
    t.diagnostic(`${A!.name} modules on ${b.name}: ${A!.modules.length} compared, ${mismatched} mismatched`);
  }
});

test('standalone then split: every module comes back dumping as bpftool dumped it; the kernel loads every standalone blob', async (t) => {
  if (skipWithoutData(t)) return;
  const base = Btf.parse(read(A!.vmlinux));
  let kernelSkip: string | undefined;
  let kernelOk = 0;
  const rejected: string[] = [];
  const different: string[] = [];
  const hashes: string[] = [];
  let msStandalone = 0;
  let msSplit = 0;
  const mods = A!.modules.map((f) => loadModuleBtf(read(f), base, f));
  mods.forEach((mod) => {
    let t0 = performance.now();
    const sa = makeStandalone(mod);
    msStandalone += performance.now() - t0;
    t0 = performance.now();
    const back = splitOnBase(Btf.parse(sa), base);
    msSplit += performance.now() - t0;
    hashes.push(sha(rawOf(Btf.parse(back.bytes, { base }))));
  });
  // Kernel loads in a second pass, so their cost (which the kernel partly defers) stays out of the timings.
  mods.forEach((mod, i) => {
    if (kernelSkip !== undefined) return;
    const k = kernelLoad(makeStandalone(mod));
    if ('skipped' in k) kernelSkip = k.skipped;
    else if (k.ok) kernelOk++;
    else rejected.push(`${rel(A!.modules[i]!)}: ${k.log.trim().split('\n').slice(-2).join(' | ')}`);
  });
  t.diagnostic(`standalone: ${fmt(msStandalone)}, split back: ${fmt(msSplit)} for ${A!.modules.length} modules; kernel accepted ${kernelOk}`);
  if (kernelSkip) loudSkip(t, `kernel loads not done: ${kernelSkip}`);
  assert.deepEqual(rejected.slice(0, 10), [], `${rejected.length} standalone blobs rejected by the kernel`);
  if (!oracle) return loudSkip(t, 'bpftool is not installed: round trip not compared with its dumps');
  const own = (await oracle.own).dumps;
  A!.modules.forEach((f, i) => {
    if (!own[i]!.ok || own[i]!.hash !== hashes[i]) different.push(rel(f));
  });
  assert.deepEqual(different.slice(0, 10), [], `${different.length} modules dump differently after standalone + split`);
});

test('merge: one blob with every module after the base; bpftool reads it, each module dumps as itself', async (t) => {
  if (skipWithoutData(t)) return;
  if (!oracle) return loudSkip(t, 'bpftool is not installed');
  const base = Btf.parse(read(A!.vmlinux));
  const mods = A!.modules.map((f) => ({ name: moduleNameOf(f), btf: loadModuleBtf(read(f), base, f) }));
  const t0 = performance.now();
  const merged = mergeModules(base, mods);
  const ms = performance.now() - t0;
  const file = join(work, 'merged.btf');
  writeFileSync(file, merged.bytes);
  const r = await execBpftool(['btf', 'dump', 'file', file, '--base-btf', A!.vmlinux, 'format', 'raw']);
  assert.ok(r.ok, `bpftool cannot read the merged blob: ${r.err}`);
  t.diagnostic(`merged ${mods.length} modules (${merged.modules.at(-1)!.endId - base.endId} types, ${merged.bytes.length} bytes) in ${fmt(ms)}`);
  const own = (await oracle.own).dumps;
  // Cut bpftool's dump at each module's first id and number the ids back to the module's own.
  const text = r.out;
  const starts = merged.modules.map((m) => text.indexOf(`\n[${m.firstId}] `) + 1);
  const different: string[] = [];
  merged.modules.forEach((m, i) => {
    if (m.endId === m.firstId) {
      if (own[i]!.hash !== sha(new Uint8Array(0))) different.push(m.name);
      return;
    }
    const from = i === 0 ? 0 : starts[i]!;
    const next = merged.modules.slice(i + 1).find((x) => x.endId > x.firstId);
    const to = next ? starts[merged.modules.indexOf(next)]! : text.length;
    const part = text.subarray(from, to).toString('latin1')
      .replace(/(\[|type_id=)(\d+)/g, (_, p: string, n: string) => {
        const id = Number(n);
        return `${p}${id >= m.firstId && id < m.endId ? id - m.firstId + m.originalFirstId : id}`;
      });
    if (sha(Buffer.from(part, 'latin1')) !== own[i]!.hash) different.push(m.name);
  });
  assert.deepEqual(different.slice(0, 10), [], `${different.length} modules dump differently inside the merged blob`);
});

test('benchmark: loading every module split on its base, btfkit beside bpftool', async (t) => {
  if (skipWithoutData(t)) return;
  const files = A!.modules.map((f) => [f, read(f)] as const);
  let t0 = performance.now();
  const base = Btf.parse(read(A!.vmlinux));
  let types = 0;
  for (const [f, bytes] of files) types += loadModuleBtf(bytes, base, f).ownTypeCount;
  const msLoad = performance.now() - t0;
  t0 = performance.now();
  const base2 = Btf.parse(read(A!.vmlinux));
  let dumped = 0;
  for (const [f, bytes] of files) dumped += rawOf(loadModuleBtf(bytes, base2, f)).length;
  const msDump = performance.now() - t0;
  t0 = performance.now();
  for (const [f, bytes] of files) checkSplit(bytes, base, { file: f });
  const msCheck = performance.now() - t0;
  t.diagnostic(`btfkit: load ${files.length} modules (${types} types) on the base: ${fmt(msLoad)}; load + raw dump (${dumped} bytes): ${fmt(msDump)}; check all: ${fmt(msCheck)}`);
  if (!oracle) return loudSkip(t, 'bpftool is not installed: no side-by-side numbers');
  const own = await oracle.own;
  t.diagnostic(`bpftool: raw dump of the same ${files.length} modules on the base, one batch process: ${fmt(own.ms)}`);
  // What one bpftool process per module costs (the base parsed each time), from a sample.
  const sample = files.filter((_, i) => i % Math.ceil(files.length / 20) === 0).map(([f]) => f);
  let msAlone = 0;
  for (const f of sample) msAlone += (await execBpftool(['btf', 'dump', 'file', f, '--base-btf', A!.vmlinux, 'format', 'raw'])).ms;
  t.diagnostic(`bpftool, one process per module: ${(msAlone / sample.length).toFixed(1)} ms each (mean of ${sample.length}), about ${fmt(msAlone / sample.length * files.length)} for all`);
  assert.equal(own.dumps.length, files.length);
});
