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


test('running kernel: sorted headers of vmlinux and loaded modules equal the type-by-type order', (t) => {
  const vmlinux = '/sys/kernel/btf/vmlinux';
  let base: Btf;
  try {
    base = loadBtfFile(vmlinux);
  } catch (e) {
    return loudSkip(t, `cannot read ${vmlinux}: ${(e as Error).message}`);
  }
  assertSameAsReference(base, vmlinux);
  const modules = readdirSync('/sys/kernel/btf').filter((f) => f !== 'vmlinux').sort();
  for (const m of spread(modules, MODULES_PER_BUILD)) {
    assertSameAsReference(loadBtfFile(join('/sys/kernel/btf', m), { base }), m);
  }
  t.diagnostic(`vmlinux and ${Math.min(modules.length, MODULES_PER_BUILD)} of ${modules.length} loaded modules`);
});

const found = fetchedBuilds();
if (found.length === 0) {
  test('Debian builds: sorted headers equal the type-by-type order', (t) => {
    const why = `no fetched kernel build in ${DATA_DIR} (tools/fetch-debian-kernel.sh)`;
    // CI fetches builds first and sets this: missing data there is a failure, not a skip.
    if (process.env.BTFKIT_REQUIRE_DATA === '1') assert.fail(why);
    loudSkip(t, why);
  });
}

for (const dir of found) {
  const name = relative(DATA_DIR, dir);
  test(`${name}: sorted headers of vmlinux and ${MODULES_PER_BUILD} modules equal the type-by-type order`, (t) => {
    const base = loadBtfFile(join(dir, 'vmlinux.btf'));
    assertSameAsReference(base, `${name}/vmlinux.btf`);
    const modules = findModules(join(dir, 'modules'));
    assert.ok(modules.length > 0, `${name}: no modules`);
    for (const m of spread(modules, MODULES_PER_BUILD)) {
      assertSameAsReference(loadBtfFile(m, { base }), relative(dir, m));
    }
    t.diagnostic(`${name}: vmlinux and ${Math.min(modules.length, MODULES_PER_BUILD)} of ${modules.length} modules`);
  });
}

function bpftoolOrSkip(t: TestContext): boolean {
  if (haveBpftool()) return true;
  if (process.env.BTFKIT_REQUIRE_DATA === '1') assert.fail('BTFKIT_REQUIRE_DATA=1 but bpftool is not installed');
  loudSkip(t, 'bpftool is not installed');
  return false;
}

test('running kernel: unsorted headers of vmlinux and loaded modules equal bpftool 7.1\'s', async (t) => {
  const vmlinux = '/sys/kernel/btf/vmlinux';
  let base: Btf;
  try {
    base = loadBtfFile(vmlinux);
  } catch (e) {
    return loudSkip(t, `cannot read ${vmlinux}: ${(e as Error).message}`);
  }
  if (!bpftoolOrSkip(t)) return;
  await assertSameAsBpftool71(base, vmlinux, undefined, vmlinux);
  const modules = readdirSync('/sys/kernel/btf').filter((f) => f !== 'vmlinux').sort();
  for (const m of spread(modules, MODULES_PER_BUILD)) {
    const file = join('/sys/kernel/btf', m);
    await assertSameAsBpftool71(loadBtfFile(file, { base }), file, vmlinux, m);
  }
  t.diagnostic(`vmlinux and ${Math.min(modules.length, MODULES_PER_BUILD)} of ${modules.length} loaded modules`);
});

for (const dir of found) {
  const name = relative(DATA_DIR, dir);
  test(`${name}: unsorted headers of vmlinux and ${MODULES_PER_BUILD} modules equal bpftool 7.1's`, async (t) => {
    if (!bpftoolOrSkip(t)) return;
    const baseFile = join(dir, 'vmlinux.btf');
    const base = loadBtfFile(baseFile);
    await assertSameAsBpftool71(base, baseFile, undefined, `${name}/vmlinux.btf`);
    const modules = findModules(join(dir, 'modules'));
    assert.ok(modules.length > 0, `${name}: no modules`);
    for (const m of spread(modules, MODULES_PER_BUILD)) {
      await assertSameAsBpftool71(loadBtfFile(m, { base }), m, baseFile, relative(dir, m));
    }
    t.diagnostic(`${name}: vmlinux and ${Math.min(modules.length, MODULES_PER_BUILD)} of ${modules.length} modules`);
  });
}
