/**
 * On real kernels and modules, the sorted header dumpC writes (which sorts only what can show)
 * equals the header written the slow way, type by type in bpftool's fully sorted order. The
 * goldens prove this for one 6.18 kernel, one Debian 6.1 base and four of its modules; this
 * sweeps whatever real data is at hand: the running kernel and its loaded modules, and every
 * fetched Debian build's vmlinux with a spread of its modules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Btf } from '../src/btf/btf.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpC } from '../src/dump/c/index.js';
import { loadBtfFile } from '../src/node/files.js';
import { referenceSortedHeader } from './helpers/cref.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { DATA_DIR } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

/** Modules taken from each build: spread over the sorted list, so the sample does not drift. */
const MODULES_PER_BUILD = 24;

function header(btf: Btf): Uint8Array {
  const sink = new ByteSink();
  dumpC(btf, sink);
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
