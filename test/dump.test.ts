import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kind } from '../src/format/kinds.js';
import { assemble, info, strOff } from './helpers/assemble.js';
import { Btf } from '../src/btf/btf.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpJson, dumpRaw } from '../src/dump/raw.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

function raw(btf: Btf): Uint8Array {
  const s = new ByteSink();
  dumpRaw(btf, s);
  return s.toBytes();
}
function json(btf: Btf): Uint8Array {
  const s = new ByteSink();
  dumpJson(btf, s);
  return s.toBytes();
}

/** Byte equality with a readable first difference instead of a multi-megabyte assertion dump. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (Buffer.compare(actual, expected) === 0) return;
  const a = Buffer.from(actual).toString('latin1').split('\n');
  const e = Buffer.from(expected).toString('latin1').split('\n');
  let i = 0;
  while (i < a.length && i < e.length && a[i] === e[i]) i++;
  assert.fail(`${what}: differs at line ${i + 1}\n  expected: ${JSON.stringify(e[i])}\n  actual:   ${JSON.stringify(a[i])}\n  (${actual.length} vs ${expected.length} bytes)`);
}

const G618 = 'golden/running-6.18';
const G61 = 'golden/debian-6.1.0-50-cloud';

test('raw dump of the 6.18 kernel BTF equals bpftool v7.8 byte for byte', () => {
  assertSameBytes(raw(Btf.parse(fixture(`${G618}/vmlinux.btf.gz`))), fixture(`${G618}/vmlinux.raw.txt.gz`), 'raw dump');
});

test('JSON dump of the 6.18 kernel BTF equals bpftool -j byte for byte', () => {
  const out = json(Btf.parse(fixture(`${G618}/vmlinux.btf.gz`)));
  assertSameBytes(out, fixture(`${G618}/vmlinux.json.gz`), 'json dump');
  // And it is JSON a standard parser takes, with the documented top-level shape.
  const v = JSON.parse(new TextDecoder().decode(out));
  assert.equal(v.types.length, 126585);
  assert.deepEqual(Object.keys(v.types[0]), ['id', 'kind', 'name', 'size', 'bits_offset', 'nr_bits', 'encoding']);
});

test('the libbpf 1.8 blob with a layout section dumps like the same BTF without one', () => {
  const withLayout = Btf.parse(fixture(`${G618}/vmlinux.layout.btf.gz`));
  assert.equal(withLayout.header.hdrLen, 32);
  assert.equal(withLayout.layout?.length, 20);
  assertSameBytes(raw(withLayout), fixture(`${G618}/vmlinux.layout.raw.txt.gz`), 'layout raw dump');
  assertSameBytes(raw(withLayout), fixture(`${G618}/vmlinux.raw.txt.gz`), 'layout vs plain raw dump');
});

for (const mod of ['af_key', '8021q', 'nf_tables', 'xfs']) {
  test(`split BTF of Debian 6.1 module ${mod} on its base dumps like bpftool --base-btf`, () => {
    const base = Btf.parse(fixture(`${G61}/vmlinux.btf.gz`));
    const m = Btf.parse(fixture(`${G61}/modules/${mod}.btf.gz`), { base });
    assert.equal(m.firstId, base.endId);
    assertSameBytes(raw(m), fixture(`${G61}/modules/${mod}.raw.txt.gz`), `${mod} raw dump`);
  });
}

function bpftool(args: string[]): Uint8Array | undefined {
  try {
    return execFileSync('bpftool', args, { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return undefined;
  }
}

test('raw and JSON dumps of the running kernel equal bpftool', (t) => {
  const path = '/sys/kernel/btf/vmlinux';
  if (!existsSync(path)) return loudSkip(t, `${path} does not exist on this machine`);
  const rawRef = bpftool(['btf', 'dump', 'file', path, 'format', 'raw']);
  const jsonRef = bpftool(['-j', 'btf', 'dump', 'file', path]);
  if (!rawRef || !jsonRef) return loudSkip(t, 'bpftool is not installed (apt-get install bpftool)');
  const btf = Btf.parse(new Uint8Array(readFileSync(path)));
  assertSameBytes(raw(btf), rawRef, 'raw dump of /sys/kernel/btf/vmlinux');
  assertSameBytes(json(btf), jsonRef, 'json dump of /sys/kernel/btf/vmlinux');
});

test('root ids dump only those types, in the given order', () => {
  const btf = Btf.parse(fixture(`${G618}/vmlinux.btf.gz`));
  const s = new ByteSink();
  dumpRaw(btf, s, { ids: [114, 1] });
  const lines = new TextDecoder().decode(s.toBytes()).split('\n');
  assert.match(lines[0]!, /^\[114\] STRUCT 'task_struct' size=\d+ vlen=\d+$/);
  const golden = new TextDecoder().decode(fixture(`${G618}/vmlinux.raw.txt.gz`)).split('\n');
  assert.equal(lines.at(-2), golden[0]);
});

test('names with quotes, backslashes and control bytes are escaped in JSON as bpftool does', (t) => {
  const names = ['a"b', 'c\\d', 'tab\there', 'nl\nx', 'cr\rff\fbs\b', 'utf8-é'];
  const words: number[] = [];
  names.forEach((_, i) => words.push(strOff(names, i), info(Kind.Int), 4, 32));
  const bytes = assemble({ words, strings: names });
  const btf = Btf.parse(bytes);
  const out = json(btf);
  const parsed = JSON.parse(new TextDecoder().decode(out));
  assert.deepEqual(parsed.types.map((x: { name: string }) => x.name), names);
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-'));
  const file = join(dir, 'names.btf');
  writeFileSync(file, bytes);
  const ref = bpftool(['-j', 'btf', 'dump', 'file', file]);
  const refRaw = bpftool(['btf', 'dump', 'file', file, 'format', 'raw']);
  if (!ref || !refRaw) return loudSkip(t, 'bpftool is not installed');
  // bpftool before v7.2 printed a backslash as "\\n" (fixed upstream in v7.2, "json: Fix backslash
  // escape typo in jsonw_puts"); v7.8, our reference, escapes it as "\\\\". Undo that one typo
  // when the installed bpftool is older.
  const version = new TextDecoder().decode(bpftool(['version']) ?? new Uint8Array()).match(/v(\d+)\.(\d+)/);
  const old = version !== null && Number(version[1]) === 7 && Number(version[2]) < 2;
  const expected = old ? Buffer.from(Buffer.from(ref).toString('latin1').replace('"c\\nd"', '"c\\\\d"'), 'latin1') : ref;
  assertSameBytes(out, expected, 'escaped json');
  assertSameBytes(raw(btf), refRaw, 'raw with odd names');
});
