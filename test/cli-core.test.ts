/**
 * `btfkit core` as a user runs it (the shipped bundle): text and JSON against the library's own
 * decisions (which test/core-corpus.test.ts holds to libbpf's), exit codes, a folder target with
 * a module, -o writing an object llvm-objdump and the object reader take, and clear errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { Btf } from '../src/btf/btf.js';
import { parseBpfObject } from '../src/bpf/object.js';
import { relocateObject } from '../src/core/object.js';
import { CORE_KIND_NAMES } from '../src/core/kinds.js';
import { scratchDir } from './helpers/cc.js';
import { fetchedBuilds } from './helpers/data.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const CLI = join(process.cwd(), 'dist', 'btfkit.cjs');
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });

function file(name: string, bytes: Uint8Array): string {
  const path = join(scratchDir(), name);
  writeFileSync(path, bytes);
  return path;
}

const KERNEL = 'golden/running-6.18/vmlinux.btf.gz';

test('core: one line per relocation, JSON with the documented fields, both equal to the library; exit 5 when some are poisoned', () => {
  const objectBytes = fixture('bpf/core_types.clang19.bpfel.o.gz');
  const object = file('cli-core-types.o', objectBytes);
  const target = file('cli-core-vmlinux.btf', fixture(KERNEL));
  const lib = relocateObject(objectBytes, Btf.parse(fixture(KERNEL)));
  assert.ok(lib.relocations.some((r) => r.result === 'poisoned'), 'the object has poisoned relocations');

  const text = run(['core', object, '--target', target]);
  assert.equal(text.status, 5, text.stderr);
  const lines = text.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, new RegExp(`^# cli-core-types\\.o on .*: ${lib.relocations.length} relocations, \\d+ patched, \\d+ poisoned, 0 failed$`));
  assert.equal(lines.length, lib.relocations.length + 1);
  for (const [i, r] of lib.relocations.entries()) {
    const line = lines[i + 1]!;
    assert.ok(line.startsWith(`${r.section}+0x${r.insnOffset.toString(16)} ${CORE_KIND_NAMES[r.decision.record.kind]} ${r.decision.local.spec}`), line);
    if (r.result === 'poisoned') assert.match(line, /: poisoned \(/);
    else if (r.decision.target) assert.ok(line.includes(`→ ${r.decision.target.btf} ${r.decision.target.spec}`), line);
  }

  const json = run(['core', object, '--target', target, '--json']);
  assert.equal(json.status, 5);
  const parsed = JSON.parse(json.stdout) as { file: string; target: string; relocations: Record<string, unknown>[] }[];
  assert.equal(parsed.length, 1);
  assert.deepEqual(Object.keys(parsed[0]!), ['file', 'target', 'relocations']);
  for (const [i, r] of parsed[0]!.relocations.entries()) {
    const want = lib.relocations[i]!;
    assert.deepEqual(Object.keys(r).filter((k) => k !== 'reason'), ['section', 'insnOffset', 'kind', 'local', 'target', 'candidates', 'result', 'patches']);
    assert.equal(r.section, want.section);
    assert.equal(r.insnOffset, want.insnOffset);
    assert.equal(r.kind, CORE_KIND_NAMES[want.decision.record.kind]);
    assert.deepEqual(r.local, { id: want.decision.record.typeId, name: want.decision.local.name, access: want.decision.record.access, spec: want.decision.local.spec });
    assert.deepEqual(r.target, want.decision.target && { btf: want.decision.target.btf, id: want.decision.target.typeId, spec: want.decision.target.spec });
    assert.equal(r.result, want.result);
    assert.equal((r.patches as unknown[]).length, want.patch.patches.length);
    if (want.result !== 'patched') assert.equal(typeof r.reason, 'string');
  }
});

test('core: several objects and targets give one result set per pair; exit 0 when everything was patched', () => {
  const a = file('cli-core-matches.o', fixture('bpf/core_matches.clang19.bpfel.o.gz'));
  const t1 = file('cli-core-t1.btf', fixture(KERNEL));
  const t2 = file('cli-core-t2.btf', fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  const r = run(['core', a, '--target', t1, '--target', t2, '--json']);
  assert.equal(r.status, 0, r.stdout.slice(0, 2000));
  const parsed = JSON.parse(r.stdout) as { target: string; relocations: { result: string }[] }[];
  assert.deepEqual(parsed.map((p) => p.target), [t1, t2]);
  for (const p of parsed) assert.ok(p.relocations.length > 0 && p.relocations.every((x) => x.result === 'patched'));
});

test('core: a folder laid out like /sys/kernel/btf is searched module by module (xfs_inode in xfs)', (t) => {
  const build = fetchedBuilds().find((b) => { try { readFileSync(join(b, 'modules/fs/xfs/xfs.ko')); return true; } catch { return false; } });
  if (!build) return loudSkip(t, 'no fetched Debian build with fs/xfs/xfs.ko (tools/fetch-debian-kernel.sh)');
  const dir = join(scratchDir(), 'cli-core-kernel');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(build, 'vmlinux.btf'), join(dir, 'vmlinux'));
  copyFileSync(join(build, 'modules/fs/xfs/xfs.ko'), join(dir, 'xfs'));
  const object = file('cli-core-module.o', fixture('bpf/core_module.clang19.bpfel.o.gz'));
  const r = run(['core', object, '--target', dir, '--json']);
  assert.ok(r.status === 0 || r.status === 5, r.stderr);
  const rel = (JSON.parse(r.stdout) as { relocations: { target: { btf: string; id: number } | null; local: { name: string } }[] }[])[0]!.relocations;
  const inXfs = rel.filter((x) => x.target?.btf === 'xfs');
  assert.ok(inXfs.length > 0, 'some relocation resolved in the xfs module');
  const vmlinuxTypes = Btf.parse(readFileSync(join(dir, 'vmlinux'))).endId;
  for (const x of inXfs) assert.ok(x.target!.id >= vmlinuxTypes, `${x.local.name}: the module's own (split) id`);
  // Without the folder's module the same type is not found.
  const bare = run(['core', object, '--target', join(dir, 'vmlinux'), '--json']);
  const bareRel = (JSON.parse(bare.stdout) as { relocations: { target: { btf: string } | null }[] }[])[0]!.relocations;
  assert.equal(bareRel.filter((x) => x.target?.btf === 'xfs').length, 0);
});

test('core -o writes the relocated object: the instructions the library patched, readable by llvm-objdump', (t) => {
  const objectBytes = fixture('bpf/core_fields.clang19.bpfel.o.gz');
  const object = file('cli-core-fields.o', objectBytes);
  const target = file('cli-core-fields-target.btf', fixture(KERNEL));
  const out = join(scratchDir(), 'cli-core-fields.relocated.o');
  const r = run(['core', object, '--target', target, '-o', out]);
  assert.equal(r.status, 5, r.stderr); // one poisoned memory access in this object
  const written = new Uint8Array(readFileSync(out));
  const expected = relocateObject(objectBytes, Btf.parse(fixture(KERNEL))).patched;
  assert.deepEqual(written, expected);
  const sections = parseBpfObject(written).programs;
  const original = parseBpfObject(objectBytes).programs;
  assert.ok(sections.some((s, i) => !original[i]!.bytes.every((b, j) => b === s.bytes[j])), 'some instruction changed');
  const objdump = ['llvm-objdump-19', 'llvm-objdump'].find((c) => spawnSync(c, ['--version']).status === 0);
  if (!objdump) return loudSkip(t, 'llvm-objdump is not installed');
  const dis = spawnSync(objdump, ['-d', out], { encoding: 'utf8' });
  assert.equal(dis.status, 0, dis.stderr);
  assert.match(dis.stdout, /call 0xbad2310/);
});

test('core: usage and input errors are one line', () => {
  const object = file('cli-core-types2.o', fixture('bpf/core_types.clang19.bpfel.o.gz'));
  const target = file('cli-core-t3.btf', fixture(KERNEL));
  const two = run(['core', object, object, '--target', target, '-o', join(scratchDir(), 'x.o')]);
  assert.equal(two.status, 2);
  assert.match(two.stderr, /-o OUT writes one relocated object/);
  const truncated = file('cli-core-truncated.o', fixture('bpf/core_types.clang19.bpfel.o.gz').subarray(0, 300));
  const bad = run(['core', truncated, '--target', target]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^btfkit: error: .*cli-core-truncated\.o/);
  assert.equal(bad.stderr.trimEnd().split('\n').length, 1);
  assert.equal(run(['core']).status, 2);
  // A module of a folder target that does not parse is an error about that file, not about relocations.
  const dir = join(scratchDir(), 'cli-core-broken-kernel');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vmlinux'), fixture(KERNEL));
  writeFileSync(join(dir, 'broken_mod'), new TextEncoder().encode('garbage, not BTF'));
  const moduleObject = file('cli-core-module2.o', fixture('bpf/core_types.clang19.bpfel.o.gz'));
  const broken = run(['core', moduleObject, '--target', dir]);
  assert.equal(broken.status, 1, broken.stdout);
  assert.match(broken.stderr, /^btfkit: error: .*broken_mod/);
});
