/**
 * convertBtf on real kernel and module BTF: unchanged options give the input back byte for
 * byte, byte-order and layout changes are undone exactly, and bpftool reads every converted
 * blob as it reads the original.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/btf/btf.js';
import { convertBtf } from '../src/build/convert.js';
import { dumpRaw } from '../src/dump/raw.js';
import { ByteSink } from '../src/dump/sink.js';
import { BtfError } from '../src/errors.js';
import { parseHeader } from '../src/format/header.js';
import { KNOWN_LAYOUTS } from '../src/format/kinds.js';
import { assemble } from './helpers/assemble.js';
import { bpftoolRaw } from './helpers/kernel.js';
import { fixture, fixtureText } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const RUNNING = 'golden/running-6.18';
const DEBIAN = 'golden/debian-6.1.0-50-cloud';
const MODULES = ['af_key', '8021q', 'nf_tables', 'xfs'];

function raw(btf: Btf): string {
  const sink = new ByteSink();
  dumpRaw(btf, sink);
  return Buffer.from(sink.toBytes()).toString('latin1');
}

/** Byte equality without printing megabytes on failure. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (Buffer.compare(actual, expected) === 0) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i++;
  assert.fail(`${what}: ${actual.length} bytes vs ${expected.length}, first difference at byte ${i}`);
}

let vmlinuxRaw: string | undefined;
/** bpftool v7.8's raw dump of the 6.18 vmlinux (the golden file), read once. */
const vmlinuxReference = () => (vmlinuxRaw ??= fixtureText(`${RUNNING}/vmlinux.raw.txt.gz`));

let debianBase: { bytes: Uint8Array; btf: Btf } | undefined;
function base(): { bytes: Uint8Array; btf: Btf } {
  if (!debianBase) {
    const bytes = fixture(`${DEBIAN}/vmlinux.btf.gz`);
    debianBase = { bytes, btf: Btf.parse(bytes) };
  }
  return debianBase;
}

for (const file of ['vmlinux.btf', 'vmlinux.layout.btf']) {
  test(`${RUNNING}/${file}: converting with no option changed gives the same bytes`, () => {
    const bytes = fixture(`${RUNNING}/${file}.gz`);
    assertSameBytes(convertBtf(Btf.parse(bytes)), bytes, file);
  });
}

test(`${DEBIAN}/vmlinux.btf and its modules (split): converting with no option changed gives the same bytes`, () => {
  const { bytes, btf } = base();
  assertSameBytes(convertBtf(btf), bytes, 'debian vmlinux');
  for (const mod of MODULES) {
    const modBytes = fixture(`${DEBIAN}/modules/${mod}.btf.gz`);
    const split = Btf.parse(modBytes, { base: btf });
    const out = convertBtf(split);
    assertSameBytes(out, modBytes, mod);
    assert.equal(Btf.parse(out, { base: btf }).firstId, btf.endId, 'split BTF stays split');
  }
});

test('vmlinux: big-endian and back gives the original; bpftool reads the big-endian blob like the original', (t) => {
  const bytes = fixture(`${RUNNING}/vmlinux.btf.gz`);
  const big = convertBtf(Btf.parse(bytes), { endian: 'big' });
  assert.equal(parseHeader(big).littleEndian, false);
  assert.equal(big.length, bytes.length);
  assertSameBytes(convertBtf(Btf.parse(big), { endian: 'little' }), bytes, 'big → little');
  // Same endian as the input: unchanged.
  assertSameBytes(convertBtf(Btf.parse(big)), big, 'big → big');
  const ref = bpftoolRaw(big);
  if ('skipped' in ref) return loudSkip(t, ref.skipped);
  assert.equal(Buffer.from(ref.text).toString('latin1'), vmlinuxReference());
});

test('split module BTF: big-endian on a big-endian base, and back', (t) => {
  const { btf } = base();
  const bigBase = convertBtf(btf, { endian: 'big' });
  const bigBaseBtf = Btf.parse(bigBase);
  for (const mod of ['af_key', 'xfs']) {
    const modBytes = fixture(`${DEBIAN}/modules/${mod}.btf.gz`);
    const big = convertBtf(Btf.parse(modBytes, { base: btf }), { endian: 'big' });
    const bigSplit = Btf.parse(big, { base: bigBaseBtf });
    assert.equal(raw(bigSplit), fixtureText(`${DEBIAN}/modules/${mod}.raw.txt.gz`));
    assertSameBytes(convertBtf(bigSplit, { endian: 'little' }), modBytes, `${mod} big → little`);
    const ref = bpftoolRaw(big, bigBase);
    if ('skipped' in ref) return loudSkip(t, ref.skipped);
    assert.equal(Buffer.from(ref.text).toString('latin1'), fixtureText(`${DEBIAN}/modules/${mod}.raw.txt.gz`));
  }
});

test('vmlinux: adding the layout section changes nothing else, removing it gives the original bytes', (t) => {
  const bytes = fixture(`${RUNNING}/vmlinux.btf.gz`);
  const withLayout = convertBtf(Btf.parse(bytes), { layout: true });
  const parsed = Btf.parse(withLayout);
  const h = parsed.header;
  assert.deepEqual([h.hdrLen, h.typeOff, h.layoutOff, h.layoutLen, h.strOff], [32, 0, h.typeLen, 80, h.typeLen + 80]);
  assert.deepEqual(parsed.layout, KNOWN_LAYOUTS);
  // The same layout bytes libbpf 1.8 wrote.
  const golden = fixture(`${RUNNING}/vmlinux.layout.btf.gz`);
  const gh = parseHeader(golden).header;
  assert.deepEqual(
    withLayout.subarray(h.hdrLen + h.layoutOff, h.hdrLen + h.layoutOff + h.layoutLen),
    golden.subarray(gh.hdrLen + gh.layoutOff, gh.hdrLen + gh.layoutOff + gh.layoutLen),
  );
  const reference = vmlinuxReference();
  assert.equal(raw(parsed), reference);
  assertSameBytes(convertBtf(parsed, { layout: false }), bytes, 'layout removed');
  // Both byte order and layout at once, and back.
  const bigLayout = convertBtf(Btf.parse(bytes), { layout: true, endian: 'big' });
  assertSameBytes(convertBtf(Btf.parse(bigLayout), { layout: false, endian: 'little' }), bytes, 'big+layout removed');
  const ref = bpftoolRaw(withLayout);
  if ('skipped' in ref) return loudSkip(t, ref.skipped);
  assert.equal(Buffer.from(ref.text).toString('latin1'), reference);
});

test('vmlinux.layout.btf without its layout section dumps like vmlinux.btf', (t) => {
  const layoutBtf = Btf.parse(fixture(`${RUNNING}/vmlinux.layout.btf.gz`));
  const plain = convertBtf(layoutBtf, { layout: false });
  const h = parseHeader(plain).header;
  assert.deepEqual([h.hdrLen, h.layoutLen, h.strOff], [24, 0, h.typeLen]);
  assert.equal(raw(Btf.parse(plain)), vmlinuxReference());
  // The string section libbpf rebuilt is kept as it is, so adding the layout back restores the golden bytes.
  assertSameBytes(convertBtf(Btf.parse(plain), { layout: true }), layoutBtf.bytes, 'layout restored');
  const ref = bpftoolRaw(plain);
  if ('skipped' in ref) return loudSkip(t, ref.skipped);
  assert.equal(Buffer.from(ref.text).toString('latin1'), vmlinuxReference());
});

test('split module BTF with a layout section, and back', () => {
  const { btf } = base();
  const modBytes = fixture(`${DEBIAN}/modules/nf_tables.btf.gz`);
  const withLayout = convertBtf(Btf.parse(modBytes, { base: btf }), { layout: true });
  const split = Btf.parse(withLayout, { base: btf });
  assert.equal(split.header.layoutLen, 80);
  assert.equal(raw(split), fixtureText(`${DEBIAN}/modules/nf_tables.raw.txt.gz`));
  assertSameBytes(convertBtf(split, { layout: false }), modBytes, 'nf_tables layout removed');
});

test('a 32-byte header without a layout section is kept', () => {
  const words = [1, 0x01000000, 4, 0x01000020];
  const bytes = assemble({ words, strings: ['int'], hdrLen: 32 });
  assertSameBytes(convertBtf(Btf.parse(bytes)), bytes, 'hdr_len 32');
  assert.equal(parseHeader(convertBtf(Btf.parse(bytes), { endian: 'big' })).header.hdrLen, 32);
});

test('unknown kinds are copied in their own byte order and refused across byte orders', () => {
  // Kind 20 described by the layout section: info_sz 4, elem_sz 4.
  const layout = [...KNOWN_LAYOUTS.map((l): [number, number, number] => [l.infoSize, l.elemSize, l.flags]), [4, 4, 0] as [number, number, number]];
  const words = [1, 0x01000000, 4, 0x01000020, 0, (20 << 24) | 2, 1, 0x11223344, 5, 6];
  for (const big of [false, true]) {
    const bytes = assemble({ words, strings: ['int'], layout, big });
    const btf = Btf.parse(bytes);
    assertSameBytes(convertBtf(btf), bytes, `unknown kind, ${big ? 'big' : 'little'}-endian`);
    assert.throws(() => convertBtf(btf, { endian: big ? 'little' : 'big' }), (e: unknown) => e instanceof BtfError && e.code === 'bad-kind' && e.typeId === 2);
    assert.throws(() => convertBtf(btf, { layout: false }), (e: unknown) => e instanceof BtfError && e.code === 'bad-kind');
  }
});
