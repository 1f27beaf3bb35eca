/**
 * Name lookups over split BTF whose types name themselves with the base's strings.
 *
 * pahole writes a module type's name as an offset into the base's string section when vmlinux
 * already holds that name (`struct garp_port` in 8021q: vmlinux has only `struct garp_port;`).
 * Such types must be found by `find`/`findOne`, by a search over vmlinux plus modules, in merged
 * blobs, by `--root` and by `btfkit find`, like any other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { Kind } from '../src/format/kinds.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpC, resolveRoot } from '../src/dump/c/index.js';
import { mergeModules } from '../src/split/merge.js';
import { TypeSet } from '../src/btf/typeset.js';
import { fixture } from './helpers/paths.js';

const GOLDEN = 'golden/debian-6.1.0-50-cloud';
const MODULES = ['af_key', '8021q', 'nf_tables', 'xfs'] as const;
const baseBytes = fixture(`${GOLDEN}/vmlinux.btf.gz`);
const base = Btf.parse(baseBytes);
const modules = new Map(MODULES.map((m) => [m, Btf.parse(fixture(`${GOLDEN}/modules/${m}.btf.gz`), { base })]));
const q8021 = modules.get('8021q')!;

const work = mkdtempSync(join(tmpdir(), 'btfkit-lookup-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

/** The module's own named types whose name offset points into the base's strings. */
function baseNamed(btf: Btf): number[] {
  const ids: number[] = [];
  for (let id = btf.firstId; id < btf.endId; id++) {
    const off = btf.nameOffset(id);
    if (off !== 0 && off < btf.firstStringOffset) ids.push(id);
  }
  return ids;
}

test('find and findOne see module types named with base strings', () => {
  const garp = q8021.find('garp_port');
  assert.equal(garp.length, 2, `garp_port: ${garp.join(', ')}`);
  assert.equal(base.kind(garp[0]!), Kind.Fwd, 'vmlinux only forward-declares it');
  assert.ok(garp[1]! >= q8021.firstId, 'the module defines it');
  assert.ok(q8021.nameOffset(garp[1]!) < q8021.firstStringOffset, 'and names it with a base string');
  assert.equal(q8021.kind(garp[1]!), Kind.Struct);
  assert.equal(q8021.findOne('garp_port', Kind.Struct), garp[1]);
});

test('every named type of each golden module is found by its name and kind', () => {
  let total = 0;
  for (const [name, btf] of modules) {
    total += baseNamed(btf).length;
    for (let id = btf.firstId; id < btf.endId; id++) {
      const n = btf.name(id);
      if (n === '') continue;
      assert.ok(btf.find(n).includes(id), `${name}: [${id}] '${n}' not found by name`);
      assert.ok(btf.find(n, btf.kind(id)).includes(id), `${name}: [${id}] '${n}' not found by name and kind`);
    }
  }
  assert.ok(total >= 8, `${total} base-named types checked (the case under test)`);
  assert.ok(baseNamed(q8021).length > 0);
});

test('a search over vmlinux and modules, names shared by both sides: each hit with its origin', () => {
  const set = new TypeSet(base, [...modules]);
  const hits = set.find('garp_port');
  assert.deepEqual(hits.map((h) => [h.module, h.kind]), [['vmlinux', Kind.Fwd], ['8021q', Kind.Struct]]);
  assert.deepEqual(set.find('garp_port', Kind.Struct).map((h) => h.module), ['8021q']);
  assert.equal(hits[1]!.btf.name(hits[1]!.id), 'garp_port');
  // A name every side defines: the base's hit first, and no module repeats it.
  const lh = set.find('list_head', Kind.Struct);
  assert.deepEqual(lh.map((h) => h.module), ['vmlinux']);
});

test('merged blobs find the merged copies of base-named module types', () => {
  const merged = mergeModules(base, [...modules].map(([name, btf]) => ({ name, btf })));
  const btf = Btf.parse(merged.bytes, { base });
  const structs = btf.find('garp_port', Kind.Struct);
  assert.equal(structs.length, 1);
  assert.equal(merged.origin(structs[0]!)?.module, '8021q');
  for (const [name, mod] of modules) {
    for (const id of baseNamed(mod)) {
      const n = mod.name(id);
      const found = btf.find(n, mod.kind(id)).filter((m) => merged.origin(m)?.module === name);
      assert.ok(found.length > 0, `${name}: '${n}' missing from the merged blob's index`);
    }
  }
});

test('the builder writes a split type named with a base string, and lookups find it', () => {
  const b = new BtfBuilder({ base });
  const id = b.addStruct('garp_port', 0, []);
  const split = Btf.parse(b.encode(), { base });
  assert.ok(split.nameOffset(id) < split.firstStringOffset, 'the builder reuses the base string');
  assert.deepEqual(split.find('garp_port', Kind.Struct), [id]);
});

test('a C header rooted at a base-named module struct defines it', () => {
  const sink = new ByteSink();
  dumpC(q8021, sink, { roots: [resolveRoot(q8021, 'struct garp_port')] });
  const text = new TextDecoder().decode(sink.toBytes());
  assert.match(text, /^struct garp_port \{$/m);
});

test('btfkit find and dump --root on the CLI', () => {
  const baseFile = join(work, 'vmlinux.btf');
  const modFile = join(work, '8021q');
  writeFileSync(baseFile, baseBytes);
  writeFileSync(modFile, fixture(`${GOLDEN}/modules/8021q.btf.gz`));
  const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/btfkit.cjs', ...args], { encoding: 'utf8' });
  const all = cli('find', 'garp_port', '--base', baseFile, modFile);
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, /^vmlinux\t\[\d+\] FWD 'garp_port'$/m);
  assert.match(all.stdout, /^8021q\t\[\d+\] STRUCT 'garp_port'$/m);
  const structOnly = cli('find', 'garp_port', '--kind', 'struct', '--base', baseFile, modFile);
  assert.equal(structOnly.status, 0, structOnly.stderr);
  assert.match(structOnly.stdout, /^8021q\t\[\d+\] STRUCT 'garp_port'$/m);
  const root = cli('dump', modFile, '--base', baseFile, '--format', 'c', '--root', 'struct garp_port');
  assert.equal(root.status, 0, root.stderr);
  assert.match(root.stdout, /^struct garp_port \{$/m);
});
