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
import { join } from 'node:path';
import test from 'node:test';
import { Btf } from '../src/btf/btf.js';
import { TypeSet } from '../src/btf/typeset.js';
import { CORE_KIND_NAMES, CoreKind } from '../src/core/kinds.js';
import { compare, outcomeOf, relocate, targetSet } from './helpers/core-compare.js';
import { coreTargets, moduleTarget } from './helpers/core-oracle.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const CORPUS = readdirSync(join(FIXTURES, 'bpf')).filter((f) => /^core_.*\.bpfel\.o\.gz$/.test(f)).sort();

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

