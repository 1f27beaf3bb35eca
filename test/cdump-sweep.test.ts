/**
 * C headers of real kernels and modules beyond the goldens (which cover one 6.18 kernel, one
 * Debian 6.1 base and four of its modules), on whatever real data is at hand: the running kernel
 * and its loaded modules, and every fetched Debian build's vmlinux with a spread of its modules.
 * - The sorted header dumpC writes (which sorts only what can show) equals the header written
 *   the slow way, type by type in bpftool's fully sorted order.
 * - The unsorted header equals what the installed bpftool (7.1) writes, apart from what 7.1
 *   predates (prelude, kfunc section, enum mode attributes): an independent oracle on real data.
 */
import { test, type TestContext } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Btf } from '../src/btf/btf.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpC } from '../src/dump/c/index.js';
import { loadBtfFile } from '../src/node/files.js';
import { body71, bodyAs71, haveBpftool, referenceSortedHeader } from './helpers/cref.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { DATA_DIR } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

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

function assertSameAsReference(btf: Btf, label: string): void {
  const fast = header(btf);
  const slow = referenceSortedHeader(btf);
  if (Buffer.compare(fast, slow) !== 0) assert.fail(`${label}: ${firstDifference(fast, slow)}`);
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

function sortedSweep(t: TestContext, k: Sample | undefined): void {
  if (!k) return;
  assertSameAsReference(k.base, k.label(k.baseFile));
  for (const m of k.modules) assertSameAsReference(loadBtfFile(m, { base: k.base }), k.label(m));
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

test('running kernel: sorted headers of vmlinux and loaded modules equal the type-by-type order', (t) => sortedSweep(t, runningKernel(t)));
test('running kernel: unsorted headers of vmlinux and loaded modules equal bpftool 7.1\'s', (t) => unsortedSweep(t, runningKernel(t)));

const found = fetchedBuilds();
if (found.length === 0) {
  test('Debian builds: C headers against the type-by-type order and bpftool 7.1', (t) => {
    const why = `no fetched kernel build in ${DATA_DIR} (tools/fetch-debian-kernel.sh)`;
    // CI fetches builds first and sets this: missing data there is a failure, not a skip.
    if (process.env.BTFKIT_REQUIRE_DATA === '1') assert.fail(why);
    loudSkip(t, why);
  });
}

for (const dir of found) {
  const name = relative(DATA_DIR, dir);
  test(`${name}: sorted headers of vmlinux and ${MODULES_PER_BUILD} modules equal the type-by-type order`, (t) => sortedSweep(t, fetchedBuild(dir)));
  test(`${name}: unsorted headers of vmlinux and ${MODULES_PER_BUILD} modules equal bpftool 7.1's`, (t) => unsortedSweep(t, fetchedBuild(dir)));
}
