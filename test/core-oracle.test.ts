/**
 * The CO-RE oracle checked against things it cannot influence: the relocation records the
 * compiler wrote into each corpus object's .BTF.ext (decoded here, with an ELF reader of its
 * own, independently of btfkit and of libbpf) and the original instructions. If the harness
 * loses, invents or misplaces a relocation, misreads libbpf's log, or its targets do not differ,
 * these tests fail. btfkit's own CO-RE code is not used here.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_DATA_DIR, coreTargets, libbpfCore, moduleTarget, type OracleRun, type OracleTarget } from './helpers/core-oracle.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const DIR = 'bpf';
const KIND_NAMES = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64', 'local_type_id',
  'target_type_id', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
];

const corpus = readdirSync(join(FIXTURES, DIR)).filter((f) => /^core_.*\.o\.gz$/.test(f)).sort();
const littleEndian = corpus.filter((f) => f.includes('.bpfel.'));

/** Sections of a 64-bit ELF file by name (either byte order). */
function elfSections(bytes: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = bytes[5] === 1;
  const shoff = Number(view.getBigUint64(0x28, le));
  const shentsize = view.getUint16(0x3a, le);
  const shnum = view.getUint16(0x3c, le);
  const shstrndx = view.getUint16(0x3e, le);
  const header = (i: number) => {
    const at = shoff + i * shentsize;
    return { name: view.getUint32(at, le), offset: Number(view.getBigUint64(at + 0x18, le)), size: Number(view.getBigUint64(at + 0x20, le)) };
  };
  const names = header(shstrndx);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    let end = names.offset + h.name;
    while (bytes[end] !== 0) end++;
    const name = new TextDecoder().decode(bytes.subarray(names.offset + h.name, end));
    out.set(name, bytes.subarray(h.offset, h.offset + h.size));
  }
  return out;
}

interface ExtRecord { section: string; index: number; insnOffset: number; typeId: number; access: string; kind: number }

/** The CO-RE records of .BTF.ext, in order, section names read from .BTF's string table. */
function coreRecords(object: Uint8Array): ExtRecord[] {
  const sections = elfSections(object);
  const ext = sections.get('.BTF.ext');
  const btf = sections.get('.BTF');
  assert.ok(ext && btf, 'object has .BTF and .BTF.ext');
  const le = object[5] === 1;
  const ev = new DataView(ext.buffer, ext.byteOffset, ext.byteLength);
  const bv = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  assert.equal(ev.getUint16(0, le), 0xeb9f, '.BTF.ext magic');
  const hdrLen = ev.getUint32(4, le);
  assert.ok(hdrLen >= 32, '.BTF.ext header has the CO-RE fields');
  const reloOff = hdrLen + ev.getUint32(24, le);
  const reloLen = ev.getUint32(28, le);
  const strStart = bv.getUint32(4, le) + bv.getUint32(16, le);
  const name = (off: number) => {
    let end = strStart + off;
    while (btf[end] !== 0) end++;
    return new TextDecoder().decode(btf.subarray(strStart + off, end));
  };
  const out: ExtRecord[] = [];
  if (reloLen === 0) return out;
  const recSize = ev.getUint32(reloOff, le);
  let at = reloOff + 4;
  while (at < reloOff + reloLen) {
    const section = name(ev.getUint32(at, le));
    const count = ev.getUint32(at + 4, le);
    at += 8;
    for (let i = 0; i < count; i++, at += recSize) {
      out.push({ section, index: i, insnOffset: ev.getUint32(at, le), typeId: ev.getUint32(at + 4, le), access: name(ev.getUint32(at + 8, le)), kind: ev.getUint32(at + 12, le) });
    }
  }
  return out;
}

const runs = new Map<string, OracleRun | { skipped: string }>();
function oracle(obj: string, target: OracleTarget): OracleRun | { skipped: string } {
  const key = `${obj} @ ${target.label}`;
  let run = runs.get(key);
  if (!run) {
    run = libbpfCore(fixture(`${DIR}/${obj}`), target);
    runs.set(key, run);
  }
  return run;
}

function usable(t: TestContext, run: OracleRun | { skipped: string }): run is OracleRun {
  if ('skipped' in run) {
    loudSkip(t, run.skipped);
    return false;
  }
  return true;
}

test('the CO-RE corpus holds all 13 relocation kinds, in both byte orders alike', () => {
  assert.ok(littleEndian.length >= 5, `CO-RE corpus objects in test/fixtures/${DIR}: ${littleEndian.join(', ')}`);
  const kinds = new Set<number>();
  for (const obj of littleEndian) {
    const records = coreRecords(fixture(`${DIR}/${obj}`));
    for (const r of records) kinds.add(r.kind);
    // Code differs between byte orders: bpf_core_read.h reads a bitfield of a big-endian target
    // through one more byte_sz relocation, and the scheduling moves records and instructions.
    // Which relocations exist (section, type, access, kind) may not differ.
    const twin = coreRecords(fixture(`${DIR}/${obj.replace('.bpfel.', '.bpfeb.')}`));
    const decisionsOf = (list: ExtRecord[]) => [...new Set(list.map((r) => `${r.section} [${r.typeId}] ${r.access} ${KIND_NAMES[r.kind]}`))].sort();
    assert.deepEqual(decisionsOf(twin), decisionsOf(records), `${obj}: the big-endian twin's CO-RE records`);
  }
  assert.deepEqual([...kinds].sort((a, b) => a - b), KIND_NAMES.map((_, i) => i));
});

test('libbpf refuses big-endian objects on this host: the oracle says so', () => {
  const eb = corpus.find((f) => f.includes('.bpfeb.'))!;
  assert.throws(() => libbpfCore(fixture(`${DIR}/${eb}`), { label: 'running kernel', running: true }), /big-endian/);
});

const targets = coreTargets();

for (const obj of littleEndian) {
  test(`${obj}: libbpf reports every .BTF.ext CO-RE record, in order, where the compiler put it`, (t) => {
    if (targets.length === 0) return loudSkip(t, 'no CO-RE target: no /sys/kernel/btf/vmlinux and no build under data/');
    const records = coreRecords(fixture(`${DIR}/${obj}`));
    for (const target of targets) {
      const run = oracle(obj, target);
      if (!usable(t, run)) return;
      const where = `${obj} on ${target.label}`;
      if (run.core === 'ok') {
        assert.equal(run.relocations.length, records.length, `${where}: relocations reported`);
      } else {
        // libbpf stops at the first relocation it cannot resolve: that one is the last reported
        assert.equal(run.core, 'failed', `${where}: CO-RE ran`);
        assert.ok(run.relocations.length > 0 && run.relocations.length <= records.length, `${where}: relocations reached`);
        assert.equal(run.relocations.at(-1)!.result, 'error', `${where}: the last one reached failed`);
      }
      run.relocations.forEach((r, i) => {
        const rec = records[i]!;
        const at = `${where}, relocation ${i} (${r.log.join(' / ')})`;
        assert.equal(r.section, rec.section, `${at}: section`);
        assert.equal(r.index, rec.index, `${at}: index within section`);
        assert.equal(r.kind, KIND_NAMES[rec.kind], `${at}: kind`);
        assert.equal(r.local.id, rec.typeId, `${at}: local type id`);
        if (r.result !== 'error') assert.equal(r.insnOffset, rec.insnOffset, `${at}: instruction offset`);
        if (r.result === 'patched') assert.ok(r.patches.length > 0, `${at}: patched without a patch`);
        if (r.result === 'poisoned') assert.equal(r.patches.length, 0, `${at}: poisoned yet patched`);
      });
    }
  });

  test(`${obj}: the instructions libbpf returns differ from the object's only where it relocated`, (t) => {
    if (targets.length === 0) return loudSkip(t, 'no CO-RE target');
    const sections = elfSections(fixture(`${DIR}/${obj}`));
    for (const target of targets) {
      const run = oracle(obj, target);
      if (!usable(t, run)) return;
      if (run.core !== 'ok') continue;
      for (const prog of run.programs) {
        const original = sections.get(prog.section)!;
        assert.ok(prog.sectionInsn >= 0, `${prog.name}: symbol found`);
        const start = prog.sectionInsn * 8;
        const touched = new Set<number>();
        for (const r of run.relocations.filter((x) => x.program === prog.name)) {
          touched.add(r.insn);
          if (r.patches.some((p) => p.field === 'imm64') || r.result === 'poisoned') touched.add(r.insn + 1);
        }
        const count = Math.min(prog.insns.length, original.length - start) / 8;
        for (let i = 0; i < count; i++) {
          const now = prog.insns.subarray(i * 8, i * 8 + 8);
          const was = original.subarray(start + i * 8, start + i * 8 + 8);
          if (now.every((b, k) => b === was[k])) continue;
          assert.ok(touched.has(i), `${obj} on ${target.label}: ${prog.name} insn ${i} changed without a CO-RE relocation`);
        }
        for (const r of run.relocations.filter((x) => x.program === prog.name && x.result === 'patched')) {
          const insn = new DataView(prog.insns.buffer, prog.insns.byteOffset + r.insn * 8, 8);
          for (const p of r.patches) {
            const value = p.field === 'imm' ? BigInt(insn.getInt32(4, true) >>> 0)
              : p.field === 'off' ? BigInt(insn.getUint16(2, true))
                : p.field === 'size' ? BigInt([4, 2, 1, 8][(insn.getUint8(0) >> 3) & 3]!)
                  : BigInt(insn.getUint32(4, true)) | (BigInt(new DataView(prog.insns.buffer, prog.insns.byteOffset + r.insn * 8 + 8, 8).getUint32(4, true)) << 32n);
            assert.equal(value, p.to & (p.field === 'imm' ? 0xffffffffn : p.field === 'imm64' ? 0xffffffffffffffffn : 0xffffn),
              `${obj} on ${target.label}: ${prog.name} insn ${r.insn} ${p.field} after relocation`);
          }
        }
      }
    }
  });
}

/** task_struct.tgid's new offset in core_fields on each target. */
function tgidOffset(target: OracleTarget): bigint | { skipped: string } {
  const run = oracle('core_fields.clang19.bpfel.o.gz', target);
  if ('skipped' in run) return run;
  const relo = run.relocations.find((r) => r.kind === 'byte_off' && r.local.spec.includes('struct task_struct.tgid'));
  assert.ok(relo && relo.result === 'patched', `task_struct.tgid relocated on ${target.label}`);
  return relo.patches[0]!.to;
}

test('the targets differ: task_struct.tgid moves between kernels, and the oracle says where', (t) => {
  if (targets.length < 2) return loudSkip(t, `CO-RE needs two targets to differ; found ${targets.map((x) => x.label).join(', ') || 'none'}`);
  const offsets = new Map<string, bigint>();
  for (const target of targets) {
    const off = tgidOffset(target);
    if (typeof off !== 'bigint') return loudSkip(t, off.skipped);
    offsets.set(target.label, off);
  }
  assert.ok(new Set(offsets.values()).size >= 2, `task_struct.tgid at the same offset on every target: ${[...offsets].join('; ')}`);
  // The PREEMPT_RT build's locks are larger: its tgid sits elsewhere than in the cloud build.
  const rt = [...offsets].find(([label]) => label.includes('-rt-'));
  const cloud = [...offsets].find(([label]) => label.includes('-cloud-'));
  if (process.env.BTFKIT_REQUIRE_DATA === '1') {
    assert.ok(rt && cloud, `BTFKIT_REQUIRE_DATA=1: a cloud build under data/ and an rt build under ${CORE_DATA_DIR} (.ci/run fetches both)`);
  }
  if (rt && cloud) assert.notEqual(rt[1], cloud[1], `tgid: ${rt[0]} vs ${cloud[0]}`);
});

test('a type only a module defines is found in that module (xfs_inode in xfs.ko)', (t) => {
  const target = moduleTarget('fs/xfs/xfs.ko');
  if (!target) return loudSkip(t, 'no fetched Debian build with fs/xfs/xfs.ko under data/ (tools/fetch-debian-kernel.sh)');
  const withModule = oracle('core_module.clang19.bpfel.o.gz', target);
  if (!usable(t, withModule)) return;
  assert.equal(withModule.core, 'ok');
  for (const r of withModule.relocations) {
    assert.equal(r.result, 'patched', r.log.join(' / '));
    assert.equal(r.target?.btf, 'xfs', `${r.kind}: found in the module`);
  }
  const exists = withModule.relocations.find((r) => r.kind === 'type_exists')!;
  assert.equal(exists.patches[0]!.to, 1n);
  // The same vmlinux without the module has no xfs_inode: existence 0, the field read poisoned.
  const alone = oracle('core_module.clang19.bpfel.o.gz', { label: 'vmlinux alone', vmlinux: target.vmlinux });
  if (!usable(t, alone)) return;
  assert.equal(alone.relocations.find((r) => r.kind === 'type_exists')!.patches[0]!.to, 0n);
  assert.equal(alone.relocations.find((r) => r.kind === 'byte_off')!.result, 'poisoned');
});

test('two kernel types that disagree on a field make libbpf fail the relocation, and stop', (t) => {
  if (targets.length === 0) return loudSkip(t, 'no CO-RE target');
  for (const target of targets) {
    const run = oracle('core_ambiguous.clang19.bpfel.o.gz', target);
    if (!usable(t, run)) return;
    assert.equal(run.core, 'failed', target.label);
    const [agree, clash] = run.relocations;
    assert.equal(agree?.result, 'patched', `${target.label}: elf_thread_core_info.task agrees in both candidates`);
    assert.equal(agree?.candidates.filter((c) => c.matched).length, 2, `${target.label}: two matching candidates`);
    assert.equal(clash?.result, 'error', `${target.label}: notes`);
    assert.match(clash!.warnings.join('\n'), /field offset ambiguity/);
  }
});

test('memory-size patches: an unsigned load is narrowed, a signed one poisoned', (t) => {
  if (targets.length === 0) return loudSkip(t, 'no CO-RE target');
  const run = oracle('core_fields.clang19.bpfel.o.gz', targets[0]!);
  if (!usable(t, run)) return;
  const wide = run.relocations.filter((r) => r.local.spec.includes('task_struct___wide'));
  assert.deepEqual(wide.map((r) => r.result), ['patched', 'poisoned'], wide.map((r) => r.log.join(' / ')).join('\n'));
  assert.deepEqual(wide[0]!.patches.find((p) => p.field === 'size'), { field: 'size', from: 8n, to: 4n });
  assert.match(wide[1]!.warnings.join('\n'), /accesses field incorrectly/);
});
