/**
 * Kernel variables: listVariables/kernelVariables (src/load/vars.ts) against bpftool's raw dump
 * of the same BTF, and an extra-variables module (src/split/variables.ts) built from a real
 * kernel's BTF: vmlinux's VARs and DATASECs (and DECL_TAGs on them) moved into a split blob on
 * the rest (the layout proposed as `vmlinux_btf_extra`). bpftool reads both halves, the kernel
 * accepts the base, and the variables read the same through the module as in the original.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { Btf } from '../src/btf/btf.js';
import { TypeSet } from '../src/btf/typeset.js';
import { Kind } from '../src/format/kinds.js';
import { kernelVariables, listVariables } from '../src/load/vars.js';
import { splitOffVariables } from '../src/split/variables.js';
import { scratchDir } from './helpers/cc.js';
import { kernelLoad } from './helpers/kernel.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const KERNEL = 'golden/running-6.18/vmlinux.btf.gz';

/** VARs and their DATASEC placement as bpftool's raw dump prints them. */
function bpftoolVariables(file: string, base?: string): { id: number; name: string; linkage: string; type: number; section?: string; offset?: number; size?: number }[] {
  const args = base ? ['btf', '--base-btf', base, 'dump', 'file', file] : ['btf', 'dump', 'file', file];
  const out = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (out.status !== 0) throw new Error(`bpftool ${args.join(' ')}: ${out.stderr}`);
  const vars = new Map<number, { id: number; name: string; linkage: string; type: number; section?: string; offset?: number; size?: number }>();
  let section: string | undefined;
  for (const line of out.stdout.split('\n')) {
    let m = line.match(/^\[(\d+)\] VAR '([^']*)' type_id=(\d+), linkage=(\w+)/);
    if (m) { vars.set(Number(m[1]), { id: Number(m[1]), name: m[2]!, type: Number(m[3]), linkage: m[4]! }); section = undefined; continue; }
    m = line.match(/^\[(\d+)\] DATASEC '([^']*)'/);
    if (m) { section = m[2]; continue; }
    if (line.startsWith('[')) { section = undefined; continue; }
    m = line.match(/^\ttype_id=(\d+) offset=(\d+) size=(\d+)/);
    if (m && section !== undefined) {
      const v = vars.get(Number(m[1]));
      if (v && v.section === undefined) Object.assign(v, { section, offset: Number(m[2]), size: Number(m[3]) });
    }
  }
  return [...vars.values()];
}

test('listVariables gives every VAR with its section, offset and size as bpftool prints them', (t) => {
  if (spawnSync('bpftool', ['version']).status !== 0) return loudSkip(t, 'bpftool is not installed');
  const bytes = fixture(KERNEL);
  const file = join(scratchDir(), 'vars-vmlinux.btf');
  writeFileSync(file, bytes);
  const ours = listVariables(Btf.parse(bytes));
  const theirs = bpftoolVariables(file);
  assert.ok(theirs.length > 100, `bpftool lists ${theirs.length} VARs`);
  assert.deepEqual(
    ours.map((v) => ({ id: v.id, name: v.name, linkage: v.linkage, type: v.typeId, section: v.section ?? undefined, offset: v.offset ?? undefined, size: v.size ?? undefined })),
    theirs.map((v) => ({ ...v })));
  // Declarations name the variable; per-CPU runqueues is a struct rq.
  assert.equal(ours.find((v) => v.name === 'runqueues')?.declaration, 'struct rq runqueues');
});

test('an extra-variables module split off a real kernel: bpftool reads it, the kernel takes the base, variables read the same', (t) => {
  if (spawnSync('bpftool', ['version']).status !== 0) return loudSkip(t, 'bpftool is not installed');
  const kernel = Btf.parse(fixture(KERNEL));
  const { base, variables, map } = splitOffVariables(kernel);
  const baseBtf = Btf.parse(base);
  const extra = Btf.parse(variables, { base: baseBtf });
  // The base holds no variables; the module holds nothing else.
  for (let id = 1; id < baseBtf.endId; id++) assert.ok(baseBtf.kind(id) !== Kind.Var && baseBtf.kind(id) !== Kind.Datasec, `base type ${id}`);
  for (let id = extra.firstId; id < extra.endId; id++) assert.ok([Kind.Var, Kind.Datasec, Kind.DeclTag].includes(extra.kind(id)), `module type ${id}`);
  const before = listVariables(kernel);
  assert.equal(extra.endId - extra.firstId, before.length + 1 /* the DATASEC */);
  // Through the type set, as tools meet it: vmlinux without variables, plus the extra module.
  const set = new TypeSet(baseBtf, [['vmlinux_btf_extra', extra]]);
  const after = kernelVariables(set);
  assert.deepEqual(after.map((v) => ({ ...v, btf: 'vmlinux', id: 0, typeId: 0 })), before.map((v) => ({ ...v, id: 0, typeId: 0 })));
  for (const [i, v] of after.entries()) {
    assert.equal(v.btf, 'vmlinux_btf_extra');
    assert.equal(v.id, map[before[i]!.id]);
    assert.equal(v.typeId, map[before[i]!.typeId]);
  }
  // bpftool reads both halves and prints the same VARs (renumbered) as for the original.
  const dir = scratchDir();
  writeFileSync(join(dir, 'sv-base.btf'), base);
  writeFileSync(join(dir, 'sv-vars.btf'), variables);
  const printed = bpftoolVariables(join(dir, 'sv-vars.btf'), join(dir, 'sv-base.btf'));
  assert.deepEqual(printed.map((v) => v.id), after.map((v) => v.id));
  assert.deepEqual(printed.map((v) => [v.section, v.offset, v.size]), after.map((v) => [v.section, v.offset, v.size]));
  // The running kernel judges the base (a vmlinux-like blob without variables).
  const verdict = kernelLoad(base);
  if ('skipped' in verdict) return loudSkip(t, verdict.skipped);
  assert.ok(verdict.ok, verdict.log);
});

test('btfkit vars lists the variables of a folder laid out like /sys/kernel/btf with an extra-variables module; find finds them there', () => {
  const kernel = Btf.parse(fixture(KERNEL));
  const { base, variables } = splitOffVariables(kernel);
  const dir = join(scratchDir(), 'extra-vars-kernel');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vmlinux'), base);
  writeFileSync(join(dir, 'vmlinux_btf_extra'), variables);
  const cli = join(process.cwd(), 'dist', 'btfkit.cjs');
  const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const expected = listVariables(kernel);
  const all = run(['vars', dir, '--json']);
  assert.equal(all.status, 0, all.stderr);
  const listed = JSON.parse(all.stdout) as { btf: string; name: string; section: string; offset: number; size: number; declaration: string }[];
  assert.deepEqual(listed.map((v) => [v.btf, v.name, v.section, v.offset, v.size, v.declaration]),
    expected.map((v) => ['vmlinux_btf_extra', v.name, v.section, v.offset, v.size, v.declaration]));
  const one = run(['vars', dir, '--name', 'runqueues']);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /^vmlinux_btf_extra\t\[\d+\] \.data\.\.percpu\+0x[0-9a-f]+\t\d+\tglobal\tstruct rq runqueues;\n$/);
  const none = run(['vars', dir, '--name', 'no_such_variable']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no variable named 'no_such_variable' in vmlinux or the 1 modules under/);
  const found = run(['find', 'runqueues', dir]);
  assert.equal(found.status, 0, found.stderr);
  assert.match(found.stdout, /^vmlinux_btf_extra\t\[\d+\] VAR 'runqueues'\n$/);
});
