/**
 * The portability matrix (src/load/portability.ts, `btfkit portability`) against libbpf 1.1:
 * - attach targets on the running kernel: the (btf, id) libbpf resolves and passes to
 *   BPF_PROG_LOAD for each fentry/fexit/tp_btf/lsm/iter program (test/helpers/prog_load.c),
 *   and the same failures for targets no kernel has;
 * - every little-endian object of the corpus on every kernel (the running one, the Debian
 *   builds under data/, data/core-targets' rt build): the CO-RE relocations that end poisoned
 *   or failed are the ones libbpf poisons or fails on (test/helpers/core_oracle.c; Debian
 *   kernels as vmlinux alone, libbpf 1.1's btf_custom_path); on the running kernel, programs
 *   the verifier rejects for a poison have a reachable poison finding, and programs it accepts
 *   have none; attach failures are libbpf's;
 * - the CLI over folders of kernels: table, JSON fields, exit codes, errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import test from 'node:test';
import { TypeSet } from '../src/btf/typeset.js';
import { checkPortability, type PortabilityResult } from '../src/load/portability.js';
import { loadBtfFile } from '../src/node/files.js';
import { KernelBtf } from '../src/node/sysfs.js';
import { kernelTargets } from '../src/node/kernels.js';
import { parseBpfObject } from '../src/bpf/object.js';
import { scratchDir } from './helpers/cc.js';
import { coreTargets, libbpfCore } from './helpers/core-oracle.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { loadEachProgram, POISON_REJECTION } from './helpers/prog-load.js';
import { loudSkip } from './helpers/skip.js';

const CLI = join(process.cwd(), 'dist', 'btfkit.cjs');
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });

function runningKernel(): KernelBtf | undefined {
  try {
    const k = new KernelBtf();
    k.vmlinux;
    return k;
  } catch {
    return undefined;
  }
}

/** libbpf's words when it cannot find a program's attach target. */
const ATTACH_NOT_FOUND = /failed to find kernel BTF type ID of '([^']*)'/;

test('attach targets on the running kernel: the (btf, id) libbpf passes to BPF_PROG_LOAD, and the same failures', (t) => {
  const kernel = runningKernel();
  if (!kernel) return loudSkip(t, 'the running kernel has no readable BTF');
  for (const cc of ['clang14', 'clang19']) {
    const name = `attach.${cc}.bpfel.o`;
    const bytes = fixture(`bpf/${name}.gz`);
    const verdicts = loadEachProgram(bytes);
    if ('skipped' in verdicts) return loudSkip(t, verdicts.skipped);
    const result = checkPortability(bytes, kernel.typeSet(), { file: name });
    let found = 0;
    let missing = 0;
    for (const v of verdicts) {
      const ours = result.programs.find((p) => p.name === v.program);
      assert.ok(ours, `${name}: ${v.program}`);
      assert.equal(ours.section, v.section);
      const finding = result.findings.find((f) => f.kind === 'attach' && f.program === v.program);
      const libbpfMissing = v.libbpf.match(ATTACH_NOT_FOUND);
      if (libbpfMissing) {
        missing++;
        assert.equal(ours.attach, null, `${name} ${v.program}: libbpf found no target`);
        assert.ok(finding?.fatal, `${name} ${v.program}: a fatal attach finding`);
        assert.ok(finding.reason.includes(`'${libbpfMissing[1]}'`) || finding.reason.includes(`_${libbpfMissing[1]}'`), `${finding.reason} names ${libbpfMissing[1]}`);
      } else {
        assert.equal(finding, undefined, `${name} ${v.program}: ${finding?.reason}`);
        assert.deepEqual(ours.attach && { btf: ours.attach.btf, id: ours.attach.id }, v.attach, `${name} ${v.program}`);
        if (v.attach) found++;
        // Where the kernel accepted the program, it recorded the same target.
        if (v.loaded && v.attach) assert.deepEqual(v.kernel, v.attach, `${name} ${v.program}: kernel`);
      }
    }
    assert.ok(found >= 5 && missing === 2, `${name}: ${found} targets found, ${missing} missing`);
    assert.equal(result.ok, false);
  }
});

/**
 * The corpus: the little-endian CO-RE objects (test/bpf/core*.bpf.c) and this test's own. The
 * other fixtures are BTF-format samples libbpf 1.1 does not open (maps_globals: "sec
 * '.rodata': failed to determine size from ELF").
 */
function corpus(): string[] {
  return readdirSync(join(FIXTURES, 'bpf')).filter((f) => /^(core|portability|attach)[._].*\.bpfel\.o\.gz$/.test(f)).sort();
}

test('the matrix: every corpus object on the running kernel and the Debian builds, findings as libbpf and the verifier decide', (t) => {
  const targets = coreTargets();
  if (targets.length < 4) {
    return loudSkip(t, `the matrix needs the running kernel, two Debian builds and the rt build (tools/fetch-debian-kernel.sh); found ${targets.map((x) => x.label).join(', ') || 'none'}`);
  }
  const kernel = runningKernel();
  let compared = 0;
  let judgedByVerifier = 0;
  for (const target of targets) {
    const set = 'running' in target ? kernel!.typeSet() : new TypeSet(loadBtfFile(target.vmlinux));
    for (const name of corpus()) {
      const bytes = fixture(`bpf/${name}`);
      const ours: PortabilityResult = checkPortability(bytes, set, { file: name });
      const oracle = libbpfCore(bytes, target);
      if ('skipped' in oracle) return loudSkip(t, oracle.skipped);
      // libbpf stops at the first failed relocation: compare the ones it reached. It names no
      // instruction for a relocation that failed early: its record (section, index) says which.
      const records = new Map(parseBpfObject(bytes).programs.map((p) => [p.name, p.coreRelocations]));
      const slotOf = (r: { section: string; index: number; insnOffset?: number }) => (r.insnOffset ?? records.get(r.section)![r.index]!.insnOffset) / 8;
      const reached = new Set(oracle.relocations.map((r) => `${r.section}@${slotOf(r)}`));
      const theirs = oracle.relocations.filter((r) => r.result !== 'patched').map((r) => `${r.section}@${slotOf(r)} ${r.result === 'error' ? 'error' : 'poisoned'}`).sort();
      const mine = ours.findings.filter((f) => f.kind === 'core' && reached.has(`${f.section}@${f.insn}`))
        .map((f) => `${f.section}@${f.insn} ${f.reachable === undefined ? 'error' : 'poisoned'}`).sort();
      assert.deepEqual(mine, theirs, `${name} on ${target.label}`);
      if (oracle.core === 'failed') assert.equal(ours.ok, false, `${name} on ${target.label}: libbpf fails CO-RE`);
      compared++;

      if (!('running' in target)) continue;
      const verdicts = loadEachProgram(bytes);
      if ('skipped' in verdicts) return loudSkip(t, verdicts.skipped);
      for (const v of verdicts) {
        const reachable = ours.findings.some((f) => f.kind === 'core' && f.reachableFrom?.includes(v.program));
        const attachMissing = ATTACH_NOT_FOUND.test(v.libbpf);
        assert.equal(ours.findings.some((f) => f.kind === 'attach' && f.program === v.program && f.fatal), attachMissing, `${name} ${v.program}: attach ${v.libbpf}`);
        if (POISON_REJECTION.test(v.verifier)) {
          assert.ok(reachable, `${name} ${v.program}: the verifier reached a poison`);
          judgedByVerifier++;
        } else if (v.loaded) {
          assert.ok(!reachable, `${name} ${v.program}: the verifier accepted it`);
          judgedByVerifier++;
        }
      }
    }
  }
  assert.ok(compared >= 4 * 15, `${compared} object × kernel pairs compared`);
  assert.ok(judgedByVerifier >= 15, `${judgedByVerifier} programs judged by the verifier`);
});

test('btfkit portability: folders of kernels, the table, JSON equal to the library, exit codes, errors', (t) => {
  const builds = fetchedBuilds();
  if (builds.length < 2) return loudSkip(t, 'needs two Debian builds under data/ (tools/fetch-debian-kernel.sh)');
  const dir = scratchDir();
  const objects = ['portability.clang19.bpfel.o', 'attach.clang19.bpfel.o', 'types.clang19.bpfel.o'].map((n) => {
    const path = join(dir, n);
    writeFileSync(path, fixture(`bpf/${n}.gz`));
    return path;
  });
  // A folder of kernels: two builds (vmlinux.btf + modules/) and a /sys/kernel/btf-like one.
  const kernels = join(dir, 'kernels');
  mkdirSync(join(kernels, 'c-sysfs-like'), { recursive: true });
  mkdirSync(join(kernels, 'not-a-kernel'), { recursive: true });
  symlinkSync(builds[0]!, join(kernels, 'a-build'));
  symlinkSync(builds[1]!, join(kernels, 'b-build'));
  symlinkSync(join(builds[0]!, 'vmlinux.btf'), join(kernels, 'c-sysfs-like', 'vmlinux'));

  const json = run(['portability', ...objects, '--target', kernels, '--json']);
  assert.equal(json.status, 5, json.stderr);
  const cells = JSON.parse(json.stdout) as ({ file: string; target: string } & PortabilityResult)[];
  const labels = ['a-build', 'b-build', 'c-sysfs-like'].map((k) => join(kernels, k));
  assert.deepEqual(cells.map((c) => [basename(c.file), c.target]), objects.flatMap((o) => labels.map((l) => [basename(o), l])));
  for (const c of cells) {
    assert.deepEqual(Object.keys(c), ['file', 'target', 'ok', 'programs', 'externs', 'findings']);
    const [target] = kernelTargets(c.target);
    assert.equal(target!.set.moduleNames().length, c.target.endsWith('c-sysfs-like') ? 0 : findModules(join(c.target, 'modules')).length);
    const lib = checkPortability(fixture(`bpf/${basename(c.file)}.gz`), target!.set);
    assert.deepEqual({ ok: c.ok, programs: c.programs, externs: c.externs, findings: c.findings }, JSON.parse(JSON.stringify(lib)), `${c.file} on ${c.target}`);
  }
  assert.equal(cells.find((c) => c.file.includes('types'))!.ok, true);

  const text = run(['portability', ...objects, '--target', kernels]);
  assert.equal(text.status, 5, text.stderr);
  const lines = text.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 3), labels.map((l, k) => `[${k + 1}] ${l}`));
  assert.match(lines[3]!, /^ +\[1\] +\[2\] +\[3\]$/);
  const fails = (o: number) => cells.slice(o * 3, o * 3 + 3).map((c) => c.findings.filter((f) => f.fatal).length);
  for (const [o, obj] of objects.entries()) {
    const row = lines[4 + o]!.split(/ {2,}/);
    assert.deepEqual(row, [basename(obj), ...fails(o).map((n) => (n === 0 ? 'ok' : `${n} problem${n === 1 ? '' : 's'}`))]);
  }
  assert.ok(lines.some((l) => l.startsWith('attach.clang19.bpfel.o on [1]: attach fentry/btfkit_no_such_function fentry_missing: FUNC \'btfkit_no_such_function\' is in neither vmlinux nor any of its')));

  const ok = run(['portability', objects[2]!, '--target', labels[0]!]);
  assert.equal(ok.status, 0, ok.stderr);
  const empty = join(dir, 'no-kernels');
  mkdirSync(empty);
  const none = run(['portability', objects[0]!, '--target', empty]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /^btfkit: error: .*no-kernels holds no kernel: no vmlinux, no vmlinux\.btf, and no subfolder with either\n$/);
  assert.equal(run(['portability']).status, 2);
  const garbage = join(dir, 'garbage.o');
  writeFileSync(garbage, new Uint8Array(100).fill(7));
  const bad = run(['portability', garbage, '--target', labels[0]!]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^btfkit: error: .*garbage\.o.*\n$/);
});
