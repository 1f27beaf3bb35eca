/**
 * Externs (src/load/externs.ts) where libbpf cannot be asked: kernels that are not running here
 * (a Debian build's vmlinux and module BTF, an extra-variables module), big-endian objects,
 * offline targets (no kallsyms, no config), and objects libbpf refuses to open. Expected ids
 * come from bpftool's dumps of the same files; expected outcomes from libbpf 1.1's rules
 * (libbpf.c: bpf_object__collect_externs, find_ksym_btf_id), checked on the running kernel by
 * test/load-externs-libbpf.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import test from 'node:test';
import { Btf } from '../src/btf/btf.js';
import { TypeSet } from '../src/btf/typeset.js';
import { parseBpfObject, type BpfObject } from '../src/bpf/object.js';
import { BtfError, isBtfError } from '../src/errors.js';
import { Kind } from '../src/format/kinds.js';
import { collectExterns, kconfigMapSize, resolveExterns, type ExternResolution } from '../src/load/externs.js';
import { parseConfigInteger } from '../src/load/kconfig.js';
import { readInput } from '../src/node/files.js';
import { loadModuleBtf } from '../src/split/load.js';
import { splitOffVariables } from '../src/split/variables.js';
import { scratchDir } from './helpers/cc.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { bpftoolId } from './helpers/bpftool.js';
import { loudSkip } from './helpers/skip.js';


const objectFiles = (prefix: string): string[] =>
  readdirSync(join(FIXTURES, 'bpf')).filter((f) => f.startsWith(prefix + '.') && f.endsWith('.o.gz')).sort();

const load = (f: string): BpfObject => parseBpfObject(fixture(`bpf/${f}`), { file: f });

const byName = (rs: ExternResolution[], name: string): ExternResolution => {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `extern ${name}`);
  return r;
};

test('collectExterns: kinds, weak, typed and untyped ksyms, kconfig storage, in libbpf order', () => {
  for (const f of objectFiles('externs')) {
    const externs = collectExterns(load(f));
    const kinds = Object.fromEntries(externs.map((e) => [e.name, e.kind]));
    assert.equal(kinds.bpf_task_acquire, 'kfunc', f);
    assert.equal(kinds.runqueues, 'ksym', f);
    assert.equal(kinds.CONFIG_HZ, 'kconfig', f);
    assert.equal(externs.find((e) => e.name === 'bpf_prog_put')!.typeId, 0, `${f}: untyped`);
    assert.notEqual(externs.find((e) => e.name === 'runqueues')!.typeId, 0, `${f}: typed`);
    assert.deepEqual(externs.filter((e) => e.weak).map((e) => e.name).sort(),
      ['CONFIG_BTFKIT_ABSENT', 'CONFIG_MODULES', 'bpf_btfkit_no_such_kfunc', 'btfkit_no_such_symbol', 'btfkit_no_such_var'], f);
    // kconfig first (8-byte, then 4-byte, then 1-byte aligned), then ksyms and kfuncs by name.
    const order = externs.map((e) => e.name);
    assert.deepEqual(order.slice(0, 7), ['CONFIG_NR_CPUS', 'CONFIG_HZ', 'CONFIG_MODULES', 'LINUX_KERNEL_VERSION', 'CONFIG_BPF_SYSCALL', 'CONFIG_BTFKIT_ABSENT', 'CONFIG_LOCALVERSION'], f);
    assert.deepEqual(order.slice(7), [...order.slice(7)].sort(), f);
    const hz = externs.find((e) => e.name === 'CONFIG_HZ')!.kconfig!;
    assert.deepEqual([hz.type, hz.size, hz.align, hz.offset], ['int', 4, 4, 8], f);
    assert.equal(externs.find((e) => e.name === 'CONFIG_LOCALVERSION')!.kconfig!.type, 'string', f);
    assert.equal(externs.find((e) => e.name === 'CONFIG_MODULES')!.kconfig!.type, 'tristate', f);
    assert.equal(kconfigMapSize(externs), 22 + 16, f);
  }
});

function debianSet(build: string, modules: string[]): { set: TypeSet; vmlinuxFile: string; moduleFiles: string[] } {
  const vmlinuxFile = join(build, 'vmlinux.btf');
  const vmlinux = Btf.parse(readInput(vmlinuxFile));
  const moduleFiles = findModules(join(build, 'modules')).filter((f) => modules.includes(basename(f, '.ko')));
  assert.equal(moduleFiles.length, modules.length, `modules ${modules.join(', ')} in ${build}`);
  const set = new TypeSet(vmlinux, moduleFiles.map((f) => [basename(f, '.ko'), () => loadModuleBtf(readInput(f), vmlinux, f)]));
  return { set, vmlinuxFile, moduleFiles };
}

test('kfuncs in a module: vmlinux first, then the modules, with the module\'s own id', (t) => {
  const build = fetchedBuilds()[0];
  if (!build) return loudSkip(t, 'no Debian build under data/ (tools/fetch-debian-kernel.sh)');
  if (spawnSync('bpftool', ['version']).status !== 0) return loudSkip(t, 'bpftool is not installed');
  // bridge before nf_conntrack: modules are searched in order and the first one that has the name wins.
  const { set, vmlinuxFile, moduleFiles } = debianSet(build, ['bridge', 'nf_conntrack']);
  const ct = moduleFiles.find((f) => basename(f) === 'nf_conntrack.ko')!;
  assert.equal(bpftoolId(vmlinuxFile, 'bpf_xdp_ct_lookup', 'FUNC'), undefined, 'Debian builds conntrack as a module');
  const lookup = bpftoolId(ct, 'bpf_xdp_ct_lookup', 'FUNC', vmlinuxFile);
  const release = bpftoolId(ct, 'bpf_ct_release', 'FUNC', vmlinuxFile);
  assert.ok(lookup && release);
  const files = objectFiles('externs_module');
  assert.equal(files.length, 4);
  for (const f of files) {
    const rs = resolveExterns(load(f), set);
    assert.deepEqual(byName(rs, 'bpf_xdp_ct_lookup'), { name: 'bpf_xdp_ct_lookup', kind: 'kfunc', weak: false, status: 'resolved', resolved: { btf: 'nf_conntrack', id: lookup } }, f);
    assert.deepEqual(byName(rs, 'bpf_ct_release').resolved, { btf: 'nf_conntrack', id: release }, f);
  }
  // Without the module, the same kfunc is missing.
  const alone = new TypeSet(set.base);
  const r = byName(resolveExterns(load(files[0]!), alone), 'bpf_xdp_ct_lookup');
  assert.equal(r.status, 'failed');
  assert.match(r.reason!, /FUNC 'bpf_xdp_ct_lookup' is not in vmlinux or its modules/);
});

test('typed ksyms resolve in an extra-variables module split off vmlinux', (t) => {
  const build = fetchedBuilds()[0];
  if (!build) return loudSkip(t, 'no Debian build under data/ (tools/fetch-debian-kernel.sh)');
  if (spawnSync('bpftool', ['version']).status !== 0) return loudSkip(t, 'bpftool is not installed');
  // The extra module is built as the proposed layout has it: splitOffVariables moves every VAR
  // and DATASEC of the Debian vmlinux (per-CPU variables, .data..percpu) into split BTF on the
  // remaining types. libbpf would search it like any module, after vmlinux.
  const vmlinuxFile = join(build, 'vmlinux.btf');
  const kernel = Btf.parse(readInput(vmlinuxFile));
  const split = splitOffVariables(kernel);
  const base = Btf.parse(split.base);
  const extra = Btf.parse(split.variables, { base });
  const layered = new TypeSet(base, [['vmlinux_btf_extra', extra]]);
  const whole = new TypeSet(kernel);
  const runqueues = bpftoolId(vmlinuxFile, 'runqueues', 'VAR');
  assert.ok(runqueues);
  for (const f of objectFiles('externs')) {
    const object = load(f);
    const plain = resolveExterns(object, whole);
    const moved = resolveExterns(object, layered);
    assert.deepEqual(byName(plain, 'runqueues').resolved, { btf: 'vmlinux', id: runqueues }, f);
    assert.deepEqual(byName(moved, 'runqueues').resolved, { btf: 'vmlinux_btf_extra', id: split.map[runqueues] }, f);
    assert.ok(split.map[runqueues]! >= base.endId, 'the VAR lives in the extra module');
    // Everything else fares the same in both layouts, ids renumbered by the split.
    for (const [i, p] of plain.entries()) {
      const m = moved[i]!;
      assert.equal(m.status, p.status, `${f}: ${p.name}`);
      if (p.resolved && p.kind === 'kfunc') assert.deepEqual(m.resolved, { btf: 'vmlinux', id: split.map[p.resolved.id] }, `${f}: ${p.name}`);
    }
  }
});

test('both byte orders and both compilers resolve every extern alike', (t) => {
  const build = fetchedBuilds()[0];
  if (!build) return loudSkip(t, 'no Debian build under data/ (tools/fetch-debian-kernel.sh)');
  const { set } = debianSet(build, ['nf_conntrack']);
  const config = 'CONFIG_HZ=250\nCONFIG_BPF_SYSCALL=y\nCONFIG_LOCALVERSION="-x"\nCONFIG_NR_CPUS=8\nCONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=-3\nCONFIG_BTFKIT_U64=7\n';
  const sources = new Set(readdirSync(join(FIXTURES, 'bpf')).filter((f) => f.startsWith('externs') && f.endsWith('.o.gz')).map((f) => f.split('.')[0]!));
  assert.ok(sources.size >= 9);
  for (const src of sources) {
    const files = objectFiles(src);
    const outcomes = files.map((f) => resolveExterns(load(f), set, { kernelConfig: config, kernelRelease: '6.1.0' })
      .map(({ data, ...rest }) => ({ ...rest, data: data && data.length })));
    for (let i = 1; i < files.length; i++) assert.deepEqual(outcomes[i], outcomes[0], `${files[i]} and ${files[0]}`);
  }
});

test('offline: untyped ksyms, CONFIG_ and LINUX_ externs say what they would need', () => {
  const running = load('externs.clang19.bpfel.o.gz');
  // Another object's BTF stands in for a kernel: it has a VAR cpu_number and no bpf_prog_put.
  const set = new TypeSet(load('externs_var_type.clang19.bpfel.o.gz').btf!);
  const rs = resolveExterns(running, set);
  for (const name of ['CONFIG_HZ', 'CONFIG_BPF_SYSCALL', 'CONFIG_MODULES']) {
    assert.equal(byName(rs, name).status, 'unjudged', name);
    assert.match(byName(rs, name).reason!, /no kernel config given/);
  }
  assert.match(byName(rs, 'LINUX_KERNEL_VERSION').reason!, /give the target's release/);
  const put = byName(rs, 'bpf_prog_put');
  assert.equal(put.status, 'unjudged');
  assert.match(put.reason!, /not in BTF/);
  const withVar = resolveExterns(load('externs_untyped_data.clang19.bpfel.o.gz'), set);
  assert.match(byName(withVar, 'cpu_number').reason!, /exists in BTF as VAR \[\d+\] of vmlinux/);
  // With kallsyms: found, missing, ambiguous.
  const ks = (text: string) => byName(resolveExterns(running, set, { kallsyms: text }), 'bpf_prog_put');
  assert.deepEqual([ks('ffffffff81000010 T bpf_prog_put\n').status, ks('ffffffff81000010 T bpf_prog_put\n').address], ['resolved', 0xffffffff81000010n]);
  assert.equal(ks('ffffffff81000010 T bpf_prog_put_x\n').status, 'failed');
  assert.equal(ks('ffffffff81000010 t bpf_prog_put\nffffffff81000020 t bpf_prog_put [mod]\n').status, 'failed');
  assert.match(ks('ffffffff81000010 t bpf_prog_put\nffffffff81000020 t bpf_prog_put [mod]\n').reason!, /ambiguous/);
  // The release gives LINUX_KERNEL_VERSION: KERNEL_VERSION(6, 1, 255) caps the sublevel.
  const v = byName(resolveExterns(running, set, { kernelRelease: '6.1.300-rt' }), 'LINUX_KERNEL_VERSION');
  assert.equal(v.value, BigInt((6 << 16) + (1 << 8) + 255));
  // "# CONFIG_X is not set" is no value: a weak extern defaults, and the reason says why.
  const c = resolveExterns(running, set, { kernelConfig: '# CONFIG_MODULES is not set\nCONFIG_HZ=100\n' });
  assert.equal(byName(c, 'CONFIG_MODULES').status, 'defaulted');
  assert.match(byName(c, 'CONFIG_MODULES').reason!, /is not set/);
  assert.equal(byName(c, 'CONFIG_BPF_SYSCALL').status, 'failed');
});

test('parseConfigInteger reads what strtoull(s, &end, 0) reads in full', () => {
  const cases: [string, bigint | undefined][] = [
    ['0', 0n], ['42', 42n], ['-1', 0xffff_ffff_ffff_ffffn], ['+7', 7n], ['0x1F', 31n], ['0X1f', 31n], ['017', 15n],
    [' 5', 5n], ['08', undefined], ['0x', undefined], ['12abc', undefined], ['', undefined], ['-', undefined],
    ['18446744073709551615', 0xffff_ffff_ffff_ffffn], ['18446744073709551616', undefined], ['5 ', undefined],
  ];
  for (const [text, want] of cases) assert.equal(parseConfigInteger(text), want, JSON.stringify(text));
});

/** A copy of a fixture with `patch` applied to its bytes (and the parsed object to find offsets in). */
function patched(f: string, patch: (bytes: Uint8Array, object: BpfObject) => void): Uint8Array {
  const bytes = fixture(`bpf/${f}`).slice();
  patch(bytes, parseBpfObject(bytes));
  return bytes;
}

/** Absolute file offset of a type record of the object's .BTF. */
function recordAt(bytes: Uint8Array, object: BpfObject, id: number): number {
  const btf = object.btf!;
  return btf.bytes.byteOffset - bytes.byteOffset + btf.recordOffset(id);
}

function u32(bytes: Uint8Array, at: number, v?: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  if (v !== undefined) dv.setUint32(at, v, true);
  return dv.getUint32(at, true);
}

function expectOpenError(bytes: Uint8Array, code: string, message: RegExp): void {
  assert.throws(() => collectExterns(parseBpfObject(bytes)), (e: unknown) => {
    assert.ok(isBtfError(e), `a BtfError, got ${String(e)}`);
    assert.equal((e as BtfError).code, code);
    assert.match((e as BtfError).message, message);
    return true;
  });
}

test('objects libbpf refuses to open end in BtfErrors; hostile types end in a failed extern', () => {
  const f = 'externs.clang19.bpfel.o.gz';
  const find = (o: BpfObject, name: string, kind: Kind) => o.btf!.find(name, kind)[0]!;
  // An extern symbol with no BTF of its name (the symbol renamed in .strtab only).
  expectOpenError(patched(f, (b, o) => {
    const strtab = o.elf.sections.find((s) => s.name === '.strtab')!;
    const text = new TextDecoder('latin1').decode(b.subarray(strtab.offset, strtab.offset + strtab.size));
    b[strtab.offset + text.indexOf('runqueues\0')] = 'R'.charCodeAt(0);
  }), 'not-found', /no BTF VAR or FUNC for extern 'Runqueues'/);
  // Its VAR not extern (linkage global).
  expectOpenError(patched(f, (b, o) => { u32(b, recordAt(b, o, find(o, 'runqueues', Kind.Var)) + 12, 1); }), 'bad-input', /linkage is not extern/);
  // kfuncs under .kconfig: the .ksyms DATASEC given .kconfig's name.
  expectOpenError(patched(f, (b, o) => {
    const kconfigName = u32(b, recordAt(b, o, find(o, '.kconfig', Kind.Datasec)));
    u32(b, recordAt(b, o, find(o, '.ksyms', Kind.Datasec)), kconfigName);
  }), 'unsupported', /extern function '\w+' in \.kconfig/);
  // Another extern section.
  expectOpenError(patched(f, (b, o) => {
    const at = recordAt(b, o, find(o, '.ksyms', Kind.Datasec));
    u32(b, at, u32(b, recordAt(b, o, find(o, 'sink', Kind.Var))));
  }), 'unsupported', /in section 'sink', neither \.ksyms nor \.kconfig/);
  // A kconfig type libbpf cannot fill (CONFIG_HZ as struct rq).
  expectOpenError(patched(f, (b, o) => { u32(b, recordAt(b, o, find(o, 'CONFIG_HZ', Kind.Var)) + 8, find(o, 'rq', Kind.Struct)); }),
    'unsupported', /'CONFIG_HZ': libbpf cannot fill a value of its type/);
  // A VAR whose type does not exist.
  expectOpenError(patched(f, (b, o) => { u32(b, recordAt(b, o, find(o, 'runqueues', Kind.Var)) + 8, 0xfffff); }), 'bad-type-id', /extern 'runqueues': type id 1048575 does not exist/);
  // A pointer that points to itself inside a kfunc prototype: bounded, reported, no hang.
  const m = 'externs_module.clang19.bpfel.o.gz';
  const loop = patched(m, (b, o) => {
    const ptr = [...Array(o.btf!.endId).keys()].find((id) => id > 0 && o.btf!.kind(id) === Kind.Ptr)!;
    u32(b, recordAt(b, o, ptr) + 8, ptr);
  });
  const looped = parseBpfObject(loop);
  const vs = resolveExterns(looped, new TypeSet(looped.btf!));
  assert.ok(vs.some((r) => r.status === 'failed' && /nests deeper|loop/.test(r.reason ?? '')), JSON.stringify(vs));
});

test('mutated objects: collecting and resolving externs ends in a result or a BtfError, never anything else', () => {
  // A small deterministic fuzz over the bytes externs are read from (.BTF, .symtab, .strtab).
  let seed = 0x2545f491;
  const rand = (n: number) => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const config = 'CONFIG_HZ=250\nCONFIG_BPF_SYSCALL=y\nCONFIG_LOCALVERSION="-x"\nCONFIG_NR_CPUS=8\n';
  let results = 0;
  let errors = 0;
  for (const f of ['externs.clang19.bpfel.o.gz', 'externs.clang14.bpfeb.o.gz', 'externs_module.clang19.bpfel.o.gz']) {
    const original = fixture(`bpf/${f}`);
    const target = new TypeSet(parseBpfObject(original).btf!);
    const sections = parseBpfObject(original).elf.sections.filter((s) => ['.BTF', '.symtab', '.strtab'].includes(s.name));
    for (let round = 0; round < 400; round++) {
      const bytes = original.slice();
      const s = sections[rand(sections.length)]!;
      for (let k = 1 + rand(4); k > 0; k--) bytes[s.offset + rand(s.size)] = rand(256);
      try {
        const object = parseBpfObject(bytes);
        resolveExterns(object, target, { kernelConfig: config, kallsyms: '' });
        results++;
      } catch (e) {
        assert.ok(isBtfError(e), `${f} round ${round}: ${e instanceof Error ? e.stack : String(e)}`);
        errors++;
      }
    }
  }
  assert.ok(results > 100 && errors > 100, `both outcomes happen: ${results} results, ${errors} errors`);
});

test('an object with many externs is read in time linear in its size', (t) => {
  // libbpf scans every type for each extern; 8,000 externs that way took btfkit 9 s. Through the
  // name index it is a fraction of a second: the bound leaves room for a busy machine.
  const n = 8000;
  const lines = ['#include <linux/types.h>', '#include <linux/bpf.h>', '#include <bpf/bpf_helpers.h>'];
  for (let i = 0; i < n; i++) lines.push(`extern const int btfkit_v${i} __ksym __weak;`);
  lines.push('__u64 sink;', 'SEC("syscall") int f(void *c) {');
  for (let i = 0; i < n; i++) lines.push(`sink += (__u64)&btfkit_v${i};`);
  lines.push('return 0; }', 'char LICENSE[] SEC("license") = "GPL";');
  const source = join(scratchDir(), 'many_externs.bpf.c');
  const out = join(scratchDir(), 'many_externs.o');
  writeFileSync(source, lines.join('\n'));
  const multiarch = spawnSync('gcc', ['-dumpmachine'], { encoding: 'utf8' }).stdout?.trim() || 'x86_64-linux-gnu';
  const cc = spawnSync('clang-19', ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-c', source, '-o', out], { encoding: 'utf8' });
  if (cc.error) return loudSkip(t, `clang-19 is not installed: ${cc.error.message}`);
  assert.equal(cc.status, 0, cc.stderr);
  // readFileSync, not readInput: readInput reads an ELF file's BTF and symbol sections only.
  const object = parseBpfObject(new Uint8Array(readFileSync(out)));
  const start = performance.now();
  const externs = collectExterns(object);
  const rs = resolveExterns(object, new TypeSet(object.btf!));
  const ms = performance.now() - start;
  assert.equal(externs.length, n);
  assert.equal(rs.filter((r) => r.status === 'resolved').length, n, 'the object\'s own VARs stand in for the kernel\'s');
  assert.ok(ms < 3000, `collect and resolve took ${ms.toFixed(0)} ms`);
});
