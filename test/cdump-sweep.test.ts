/**
 * C headers of real kernels and modules beyond what test/cdump.test.ts pins with the goldens
 * (one 6.18 kernel, one Debian 6.1 base and four of its modules), on whatever real data is at
 * hand: the running kernel and its loaded modules, and every fetched Debian build's vmlinux with
 * a spread of its modules. Two oracles that share no code with btfkit:
 * - Sorted headers (bpftool v7.8's default) against test/helpers/sorted_header.c, which computes
 *   v7.8's order itself and has the system's libbpf (1.1) write the types in that order, as
 *   v7.8 has its libbpf 1.8 do; compared after normalising exactly what libbpf 1.1 predates
 *   (`()` for `(void)`, attribute type tags; test/helpers/sorted-oracle.ts).
 *   - The first test proves the oracle and the normalisation: on every golden input its output
 *     equals the sorted header a real bpftool v7.8 wrote, normalised the same way.
 *   - The sweep proves, on kernels no golden covers, that dumpC's sorted header (which sorts
 *     only what can show) is v7.8's, and that btfkit's full order (sortedTypeIds, public) is
 *     v7.8's id for id, ties that never show in a header included.
 *   When the header differs although the order is right, the failure says whether dumping every
 *   type in that order with btfkit's emitter (referenceSortedHeader, test/helpers/cref.ts) gives
 *   the oracle's header, which tells a wrong shortcut in dumpC from a wrong emitter.
 * - Unsorted headers against the installed bpftool (7.1), apart from what 7.1 predates (prelude,
 *   kfunc section, enum mode attributes).
 */
import { test, type TestContext } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Btf } from '../src/btf/btf.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpC, sortedTypeIds, TypeTable } from '../src/dump/c/index.js';
import { loadBtfFile } from '../src/node/files.js';
import { body71, bodyAs71, haveBpftool, referenceSortedHeader } from './helpers/cref.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { DATA_DIR, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';
import { oracleSortedHeader, sortedBodyForOracle, sortedOracleOrSkip } from './helpers/sorted-oracle.js';

/** Modules taken from each build: spread over the sorted list, so the sample does not drift. */
const MODULES_PER_BUILD = 24;

function header(btf: Btf, sorted = true): Uint8Array {
  const sink = new ByteSink();
  dumpC(btf, sink, { sorted });
  return sink.toBytes();
}

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const line = new TextDecoder().decode(a.subarray(0, i)).split('\n').length;
  return `first difference at byte ${i} (line ${line}); lengths ${a.length} and ${b.length}`;
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** Where two orders of type ids first differ; undefined when they are the same. */
function orderDifference(ours: ArrayLike<number>, theirs: readonly number[]): string | undefined {
  let i = 0;
  while (i < ours.length && i < theirs.length && ours[i] === theirs[i]) i++;
  if (i === ours.length && i === theirs.length) return undefined;
  return `at position ${i} of ${ours.length} (oracle: ${theirs.length}): id ${ours[i]} where v7.8 has ${theirs[i]}`;
}

/**
 * The sorted header against the oracle's for FILE (split on BASE when given), and btfkit's full
 * sorted order (sortedTypeIds, public) against the order the oracle wrote it in: the order
 * shows in the header only where dumping a type writes something, the check on the ids covers
 * every tie. The oracle runs while this process writes its own header.
 */
async function assertSameAsOracle(btf: Btf, file: string, baseFile: string | undefined, label: string): Promise<void> {
  const oracle = oracleSortedHeader(file, baseFile);
  const fast = header(btf);
  let theirs;
  try {
    theirs = await oracle;
  } catch (e) {
    return assert.fail(`${label}: the sorted-header oracle failed: ${(e as Error).message}`);
  }
  const orderWrong = orderDifference(sortedTypeIds(new TypeTable(btf)), theirs.order);
  const ours = sortedBodyForOracle(latin1(fast), theirs.attributeTags);
  if (ours === theirs.body) {
    if (orderWrong) assert.fail(`${label}: the sorted header is right, but sortedTypeIds differs from v7.8's order ${orderWrong}`);
    return;
  }
  const expected = Buffer.from(theirs.body, 'latin1');
  const where = firstDifference(Buffer.from(ours, 'latin1'), expected);
  if (orderWrong) assert.fail(`${label}, sorted, against the oracle: ${where}; sortedTypeIds differs from v7.8's order ${orderWrong}`);
  // The order is right: either dumpC's shortcuts (sorting only what can show) or the emitter is wrong.
  const slow = Buffer.from(sortedBodyForOracle(latin1(referenceSortedHeader(btf)), theirs.attributeTags), 'latin1');
  const which = Buffer.compare(slow, expected) === 0
    ? 'dumping every type in sortedTypeIds\' order gives the oracle\'s header, so a shortcut of dumpC\'s is wrong'
    : `dumping every type in sortedTypeIds' order differs too (${firstDifference(slow, expected)}), so the emitter is wrong`;
  assert.fail(`${label}, sorted, against the oracle: ${where}; sortedTypeIds gives v7.8's order, and ${which}`);
}

/**
 * The unsorted header against `bpftool [-B base] btf dump file FILE format c` (7.1), which runs
 * while this process writes its own.
 */
async function assertSameAsBpftool71(btf: Btf, file: string, baseFile: string | undefined, label: string): Promise<void> {
  const args = [...(baseFile ? ['-B', baseFile] : []), 'btf', 'dump', 'file', file, 'format', 'c'];
  const bpftool = promisify(execFile)('bpftool', args, { encoding: 'latin1', maxBuffer: 1 << 28 });
  const ours = Buffer.from(bodyAs71(Buffer.from(header(btf, false)).toString('latin1')), 'latin1');
  let text: string;
  try {
    text = (await bpftool).stdout;
  } catch (e) {
    return assert.fail(`${label}: bpftool failed: ${(e as Error).message}`);
  }
  const theirs = Buffer.from(body71(text), 'latin1');
  if (Buffer.compare(ours, theirs) !== 0) assert.fail(`${label}, unsorted, against bpftool 7.1: ${firstDifference(ours, theirs)}`);
}

function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}


/** One kernel's BTF files: vmlinux and a spread of its modules, each read on the vmlinux. */
interface Sample {
  baseFile: string;
  base: Btf;
  modules: string[];
  /** What was sampled, for the test's diagnostic. */
  summary: string;
  /** How to name a file in a failure. */
  label(file: string): string;
}

const SYS_BTF = '/sys/kernel/btf';

/** The running kernel's vmlinux and loaded modules; undefined (after a loud skip) when unreadable. */
function runningKernel(t: TestContext): Sample | undefined {
  const baseFile = join(SYS_BTF, 'vmlinux');
  let base: Btf;
  try {
    base = loadBtfFile(baseFile);
  } catch (e) {
    loudSkip(t, `cannot read ${baseFile}: ${(e as Error).message}`);
    return undefined;
  }
  const all = readdirSync(SYS_BTF).filter((f) => f !== 'vmlinux').sort();
  const modules = spread(all, MODULES_PER_BUILD).map((m) => join(SYS_BTF, m));
  return { baseFile, base, modules, summary: `vmlinux and ${modules.length} of ${all.length} loaded modules`, label: (f) => f };
}

function fetchedBuild(dir: string): Sample {
  const name = relative(DATA_DIR, dir);
  const all = findModules(join(dir, 'modules'));
  assert.ok(all.length > 0, `${name}: no modules`);
  const modules = spread(all, MODULES_PER_BUILD);
  const baseFile = join(dir, 'vmlinux.btf');
  return {
    baseFile, base: loadBtfFile(baseFile), modules,
    summary: `${name}: vmlinux and ${modules.length} of ${all.length} modules`,
    label: (f) => `${name}/${relative(dir, f)}`,
  };
}

async function sortedSweep(t: TestContext, k: Sample | undefined): Promise<void> {
  if (!k || !sortedOracleOrSkip(t)) return;
  await assertSameAsOracle(k.base, k.baseFile, undefined, k.label(k.baseFile));
  for (const m of k.modules) await assertSameAsOracle(loadBtfFile(m, { base: k.base }), m, k.baseFile, k.label(m));
  t.diagnostic(k.summary);
}

async function unsortedSweep(t: TestContext, k: Sample | undefined): Promise<void> {
  if (!k || !bpftoolOrSkip(t)) return;
  await assertSameAsBpftool71(k.base, k.baseFile, undefined, k.label(k.baseFile));
  for (const m of k.modules) await assertSameAsBpftool71(loadBtfFile(m, { base: k.base }), m, k.baseFile, k.label(m));
  t.diagnostic(k.summary);
}

function bpftoolOrSkip(t: TestContext): boolean {
  if (haveBpftool()) return true;
  if (process.env.BTFKIT_REQUIRE_DATA === '1') assert.fail('BTFKIT_REQUIRE_DATA=1 but bpftool is not installed');
  loudSkip(t, 'bpftool is not installed');
  return false;
}

const GOLDEN = 'golden';

test('the sorted-header oracle writes the goldens bpftool v7.8 made, once normalised as in the sweeps', async (t) => {
  if (!sortedOracleOrSkip(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-cdump-sweep-'));
  try {
    const unpack = (rel: string) => {
      const file = join(dir, rel.replaceAll('/', '_').replace(/\.gz$/, ''));
      writeFileSync(file, fixture(rel));
      return file;
    };
    const d61 = `${GOLDEN}/debian-6.1.0-50-cloud`;
    const base61 = unpack(`${d61}/vmlinux.btf.gz`);
    const cases: { input: string; base?: string; golden: string }[] = [
      { input: unpack(`${GOLDEN}/running-6.18/vmlinux.btf.gz`), golden: `${GOLDEN}/running-6.18/vmlinux.sorted.h.gz` },
      { input: base61, golden: `${d61}/vmlinux.sorted.h.gz` },
      ...['af_key', '8021q', 'nf_tables', 'xfs'].map((m) => ({
        input: unpack(`${d61}/modules/${m}.btf.gz`), base: base61, golden: `${d61}/modules/${m}.sorted.h.gz`,
      })),
    ];
    for (const c of cases) {
      const oracle = await oracleSortedHeader(c.input, c.base);
      const golden = sortedBodyForOracle(latin1(fixture(c.golden)), oracle.attributeTags);
      if (golden !== oracle.body) {
        assert.fail(`${c.golden}: ${firstDifference(Buffer.from(oracle.body, 'latin1'), Buffer.from(golden, 'latin1'))}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('running kernel: sorted headers and full order of vmlinux and loaded modules equal the v7.8 oracle\'s', (t) => sortedSweep(t, runningKernel(t)));
test('running kernel: unsorted headers of vmlinux and loaded modules equal bpftool 7.1\'s', (t) => unsortedSweep(t, runningKernel(t)));

const found = fetchedBuilds();
if (found.length === 0) {
  test('Debian builds: C headers against the v7.8 oracle and bpftool 7.1', (t) => {
    const why = `no fetched kernel build in ${DATA_DIR} (tools/fetch-debian-kernel.sh)`;
    // CI fetches builds first and sets this: missing data there is a failure, not a skip.
    if (process.env.BTFKIT_REQUIRE_DATA === '1') assert.fail(why);
    loudSkip(t, why);
  });
}

for (const dir of found) {
  const name = relative(DATA_DIR, dir);
  test(`${name}: sorted headers and full order of vmlinux and ${MODULES_PER_BUILD} modules equal the v7.8 oracle's`, (t) => sortedSweep(t, fetchedBuild(dir)));
  test(`${name}: unsorted headers of vmlinux and ${MODULES_PER_BUILD} modules equal bpftool 7.1's`, (t) => unsortedSweep(t, fetchedBuild(dir)));
}
