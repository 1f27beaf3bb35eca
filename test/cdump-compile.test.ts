/**
 * The C headers compile, and describe the same layouts as the BTF they came from: clang builds
 * a BPF object declaring one variable of every complete, uniquely named struct and union, and
 * the BTF clang writes for it must give each type the source's size, member names, bit offsets
 * and bitfield sizes. Root-only headers must compile on their own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { loadBtf } from '../src/btf/source.js';
import { Kind } from '../src/format/kinds.js';
import type { CompositeType } from '../src/btf/types.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpC, type CDumpOptions } from '../src/dump/c/index.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const clangMissing = spawnSync('clang', ['--version'], { encoding: 'utf8' }).status !== 0;

function header(btf: Btf, opts: CDumpOptions = {}): Uint8Array {
  const sink = new ByteSink();
  dumpC(btf, sink, opts);
  return sink.toBytes();
}

/** Compiles `source` (next to `vmlinux.h` in `dir`) for BPF with BTF; resolves to the object's bytes. */
function compile(dir: string, name: string, source: string): Promise<Uint8Array> {
  const c = join(dir, `${name}.c`);
  const o = join(dir, `${name}.o`);
  writeFileSync(c, source);
  return new Promise((resolve, reject) => {
    execFile('clang', ['-target', 'bpf', '-O2', '-g', '-c', c, '-o', o], { maxBuffer: 1 << 26 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`clang failed on ${name}.c:\n${stderr.split('\n').slice(0, 20).join('\n')}`));
      else resolve(new Uint8Array(readFileSync(o)));
    });
  });
}

const isRecord = (btf: Btf, id: number) => {
  const k = btf.kind(id);
  return k === Kind.Struct || k === Kind.Union;
};

/**
 * Named structs and unions whose name no other struct, union or enum definition shares (so
 * the header does not rename them), except those whose layout rests on `__builtin_va_list`:
 * bpftool leaves that to the compiler, and clang's BPF target makes it a pointer where x86-64
 * has a 24-byte array.
 */
function uniquelyNamedRecords(btf: Btf): number[] {
  const tagCount = new Map<string, number>();
  for (let id = 1; id < btf.endId; id++) {
    const k = btf.kind(id);
    const defines = k === Kind.Struct || k === Kind.Union || k === Kind.Enum64 || (k === Kind.Enum && btf.vlen(id) > 0);
    if (!defines || btf.nameOffset(id) === 0) continue;
    const name = btf.name(id);
    tagCount.set(name, (tagCount.get(name) ?? 0) + 1);
  }
  const vaList = new Map<number, boolean>();
  const embedsVaList = (id: number): boolean => {
    const known = vaList.get(id);
    if (known !== undefined) return known;
    vaList.set(id, false);
    let result = false;
    const k = btf.kind(id);
    if (k === Kind.Typedef && btf.name(id) === '__builtin_va_list') result = true;
    else if (k === Kind.Typedef || k === Kind.Const || k === Kind.Volatile || k === Kind.Restrict || k === Kind.TypeTag) result = embedsVaList(btf.sizeOrType(id));
    else if (k === Kind.Array) {
      const t = btf.type(id);
      result = t.kind === Kind.Array && embedsVaList(t.type);
    } else if (k === Kind.Struct || k === Kind.Union) {
      result = (btf.type(id) as CompositeType).members.some((m) => embedsVaList(m.type));
    }
    vaList.set(id, result);
    return result;
  };
  const ids: number[] = [];
  for (let id = 1; id < btf.endId; id++) {
    if (!isRecord(btf, id) || btf.nameOffset(id) === 0) continue;
    if (tagCount.get(btf.name(id)) !== 1 || embedsVaList(id)) continue;
    ids.push(id);
  }
  return ids;
}

const layout = (t: CompositeType) => ({
  size: t.size,
  members: t.members.map((m) => `${m.name}@${m.bitOffset}${m.bitfieldSize ? `:${m.bitfieldSize}` : ''}`),
});

/** Compiles the header with a variable of each chosen record and compares the layouts clang saw. */
async function checkLayouts(btf: Btf, label: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-cdump-cc-'));
  try {
    writeFileSync(join(dir, 'vmlinux.h'), header(btf));
    const ids = uniquelyNamedRecords(btf);
    let source = '#include "vmlinux.h"\n\n';
    for (const id of ids) source += `${btf.kind(id) === Kind.Struct ? 'struct' : 'union'} ${btf.name(id)} v${id};\n`;
    const object = loadBtf(await compile(dir, 'all', source));
    const problems: string[] = [];
    for (const id of ids) {
      const want = btf.type(id) as CompositeType;
      const found = object.find(want.name, want.kind);
      if (found.length !== 1) {
        problems.push(`${want.name}: ${found.length} types of that name in the object`);
        continue;
      }
      const got = object.type(found[0]!) as CompositeType;
      try {
        assert.deepEqual(layout(got), layout(want));
      } catch {
        problems.push(`${want.name}: source ${JSON.stringify(layout(want))}\n    clang  ${JSON.stringify(layout(got))}`);
      }
    }
    assert.deepEqual(problems.slice(0, 10), [], `${label}: ${problems.length} of ${ids.length} records differ`);
    return ids.length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the 6.18 and Debian 6.1 headers compile, and clang lays out every uniquely named struct and union as the BTF says', async (t) => {
  if (clangMissing) return loudSkip(t, 'clang is not installed');
  // One clang run per BTF, both at once.
  const [n618, n61] = await Promise.all([
    checkLayouts(Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz')), '6.18'),
    checkLayouts(Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz')), 'Debian 6.1'),
  ]);
  assert.ok(n618 > 5000 && n61 > 5000, `compared ${n618} and ${n61} records`);
});

test('headers of chosen roots compile on their own, with the roots complete', async (t) => {
  if (clangMissing) return loudSkip(t, 'clang is not installed');
  const btf = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
  const one = (name: string, kind: Kind) => btf.findOne(name, kind);
  const sets: { name: string; roots: number[]; uses: string }[] = [
    { name: 'task_sk', roots: [one('task_struct', Kind.Struct), one('sk_buff', Kind.Struct)], uses: 'struct task_struct a; struct sk_buff b;' },
    { name: 'prog', roots: [one('bpf_prog', Kind.Struct), one('bpf_attr', Kind.Union)], uses: 'struct bpf_prog a; union bpf_attr b;' },
    { name: 'mixed', roots: [one('bpf_func_id', Kind.Enum), one('u64', Kind.Typedef), one('file_operations', Kind.Struct)], uses: 'enum bpf_func_id a; u64 b; struct file_operations c;' },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-cdump-roots-'));
  try {
    await Promise.all(sets.map(async (set) => {
      const h = `${set.name}.h`;
      writeFileSync(join(dir, h), header(btf, { roots: set.roots }));
      const object = loadBtf(await compile(dir, set.name, `#include "${h}"\n\n${set.uses}\n`));
      for (const id of set.roots) {
        if (!isRecord(btf, id)) continue;
        const want = btf.type(id) as CompositeType;
        const got = object.type(object.findOne(want.name, want.kind)) as CompositeType;
        assert.deepEqual(layout(got), layout(want), `${set.name}: ${want.name}`);
      }
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
