/**
 * Minimized BTF (src/core/minimize.ts, `btfkit minimize`): every object of the CO-RE corpus
 * relocates against its minimized BTF exactly as against the full target (target spec text,
 * less ids and member indices, which renumbering changes; values, with target type ids mapped;
 * sizes; poisonings; errors), on every target the CO-RE oracle knows (the running kernel, the
 * fetched Debian builds, the rt build); bpftool 7.1's `gen min_core_btf` keeps the same types
 * and members; a folder target with modules keeps module types, split or standalone; the
 * output loads in the running kernel and bpftool reads it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import test, { type TestContext } from 'node:test';
import { Btf } from '../src/btf/btf.js';
import { TypeSet } from '../src/btf/typeset.js';
import { BtfBuilder } from '../src/build/builder.js';
import type { CoreDecision, CoreRelocationRecord } from '../src/core/decision.js';
import { CoreRelocator } from '../src/core/engine.js';
import { CoreKind } from '../src/core/kinds.js';
import { minimizeBtf, minimizeBtfFor, type MinimizedBtf } from '../src/core/minimize.js';
import { relocateObject, type ObjectCoreRelocation } from '../src/core/object.js';
import { isBtfError } from '../src/errors.js';
import { IntEncoding, kindName } from '../src/format/kinds.js';
import { readInput } from '../src/node/files.js';
import { KernelBtf } from '../src/node/sysfs.js';
import { loadModuleBtf } from '../src/split/load.js';
import { coreTargets, moduleTarget, type OracleTarget } from './helpers/core-oracle.js';
import { bpftoolRaw, kernelLoad } from './helpers/kernel.js';
import { FIXTURES, REPO_ROOT, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const OBJECTS = readdirSync(join(FIXTURES, 'bpf')).filter((f) => /^core_.*\.bpfe[lb]\.o\.gz$/.test(f)).sort();
const LITTLE = OBJECTS.filter((f) => f.includes('.bpfel.'));
const objectBytes = (name: string) => fixture(`bpf/${name}`);

function targetSet(target: OracleTarget): TypeSet {
  if ('running' in target) return new KernelBtf().typeSet();
  return new TypeSet(Btf.parse(readInput(target.vmlinux)));
}

/** Spec text without ids (`[123]`) and the access (`0:84 @`): both change when types and members are dropped. */
const withoutIds = (text: string) => text.replace(/\[\d+\]/g, '[#]').replace(/\(\d+(?::\d+)* @/g, '(@');

/**
 * One relocation's outcome as the comparison sees it. `ids` maps a full-target type id to its
 * minimized id (target_type_id's value is an id); `origin` says whether the BTF a target came
 * from is compared (a standalone blob puts module types in "vmlinux").
 */
function outcome(r: ObjectCoreRelocation, ids?: MinimizedBtf['ids'], origin = true): string {
  const d: CoreDecision = r.decision;
  let value = d.newValue;
  if (ids && d.kind === CoreKind.TypeIdTarget && d.target && !d.poison) {
    value = BigInt(ids.get(d.target.btf)?.get(Number(value)) ?? -1);
  }
  return JSON.stringify({
    where: `${r.section}#${r.index}`, kind: d.kind, result: r.result, poison: d.poison,
    target: d.target ? withoutIds(d.target.spec) : null, btf: origin ? d.target?.btf : undefined,
    matched: d.candidates.matched, value: String(value), orig: String(d.origValue), size: d.newSize,
    failMemSizeAdjust: d.failMemSizeAdjust, error: d.error === undefined ? undefined : withoutIds(d.error),
    patch: r.patch.patches.length, poisonedInsn: r.patch.poisoned,
  });
}

/** Asserts that `object` relocates against `min` as against `full`; returns how many relocations were compared. */
function assertSameResults(where: string, object: Uint8Array, full: TypeSet, min: TypeSet, ids: MinimizedBtf['ids'], origin = true): number {
  const expected = relocateObject(object, full).relocations.map((r) => outcome(r, ids, origin));
  const actual = relocateObject(object, min).relocations.map((r) => outcome(r, undefined, origin));
  assert.deepEqual(actual, expected, where);
  return expected.length;
}

function kernelTargets(t: TestContext): OracleTarget[] | undefined {
  const targets = coreTargets();
  if (targets.length < 2) {
    loudSkip(t, `needs two kernels (the running one with /sys/kernel/btf/vmlinux, a Debian build under data/): found ${targets.length}`);
    return undefined;
  }
  return targets;
}

test('minimize: every corpus object, alone and all together, relocates against its minimized BTF as against the full target, on every CO-RE target', (t) => {
  const targets = kernelTargets(t);
  if (!targets) return;
  assert.ok(OBJECTS.length >= 18, `the corpus has ${OBJECTS.length} objects`);
  const all = OBJECTS.map(objectBytes);
  for (const target of targets) {
    const full = targetSet(target);
    let compared = 0;
    for (const name of OBJECTS) {
      const min = minimizeBtf([objectBytes(name)], full);
      compared += assertSameResults(`${name} on ${target.label}`, objectBytes(name), full, new TypeSet(Btf.parse(min.vmlinux)), min.ids);
      assert.ok(min.types < full.base.ownTypeCount / 100, `${name} on ${target.label}: kept ${min.types} types`);
    }
    const together = minimizeBtf(all, full);
    const min = new TypeSet(Btf.parse(together.vmlinux));
    OBJECTS.forEach((name, i) => assertSameResults(`${name} (all objects) on ${target.label}`, all[i]!, full, min, together.ids));
    assert.ok(compared > 400, `${compared} relocations compared on ${target.label}`);
    // The corpus reads task_struct's fields: a minimized BTF that kept nothing would prove nothing.
    assert.ok(together.types > 30 && together.members > 30, `kept ${together.types} types, ${together.members} members`);
  }
});

function bpftoolMinimize(targetFile: string, objects: string[]): { bytes: Uint8Array } | { failed: string } | { skipped: string } {
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-min-'));
  try {
    const files = objects.map((name) => {
      const file = join(dir, name.replace(/\.gz$/, ''));
      writeFileSync(file, objectBytes(name));
      return file;
    });
    const out = join(dir, 'min.btf');
    const run = spawnSync('bpftool', ['gen', 'min_core_btf', targetFile, out, ...files], { encoding: 'utf8' });
    if (run.error) return { skipped: `bpftool is not installed: ${run.error.message}` };
    if (run.status !== 0) return { failed: `${run.stderr}${run.stdout}` };
    return { bytes: new Uint8Array(readFileSync(out)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each of the blob's own types as `KIND name {member@bit, ...}`, in id order: what was kept, independent of string layout. */
function keptTypes(btf: Btf): string[] {
  const out: string[] = [];
  for (let id = btf.firstId; id < btf.firstId + btf.ownTypeCount; id++) {
    const type = btf.type(id);
    const members = 'members' in type ? ` {${type.members.map((m) => `${m.name}@${m.bitOffset}`).join(', ')}}` : '';
    out.push(`${kindName(btf.kind(id))} ${btf.name(id)}${members}`);
  }
  return out;
}

/*
 * Where btfkit and bpftool 7.1 differ, by design:
 * - an ambiguous relocation (core_ambiguous: two `struct elf_thread_core_info` disagree on
 *   `notes`): bpftool stops ("field offset ambiguity", no output); btfkit keeps every candidate
 *   that matched, so that the minimized BTF gives the same ambiguity;
 * - big-endian objects: bpftool's libbpf refuses them on a little-endian host; btfkit
 *   minimizes for them (tested above);
 * - modules: bpftool reads one BTF file; btfkit keeps module types (tested below).
 * Otherwise the output is bpftool's byte for byte (same types, members, order and strings).
 */
test('minimize: bpftool 7.1 gen min_core_btf keeps the same types and members, byte for byte; it stops at an ambiguity where btfkit keeps both candidates', (t) => {
  const targets = kernelTargets(t);
  if (!targets) return;
  for (const target of targets) {
    const file = 'running' in target ? '/sys/kernel/btf/vmlinux' : target.vmlinux;
    const full = targetSet(target);
    const unambiguous = LITTLE.filter((n) => !n.startsWith('core_ambiguous'));
    for (const names of [...LITTLE.map((n) => [n]), unambiguous]) {
      const where = `${names.length > 1 ? 'all unambiguous objects' : names[0]} on ${target.label}`;
      const ref = bpftoolMinimize(file, names);
      if ('skipped' in ref) return loudSkip(t, ref.skipped);
      const ours = minimizeBtf(names.map(objectBytes), full);
      if ('failed' in ref) {
        assert.match(ref.failed, /ambiguity/, where);
        assert.ok(names[0]!.startsWith('core_ambiguous'), `${where}: bpftool failed: ${ref.failed}`);
        const kept = Btf.parse(ours.vmlinux);
        assert.equal(keptTypes(kept).filter((k) => k.startsWith('STRUCT elf_thread_core_info ')).length, 2, where);
        continue;
      }
      assert.deepEqual(keptTypes(Btf.parse(ours.vmlinux)), keptTypes(Btf.parse(ref.bytes)), where);
      assert.deepEqual(ours.vmlinux, ref.bytes, `${where}: byte for byte`);
    }
  }
});

/** A folder laid out like /sys/kernel/btf: vmlinux and each module's raw split BTF. */
function sysfsLikeFolder(vmlinuxFile: string, moduleFiles: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-sysbtf-'));
  const vmlinuxBytes = readInput(vmlinuxFile);
  writeFileSync(join(dir, 'vmlinux'), vmlinuxBytes);
  const vmlinux = Btf.parse(vmlinuxBytes);
  for (const file of moduleFiles) writeFileSync(join(dir, basename(file, '.ko')), loadModuleBtf(readInput(file), vmlinux, file).bytes);
  return dir;
}

function moduleFolder(t: TestContext): { dir: string; modules: string[] } | undefined {
  const xfs = moduleTarget('fs/xfs/xfs.ko');
  if (!xfs) {
    loudSkip(t, 'needs a Debian build under data/ with modules/fs/xfs/xfs.ko (tools/fetch-debian-kernel.sh)');
    return undefined;
  }
  // xfs holds xfs_inode; the others are there to be searched and left out.
  const others = ['fs/btrfs/btrfs.ko', 'fs/fuse/fuse.ko', 'net/sched/sch_fq_codel.ko']
    .map((m) => join(xfs.module.slice(0, xfs.module.indexOf('/modules/') + '/modules/'.length), m))
    .filter((f) => { try { readInput(f); return true; } catch { return false; } });
  const files = [...others, xfs.module];
  return { dir: sysfsLikeFolder(xfs.vmlinux, files), modules: files.map((f) => basename(f, '.ko')) };
}

test('minimize: a folder target with modules keeps the module types the objects need, split (like /sys/kernel/btf) or in one blob', (t) => {
  const folder = moduleFolder(t);
  if (!folder) return;
  try {
    const full = new KernelBtf(folder.dir).typeSet();
    const all = OBJECTS.map(objectBytes);
    // The corpus's module object must reach xfs, or this test shows nothing about modules.
    const fromXfs = relocateObject(objectBytes('core_module.clang19.bpfel.o.gz'), full).relocations.filter((r) => r.decision.target?.btf === 'xfs');
    assert.ok(fromXfs.length >= 3, `${fromXfs.length} relocations resolved in xfs`);

    const split = minimizeBtf(all, full, { layout: 'split' });
    assert.deepEqual(split.modules.map((m) => m.name), ['xfs']);
    const minVmlinux = Btf.parse(split.vmlinux);
    const minSet = new TypeSet(minVmlinux, split.modules.map((m) => [m.name, Btf.parse(m.bytes, { base: minVmlinux })] as [string, Btf]));
    OBJECTS.forEach((name, i) => assertSameResults(`${name} (split)`, all[i]!, full, minSet, split.ids));
    const xfsTypes = keptTypes(Btf.parse(split.modules[0]!.bytes, { base: minVmlinux }));
    assert.ok(xfsTypes.some((k) => k.startsWith('STRUCT xfs_inode {i_ino@')), xfsTypes.join('\n'));

    // The same folder written out as the CLI does, read back as a folder.
    const out = mkdtempSync(join(tmpdir(), 'btfkit-minsplit-'));
    try {
      writeFileSync(join(out, 'vmlinux'), split.vmlinux);
      for (const m of split.modules) writeFileSync(join(out, m.name), m.bytes);
      const reread = new KernelBtf(out).typeSet();
      OBJECTS.forEach((name, i) => assertSameResults(`${name} (split, from a folder)`, all[i]!, full, reread, split.ids));
      const dumped = bpftoolRaw(split.modules[0]!.bytes, split.vmlinux);
      if ('skipped' in dumped) loudSkip(t, dumped.skipped);
      else assert.match(new TextDecoder().decode(dumped.text), /STRUCT 'xfs_inode'/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }

    const standalone = minimizeBtf(all, full);
    assert.deepEqual(standalone.modules, []);
    const oneBlob = new TypeSet(Btf.parse(standalone.vmlinux));
    OBJECTS.forEach((name, i) => assertSameResults(`${name} (standalone)`, all[i]!, full, oneBlob, standalone.ids, false));
    assert.equal(standalone.types, split.types);
    assert.deepEqual(standalone.clashes, []);
  } finally {
    rmSync(folder.dir, { recursive: true, force: true });
  }
});

test('minimize: the minimized BTF loads in the running kernel and bpftool reads it', (t) => {
  const targets = kernelTargets(t);
  if (!targets) return;
  for (const target of targets) {
    const min = minimizeBtf(OBJECTS.map(objectBytes), targetSet(target));
    const verdict = kernelLoad(min.vmlinux);
    if ('skipped' in verdict) return loudSkip(t, verdict.skipped);
    assert.ok(verdict.ok, `${target.label}: the kernel refused it: ${verdict.log}`);
    const dumped = bpftoolRaw(min.vmlinux);
    if ('skipped' in dumped) return loudSkip(t, dumped.skipped);
    assert.match(new TextDecoder().decode(dumped.text), /STRUCT 'task_struct' size=\d+ vlen=\d+/);
  }
});

// Crafted targets: cases the corpus does not reach.
const record = (typeId: number, access: string, kind: number): CoreRelocationRecord => ({ insnOffset: 0, typeId, accessStringOffset: 0, access, kind });

function decideAll(local: Btf, target: Btf, records: CoreRelocationRecord[]): CoreDecision[] {
  const relocator = new CoreRelocator(local, target);
  return records.map((r) => relocator.resolve(r));
}

const decisionText = (d: CoreDecision) => JSON.stringify({
  target: d.target ? withoutIds(d.target.spec) : null, value: String(d.newValue), poison: d.poison, error: d.error === undefined ? undefined : withoutIds(d.error),
});

function assertMinimizedDecidesAlike(local: Btf, target: Btf, records: CoreRelocationRecord[]): Btf {
  const full = decideAll(local, target, records);
  const min = Btf.parse(minimizeBtfFor(full, target).vmlinux);
  assert.deepEqual(decideAll(local, min, records).map(decisionText), full.map(decisionText));
  return min;
}

test('minimize: a decision names every matching candidate and each step of its target access with the type it is taken in', () => {
  const lb = new BtfBuilder();
  const lint = lb.addInt('int', 4, IntEncoding.Signed);
  const local = lb.addStruct('s', 20, [{ name: 'c', type: lb.addArray(lint, lint, 4), bitOffset: 0 }]);
  const tb = new BtfBuilder();
  const tint = tb.addInt('int', 4, IntEncoding.Signed);
  const tarr = tb.addArray(tint, tint, 4);
  const anon = tb.addUnion('', 16, [{ name: 'b', type: tint, bitOffset: 0 }, { name: 'c', type: tarr, bitOffset: 0 }]);
  const first = tb.addStruct('s', 20, [{ name: 'a', type: tint, bitOffset: 0 }, { name: '', type: anon, bitOffset: 32 }]);
  const second = tb.addStruct('s___v2', 20, [{ name: 'x', type: tint, bitOffset: 0 }, { name: 'c', type: tarr, bitOffset: 32 }]);
  const [d] = decideAll(Btf.parse(lb.encode()), Btf.parse(tb.encode()), [record(local, '0:0:2', CoreKind.FieldByteOffset)]);
  assert.deepEqual(d!.matches?.map((m) => [m.typeId, m.access, m.steps]), [
    [first, '0:1:1:2', [{ typeId: first, index: 0 }, { typeId: first, index: 1 }, { typeId: anon, index: 1 }, { typeId: tarr, index: 2 }]],
    [second, '0:1:2', [{ typeId: second, index: 0 }, { typeId: second, index: 1 }, { typeId: tarr, index: 2 }]],
  ]);
  assert.equal(d!.target, d!.matches![0]);
});

test('minimize: every candidate that matched is kept, so a later ambiguity stays one (bpftool keeps only the first)', () => {
  const lb = new BtfBuilder();
  const lint = lb.addInt('int', 4, IntEncoding.Signed);
  const local = lb.addStruct('t', 8, [{ name: 'x', type: lint, bitOffset: 0 }, { name: 'y', type: lint, bitOffset: 32 }]);
  const tb = new BtfBuilder();
  const tint = tb.addInt('int', 4, IntEncoding.Signed);
  tb.addStruct('t', 8, [{ name: 'x', type: tint, bitOffset: 0 }, { name: 'y', type: tint, bitOffset: 32 }]);
  tb.addStruct('t', 12, [{ name: 'x', type: tint, bitOffset: 0 }, { name: 'pad', type: tint, bitOffset: 32 }, { name: 'y', type: tint, bitOffset: 64 }]);
  const records = [record(local, '0:0', CoreKind.FieldByteOffset), record(local, '0:1', CoreKind.FieldByteOffset)];
  const full = decideAll(Btf.parse(lb.encode()), Btf.parse(tb.encode()), records);
  assert.match(full[1]!.error ?? '', /ambiguity/);
  const min = assertMinimizedDecidesAlike(Btf.parse(lb.encode()), Btf.parse(tb.encode()), records);
  assert.deepEqual(keptTypes(min), ['INT int', 'STRUCT t {x@0, y@32}', 'STRUCT t {x@0, y@64}']);
});

test('minimize: a zero-length array that is not its struct\'s last member does not become flexible in the minimized struct', () => {
  const lb = new BtfBuilder();
  const lchar = lb.addInt('char', 1, IntEncoding.Signed);
  const lint = lb.addInt('int', 4, IntEncoding.Signed);
  const local = lb.addStruct('s', 8, [{ name: 'a', type: lint, bitOffset: 0 }, { name: 'z', type: lb.addArray(lchar, lint, 4), bitOffset: 32 }]);
  const tb = new BtfBuilder();
  const tchar = tb.addInt('char', 1, IntEncoding.Signed);
  const tint = tb.addInt('int', 4, IntEncoding.Signed);
  tb.addStruct('s', 8, [{ name: 'a', type: tint, bitOffset: 0 }, { name: 'z', type: tb.addArray(tchar, tint, 0), bitOffset: 32 }, { name: 'b', type: tint, bitOffset: 32 }]);
  // z itself matches (any array length); z[1] does not: z is not flexible in the target.
  const records = [record(local, '0:1', CoreKind.FieldByteOffset), record(local, '0:1:1', CoreKind.FieldByteOffset)];
  const full = decideAll(Btf.parse(lb.encode()), Btf.parse(tb.encode()), records);
  assert.deepEqual(full.map((d) => d.poison), [false, true]);
  const min = assertMinimizedDecidesAlike(Btf.parse(lb.encode()), Btf.parse(tb.encode()), records);
  assert.ok(keptTypes(min).includes('STRUCT s {z@32, b@32}'), keptTypes(min).join('\n'));
});

test('minimize: a module type kept next to a vmlinux type of the same name is reported when both go into one blob', () => {
  const vb = new BtfBuilder();
  const vint = vb.addInt('int', 4, IntEncoding.Signed);
  vb.addStruct('foo', 4, [{ name: 'a', type: vint, bitOffset: 0 }]);
  const vmlinux = Btf.parse(vb.encode());
  const mb = new BtfBuilder({ base: vmlinux });
  const modFoo = mb.addStruct('foo', 8, [{ name: 'a', type: vint, bitOffset: 0 }, { name: 'b', type: vint, bitOffset: 32 }]);
  mb.addStruct('bar', 8, [{ name: 'f', type: modFoo, bitOffset: 0 }]);
  const target = new TypeSet(vmlinux, [['m', Btf.parse(mb.encode(), { base: vmlinux })]]);

  const lb = new BtfBuilder();
  const lint = lb.addInt('int', 4, IntEncoding.Signed);
  const localFoo = lb.addStruct('foo', 4, [{ name: 'a', type: lint, bitOffset: 0 }]);
  const localBar = lb.addStruct('bar', 4, [{ name: 'f', type: localFoo, bitOffset: 0 }]);
  const relocator = new CoreRelocator(Btf.parse(lb.encode()), target);
  const decisions = [record(localBar, '0:0', CoreKind.FieldByteOffset), record(localFoo, '0:0', CoreKind.FieldByteOffset)].map((r) => relocator.resolve(r));
  assert.deepEqual(decisions.map((d) => d.target?.btf), ['m', 'vmlinux']);

  assert.deepEqual(minimizeBtfFor(decisions, target).clashes, ['struct foo: vmlinux, m']);
  const split = minimizeBtfFor(decisions, target, { layout: 'split' });
  assert.deepEqual(split.clashes, []);
  assert.deepEqual(split.modules.map((m) => m.name), ['m']);
  assert.deepEqual(keptTypes(Btf.parse(split.modules[0]!.bytes, { base: Btf.parse(split.vmlinux) })), ['STRUCT foo {}', 'STRUCT bar {f@0}']);
});

test('minimize: bad objects end in a BtfError', () => {
  const vmlinux = new BtfBuilder();
  vmlinux.addInt('int', 4, IntEncoding.Signed);
  const target = Btf.parse(vmlinux.encode());
  const object = objectBytes('core_fields.clang19.bpfel.o.gz');
  for (const bad of [new Uint8Array(0), new Uint8Array(64), object.subarray(0, 200), vmlinux.encode()]) {
    assert.throws(() => minimizeBtf([{ bytes: bad, file: 'bad.o' }], target), (e: unknown) => isBtfError(e) && e.file === 'bad.o');
  }
});

const CLI = join(REPO_ROOT, 'dist', 'btfkit.cjs');
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('minimize: btfkit minimize writes what the library does, one file or a folder; bad usage exits 2, bad input 1 with one line', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-mincli-'));
  try {
    const vmlinux = new BtfBuilder();
    const int = vmlinux.addInt('int', 4, IntEncoding.Signed);
    vmlinux.addTypedef('pid_t', int);
    vmlinux.addStruct('task_struct', 16, [{ name: 'pid', type: int, bitOffset: 0 }, { name: 'tgid', type: int, bitOffset: 32 }]);
    const targetFile = join(dir, 'vmlinux');
    writeFileSync(targetFile, vmlinux.encode());
    const objects = LITTLE.map((name) => {
      const file = join(dir, name.replace(/\.gz$/, ''));
      writeFileSync(file, objectBytes(name));
      return file;
    });
    const expected = minimizeBtf(objects.map((f) => new Uint8Array(readFileSync(f))), Btf.parse(vmlinux.encode())).vmlinux;
    assert.ok(Btf.parse(expected).ownTypeCount >= 2);

    const one = cli(['minimize', ...objects, '--target', targetFile, '-o', join(dir, 'min.btf')]);
    assert.equal(one.status, 0, one.stderr);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'min.btf'))), expected);
    assert.match(one.stderr, /^btfkit: \d+ CO-RE relocations in 9 object\(s\): kept \d+ types \(\d+ from vmlinux\), \d+ members\n$/);

    const sysfs = join(dir, 'sysfs');
    mkdirSync(sysfs);
    writeFileSync(join(sysfs, 'vmlinux'), vmlinux.encode());
    const split = cli(['minimize', objects[0]!, '--target', sysfs, '-o', join(dir, 'out'), '--split']);
    assert.equal(split.status, 0, split.stderr);
    assert.deepEqual(readdirSync(join(dir, 'out')), ['vmlinux']);

    for (const args of [['minimize', '-o', join(dir, 'x')], ['minimize', objects[0]!], ['minimize', objects[0]!, '-o', 'x', '--bogus']]) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    for (const args of [['minimize', targetFile, '--target', targetFile, '-o', join(dir, 'x')], ['minimize', objects[0]!, '--target', join(dir, 'missing'), '-o', join(dir, 'x')]]) {
      const r = cli(args);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^btfkit: error: [^\n]+\n$/);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !readdirSync(join(REPO_ROOT, 'dist')).includes('btfkit.cjs')) loudSkip(t, 'dist/btfkit.cjs is not built (node tools/bundle-cli.mjs)');
    else throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
