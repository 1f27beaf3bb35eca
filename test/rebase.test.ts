/**
 * Rebase (distill on the old base, relocate onto the new one) and relocation refusals, on
 * crafted bases where each fate can be arranged, and on the golden 6.1.0-50 modules moved onto
 * the 6.18 base. The all-modules sweep is in distill-sweep.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { distillBase } from '../src/split/distill.js';
import { Kind } from '../src/format/kinds.js';
import { rebaseModule } from '../src/split/rebase.js';
import { definitionText } from './helpers/definition.js';
import { fixture } from './helpers/paths.js';

const CLI = join(process.cwd(), 'dist', 'btfkit.cjs');
const dir = mkdtempSync(join(tmpdir(), 'btfkit-rebase-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

interface BaseShape {
  /** Types added before the others, so that every id moves. */
  padding?: number;
  /** Size of 'struct embedded' (the module holds one by value). */
  embeddedSize?: number;
  /** Members of 'struct pointed' (the module holds a pointer to one). */
  pointedMembers?: number;
  /** Leave out 'struct gone'. */
  withoutGone?: boolean;
}

function makeBase(shape: BaseShape = {}): Btf {
  const b = new BtfBuilder();
  for (let i = 0; i < (shape.padding ?? 0); i++) b.addInt(`pad${i}`, 4, 0);
  const int = b.addInt('int', 4, 1);
  b.addStruct('embedded', shape.embeddedSize ?? 8, [{ name: 'x', type: int, bitOffset: 0 }]);
  const members = Array.from({ length: shape.pointedMembers ?? 1 }, (_, i) => ({ name: `m${i}`, type: int, bitOffset: i * 32 }));
  b.addStruct('pointed', 4 * members.length, members);
  if (!shape.withoutGone) b.addStruct('gone', 4, [{ name: 'g', type: int, bitOffset: 0 }]);
  return Btf.parse(b.encode());
}

/** A module on `base` embedding 'embedded', pointing to 'pointed' and (when there) 'gone'. */
function makeModule(base: Btf): Btf {
  const id = (name: string) => base.find(name)[0]!;
  const m = new BtfBuilder({ base });
  const ptr = m.addPtr(id('pointed'));
  const gonePtr = m.addPtr(id('gone'));
  m.addStruct('mod_state', 24, [
    { name: 'e', type: id('embedded'), bitOffset: 0 },
    { name: 'p', type: ptr, bitOffset: 64 },
    { name: 'g', type: gonePtr, bitOffset: 128 },
  ]);
  return Btf.parse(m.encode(), { base });
}

const fate = (r: ReturnType<typeof rebaseModule>, name: string) => r.types.find((t) => t.type.endsWith(`'${name}'`));

test('rebase: the same base keeps every type; a base with other ids moves them; each module type reads as before', () => {
  const old = makeBase();
  const mod = makeModule(old);
  const same = rebaseModule(mod, makeBase());
  // The three named structs the module reaches ('int' only through them, so not at all).
  assert.deepEqual(same.counts, { kept: 3, moved: 0, changed: 0, refused: 0 });
  const shifted = makeBase({ padding: 3 });
  const r = rebaseModule(mod, shifted);
  assert.deepEqual(r.counts, { kept: 0, moved: 3, changed: 0, refused: 0 });
  assert.equal(fate(r, 'pointed')!.toId, fate(r, 'pointed')!.fromId + 3);
  const moved = Btf.parse(r.bytes!, { base: shifted });
  for (let i = 0; i < mod.ownTypeCount; i++) assert.equal(definitionText(moved, moved.firstId + i), definitionText(mod, mod.firstId + i));
});

test('rebase: a pointed-to struct whose members changed is accepted and reported as changed', () => {
  const mod = makeModule(makeBase());
  const r = rebaseModule(mod, makeBase({ pointedMembers: 3 }));
  assert.ok(r.bytes);
  assert.equal(fate(r, 'pointed')!.fate, 'changed');
  assert.match(fate(r, 'pointed')!.reason!, /size 4 became 12/);
});

test('rebase: refused, naming the type and the reason, for an embedded struct of another size and for a missing struct', () => {
  const old = makeBase();
  const mod = makeModule(old);
  const bigger = rebaseModule(mod, makeBase({ embeddedSize: 16 }));
  assert.equal(bigger.bytes, undefined);
  const e = fate(bigger, 'embedded')!;
  assert.equal(e.fate, 'refused');
  // The old base's id, not the distilled base's.
  assert.match(e.reason!, new RegExp(`^\\[${old.find('embedded')[0]}\\] STRUCT 'embedded' of size 8 has no counterpart in the base \\(the module embeds it`));
  const missing = rebaseModule(mod, makeBase({ withoutGone: true }));
  assert.equal(fate(missing, 'gone')!.fate, 'refused');
  assert.match(fate(missing, 'gone')!.reason!, /STRUCT 'gone' .*no counterpart/);
});

test('relocate CLI: a refusal is one error line naming the type and the reason; raw input relocates with --distilled', () => {
  const old = makeBase();
  const mod = makeModule(old);
  const d = distillBase(mod);
  const file = (name: string, bytes: Uint8Array) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
  const split = file('mod.split', d.split);
  const distilled = file('mod.base', d.base);
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const bad = run('relocate', split, '--distilled', distilled, '--base', file('bigger.btf', makeBase({ embeddedSize: 16 }).bytes), '-o', join(dir, 'out'));
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /^btfkit: error: .*STRUCT 'embedded' of size 8 has no counterpart in the base \(the module embeds it, so its size must match\)/);
  const target = makeBase({ padding: 2 });
  const ok = run('relocate', split, '--distilled', distilled, '--base', file('padded.btf', target.bytes), '-o', join(dir, 'relocated'));
  assert.equal(ok.status, 0, ok.stderr);
  const usage = run('relocate', split, '--base', file('padded2.btf', target.bytes), '-o', join(dir, 'x'));
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--distilled/);
});

test('rebase: the golden 6.1.0-50 modules onto the 6.18 base read as on 6.1.0-50, or are refused for a reason that holds in 6.18', () => {
  const d50 = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  const v618 = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
  for (const name of ['8021q', 'af_key', 'nf_tables', 'xfs']) {
    const mod = Btf.parse(fixture(`golden/debian-6.1.0-50-cloud/modules/${name}.btf.gz`), { base: d50 });
    const r = rebaseModule(mod, v618);
    if (r.bytes) {
      const moved = Btf.parse(r.bytes, { base: v618 });
      for (let i = 0; i < mod.ownTypeCount; i++) assert.equal(definitionText(moved, moved.firstId + i), definitionText(mod, mod.firstId + i), `${name}: type ${mod.firstId + i}`);
      continue;
    }
    for (const t of r.types.filter((x) => x.fate === 'refused')) {
      const oldName = d50.name(t.fromId);
      const old = d50.type(t.fromId);
      const sameSize = v618.find(oldName, d50.kind(t.fromId)).filter((id) => {
        const now = v618.type(id);
        // An INT must keep its encoding too: 'char' is unsigned from Linux 6.2 on.
        return v618.sizeOrType(id) === d50.sizeOrType(t.fromId) && (old.kind !== Kind.Int || (now.kind === Kind.Int && now.encoding === old.encoding));
      });
      assert.notEqual(sameSize.length, 1, `${name}: ${t.type} refused (${t.reason}), yet 6.18 has one of that kind, name and size`);
    }
  }
});
