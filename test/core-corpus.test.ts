/**
 * The CO-RE engine against libbpf 1.1 over the whole corpus (test/bpf/core_*.bpf.c, committed
 * objects from clang 14 and 19) and every target the oracle knows (the running kernel, each
 * fetched Debian build, the rt flavour under data/core-targets): per relocation the kind, local
 * spec, target (BTF and id), outcome and patched fields equal libbpf's, and the bytes of every
 * instruction a CO-RE record touches equal what libbpf left in the program. A type only a module
 * has resolves in that module of a real split-BTF folder; big-endian objects decide as their
 * little-endian twins. The oracle is test/helpers/core-oracle.ts (docs/CORE.md).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import test from 'node:test';
import { Btf } from '../src/btf/btf.js';
import { TypeSet } from '../src/btf/typeset.js';
import type { CoreDecision } from '../src/core/decision.js';
import { relocateObject } from '../src/core/object.js';
import { parseBpfObject } from '../src/bpf/object.js';
import { CORE_KIND_NAMES, CoreKind } from '../src/core/kinds.js';
import type { CorePatchResult } from '../src/core/patch.js';
import { readInput } from '../src/node/files.js';
import { KernelBtf } from '../src/node/sysfs.js';
import { loadModuleBtf } from '../src/split/load.js';
import { coreTargets, libbpfCore, moduleTarget, type OracleRelocation, type OracleTarget } from './helpers/core-oracle.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const CORPUS = readdirSync(join(FIXTURES, 'bpf')).filter((f) => /^core_.*\.bpfel\.o\.gz$/.test(f)).sort();

interface Outcome { section: string; index: number; insnOffset: number; decision: CoreDecision; patch: CorePatchResult }

/** btfkit's decisions for every CO-RE record, in .BTF.ext order, and the object's sections patched. */
function relocate(object: Uint8Array, target: TypeSet): { outcomes: Outcome[]; code: Map<string, Uint8Array> } {
  const result = relocateObject(object, target);
  const outcomes = result.relocations.map((r) => ({ section: r.section, index: r.index, insnOffset: r.insnOffset, decision: r.decision, patch: r.patch }));
  const code = new Map(parseBpfObject(result.patched).programs.map((p) => [p.name, p.bytes]));
  return { outcomes, code };
}

function targetSet(target: OracleTarget): TypeSet {
  if ('running' in target) return new KernelBtf().typeSet();
  const vmlinux = Btf.parse(readInput(target.vmlinux));
  if (!target.module) return new TypeSet(vmlinux);
  const name = basename(target.module, '.ko');
  return new TypeSet(vmlinux, [[name, () => loadModuleBtf(readInput(target.module!), vmlinux, target.module)]]);
}

const stripKind = (spec: string) => spec.replace(/^<[a-z0-9_]+> /, '');
const outcomeOf = (o: Outcome) => (o.decision.error !== undefined || o.patch.error !== undefined ? 'error' : o.patch.poisoned ? 'poisoned' : 'patched');

/** Compares one object on one target; returns how many relocations and instructions were compared. */
function compare(name: string, object: Uint8Array, target: OracleTarget, only?: (r: OracleRelocation) => boolean): { relocations: number; insns: number } {
  const oracle = libbpfCore(object, target);
  if ('skipped' in oracle) throw Object.assign(new Error(oracle.skipped), { skipped: true });
  const { outcomes, code } = relocate(object, targetSet(target));
  const ours = new Map(outcomes.map((o) => [`${o.section}#${o.index}`, o]));
  let relocations = 0;
  for (const theirs of oracle.relocations) {
    if (only && !only(theirs)) continue;
    const where = `${name} on ${target.label}: ${theirs.section} relo #${theirs.index} ${theirs.local.spec}`;
    const o = ours.get(`${theirs.section}#${theirs.index}`);
    assert.ok(o, `${where}: btfkit has no such record`);
    assert.equal(CORE_KIND_NAMES[o.decision.record.kind], theirs.kind, `${where}: kind`);
    assert.equal(o.decision.local.typeId, theirs.local.id, `${where}: local type`);
    assert.equal(o.decision.local.spec, stripKind(theirs.local.spec), `${where}: local spec`);
    assert.equal(outcomeOf(o), theirs.result, `${where}: outcome (btfkit: ${o.decision.error ?? o.patch.error ?? o.decision.reason ?? ''})`);
    if (theirs.result === 'error') continue;
    if (o.decision.record.kind !== CoreKind.TypeIdLocal) {
      assert.equal(o.decision.candidates.considered, theirs.candidates.length, `${where}: candidates considered`);
      assert.equal(o.decision.candidates.matched, theirs.candidates.filter((c) => c.matched).length, `${where}: candidates matched`);
      assert.deepEqual(o.decision.target && { btf: o.decision.target.btf, id: o.decision.target.typeId, spec: o.decision.target.spec },
        theirs.target && { ...theirs.target, spec: stripKind(theirs.target.spec) }, `${where}: target`);
    }
    if (theirs.result === 'patched') {
      // libbpf logs an ALU immediate's new value before it is cut to 32 bits.
      const mine = o.patch.patches.map((p, i) => ({ field: p.field, from: BigInt.asUintN(64, p.from),
        to: i === 0 && p.field === 'imm' ? BigInt.asUintN(64, o.decision.newValue) : BigInt.asUintN(64, p.to) }));
      assert.deepEqual(mine, theirs.patches.map((p) => ({ field: p.field, from: BigInt.asUintN(64, p.from), to: BigInt.asUintN(64, p.to) })), `${where}: patches`);
    }
    relocations++;
  }
  // Instruction bytes: every instruction a record touched, as libbpf left it in its program.
  let insns = 0;
  if (!only && oracle.core === 'ok') {
    for (const program of oracle.programs) {
      if (program.sectionInsn < 0) continue;
      const section = code.get(program.section);
      if (!section) continue;
      for (const o of outcomes.filter((x) => x.section === program.section)) {
        const at = o.insnOffset - program.sectionInsn * 8;
        if (at < 0 || at >= program.insns.length) continue;
        const slots: number = section[o.insnOffset] === 0x18 || program.insns[at] === 0x18 ? 16 : 8;
        assert.deepEqual([...section.subarray(o.insnOffset, o.insnOffset + slots)], [...program.insns.subarray(at, at + slots)],
          `${name} on ${target.label}: ${program.section}+${o.insnOffset} (${o.decision.local.spec}) instruction bytes`);
        insns++;
      }
    }
  }
  return { relocations, insns };
}

test('every corpus object relocates as libbpf 1.1 relocates it, on every target', (t) => {
  const targets = coreTargets();
  if (targets.length < 3) t.diagnostic(`only ${targets.length} targets (fetch Debian builds: tools/fetch-debian-kernel.sh)`);
  let total = 0;
  for (const file of CORPUS) {
    const object = fixture(`bpf/${file}`);
    for (const target of targets) {
      let r: { relocations: number; insns: number };
      try {
        r = compare(file, object, target);
      } catch (e) {
        if ((e as { skipped?: boolean }).skipped) return loudSkip(t, (e as Error).message);
        throw e;
      }
      t.diagnostic(`${file} on ${target.label}: ${r.relocations} relocations and ${r.insns} instructions equal libbpf's`);
      assert.ok(r.relocations > 0, `${file} on ${target.label}: nothing compared`);
      total += r.relocations;
    }
  }
  assert.ok(CORPUS.length >= 4, `corpus: ${CORPUS.join(', ')}`);
  t.diagnostic(`${total} relocations compared`);
});

test('a type only a module defines resolves in that module of a real split-BTF kernel (xfs_inode in xfs.ko)', (t) => {
  const target = moduleTarget('fs/xfs/xfs.ko');
  if (!target) return loudSkip(t, 'no fetched Debian build with fs/xfs/xfs.ko under data/ (tools/fetch-debian-kernel.sh)');
  let compared = 0;
  for (const file of CORPUS.filter((f) => f.startsWith('core_module'))) {
    let r;
    try {
      // libbpf sees vmlinux and the module flattened into one blob: only relocations it resolved
      // in the module mean what they mean on a real kernel.
      r = compare(file, fixture(`bpf/${file}`), target, (x) => x.target?.btf === 'xfs');
    } catch (e) {
      if ((e as { skipped?: boolean }).skipped) return loudSkip(t, (e as Error).message);
      throw e;
    }
    compared += r.relocations;
  }
  assert.ok(compared > 0, 'no relocation resolved in xfs');
  // And btfkit's own answer on the split form: the decision names the module and its split id.
  const set = targetSet(target);
  const object = fixture(`bpf/${CORPUS.find((f) => f.startsWith('core_module'))}`);
  const { outcomes } = relocate(object, set);
  const inXfs = outcomes.filter((o) => o.decision.target?.btf === 'xfs');
  assert.ok(inXfs.length > 0);
  for (const o of inXfs) assert.ok(o.decision.target!.typeId >= set.module('xfs')!.firstId, `${o.decision.local.spec}: a module id`);
});

test('big-endian corpus objects decide as their little-endian twins', () => {
  const vmlinux = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
  for (const file of CORPUS) {
    const twin = file.replace('.bpfel.', '.bpfeb.');
    const byAccess = (object: Uint8Array) => {
      const map = new Map<string, Set<string>>();
      for (const o of relocate(object, new TypeSet(vmlinux)).outcomes) {
        const d = o.decision;
        const key = `${o.section} ${CORE_KIND_NAMES[d.record.kind]} ${d.local.spec}`;
        const value = d.record.kind === CoreKind.FieldLShiftU64 ? '' : String(d.newValue);
        map.set(key, (map.get(key) ?? new Set()).add(`${d.target?.spec} ${value} ${outcomeOf(o)}`));
      }
      return map;
    };
    const le = byAccess(fixture(`bpf/${file}`));
    const be = byAccess(fixture(`bpf/${twin}`));
    assert.deepEqual([...be.keys()].sort(), [...le.keys()].sort(), `${twin}: relocated accesses`);
    for (const [key, set] of le) assert.deepEqual(be.get(key), set, `${twin}: ${key}`);
  }
});

