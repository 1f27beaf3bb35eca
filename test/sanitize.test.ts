/**
 * Sanitizing BTF for an older kernel (`sanitizeBtf`, `prepareObjectBtf`, `convert
 * --for-kernel`): the output of every release must pass `checkBtf` for that release, hold no
 * kind newer than it (the releases are stated here, independently of src/format/kernels.ts),
 * be read by bpftool and loaded by the running kernel, keep every type id, and, for a BPF
 * object, equal byte for byte what Debian's libbpf 1.1 hands the kernel for the same release
 * (test/helpers/libbpf_object_btf.c makes libbpf believe it runs on that release).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { checkBtf } from '../src/btf/check.js';
import { loadBtf } from '../src/btf/source.js';
import { prepareObjectBtf } from '../src/build/bpf-object.js';
import { BtfBuilder } from '../src/build/builder.js';
import { sanitizeBtf } from '../src/build/sanitize.js';
import { parseElf } from '../src/elf/elf.js';
import { KNOWN_LAYOUTS } from '../src/format/kinds.js';
import { BtfError } from '../src/errors.js';
import { buildCHelper, scratchDir } from './helpers/cc.js';
import { bpftoolRaw, kernelLoad } from './helpers/kernel.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

/** Every release from 4.18 to 6.18. */
const ALL_RELEASES = [
  '4.18', '4.19', '4.20',
  ...Array.from({ length: 20 }, (_, i) => `5.${i}`),
  ...Array.from({ length: 19 }, (_, i) => `6.${i}`),
];
/** The releases in which something BTF-related arrived (docs/KERNELS.md's table), and the newest. */
const TABLE_RELEASES = ['4.18', '5.0', '5.1', '5.2', '5.4', '5.6', '5.13', '5.16', '5.17', '6.0', '6.1', '6.4', '6.9', '6.15', '6.18'];

/** The release each kind arrived in, by kind number, from the kernel history. */
const KIND_SINCE: Record<number, string> = {
  1: '4.18', 2: '4.18', 3: '4.18', 4: '4.18', 5: '4.18', 6: '4.18', 7: '4.18', 8: '4.18', 9: '4.18', 10: '4.18', 11: '4.18',
  12: '5.0', 13: '5.0', 14: '5.2', 15: '5.2', 16: '5.13', 17: '5.16', 18: '5.17', 19: '6.0',
};

function atLeast(version: string, since: string): boolean {
  const [a, b] = version.split('.').map(Number);
  const [c, d] = since.split('.').map(Number);
  return a! > c! || (a === c && b! >= d!);
}

const OBJECTS = ['types', 'maps_globals', 'core'].map((name) => `bpf/${name}.clang19.bpfel.o.gz`);
const LAYOUT_VMLINUX = 'golden/running-6.18/vmlinux.layout.btf.gz';
const DEBIAN_VMLINUX = 'golden/debian-6.1.0-50-cloud/vmlinux.btf.gz';

const cache = new Map<string, Btf>();
/** The BTF to sanitize: an object's after libbpf's open-time fix-ups, a raw blob as it is. */
function input(rel: string): Btf {
  let btf = cache.get(rel);
  if (!btf) {
    const bytes = fixture(rel);
    btf = rel.endsWith('.o.gz') ? Btf.parse(prepareObjectBtf(loadBtf(bytes), parseElf(bytes))) : Btf.parse(bytes);
    cache.set(rel, btf);
  }
  return btf;
}

function sanitized(rel: string, version: string): Btf {
  return Btf.parse(sanitizeBtf(input(rel), { forKernel: version }).bytes);
}

function problems(btf: Btf, version: string): string[] {
  return checkBtf(btf, { kernel: true, kernelVersion: version }).map((e) => e.message);
}

describe('sanitize(x) passes check --kernel-version for that release', () => {
  for (const rel of OBJECTS) {
    test(`${rel}, every release from 4.18 to 6.18`, () => {
      for (const v of ALL_RELEASES) assert.deepEqual(problems(sanitized(rel, v), v), [], `${rel} for ${v}`);
    });
  }
  for (const rel of [LAYOUT_VMLINUX, DEBIAN_VMLINUX]) {
    test(`${rel}, every release of the table`, () => {
      for (const v of TABLE_RELEASES) assert.deepEqual(problems(sanitized(rel, v), v).slice(0, 5), [], `${rel} for ${v}`);
    });
  }
});

test('check --kernel-version refuses the kinds the release lacks in the unsanitized inputs', () => {
  const kinds = (errors: BtfError[]) => new Set(errors.filter((e) => e.code === 'unsupported').map((e) => /(\w+) arrived in/.exec(e.message)?.[1]).filter(Boolean));
  const obj = checkBtf(input(OBJECTS[0]!), { kernelVersion: '5.10', maxErrors: 10_000 });
  assert.deepEqual([...kinds(obj)].sort(), ['DECL_TAG', 'ENUM64', 'FLOAT', 'TYPE_TAG']);
  const vmlinux = checkBtf(input(LAYOUT_VMLINUX), { kernelVersion: '5.15', maxErrors: 100_000 });
  assert.ok(vmlinux.some((e) => e.code === 'unsupported' && /layout|header/i.test(e.message)), 'the layout section is refused');
  assert.deepEqual([...kinds(vmlinux)].sort(), ['DECL_TAG', 'ENUM64', 'TYPE_TAG']);
});

/** What libbpf's bpf_object__sanitize_btf makes of each kind for a release (the kind number, or the kind unchanged). */
function expectedKind(kind: number, version: string): number {
  if (atLeast(version, KIND_SINCE[kind]!)) return kind;
  switch (kind) {
    case 12: return 8; // FUNC → TYPEDEF
    case 13: return 6; // FUNC_PROTO → ENUM
    case 14: case 17: return 1; // VAR, DECL_TAG → INT
    case 15: case 16: return 4; // DATASEC, FLOAT → STRUCT
    case 18: return 10; // TYPE_TAG → CONST
    case 19: return 5; // ENUM64 → UNION
  }
  throw new Error(`kind ${kind} has no stand-in`);
}

describe('oracles: 6.18, 5.15 and 5.10 for a clang-19 object with tags, ENUM64 and FLOAT, and for the 6.18 BTF with a layout section', () => {
  for (const rel of [OBJECTS[0]!, LAYOUT_VMLINUX]) {
    test(rel, (t: TestContext) => {
      const original = input(rel);
      const originalKinds = new Set<number>();
      for (let id = 1; id < original.endId; id++) originalKinds.add(original.kind(id));
      for (const k of [16, 17, 18, 19]) assert.ok(originalKinds.has(k), `${rel} holds kind ${k}`);
      const refused = kernelLoad(rel === LAYOUT_VMLINUX ? original.bytes : loadBtf(fixture(rel)).bytes);
      if ('skipped' in refused) return loudSkip(t, refused.skipped);
      assert.equal(refused.ok, false, 'the running kernel refuses the original');
      for (const v of ['6.18', '5.15', '5.10']) {
        const out = sanitized(rel, v);
        assert.equal(out.header.hdrLen, 24);
        assert.equal(out.layout, undefined);
        for (let id = 1; id < out.endId; id++) {
          const kind = out.kind(id);
          assert.ok(atLeast(v, KIND_SINCE[kind]!), `[${id}] is of kind ${kind}, newer than ${v}`);
          if (id < original.endId) assert.equal(kind, expectedKind(original.kind(id), v), `[${id}] keeps its id`);
        }
        const dump = bpftoolRaw(out.bytes);
        if ('skipped' in dump) return loudSkip(t, dump.skipped);
        assert.ok(dump.text.length > 0);
        const loaded = kernelLoad(out.bytes);
        assert.ok(!('skipped' in loaded) && loaded.ok, `the running kernel loads the ${v} output: ${'log' in loaded ? loaded.log.slice(-400) : ''}`);
      }
    });
  }
});

test('the running kernel loads the sanitized objects for every release', (t: TestContext) => {
  for (const rel of OBJECTS) {
    for (const v of ALL_RELEASES) {
      const verdict = kernelLoad(sanitized(rel, v).bytes);
      if ('skipped' in verdict) return loudSkip(t, verdict.skipped);
      assert.ok(verdict.ok, `${rel} for ${v}: ${verdict.log.slice(-400)}`);
    }
  }
});

describe('libbpf 1.1 as oracle: the BTF it loads for an object, per release', () => {
  const dir = mkdtempSync(join(scratchDir(), 'libbpf-'));
  // core.bpf.c is left out: libbpf 1.1 refuses its bpf_cgroup_from_id kfunc extern on this kernel before it loads any BTF.
  for (const name of ['types', 'maps_globals']) {
    // Before 5.2 libbpf renames DATASECs in place where btfkit adds the new names, and before 5.4
    // it leaves what those kernels refuse (types.bpf.c's 1-byte enum, __int128): compared from 5.4 on.
    test(name, (t: TestContext) => {
      const tool = buildCHelper('libbpf_object_btf', { libbpf: true });
      if ('skipped' in tool) return loudSkip(t, tool.skipped);
      const rel = `bpf/${name}.clang19.bpfel.o.gz`;
      const obj = join(dir, `${name}.o`);
      writeFileSync(obj, fixture(rel));
      for (const v of ['running', ...ALL_RELEASES.filter((r) => atLeast(r, '5.4'))]) {
        const out = join(dir, `${name}.${v}.btf`);
        const run: { status: number | null; stderr: string } = spawnSync(tool.path, [obj, out, ...(v === 'running' ? [] : [v])], { encoding: 'utf8' });
        if (run.status === 3) {
          loudSkip(t, `bpf() is not available: ${run.stderr.trim()}`);
          return;
        }
        assert.equal(run.status, 0, `libbpf for ${v}: ${run.stderr}`);
        const ours = sanitizeBtf(input(rel), { forKernel: v === 'running' ? '6.18' : v }).bytes;
        assert.deepEqual(Buffer.from(ours), readFileSync(out), `${name} for ${v}`);
      }
    });
  }
});

describe('prepareObjectBtf', () => {
  test('DATASEC sizes are the ELF section sizes, VAR offsets the symbol values', () => {
    const bytes = fixture('bpf/maps_globals.clang19.bpfel.o.gz');
    const file = join(mkdtempSync(join(tmpdir(), 'btfkit-sanitize-')), 'o.o');
    writeFileSync(file, bytes);
    const text = spawnSync('readelf', ['-SsW', file], { encoding: 'utf8' }).stdout;
    assert.ok(text.length > 0, 'readelf reads the object');
    const sectionSize = new Map<string, number>();
    for (const m of text.matchAll(/\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)/g)) sectionSize.set(m[1]!, parseInt(m[2]!, 16));
    const symbolValue = new Map<string, number>();
    for (const m of text.matchAll(/^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+OBJECT\s+\w+\s+\w+\s+\d+\s+(\S+)$/gm)) symbolValue.set(m[2]!, parseInt(m[1]!, 16));
    const btf = input('bpf/maps_globals.clang19.bpfel.o.gz');
    let checked = 0;
    for (let id = 1; id < btf.endId; id++) {
      const t = btf.type(id);
      if (t.kind !== 15 || !('vars' in t)) continue;
      const name = btf.name(id);
      if (name === '.kconfig' || name === '.ksyms') continue;
      assert.equal(btf.sizeOrType(id), sectionSize.get(name), `DATASEC '${name}' size`);
      for (const v of t.vars) {
        assert.equal(v.offset, symbolValue.get(btf.name(v.type)), `VAR '${btf.name(v.type)}' offset`);
        checked++;
      }
    }
    assert.ok(checked >= 10);
  });

  test('a .kconfig variable of a type without size is a BtfError, not a NaN offset', () => {
    const b = new BtfBuilder();
    const empty = b.addStruct('empty', 0, []);
    const v = b.addVar('CONFIG_EMPTY', empty, 2);
    b.addDatasec('.kconfig', 0, [{ type: v, offset: 0, size: 0 }]);
    assert.throws(() => prepareObjectBtf(Btf.parse(b.encode())), (e: unknown) => e instanceof BtfError && e.code === 'bad-size' && /CONFIG_EMPTY/.test(e.message));
  });

  test('raw object BTF with a DATASEC of size 0 is an error naming it', () => {
    const raw = loadBtf(fixture('bpf/types.clang19.bpfel.o.gz'));
    assert.throws(() => prepareObjectBtf(raw), (e: unknown) => e instanceof BtfError && e.code === 'bad-datasec' && /DATASEC '\.bss' has size 0.*\.o/.test(e.message));
    assert.throws(() => sanitizeBtf(raw, { forKernel: '5.10' }), (e: unknown) => e instanceof BtfError && e.code === 'bad-datasec' && /size 0/.test(e.message));
  });
});

describe('what cannot be rewritten', () => {
  test('more than 65535 members', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, 1);
    b.addStruct('wide', 4 * 70_000, Array.from({ length: 70_000 }, (_, i) => ({ name: `m${i}`, type: int, bitOffset: 32 * i })));
    assert.throws(() => sanitizeBtf(Btf.parse(b.encode()), { forKernel: '6.18' }), (e: unknown) => e instanceof BtfError && e.code === 'unsupported' && e.typeId === 2 && /70000 members/.test(e.message));
  });
  test('kinds btfkit does not know', () => {
    const b = new BtfBuilder({ layout: [...KNOWN_LAYOUTS, { infoSize: 0, elemSize: 0, flags: 0 }] });
    b.addInt('int', 4, 1);
    b.addRecord(20, 0, 0, false, 0, []);
    const blob = Btf.parse(b.encode({ layout: true }));
    assert.throws(() => sanitizeBtf(blob, { forKernel: true }), (e: unknown) => e instanceof BtfError && e.code === 'unsupported' && e.typeId === 2);
  });
});

describe('CLI: convert --for-kernel', () => {
  const cli = join(process.cwd(), 'dist', 'btfkit.cjs');
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-sanitize-cli-'));
  const run = (...args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [cli, ...args], { maxBuffer: 1 << 28 });
    return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const obj = join(dir, 'types.o');
  writeFileSync(obj, fixture('bpf/types.clang19.bpfel.o.gz'));
  const layout = join(dir, 'vmlinux.layout.btf');
  writeFileSync(layout, fixture(LAYOUT_VMLINUX));

  test('an object and a layout blob, for 5.10: the output checks clean for 5.10, the input does not', () => {
    for (const file of [obj, layout]) {
      const out = `${file}.5.10.btf`;
      const r = run('convert', file, '--for-kernel', '5.10', '-o', out);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.deepEqual(new Uint8Array(readFileSync(out)), sanitizeBtf(input(file === obj ? 'bpf/types.clang19.bpfel.o.gz' : LAYOUT_VMLINUX), { forKernel: '5.10' }).bytes);
      assert.equal(run('check', out, '--kernel-version', '5.10').code, 0);
      assert.equal(run('check', file, '--object', '--kernel-version', '5.10').code, 1);
    }
  });

  test('usage and input errors', () => {
    const r = run('convert', obj, '--for-kernel', '5.10', '--layout', '-o', join(dir, 'x'));
    assert.equal(r.code, 2);
    const raw = join(dir, 'types.raw.btf');
    writeFileSync(raw, loadBtf(fixture('bpf/types.clang19.bpfel.o.gz')).bytes);
    const e = run('convert', raw, '--for-kernel', '5.10', '-o', join(dir, 'y'));
    assert.equal(e.code, 1);
    assert.match(e.stderr, /^btfkit: error: .*DATASEC '\.bss' has size 0/);
    assert.equal(e.stderr.trimEnd().split('\n').length, 1);
  });
});
