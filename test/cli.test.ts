import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fixture } from './helpers/paths.js';

/** The CLI as the package ships it: one CommonJS bundle (tools/bundle-cli.mjs). */
const CLI = join(process.cwd(), 'dist', 'btfkit.cjs');
/** The same CLI as compiled ES modules, before bundling. */
const CLI_MODULES = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'btfkit-cli-'));

function btfkit(...args: string[]) {
  return run(CLI, args);
}

function run(cli: string, args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { maxBuffer: 1 << 30 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const base = file('d61.btf', fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
const afKey = file('af_key.btf', fixture('golden/debian-6.1.0-50-cloud/modules/af_key.btf.gz'));
const v618 = file('v618.btf', fixture('golden/running-6.18/vmlinux.btf.gz'));

test('dump --base prints the module raw dump bpftool printed', () => {
  const r = btfkit('dump', afKey, '--base', base);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Buffer.compare(r.stdout, fixture('golden/debian-6.1.0-50-cloud/modules/af_key.raw.txt.gz')), 0);
});

test('bad input is one line on stderr naming the file and place, exit 1, no stack trace', () => {
  const truncated = file('trunc.btf', fixture('golden/debian-6.1.0-50-cloud/modules/af_key.btf.gz').subarray(0, 5000));
  for (const args of [['dump', truncated, '--base', base], ['dump', join(dir, 'missing.btf')], ['dump', file('zero.btf', new Uint8Array(10))]]) {
    const r = btfkit(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stdout.length, 0);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^btfkit: error: .+\.btf/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.match(btfkit('dump', truncated, '--base', base).stderr, /at byte \d+/);
});

test('wrong usage exits 2', () => {
  for (const args of [['frobnicate'], ['dump', '--format', 'xml', base], ['convert', base], ['dump', '--bogus'], []]) {
    assert.equal(btfkit(...args).code, 2, args.join(' '));
  }
});

test('check: exit 0 for a matched module, 3 for a mismatched one; --json has one object per file in order', () => {
  assert.equal(btfkit('check', afKey, '--base', base).code, 0);
  const bpfObject = file('maps.o', fixture('bpf/maps_globals.clang14.bpfel.o.gz'));
  const r = btfkit('check', afKey, bpfObject, '--base', v618, '--json', '--object');
  assert.equal(r.code, 3, r.stderr);
  const out = JSON.parse(r.stdout.toString());
  assert.deepEqual(out.map((x: { file: string }) => x.file), [afKey, bpfObject]);
  assert.equal(out[0].verdict, 'mismatched');
  assert.ok(out[0].evidence.length > 0 && out[0].evidenceCount >= out[0].evidence.length);
  assert.equal(out[1].verdict, 'not-split');
  assert.equal(out[1].valid, true);
});

test('check reports verifier violations with exit 1', () => {
  // Point the first type's name past the string section: the kernel rejects such BTF.
  const bytes = fixture('golden/running-6.18/vmlinux.btf.gz').slice();
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const typeStart = dv.getUint32(4, true) + dv.getUint32(8, true);
  dv.setUint32(typeStart, 0x00ffffff, true);
  const r = btfkit('check', file('badname.btf', bytes), '--json');
  assert.equal(r.code, 1);
  const [report] = JSON.parse(r.stdout.toString());
  assert.equal(report.valid, false);
  assert.ok(report.errors.some((e: { code: string; typeId: number }) => e.typeId === 1 && e.code === 'bad-string-offset'), JSON.stringify(report.errors.slice(0, 3)));
});

test('convert: big-endian and back, with and without layout, returns the original bytes', () => {
  const be = join(dir, 'v.be.btf');
  const back = join(dir, 'v.le.btf');
  assert.equal(btfkit('convert', v618, '-o', be, '--endian', 'big', '--layout').code, 0);
  assert.equal(readFileSync(be)[0], 0xeb);
  assert.equal(btfkit('convert', be, '-o', back, '--endian', 'little', '--no-layout').code, 0);
  assert.equal(Buffer.compare(readFileSync(back), readFileSync(v618)), 0);
  const dumpBe = btfkit('dump', be);
  assert.equal(Buffer.compare(dumpBe.stdout, fixture('golden/running-6.18/vmlinux.raw.txt.gz')), 0);
});

test('standalone then split gives back a module that dumps like the original', () => {
  const sa = join(dir, 'af_key.standalone.btf');
  const sp = join(dir, 'af_key.split.btf');
  assert.equal(btfkit('standalone', afKey, '--base', base, '-o', sa).code, 0);
  assert.equal(btfkit('check', sa, '--base', base).code, 4, 'a standalone blob is reported as such');
  const r = btfkit('split', sa, '--base', base, '-o', sp);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Buffer.compare(btfkit('dump', sp, '--base', base).stdout, btfkit('dump', afKey, '--base', base).stdout), 0);
});

test('--root takes names and ids and refuses ambiguous names', () => {
  const byName = btfkit('dump', v618, '--root', 'struct task_struct');
  const byId = btfkit('dump', v618, '--root', '114');
  assert.equal(byName.code, 0, byName.stderr);
  assert.equal(Buffer.compare(byName.stdout, byId.stdout), 0);
  assert.match(byName.stdout.toString(), /^\[114\] STRUCT 'task_struct'/);
  const amb = btfkit('dump', v618, '--root', 'u32', '--root', 'nope_not_a_type');
  assert.equal(amb.code, 1);
});

test('the shipped bundle and the compiled modules print the same, compressed input included', () => {
  // gzip goes through zlib, loaded on first use with a require built from import.meta.url,
  // which the bundle has to provide.
  const gz = file('af_key.btf.gz', gzipSync(fixture('golden/debian-6.1.0-50-cloud/modules/af_key.btf.gz')));
  const bundled = run(CLI, ['dump', gz, '--base', base, '--format', 'c']);
  const modules = run(CLI_MODULES, ['dump', gz, '--base', base, '--format', 'c']);
  assert.equal(bundled.code, 0, bundled.stderr);
  assert.equal(modules.code, 0, modules.stderr);
  assert.ok(bundled.stdout.includes('struct sadb_msg {'));
  assert.equal(Buffer.compare(bundled.stdout, modules.stdout), 0);
  const bad = run(CLI_MODULES, ['dump', join(dir, 'missing.btf')]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, run(CLI, ['dump', join(dir, 'missing.btf')]).stderr);
});

test('version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['version', '--version', '-V']) {
    const r = btfkit(flag);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.toString(), `btfkit ${pkg.version}\n`);
  }
});
