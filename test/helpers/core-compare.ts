/**
 * btfkit's CO-RE decisions against libbpf 1.1's (test/helpers/core-oracle.ts) for one object
 * and one target: per relocation the kind, local spec, candidates, target, outcome and patched
 * fields, and the bytes of every instruction a record touched. Used by the corpus test and by
 * the engine's own test program.
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { Btf } from '../../src/btf/btf.js';
import { TypeSet } from '../../src/btf/typeset.js';
import { parseBpfObject } from '../../src/bpf/object.js';
import type { CoreDecision } from '../../src/core/decision.js';
import { CORE_KIND_NAMES, CoreKind } from '../../src/core/kinds.js';
import { relocateObject } from '../../src/core/object.js';
import type { CorePatchResult } from '../../src/core/patch.js';
import { readInput } from '../../src/node/files.js';
import { KernelBtf } from '../../src/node/sysfs.js';
import { loadModuleBtf } from '../../src/split/load.js';
import { libbpfCore, type OracleRelocation, type OracleTarget } from './core-oracle.js';

export interface Outcome { section: string; index: number; insnOffset: number; decision: CoreDecision; patch: CorePatchResult }

/** btfkit's decisions for every CO-RE record, in .BTF.ext order, and the object's sections patched. */
export function relocate(object: Uint8Array, target: TypeSet): { outcomes: Outcome[]; code: Map<string, Uint8Array> } {
  const result = relocateObject(object, target);
  const outcomes = result.relocations.map((r) => ({ section: r.section, index: r.index, insnOffset: r.insnOffset, decision: r.decision, patch: r.patch }));
  const code = new Map(parseBpfObject(result.patched).programs.map((p) => [p.name, p.bytes]));
  return { outcomes, code };
}

export function targetSet(target: OracleTarget): TypeSet {
  if ('running' in target) return new KernelBtf().typeSet();
  const vmlinux = Btf.parse(readInput(target.vmlinux));
  if (!target.module) return new TypeSet(vmlinux);
  const name = basename(target.module, '.ko');
  return new TypeSet(vmlinux, [[name, () => loadModuleBtf(readInput(target.module!), vmlinux, target.module)]]);
}

export const stripKind = (spec: string) => spec.replace(/^<[a-z0-9_]+> /, '');
export const outcomeOf = (o: Outcome) => (o.decision.error !== undefined || o.patch.error !== undefined ? 'error' : o.patch.poisoned ? 'poisoned' : 'patched');

/** Compares one object on one target; returns how many relocations and instructions were compared. */
export function compare(name: string, object: Uint8Array, target: OracleTarget, only?: (r: OracleRelocation) => boolean): { relocations: number; insns: number } {
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

