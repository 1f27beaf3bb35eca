/**
 * The base checksum (`btfkit stamp`, `.BTF.base_checksum`): SHA-256 against node:crypto, what
 * the digest covers, and `check` deciding by it, on a module made here from the golden
 * 6.1.0-50 af_key BTF put into a compiled object. The all-modules sweep is in
 * distill-sweep.test.ts.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { BTF_SECTION } from '../src/elf/elf.js';
import { editElfSections } from '../src/elf/write.js';
import { isBtfError } from '../src/errors.js';
import { checkSplit } from '../src/split/check.js';
import { Sha256 } from '../src/split/sha256.js';
import { BTF_BASE_CHECKSUM_SECTION, baseChecksum, checksumHex, checksumSection } from '../src/split/stamp.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const CLI = join(process.cwd(), 'dist', 'btfkit.cjs');
const dir = mkdtempSync(join(tmpdir(), 'btfkit-stamp-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

const d50 = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
const v618 = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
const afKey = fixture('golden/debian-6.1.0-50-cloud/modules/af_key.btf.gz');

/** d50 with one PTR appended: every type and string of d50 where it was. */
function d50PlusPtr(): Btf {
  const b = new BtfBuilder({ strings: d50.bytes.subarray(d50.stringStart, d50.stringStart + d50.header.strLen) });
  b.addAll(d50);
  b.addPtr(1);
  return Btf.parse(b.encode());
}

/** af_key's BTF in a relocatable object compiled here (a stand-in for its .ko). */
function moduleObject(t: TestContext): Uint8Array | undefined {
  const src = join(dir, 'm.c');
  writeFileSync(src, 'int af_key_marker;\n');
  const out = join(dir, 'm.o');
  const r = spawnSync('cc', ['-c', '-o', out, src], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    loudSkip(t, `cannot compile an object with cc: ${r.error?.message ?? r.stderr}`);
    return undefined;
  }
  return editElfSections(new Uint8Array(readFileSync(out)), { set: { [BTF_SECTION]: afKey } });
}

test('stamp: SHA-256 equals node:crypto\'s over every length up to 300, in any split of the updates, and on 1 MiB', () => {
  for (let n = 0; n <= 300; n++) {
    const data = randomBytes(n);
    const cut = Math.floor(n / 3);
    const ours = new Sha256().update(data.subarray(0, cut)).update(data.subarray(cut)).digest();
    assert.equal(Buffer.from(ours).toString('hex'), createHash('sha256').update(data).digest('hex'), `length ${n}`);
  }
  const big = randomBytes(1 << 20);
  assert.equal(Buffer.from(new Sha256().update(big).digest()).toString('hex'), createHash('sha256').update(big).digest('hex'));
});

test('stamp: the checksum covers the type and string sections, which for a standard vmlinux blob are all its bytes after the 24-byte header', () => {
  const sum = baseChecksum(d50);
  assert.equal(d50.header.hdrLen, 24);
  assert.equal(checksumHex(sum), createHash('sha256').update(d50.bytes.subarray(24)).digest('hex'));
  assert.deepEqual([sum.typeBytes, sum.stringBytes], [d50.header.typeLen, d50.header.strLen]);
  const section = checksumSection(d50);
  assert.equal(section.length, 56);
  assert.equal(Buffer.from(section.subarray(0, 16)).toString('latin1'), 'BTF.base.sha256\0');
  assert.notEqual(checksumHex(baseChecksum(d50PlusPtr())), checksumHex(sum));
});

test('stamp: check decides a stamped module by its checksum: matched on its base, mismatched (checksum) on another and on its base with one PTR appended', (t) => {
  const obj = moduleObject(t);
  if (!obj) return;
  const stamped = editElfSections(obj, { set: { [BTF_BASE_CHECKSUM_SECTION]: checksumSection(d50) } });
  const own = checkSplit(stamped, d50);
  assert.deepEqual([own.verdict, own.reason], ['matched', 'checksum']);
  const plus = d50PlusPtr();
  for (const [base, what] of [[v618, '6.18'], [plus, '6.1.0-50 + one PTR']] as const) {
    const r = checkSplit(stamped, base);
    assert.deepEqual([r.verdict, r.reason, r.evidence[0]?.signal], ['mismatched', 'checksum', 'checksum'], what);
    assert.match(r.evidence[0]!.problem, /built on a base with \d+ bytes of types/);
  }
  // Unstamped, the references alone decide: the verdict says so.
  assert.equal(checkSplit(obj, d50).reason, 'references');
});

test('stamp: a malformed .BTF.base_checksum is a bad-section error, not a verdict', (t) => {
  const obj = moduleObject(t);
  if (!obj) return;
  const broken = editElfSections(obj, { set: { [BTF_BASE_CHECKSUM_SECTION]: new Uint8Array(20) } });
  assert.throws(() => checkSplit(broken, d50, { file: 'm.o' }), (e) => isBtfError(e) && e.code === 'bad-section' && e.file === 'm.o' && /BTF\.base_checksum/.test(e.message));
});

test('stamp CLI: stamp then check (matched (checksum), exit 0; mismatched (checksum), exit 3); raw BTF and a mismatched module are refused', (t) => {
  const obj = moduleObject(t);
  if (!obj) return;
  const file = (name: string, bytes: Uint8Array) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const mod = file('af_key.o', obj);
  const base = file('d50.btf', d50.bytes);
  const other = file('v618.btf', v618.bytes);
  const out = join(dir, 'af_key.stamped.o');
  const s = run('stamp', mod, '--base', base, '-o', out);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, new RegExp(checksumHex(baseChecksum(d50))));
  const good = run('check', out, '--base', base);
  assert.equal(good.status, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /: matched \(checksum\): the base checksum stamped into the module/);
  const bad = run('check', out, '--base', other);
  assert.equal(bad.status, 3);
  assert.match(bad.stdout, /: mismatched \(checksum\): /);
  const json = JSON.parse(run('check', out, '--base', other, '--json').stdout) as { reason?: string }[];
  assert.equal(json[0]!.reason, 'checksum');
  const raw = run('stamp', file('af_key.btf', afKey), '--base', base, '-o', join(dir, 'x'));
  assert.equal(raw.status, 1);
  assert.match(raw.stderr, /^btfkit: error: .*raw BTF/);
  const mismatched = run('stamp', mod, '--base', other, '-o', join(dir, 'y'));
  assert.equal(mismatched.status, 1);
  assert.match(mismatched.stderr, /does not match this base/);
});
