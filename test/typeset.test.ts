/**
 * TypeSet: vmlinux plus modules searched as one, by exact name and by essential name (CO-RE's
 * name without its `___flavor`), and libbpf's CO-RE candidate rule. Expected ids come from
 * bpftool's raw dumps (the golden files), and expected essential names from a regular
 * expression that states libbpf's rule independently of the code under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/btf/btf.js';
import { Kind, kindFromName } from '../src/format/kinds.js';
import { TypeSet, TypeUnion, essentialName, type TypeHit } from '../src/btf/typeset.js';
import { KernelBtf } from '../src/node/sysfs.js';
import * as api from '../src/entry/query.js';
import { fixture, fixtureText } from './helpers/paths.js';

const GOLDEN = 'golden/debian-6.1.0-50-cloud';
const MODULES = ['af_key', '8021q', 'nf_tables', 'xfs'] as const;

const running = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
const deb = Btf.parse(fixture(`${GOLDEN}/vmlinux.btf.gz`));
const moduleBytes = new Map(MODULES.map((m) => [m, fixture(`${GOLDEN}/modules/${m}.btf.gz`)]));

/**
 * libbpf's `bpf_core_essential_name_len` as a pattern: the greedy prefix makes the *last*
 * `X___Y` (X, Y not underscores) the separator; a name without one is its own essential name.
 */
function oracleEssential(name: string): string {
  const m = /^([\s\S]*[^_])___[^_]/.exec(name);
  return m ? m[1]! : name;
}

interface DumpedType { id: number; kind: Kind; name: string }

/** The types a bpftool raw dump lists: `[id] KIND 'name' ...` lines. */
function dumpedTypes(rawText: string): DumpedType[] {
  const out: DumpedType[] = [];
  for (const m of rawText.matchAll(/^\[(\d+)\] ([A-Z0-9_]+) '([^'\n]*)'/gm)) {
    const kind = kindFromName(m[2]!);
    assert.ok(kind !== undefined, `kind ${m[2]} in the dump`);
    out.push({ id: Number(m[1]), kind, name: m[3] === '(anon)' ? '' : m[3]! });
  }
  return out;
}

const runningTypes = dumpedTypes(fixtureText('golden/running-6.18/vmlinux.raw.txt.gz'));

function idsNamed(types: DumpedType[], name: string, kind?: Kind): number[] {
  return types.filter((t) => t.name === name && (kind === undefined || t.kind === kind)).map((t) => t.id);
}

function lazySet(): { set: TypeSet; loads: () => number } {
  let loads = 0;
  const set = new TypeSet(deb, MODULES.map((m) => [m, () => { loads++; return Btf.parse(moduleBytes.get(m)!, { base: deb }); }]));
  return { set, loads: () => loads };
}

const where = (hits: TypeHit[]) => hits.map((h) => [h.module, h.id]);

test('essentialName follows libbpf: the last X___Y separator, X and Y not underscores', () => {
  const cases: [string, string][] = [
    ['task_struct___v2', 'task_struct'],
    ['task_struct___old', 'task_struct'],
    ['task_struct', 'task_struct'],
    ['a___b___c', 'a___b'],
    ['a___b', 'a'],
    ['___d_drop', '___d_drop'],
    ['____fput', '____fput'],
    ['a____b', 'a____b'],
    ['a___', 'a___'],
    ['a___b_', 'a'],
    ['a_b___c__', 'a_b'],
    ['', ''],
  ];
  for (const [name, want] of cases) assert.equal(essentialName(name), want, name);
  // Every name over {a, _} up to 10 characters, against the pattern.
  let checked = 0;
  for (let len = 0; len <= 10; len++) {
    for (let bits = 0; bits < 1 << len; bits++) {
      let name = '';
      for (let i = 0; i < len; i++) name += bits & (1 << i) ? '_' : 'a';
      assert.equal(essentialName(name), oracleEssential(name), JSON.stringify(name));
      checked++;
    }
  }
  assert.equal(checked, 2047);
});

test('essential-name search over the 6.18 vmlinux: every name finds exactly the types whose essential name is its own', () => {
  const set = new TypeSet(running);
  const byEssential = new Map<string, number[]>();
  for (const t of runningTypes) {
    if (t.name === '') continue;
    const e = oracleEssential(t.name);
    const ids = byEssential.get(e);
    if (ids) ids.push(t.id);
    else byEssential.set(e, [t.id]);
  }
  const names = new Set(runningTypes.map((t) => t.name).filter((n) => n !== ''));
  assert.ok(names.size > 50000, `${names.size} names`);
  for (const name of names) {
    const got = set.findEssential(name);
    assert.deepEqual(got.map((h) => h.id), byEssential.get(oracleEssential(name)), name);
    for (const h of got) assert.equal(h.module, 'vmlinux');
  }
});

test('names with ___ in the kernel: nf_conn___init is a flavor of nf_conn; ___d_drop and ____fput have none', () => {
  const set = new TypeSet(running);
  const conn = idsNamed(runningTypes, 'nf_conn', Kind.Struct);
  const connInit = idsNamed(runningTypes, 'nf_conn___init', Kind.Struct);
  assert.equal(conn.length, 1);
  assert.equal(connInit.length, 1);
  const both = [...conn, ...connInit].sort((a, b) => a - b);
  for (const local of ['nf_conn', 'nf_conn___init', 'nf_conn___mine']) {
    const hits = set.findEssential(local, Kind.Struct);
    assert.deepEqual(hits.map((h) => h.id), both, local);
    assert.deepEqual(hits.map((h) => h.name).sort(), ['nf_conn', 'nf_conn___init'], local);
    // libbpf gets both as candidates too; choosing between them is the relocation's job.
    assert.deepEqual(set.coreCandidates(local, Kind.Struct).map((h) => h.id), both, local);
  }
  // An exact search stays exact.
  assert.deepEqual(set.find('nf_conn').map((h) => h.id), conn);
  const dDrop = idsNamed(runningTypes, '___d_drop', Kind.Func);
  assert.equal(dDrop.length, 1);
  assert.deepEqual(set.findEssential('___d_drop').map((h) => h.id), dDrop);
  assert.deepEqual(set.findEssential('___d_drop___local', Kind.Func).map((h) => h.id), dDrop);
  assert.deepEqual(set.findEssential('d_drop').map((h) => h.name), ['d_drop'], 'no flavor hides behind leading underscores');
  assert.deepEqual(set.findEssential('____fput').map((h) => h.id), idsNamed(runningTypes, '____fput'));
  assert.deepEqual(set.findEssential('nf_conn___init___x', Kind.Struct).map((h) => h.id), [], 'essential name nf_conn___init is no type\'s');
  assert.deepEqual(set.coreCandidates('nf_conn___init___x', Kind.Struct).map((h) => h.id), [], 'no CO-RE candidate either (libbpf compares essential lengths)');
});

test('a local task_struct___old finds task_struct in vmlinux, without loading a module for CO-RE', () => {
  const { set, loads } = lazySet();
  const task = set.coreCandidates('task_struct___old', Kind.Struct);
  assert.equal(loads(), 0, 'vmlinux has a candidate: modules are not searched');
  assert.equal(task.length, 1);
  assert.equal(task[0]!.module, 'vmlinux');
  assert.equal(task[0]!.name, 'task_struct');
  assert.equal(task[0]!.kind, Kind.Struct);
  assert.equal(task[0]!.btf, deb);
  assert.equal(deb.name(task[0]!.id), 'task_struct');
  assert.equal(deb.kind(task[0]!.id), Kind.Struct);
  assert.deepEqual(set.coreCandidates('task_struct___old', Kind.Union), [], 'a union is not a candidate for a struct');
  assert.deepEqual(set.coreCandidates('', Kind.Struct), [], 'anonymous types have no candidates');
});

test('garp_port, a FWD in vmlinux and a STRUCT in 8021q: each hit with its origin and its own id', () => {
  const q8021 = dumpedTypes(fixtureText(`${GOLDEN}/modules/8021q.raw.txt.gz`));
  const [structId] = idsNamed(q8021, 'garp_port', Kind.Struct);
  assert.ok(structId !== undefined && structId >= deb.endId, 'bpftool shows 8021q defining it with a split id');
  const { set, loads } = lazySet();
  const all = set.findEssential('garp_port___local');
  assert.equal(loads(), MODULES.length);
  assert.deepEqual(all.map((h) => [h.module, h.kind]), [['vmlinux', Kind.Fwd], ['8021q', Kind.Struct]]);
  assert.equal(all[1]!.id, structId);
  assert.equal(all[1]!.btf, set.module('8021q'));
  assert.equal(deb.name(all[0]!.id), 'garp_port');
  assert.deepEqual(where(set.findEssential('garp_port')), where(set.find('garp_port')));
  // CO-RE: vmlinux's FWD is no candidate for a struct, so the modules are searched.
  const { set: fresh, loads: freshLoads } = lazySet();
  assert.deepEqual(where(fresh.coreCandidates('garp_port___local', Kind.Struct)), [['8021q', structId]]);
  assert.equal(freshLoads(), MODULES.length);
  const { set: fwd, loads: fwdLoads } = lazySet();
  assert.deepEqual(fwd.coreCandidates('garp_port', Kind.Fwd).map((h) => [h.module, h.id]), [['vmlinux', all[0]!.id]]);
  assert.equal(fwdLoads(), 0);
});

test('every named type of each golden module is found by essential name, from its module, with the module\'s own id', () => {
  const { set } = lazySet();
  let checked = 0;
  for (const m of MODULES) {
    const types = dumpedTypes(fixtureText(`${GOLDEN}/modules/${m}.raw.txt.gz`));
    for (const t of types) {
      if (t.name === '') continue;
      const local = `${t.name}___local`;
      const hits = set.findEssential(local, t.kind);
      assert.ok(hits.some((h) => h.module === m && h.id === t.id && h.name === t.name), `${m}: [${t.id}] '${t.name}'`);
      for (const h of hits) {
        assert.equal(oracleEssential(h.name), oracleEssential(local));
        if (h.module !== 'vmlinux') assert.ok(h.id >= deb.endId, `${h.module} [${h.id}] is a module id`);
      }
      checked++;
    }
  }
  assert.ok(checked > 5000, `${checked} module types`);
});

test('CO-RE candidates: ENUM and ENUM64 stand for each other, other kinds only for themselves', () => {
  const set = new TypeSet(running);
  const [enum64] = idsNamed(runningTypes, 'perf_callchain_context', Kind.Enum64);
  assert.ok(enum64 !== undefined);
  assert.deepEqual(set.coreCandidates('perf_callchain_context___v1', Kind.Enum).map((h) => h.id), [enum64]);
  assert.deepEqual(set.coreCandidates('perf_callchain_context', Kind.Enum64).map((h) => h.id), [enum64]);
  assert.deepEqual(set.findEssential('perf_callchain_context', Kind.Enum), [], 'findEssential filters by the exact kind');
  assert.deepEqual(set.coreCandidates('perf_callchain_context', Kind.Struct), []);
});

test('TypeUnion and KernelBtf.union() remain, deprecated, as TypeSet', () => {
  assert.equal(TypeUnion, TypeSet);
  assert.equal(api.TypeUnion, api.TypeSet);
  assert.equal(typeof api.essentialName, 'function');
  assert.equal(typeof KernelBtf.prototype.union, 'function');
  assert.ok(new TypeUnion(deb).find('list_head', Kind.Struct).length > 0);
});
