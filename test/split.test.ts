import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { BtfError } from '../src/errors.js';
import { Kind, IntEncoding } from '../src/format/kinds.js';
import { ByteSink } from '../src/dump/sink.js';
import { convertBtf } from '../src/build/convert.js';
import { dumpRaw } from '../src/dump/raw.js';
import { checkSplit, formatCheck, selfContained } from '../src/split/check.js';
import { makeStandalone, splitOnBase, toSplitAppearance, baseClosure } from '../src/split/forms.js';
import { mergeModules } from '../src/split/merge.js';
import { TypeSet } from '../src/btf/typeset.js';
import { loadModuleBtf, loadSplitChain } from '../src/split/load.js';
import { matchDistilledBase } from '../src/split/relocate.js';
import { KernelBtf } from '../src/node/sysfs.js';
import { fixture, fixtureText } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';
import { bpftoolRaw, kernelLoad } from './helpers/kernel.js';

const GOLDEN = 'golden/debian-6.1.0-50-cloud';
const MODULES = ['af_key', '8021q', 'nf_tables', 'xfs'] as const;

const debBytes = fixture(`${GOLDEN}/vmlinux.btf.gz`);
const deb = Btf.parse(debBytes);
const runningBytes = fixture('golden/running-6.18/vmlinux.btf.gz');
const running = Btf.parse(runningBytes);
const moduleBytes = new Map(MODULES.map((m) => [m, fixture(`${GOLDEN}/modules/${m}.btf.gz`)]));
const bytesOf = (m: (typeof MODULES)[number]) => moduleBytes.get(m)!;

const work = mkdtempSync(join(tmpdir(), 'btfkit-split-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

function raw(btf: Btf): string {
  const sink = new ByteSink();
  dumpRaw(btf, sink);
  return new TextDecoder().decode(sink.toBytes());
}

test('the golden modules read on the base they were built against: matched, with the evidence counts behind it', () => {
  for (const m of MODULES) {
    const r = checkSplit(bytesOf(m), deb, { file: m });
    assert.equal(r.verdict, 'matched', `${m}: ${r.summary} ${JSON.stringify(r.evidence.slice(0, 2))}`);
    assert.equal(r.evidenceCount, 0);
    assert.equal(r.file, m);
    const mod = Btf.parse(bytesOf(m), { base: deb });
    assert.equal(r.stats.moduleTypes, mod.ownTypeCount);
    assert.ok(r.stats.baseTypeRefs > 0 && r.stats.baseStringRefs > 0, `${m} refers into the base`);
    // The module's string layout pins down the base's string length, which is the base's.
    assert.equal(r.stats.inferredBaseStringLength, deb.header.strLen);
    // bpftool agrees that this is the module's reading: our parse dumps like the golden dump.
    assert.equal(raw(mod), fixtureText(`${GOLDEN}/modules/${m}.raw.txt.gz`));
  }
});

test('the golden modules on the running 6.18 kernel base: mismatched, and each piece of evidence holds when re-read', (t) => {
  for (const m of MODULES) {
    const r = checkSplit(bytesOf(m), running, { file: m, maxEvidence: 1000 });
    assert.equal(r.verdict, 'mismatched', `${m}: ${r.summary}`);
    assert.ok(r.evidenceCount >= r.evidence.length && r.evidence.length > 0);
    const mod = Btf.parse(bytesOf(m), { base: running });
    for (const e of r.evidence) {
      switch (e.signal) {
        case 'string-inside': {
          // Independently: the byte before the offset is not a NUL, in whichever section holds it.
          const loc = mod.locateString(e.target!)!;
          assert.notEqual(loc.btf.bytes[loc.pos - 1], 0, `${m}: ${e.problem}`);
          assert.equal(e.inBase, e.target! < mod.firstStringOffset);
          break;
        }
        case 'kind':
          if (e.problem.startsWith("a FUNC's type")) assert.notEqual(mod.kind(e.target!), Kind.FuncProto);
          break;
        case 'type-range':
          assert.ok(e.target! >= mod.endId);
          break;
        case 'size':
          assert.ok(e.target! > 0 && e.target! < mod.endId);
          break;
        default:
      }
    }
    // The ground truth: bpftool decodes the module differently on this base.
    const dump = bpftoolRaw(bytesOf(m), runningBytes);
    if ('skipped' in dump) {
      loudSkip(t, dump.skipped);
      continue;
    }
    assert.notEqual(new TextDecoder().decode(dump.text), fixtureText(`${GOLDEN}/modules/${m}.raw.txt.gz`));
  }
});

test("the issue's example: af_key's struct sadb_msg read on another base is caught at its name", () => {
  const own = Btf.parse(bytesOf('af_key'), { base: deb });
  const sadb = own.findOne('sadb_msg', Kind.Struct);
  // The same record on the other base sits at the same position after that base's last id.
  const wrong = Btf.parse(bytesOf('af_key'), { base: running });
  const there = sadb - own.firstId + wrong.firstId;
  assert.equal(wrong.kind(there), Kind.Struct);
  assert.notEqual(wrong.name(there), 'sadb_msg', 'the record reads as another struct');
  const r = checkSplit(bytesOf('af_key'), running, { maxEvidence: 100000 });
  const hit = r.evidence.find((e) => e.typeId === there && e.ref === 'string');
  assert.ok(hit, 'evidence names the struct that became garbage');
  assert.match(hit.type, new RegExp(`^\\[${there}\\] STRUCT '${wrong.name(there)}'`));
  const text = formatCheck({ ...r, file: 'af_key.ko' }, 3).split('\n');
  assert.match(text[0]!, /^af_key\.ko: mismatched: \d+ broken references \(/);
  assert.equal(text.length, 5);
  assert.match(text[4]!, new RegExp(`^  \\.\\.\\. and ${r.evidenceCount - 3} more$`));
});

test('references moved without touching strings: kind, size and layout signals still fire', () => {
  // As if the base had been rebuilt with its types in other places but the same strings: the
  // module's members that embed a base struct now name a base pointer instead.
  const mod = Btf.parse(bytesOf('8021q'), { base: deb });
  const closure = baseClosure(mod);
  const embedded = new Set<number>();
  for (let id = mod.firstId; id < mod.endId; id++) {
    const ty = mod.type(id);
    if (ty.kind === Kind.Struct) for (const mem of ty.members) if (mem.type < deb.endId && deb.kind(mem.type) === Kind.Struct) embedded.add(mem.type);
  }
  // The largest struct the module reaches stands in for every pointer member: embedded where
  // a pointer was, it overlaps the next member or runs past the end of the struct.
  const big = closure.filter((id) => deb.kind(id) === Kind.Struct).sort((a, b) => deb.sizeOrType(b) - deb.sizeOrType(a))[0]!;
  assert.ok(embedded.size >= 0 && deb.sizeOrType(big) > 64);
  const modBytes = bytesOf('8021q').slice();
  const dv = new DataView(modBytes.buffer);
  let changed = 0;
  for (let id = mod.firstId; id < mod.endId; id++) {
    const ty = mod.type(id);
    if (ty.kind !== Kind.Struct) continue;
    const rec = mod.recordOffset(id);
    ty.members.forEach((mem, i) => {
      if (mem.type < deb.endId && deb.kind(mem.type) === Kind.Ptr) {
        dv.setUint32(rec + 12 + i * 12 + 4, big, true);
        changed++;
      }
    });
  }
  assert.ok(changed > 0);
  const r = checkSplit(modBytes, deb, { maxEvidence: 50 });
  assert.equal(r.verdict, 'mismatched', r.summary);
  assert.ok(!r.signals['string-inside'] && !r.signals['string-layout'], 'strings are untouched');
  assert.ok((r.signals.kind ?? 0) + (r.signals.size ?? 0) + (r.signals.layout ?? 0) > 0);
});

test('standalone: made from a module, detected, kernel-loadable, and split back to the same dump as bpftool printed', (t) => {
  for (const m of MODULES) {
    const mod = Btf.parse(bytesOf(m), { base: deb });
    const sa = makeStandalone(mod);
    const saBtf = Btf.parse(sa);
    assert.equal(saBtf.ownTypeCount, mod.ownTypeCount + baseClosure(mod).length);
    assert.ok(selfContained(sa), 'self-contained');
    assert.equal(checkSplit(sa, deb).verdict, 'standalone');
    assert.equal(checkSplit(sa, running).verdict, 'standalone');
    // Every module type is there by name and kind.
    for (let id = mod.firstId; id < mod.endId; id += 97) {
      if (!mod.name(id)) continue;
      assert.ok(saBtf.find(mod.name(id), mod.kind(id)).length > 0, `${m}: ${mod.name(id)}`);
    }
    const back = splitOnBase(saBtf, deb);
    assert.equal(back.kept, mod.ownTypeCount);
    const backBtf = Btf.parse(back.bytes, { base: deb });
    assert.equal(raw(backBtf), fixtureText(`${GOLDEN}/modules/${m}.raw.txt.gz`), `${m}: round trip dumps like bpftool's dump of the original`);
    assert.equal(checkSplit(back.bytes, deb).verdict, 'matched');
    const k = kernelLoad(sa);
    if ('skipped' in k) loudSkip(t, k.skipped);
    else assert.ok(k.ok, `${m}: the kernel rejected the standalone blob: ${k.log.slice(-400)}`);
  }
});

test('standalone in split appearance: renumbered after the base without replacing any type', (t) => {
  const mod = Btf.parse(bytesOf('8021q'), { base: deb });
  const sa = Btf.parse(makeStandalone(mod));
  const appearance = toSplitAppearance(sa, deb);
  const split = Btf.parse(appearance, { base: deb });
  assert.equal(split.firstId, deb.endId);
  assert.equal(split.ownTypeCount, sa.ownTypeCount);
  assert.equal(split.header.strLen, sa.header.strLen - 1);
  // Type by type: the same record with ids shifted by the base's count.
  const shift = deb.endId - 1;
  for (let id = 1; id < sa.endId; id++) {
    const a = sa.type(id);
    const b = split.type(id + shift);
    assert.equal(b.kind, a.kind);
    assert.equal(b.name, a.name);
  }
  assert.equal(checkSplit(appearance, deb).verdict, 'matched');
  // bpftool reads it on the base and prints the standalone's types under the new ids.
  const dump = bpftoolRaw(appearance, debBytes);
  if ('skipped' in dump) return loudSkip(t, dump.skipped);
  const text = new TextDecoder().decode(dump.text);
  const renumbered = raw(sa).replace(/(\[|type_id=)(\d+)/g, (_, p: string, n: string) => `${p}${Number(n) === 0 ? 0 : Number(n) + shift}`);
  assert.equal(text, renumbered);
});

test('not split: a kernel image, a BPF object, the base itself; a module file with standalone BTF is standalone', (t) => {
  assert.equal(checkSplit(debBytes, deb).verdict, 'not-split');
  const image = checkSplit(elf64([['.BTF', runningBytes]], { exec: true }), deb);
  assert.equal(image.verdict, 'not-split');
  assert.match(image.summary, /kernel image/);
  const sa = makeStandalone(Btf.parse(bytesOf('af_key'), { base: deb }));
  assert.equal(checkSplit(elf64([['.BTF', sa]], { module: true }), deb).verdict, 'standalone');
  // Raw self-contained BTF carries no sign of where it came from: it is taken as a standalone module's.
  assert.equal(checkSplit(runningBytes, deb).verdict, 'standalone');
  assert.throws(() => checkSplit(elf64([['.data', new Uint8Array(8)]], { module: true }), deb, { file: 'x.ko' }),
    (e: unknown) => e instanceof BtfError && e.code === 'no-btf' && e.file === 'x.ko');
  const src = join(work, 'prog.c');
  writeFileSync(src, 'int counter; int prog(void *ctx) { return counter; }\n');
  const obj = join(work, 'prog.o');
  const cc = spawnSync('clang', ['-target', 'bpf', '-g', '-O2', '-c', src, '-o', obj], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return loudSkip(t, 'clang cannot build a BPF object here');
  const r = checkSplit(new Uint8Array(readFileSync(obj)), deb);
  assert.equal(r.verdict, 'not-split');
  assert.match(r.summary, /BPF object/);
});

test('multi-level split: a blob split on a module split on vmlinux', () => {
  const mod = Btf.parse(bytesOf('8021q'), { base: deb });
  const b = new BtfBuilder({ base: mod });
  const vlanArgs = mod.findOne('vlan_ioctl_args', Kind.Struct);
  assert.ok(vlanArgs >= mod.firstId, 'a type of the module itself');
  const listHead = deb.findOne('list_head', Kind.Struct);
  const ptr = b.addPtr(vlanArgs);
  b.addStruct('top_level', 24, [
    { name: 'priv', type: ptr, bitOffset: 0 },
    { name: 'link', type: listHead, bitOffset: 64 },
  ]);
  const top = b.encode();
  const chain = loadSplitChain([debBytes, bytesOf('8021q'), top]);
  assert.equal(chain.firstId, mod.endId);
  const s = chain.type(chain.findOne('top_level', Kind.Struct));
  assert.ok(s.kind === Kind.Struct);
  assert.equal(chain.name(chain.sizeOrType(s.members[0]!.type)), 'vlan_ioctl_args');
  assert.equal(chain.name(s.members[1]!.type), 'list_head');
  assert.equal(checkSplit(top, mod).verdict, 'matched');
  // On another middle layer the same ids mean other things.
  const other = Btf.parse(bytesOf('af_key'), { base: deb });
  assert.equal(checkSplit(top, other).verdict, 'mismatched');
  // Its standalone form reaches through both levels.
  const sa = Btf.parse(makeStandalone(chain));
  assert.ok(sa.find('vlan_ioctl_args', Kind.Struct).length === 1 && sa.find('list_head', Kind.Struct).length === 1);
});

test('merge: every module renumbered after the base, bpftool reads it, each module dumps as in itself', (t) => {
  const mods = MODULES.map((m) => ({ name: m, btf: Btf.parse(bytesOf(m), { base: deb }) }));
  const merged = mergeModules(deb, mods);
  const all = Btf.parse(merged.bytes, { base: deb });
  assert.equal(all.ownTypeCount, mods.reduce((n, m) => n + m.btf.ownTypeCount, 0));
  let prevEnd = deb.endId;
  for (const r of merged.modules) {
    assert.equal(r.firstId, prevEnd, 'ranges follow each other without overlap');
    prevEnd = r.endId;
  }
  const back = (text: string, r: { firstId: number; endId: number; originalFirstId: number }) =>
    text.replace(/(\[|type_id=)(\d+)/g, (_, p: string, n: string) => {
      const id = Number(n);
      return `${p}${id >= r.firstId && id < r.endId ? id - r.firstId + r.originalFirstId : id}`;
    });
  const dump = bpftoolRaw(merged.bytes, debBytes);
  const text = 'skipped' in dump ? raw(all) : new TextDecoder().decode(dump.text);
  if ('skipped' in dump) loudSkip(t, `${dump.skipped}: comparing btfkit's own dump of the merged blob`);
  const blocks = text.split(/(?=^\[)/m);
  let at = 0;
  for (const r of merged.modules) {
    const count = r.endId - r.firstId;
    const mine = back(blocks.slice(at, at + count).join(''), r);
    at += count;
    assert.equal(mine, fixtureText(`${GOLDEN}/modules/${r.name}.raw.txt.gz`), `${r.name} in the merged blob`);
  }
  const sadb = mods[0]!.btf.findOne('sadb_msg', Kind.Struct);
  const mergedId = merged.modules[0]!.firstId + sadb - deb.endId;
  assert.deepEqual(merged.origin(mergedId), { module: 'af_key', id: sadb });
  assert.equal(merged.origin(5), undefined);
});

test('TypeSet: one search over vmlinux and modules says where each hit comes from, loading lazily', () => {
  let loads = 0;
  const set = new TypeSet(deb, MODULES.map((m) => [m, () => { loads++; return Btf.parse(bytesOf(m), { base: deb }); }]));
  assert.equal(loads, 0);
  const hits = set.find('sadb_msg');
  assert.equal(loads, MODULES.length);
  assert.deepEqual(hits.map((h) => [h.module, h.kind]), [['af_key', Kind.Struct]]);
  assert.equal(hits[0]!.btf.name(hits[0]!.id), 'sadb_msg');
  const lh = set.find('list_head', Kind.Struct);
  assert.deepEqual(lh.map((h) => h.module), ['vmlinux']);
  const xfsFuncs = set.find('xfs_iget', Kind.Func);
  assert.deepEqual(xfsFuncs.map((h) => h.module), ['xfs']);
  assert.ok(xfsFuncs[0]!.id >= deb.endId, 'the id is the module\'s own split id (for fentry/fexit attach)');
});

/** Writes a minimal ELF64 relocatable with the given sections, for module-shaped inputs. */
function elf64(sections: [string, Uint8Array][], opts: { module?: boolean; exec?: boolean } = {}): Uint8Array {
  const all: [string, Uint8Array][] = [...sections, ...(opts.module ? [['.modinfo', new TextEncoder().encode('name=test\0')] as [string, Uint8Array]] : [])];
  const names = ['', '.shstrtab', ...all.map(([n]) => n)];
  const shstr = new TextEncoder().encode(names.join('\0') + '\0');
  const nameOff = (i: number) => names.slice(0, i).reduce((n, s) => n + s.length + 1, 0);
  let off = 64;
  const place: number[] = [];
  const blobs = [shstr, ...all.map(([, b]) => b)];
  for (const b of blobs) {
    off = (off + 7) & ~7;
    place.push(off);
    off += b.length;
  }
  const shoff = (off + 7) & ~7;
  const out = new Uint8Array(shoff + (blobs.length + 1) * 64);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  dv.setUint16(16, opts.exec ? 2 : 1, true);
  dv.setUint16(18, 62, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(58, 64, true);
  dv.setUint16(60, blobs.length + 1, true);
  dv.setUint16(62, 1, true);
  blobs.forEach((b, i) => {
    out.set(b, place[i]!);
    const p = shoff + (i + 1) * 64;
    dv.setUint32(p, nameOff(i + 1), true);
    dv.setUint32(p + 4, i === 0 ? 3 : 1, true);
    dv.setBigUint64(p + 24, BigInt(place[i]!), true);
    dv.setBigUint64(p + 32, BigInt(b.length), true);
    dv.setBigUint64(p + 48, 1n, true);
  });
  return out;
}

test('distilled base (.BTF.base): matched where every distilled type has its counterpart, relocated as the kernel does', () => {
  // A module built the 6.11+ way: split BTF on a small distilled base naming the vmlinux types it uses.
  const d = new BtfBuilder();
  const dInt = d.addInt('int', 4, IntEncoding.Signed);
  const dList = d.addStruct('list_head', 16, []);
  const dSkb = d.addFwd('sk_buff', 'struct');
  const distilledBytes = d.encode();
  const distilled = Btf.parse(distilledBytes);
  const s = new BtfBuilder({ base: distilled });
  const skbPtr = s.addPtr(dSkb);
  s.addStruct('my_dev', 32, [
    { name: 'count', type: dInt, bitOffset: 0 },
    { name: 'node', type: dList, bitOffset: 64 },
    { name: 'skb', type: skbPtr, bitOffset: 192 },
  ]);
  const splitBytes = s.encode();
  const ko = elf64([['.BTF', splitBytes], ['.BTF.base', distilledBytes]], { module: true });

  const r = checkSplit(ko, deb);
  assert.equal(r.verdict, 'matched', r.summary);
  assert.equal(r.stats.distilledBaseTypes, 3);
  const mod = loadModuleBtf(ko, deb);
  assert.equal(mod.firstId, deb.endId);
  const myDev = mod.type(mod.findOne('my_dev', Kind.Struct));
  assert.ok(myDev.kind === Kind.Struct);
  assert.deepEqual(myDev.members.map((m) => mod.type(m.type).kind === Kind.Ptr ? `*${mod.name(mod.sizeOrType(m.type))}` : mod.name(m.type)),
    ['int', 'list_head', '*sk_buff']);
  assert.equal(mod.type(myDev.members[1]!.type).kindName, 'STRUCT');
  assert.equal(mod.sizeof(myDev.members[1]!.type), 16);
  assert.equal(checkSplit(makeStandalone(mod), deb).verdict, 'standalone');

  // A base where list_head, embedded by the module, has another size: no counterpart.
  const b = new BtfBuilder();
  b.addInt('int', 4, IntEncoding.Signed);
  b.addStruct('list_head', 8, []);
  b.addStruct('sk_buff', 232, []);
  const bad = Btf.parse(b.encode());
  const r2 = checkSplit(ko, bad);
  assert.equal(r2.verdict, 'mismatched');
  assert.equal(r2.signals['distilled-base'], 1);
  assert.match(r2.evidence[0]!.problem, /list_head.*embeds it/);
  assert.throws(() => loadModuleBtf(ko, bad), (e: unknown) => e instanceof BtfError && e.code === 'bad-base');
  const m = matchDistilledBase(Btf.parse(splitBytes, { base: distilled }), deb);
  assert.equal(m.map.get(dList), deb.findOne('list_head', Kind.Struct));
});

test('KernelBtf: a sysfs-like directory, modules loaded only when asked for, vmlinux as their base', (t) => {
  const dir = join(work, 'sysfs');
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'vmlinux'), debBytes);
  for (const m of ['af_key', '8021q']) writeFileSync(join(dir, m), bytesOf(m as 'af_key'));
  const k = new KernelBtf(dir);
  assert.deepEqual(k.moduleNames(), ['8021q', 'af_key']);
  assert.deepEqual(k.loadedModules(), []);
  const af = k.module('af_key');
  assert.equal(af.base, k.vmlinux);
  assert.deepEqual(k.loadedModules(), ['af_key']);
  assert.equal(k.module('af_key'), af, 'parsed once');
  assert.throws(() => k.module('nope'), (e: unknown) => e instanceof BtfError);
  assert.deepEqual(k.typeSet().find('vlan_ioctl_args').map((h) => h.module), ['8021q']);
  // The real one, read-only.
  const real = new KernelBtf();
  try {
    readFileSync('/sys/kernel/btf/vmlinux', { flag: 'r' }).subarray(0, 4);
  } catch {
    return loudSkip(t, 'no /sys/kernel/btf/vmlinux on this machine');
  }
  assert.ok(real.vmlinux.ownTypeCount > 1000);
  for (const name of real.moduleNames().slice(0, 3)) assert.equal(real.module(name).base, real.vmlinux);
});

test('hostile module bytes: checking, standalone and split end in a verdict or a BtfError, never another exception', () => {
  let x = 0x5eed;
  const rnd = () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
  const src = bytesOf('8021q');
  const verdicts = new Map<string, number>();
  let errors = 0;
  for (let round = 0; round < 250; round++) {
    const b = src.slice();
    const n = 1 + Math.floor(rnd() * 6);
    for (let i = 0; i < n; i++) {
      // Mostly inside the type section, where ids and offsets live; now and then the header.
      const at = rnd() < 0.1 ? Math.floor(rnd() * 24) : 24 + Math.floor(rnd() * (b.length - 24));
      b[at] = Math.floor(rnd() * 256);
    }
    for (const base of [deb, running]) {
      try {
        const r = checkSplit(b, base, { file: 'fuzzed' });
        verdicts.set(r.verdict, (verdicts.get(r.verdict) ?? 0) + 1);
        if (base === deb && round % 3 === 0) {
          const mod = Btf.parse(b, { base });
          splitOnBase(Btf.parse(makeStandalone(mod)), base);
        }
      } catch (e) {
        assert.ok(e instanceof BtfError, `round ${round}: ${(e as Error).stack}`);
        errors++;
      }
    }
  }
  assert.ok((verdicts.get('mismatched') ?? 0) > 0 && errors > 0, `outcomes: ${JSON.stringify([...verdicts])}, errors ${errors}`);
});

test('a module checks the same in either byte order and wherever its bytes lie', () => {
  // The scanner reads records as host-order words: a view of the bytes where it can, a copy
  // for big-endian or unaligned ones.
  for (const m of ['af_key', '8021q'] as const) {
    const le = bytesOf(m);
    const be = convertBtf(Btf.parse(le, { base: deb }), { endian: 'big' });
    const unaligned = new Uint8Array(le.length + 1).subarray(1);
    unaligned.set(le);
    for (const base of [deb, running]) {
      const want = checkSplit(le, base, { maxEvidence: 1e9 });
      assert.ok(base === deb ? want.verdict === 'matched' : want.evidenceCount > 0, `${m}: ${want.summary}`);
      assert.deepEqual(checkSplit(be, base, { maxEvidence: 1e9 }), want, `${m} big-endian`);
      assert.deepEqual(checkSplit(unaligned, base, { maxEvidence: 1e9 }), want, `${m} unaligned`);
    }
  }
});
