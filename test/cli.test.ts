import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BtfBuilder } from '../src/build/builder.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

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
  // Two different structs are named dir_entry in 6.18 (and two typedefs u8): really ambiguous.
  for (const name of ['struct dir_entry', 'u8']) {
    const amb = btfkit('dump', v618, '--root', name);
    assert.equal(amb.code, 1, name);
    assert.match(amb.stderr.toString(), /names 2 types \(ids \d+, \d+\); give an id/, name);
  }
  const missing = btfkit('dump', v618, '--root', 'nope_not_a_type');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr.toString(), /no type named 'nope_not_a_type'/);
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

/**
 * Runs the CLI with a reader that leaves after the first chunk of stdout, as `| head -1` does:
 * whatever the command writes after that meets a closed pipe.
 */
function btfkitReadOnce(...args: string[]): Promise<{ code: number | null; stderr: string; first: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let first = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.once('data', (d: Buffer) => {
      first = d.toString();
      child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, first }));
  });
}

test('a reader that leaves early (| head) ends every command quietly; check keeps its verdict as exit code', async () => {
  // Hundreds of reports: far more than a pipe holds, so the writes after the first chunk fail.
  const many = (f: string) => Array.from({ length: 300 }, () => f);
  const cases: [string[], number][] = [
    [['dump', v618], 0],
    [['dump', v618, '--format', 'json'], 0],
    [['dump', v618, '--format', 'c'], 0],
    [['check', ...many(afKey), '--base', v618, '--json'], 3],
    [['check', ...many(afKey), '--base', v618, '--max-evidence', '20'], 3],
    [['check', ...many(afKey), '--base', base, '--json'], 0],
  ];
  for (const [args, code] of cases) {
    const r = await btfkitReadOnce(...args);
    const what = args.filter((a) => a !== afKey).join(' ');
    assert.ok(r.first.length > 0, what);
    assert.equal(r.stderr, '', what);
    assert.equal(r.code, code, what);
  }
});

test('the CLI writes to stdout and stderr only through src/cli/output.ts', () => {
  // One path that knows a closed pipe: process.stdout.write's EPIPE is an 'error' event that
  // kills the process with a stack trace.
  const cliDir = join(process.cwd(), 'src', 'cli');
  for (const f of readdirSync(cliDir).filter((n) => n.endsWith('.ts') && n !== 'output.ts')) {
    const text = readFileSync(join(cliDir, f), 'utf8');
    assert.doesNotMatch(text, /process\.(stdout|stderr)|console\./, f);
  }
});

test('an output file that cannot be written is one error line naming it, exit 1', () => {
  const out = join(dir, 'no-such-dir', 'out.btf');
  for (const args of [
    ['standalone', afKey, '--base', base, '-o', out],
    ['merge', '--base', base, afKey, '-o', out],
    ['convert', v618, '-o', out],
  ]) {
    const r = btfkit(...args);
    assert.equal(r.code, 1, args[0]);
    assert.equal(r.stderr, `btfkit: error: cannot write ${out}: no such directory\n`, args[0]);
  }
});

test('every command answers --help with its own usage, exit 0', () => {
  for (const cmd of ['dump', 'check', 'standalone', 'split', 'merge', 'find', 'convert']) {
    for (const args of [[cmd, '--help'], [cmd, '-h'], ['help', cmd]]) {
      const r = btfkit(...args);
      assert.equal(r.code, 0, args.join(' '));
      assert.equal(r.stderr, '');
      const text = r.stdout.toString();
      assert.ok(text.startsWith(`Usage:\n  btfkit ${cmd} `), text);
      assert.equal(text.split('\n  btfkit ').length, 2, `only ${cmd}'s usage: ${text}`);
    }
  }
});

test('an unknown option is named in one line, with a pointer to the command help', () => {
  const r = btfkit('dump', '--bogus');
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "btfkit: unknown option '--bogus'\nTry 'btfkit dump --help'.\n");
});

test('--root 0 (void) is a usage error', () => {
  for (const root of ['0', '0x0', '00']) {
    const r = btfkit('dump', v618, '--root', root);
    assert.equal(r.code, 2, root);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /--root 0 is void/);
  }
});

test('--max-evidence takes whole numbers only, and limits the evidence shown', () => {
  for (const bad of [['--max-evidence', ''], ['--max-evidence='], ['--max-evidence=-1'], ['--max-evidence', '1e3'], ['--max-evidence', 'two'], ['--max-evidence', '2.5'], ['--max-evidence', ' 3']]) {
    const r = btfkit('check', afKey, '--base', v618, ...bad);
    assert.equal(r.code, 2, bad.join(' '));
    assert.match(r.stderr, /^btfkit: --max-evidence takes a whole number/);
  }
  for (const n of [0, 2]) {
    const r = btfkit('check', afKey, '--base', v618, '--json', '--max-evidence', String(n));
    assert.equal(r.code, 3, r.stderr);
    const [report] = JSON.parse(r.stdout.toString());
    assert.equal(report.evidence.length, n);
    assert.ok(report.evidenceCount > n);
  }
});

test('check of a BPF object without --object names the flag', () => {
  const bpfObject = file('maps-hint.o', fixture('bpf/maps_globals.clang14.bpfel.o.gz'));
  const r = btfkit('check', bpfObject);
  assert.equal(r.code, 1);
  const hints = r.stdout.toString().split('\n').filter((l) => l.includes('object: true'));
  assert.ok(hints.length > 0 && hints.every((l) => l.includes('with --object')), hints.slice(0, 3).join('\n'));
  assert.equal(btfkit('check', bpfObject, '--object').code, 0);
});

test('check names each file once: in the line heading its report, not again in each message', () => {
  const truncated = file('trunc-check.ko', new Uint8Array(readFileSync(join(dir, 'd61.btf')).subarray(0, 100)));
  const missing = join(dir, 'missing-check.btf');
  const bpfObject = file('maps-once.o', fixture('bpf/maps_globals.clang14.bpfel.o.gz'));
  const r = btfkit('check', missing, truncated, bpfObject);
  assert.equal(r.code, 1);
  const text = r.stdout.toString();
  for (const line of text.trimEnd().split('\n')) {
    const names = [missing, truncated, bpfObject].reduce((n, f) => n + line.split(f).length - 1, 0);
    assert.ok(names <= 1, line);
  }
  assert.ok(text.startsWith(`${missing}: error: cannot read: no such file\n${truncated}: error: `), text);
  const json = JSON.parse(btfkit('check', missing, bpfObject, '--json').stdout.toString()) as { file: string; summary: string; errors: { message: string }[] }[];
  for (const report of json) {
    assert.ok(!report.summary.includes(report.file), report.summary);
    for (const e of report.errors) assert.ok(!e.message.includes(report.file), e.message);
  }
});

test('check: a --base that cannot be read is one error, before any file', () => {
  const missingBase = join(dir, 'missing-base.btf');
  const r = btfkit('check', afKey, afKey, '--base', missingBase);
  assert.equal(r.code, 1);
  assert.equal(r.stdout.length, 0);
  assert.equal(r.stderr, `btfkit: error: ${missingBase}: cannot read: no such file\n`);
});

test('split BTF without a base: the error says to give --base', () => {
  for (const args of [['dump', afKey], ['convert', afKey, '-o', join(dir, 'nobase.btf')]]) {
    const r = btfkit(...args);
    assert.equal(r.code, 1, args[0]);
    assert.match(r.stderr, /^btfkit: error: .*af_key\.btf: .*--base BASE\n$/, args[0]);
  }
});

test('dump warns on stderr when the module does not match its base, and still dumps it', () => {
  const wrong = btfkit('dump', afKey, '--base', v618);
  assert.equal(wrong.code, 0, wrong.stderr);
  assert.ok(wrong.stdout.length > 0);
  const lines = wrong.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, wrong.stderr);
  assert.ok(lines[0]!.startsWith(`btfkit: warning: ${afKey} does not match its base ${v618}: `), lines[0]);
  assert.match(lines[0]!, /broken references .*; first: \[\d+\] /);
  assert.match(lines[0]!, /--base/);
  const right = btfkit('dump', afKey, '--base', base);
  assert.equal(right.code, 0);
  assert.equal(right.stderr, '');
  // Self-contained BTF read as split BTF on a base: shifted ids, names from the base's strings.
  const selfContained = btfkit('dump', v618, '--base', base);
  assert.match(selfContained.stderr, /^btfkit: warning: .* is self-contained BTF, not split BTF/);
});

test('json: a backslash in a name is written as \\\\ (bpftool v7.2 and later); bpftool before v7.2 writes \\n', (t) => {
  const b = new BtfBuilder();
  b.addTypedef('a\\b', b.addInt('int', 4, 1));
  const blob = file('backslash.btf', b.encode());
  const ours = btfkit('dump', blob, '--format', 'json');
  assert.equal(ours.code, 0, ours.stderr);
  const text = ours.stdout.toString();
  assert.equal((JSON.parse(text) as { types: { name: string }[] }).types[1]!.name, 'a\\b');
  const version = spawnSync('bpftool', ['version']);
  if (version.error) return loudSkip(t, `bpftool is not installed: ${version.error.message}`);
  const m = /v(\d+)\.(\d+)/.exec(version.stdout.toString());
  assert.ok(m, version.stdout.toString());
  const theirs = spawnSync('bpftool', ['-j', 'btf', 'dump', 'file', blob]).stdout.toString().trimEnd() + '\n';
  const before72 = Number(m[1]) < 7 || (Number(m[1]) === 7 && Number(m[2]) < 2);
  assert.equal(theirs, before72 ? text.replace('a\\\\b', 'a\\nb') : text);
});
