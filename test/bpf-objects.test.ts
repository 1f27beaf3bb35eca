/**
 * BPF objects compiled by clang 14 and 19 for both byte orders (test/bpf/*.bpf.c, built by
 * tools/make-bpf-fixtures.sh): btfkit's raw and JSON dumps of their .BTF must equal what
 * bpftool printed for the same object, byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadBtf } from '../src/btf/source.js';
import { dumpJson, dumpRaw } from '../src/dump/raw.js';
import { ByteSink } from '../src/dump/sink.js';
import { FIXTURES, fixture } from './helpers/paths.js';

const DIR = 'bpf';
const objects = readdirSync(join(FIXTURES, DIR)).filter((f) => f.endsWith('.o.gz')).sort();

/** Asserts byte equality, reporting where the dumps first differ instead of two large buffers. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const ours = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const theirs = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (ours.equals(theirs)) return;
  let at = 0;
  while (at < ours.length && at < theirs.length && ours[at] === theirs[at]) at++;
  // JSON dumps are one line: show the neighbourhood of the first difference.
  const from = Math.max(ours.lastIndexOf(10, at - 1) + 1, at - 120);
  const near = (b: Buffer) => {
    const nl = b.indexOf(10, at);
    return JSON.stringify(b.subarray(from, Math.min(nl < 0 ? b.length : nl, at + 120)).toString('latin1'));
  };
  assert.fail(`${what}: differs from bpftool at byte ${at} (${ours.length} vs ${theirs.length} bytes)\n  btfkit:  ${near(ours)}\n  bpftool: ${near(theirs)}`);
}

function render(dump: typeof dumpRaw, btf: ReturnType<typeof loadBtf>): Uint8Array {
  const sink = new ByteSink();
  dump(btf, sink);
  return sink.toBytes();
}

test('the BPF fixtures cover both byte orders and both compilers', () => {
  // Guards against the comparisons below passing vacuously on a missing or partial fixture set.
  for (const part of ['.bpfel.o.gz', '.bpfeb.o.gz', '.clang14.', '.clang19.']) {
    assert.ok(objects.some((f) => f.includes(part)), `no fixture object matching ${part} in test/fixtures/${DIR}`);
  }
  for (const name of ['maps_globals', 'types', 'core']) {
    assert.ok(objects.some((f) => f.startsWith(`${name}.`)), `no fixture object for test/bpf/${name}.bpf.c`);
  }
});

for (const obj of objects) {
  test(`${obj}: raw and JSON dumps equal bpftool's`, () => {
    const btf = loadBtf(fixture(`${DIR}/${obj}`), { file: obj });
    // The byte order comes from the compiler target, independently of the dump.
    assert.equal(btf.littleEndian, obj.includes('.bpfel.'), 'byte order of the .BTF section');
    const stem = obj.slice(0, -'.gz'.length);
    assertSameBytes(render(dumpRaw, btf), fixture(`${DIR}/${stem}.raw.txt.gz`), `${obj} raw dump`);
    assertSameBytes(render(dumpJson, btf), fixture(`${DIR}/${stem}.json.gz`), `${obj} JSON dump`);
  });
}

test('each big-endian object has the same types as its little-endian twin', () => {
  let pairs = 0;
  for (const obj of objects.filter((f) => f.includes('.bpfeb.'))) {
    const twin = obj.replace('.bpfeb.', '.bpfel.');
    if (!objects.includes(twin)) continue;
    const eb = loadBtf(fixture(`${DIR}/${obj}`));
    const el = loadBtf(fixture(`${DIR}/${twin}`));
    assert.equal(eb.endId, el.endId, `${obj}: type count`);
    assertSameBytes(render(dumpRaw, eb), render(dumpRaw, el), `${obj} vs ${twin}`);
    pairs++;
  }
  assert.ok(pairs > 0, 'no bpfel/bpfeb pair to compare');
});
