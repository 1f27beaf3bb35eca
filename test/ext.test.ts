/**
 * `.BTF.ext` (src/ext/btf-ext.ts) on clang's objects (test/fixtures/bpf, test/fixtures/bpf-insn):
 * byte-for-byte round trips, big-endian twins giving the records of their little-endian
 * twins, func_info checked against the symbol table, line_info against the DWARF line table
 * (llvm-dwarfdump), and malformed sections accepted or refused as libbpf's btf_ext__new does
 * (test/helpers/btf_ext_new.c), each refusal a BtfError naming the field and byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBtf } from '../src/btf/source.js';
import { Kind } from '../src/format/kinds.js';
import { parseElf, sectionData, SectionFlag } from '../src/elf/elf.js';
import { readSymbols, SymbolType } from '../src/elf/symbols.js';
import { BtfError, isBtfError } from '../src/errors.js';
import { encodeBtfExt, parseBtfExt, type BtfExt } from '../src/ext/btf-ext.js';
import { buildCHelper, scratchDir } from './helpers/cc.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const OBJECTS = [
  ...readdirSync(join(FIXTURES, 'bpf')).filter((f) => f.endsWith('.o.gz')).map((f) => `bpf/${f}`),
  ...readdirSync(join(FIXTURES, 'bpf-insn')).filter((f) => f.endsWith('.o.gz')).map((f) => `bpf-insn/${f}`),
].sort();

function load(rel: string): { bytes: Uint8Array; raw: Uint8Array; ext: BtfExt; btf: ReturnType<typeof loadBtf> } {
  const bytes = fixture(rel);
  const elf = parseElf(bytes);
  const btf = loadBtf(bytes, { file: rel });
  const raw = sectionData(elf, '.BTF.ext');
  assert.ok(raw, `${rel} has no .BTF.ext`);
  return { bytes, raw, ext: parseBtfExt(raw, btf, { littleEndian: elf.littleEndian, file: rel }), btf };
}

test('the fixtures hold every kind of .BTF.ext record in both byte orders', () => {
  assert.ok(OBJECTS.length >= 20, `only ${OBJECTS.length} objects`);
  const core = load('bpf/core.clang19.bpfeb.o.gz').ext;
  assert.equal(core.littleEndian, false);
  // The source's CO-RE reads: guards the comparisons below against passing on empty infos.
  assert.ok(core.coreRelo.blocks.length > 0 && core.funcInfo.blocks.length > 0 && core.lineInfo.blocks.length > 0);
});

for (const rel of OBJECTS) {
  test(`${rel}: .BTF.ext decodes and re-encodes to clang's bytes`, () => {
    const { raw, ext } = load(rel);
    assert.equal(ext.header.hdrLen, 32);
    assert.ok(Buffer.from(encodeBtfExt(ext)).equals(Buffer.from(raw)), 're-encoded .BTF.ext differs');
    // The other byte order decodes to the same records.
    const swapped = encodeBtfExt(ext, { littleEndian: !ext.littleEndian });
    const { btf } = load(rel);
    const back = parseBtfExt(swapped, btf);
    assert.equal(back.littleEndian, !ext.littleEndian);
    assert.deepEqual({ ...back, littleEndian: ext.littleEndian }, ext);
  });

  test(`${rel}: func_info names every function of its section, at its symbol's offset`, () => {
    // The symbol table is written by clang independently of .BTF.ext.
    const { bytes, ext, btf } = load(rel);
    const elf = parseElf(bytes);
    const expected: string[] = [];
    for (const s of readSymbols(elf)) {
      const sec = elf.sections[s.section];
      if (s.type === SymbolType.Func && sec && sec.flags & SectionFlag.Exec) expected.push(`${sec.name} ${s.value} ${s.name}`);
    }
    const actual: string[] = [];
    for (const b of ext.funcInfo.blocks) {
      for (const r of b.records) {
        assert.equal(btf.kind(r.typeId), Kind.Func, `func_info type ${r.typeId} is not a FUNC`);
        actual.push(`${b.section} ${r.insnOffset} ${btf.name(r.typeId)}`);
      }
    }
    assert.deepEqual(actual.sort(), expected.sort());
  });
}

/** The (section-relative address, line, column) rows of every DWARF line sequence, from llvm-dwarfdump. */
function dwarfLineRows(file: string): Set<string> | string {
  const r = spawnSync('llvm-dwarfdump-19', ['--debug-line', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) return `llvm-dwarfdump-19 did not run: ${r.error?.message ?? r.stderr}`;
  const rows = new Set<string>();
  for (const m of r.stdout.matchAll(/^0x([0-9a-f]{16})\s+(\d+)\s+(\d+)\s/gm)) rows.add(`${parseInt(m[1]!, 16)} ${m[2]} ${m[3]}`);
  return rows;
}

test('line_info: every record is a row of the DWARF line table (llvm-dwarfdump)', (t) => {
  let compared = 0;
  for (const rel of OBJECTS) {
    const { bytes, ext } = load(rel);
    const path = join(scratchDir(), rel.replace('/', '_').replace(/\.gz$/, ''));
    writeFileSync(path, bytes);
    const rows = dwarfLineRows(path);
    if (typeof rows === 'string') return loudSkip(t, rows);
    const starts = new Set(ext.funcInfo.blocks.flatMap((b) => b.records.map((r) => `${b.section} ${r.insnOffset}`)));
    const addresses = new Set([...rows].map((row) => row.split(' ')[0]));
    for (const b of ext.lineInfo.blocks) {
      for (const r of b.records) {
        if (starts.has(`${b.section} ${r.insnOffset}`) && r.column === 0) {
          // A function's first record gives the line of its declaration (clang's DISubprogram),
          // where DWARF's line table has the opening brace: only the address must be there.
          assert.ok(addresses.has(String(r.insnOffset)), `${rel} ${b.section}: no DWARF row at function start ${r.insnOffset}`);
          continue;
        }
        // Code with no source line (line 0): clang may attach it where DWARF's sequence for this
        // section has none, and the rows here are not told apart by section.
        if (r.line === 0) continue;
        assert.ok(rows.has(`${r.insnOffset} ${r.line} ${r.column}`), `${rel} ${b.section}: line_info at byte ${r.insnOffset} (line ${r.line}, column ${r.column}) is not in the DWARF line table`);
        assert.match(r.fileName, /^\.\/test\/bpf(-insn)?\/\w+\.(bpf\.c|h)$/);
        compared++;
      }
    }
  }
  assert.ok(compared > 1000, `only ${compared} line_info records compared`);
});

test('big-endian objects carry the CO-RE and func_info records of their little-endian twins', () => {
  let twins = 0;
  for (const rel of OBJECTS.filter((f) => f.includes('.bpfel.'))) {
    const el = load(rel).ext;
    const eb = load(rel.replace('.bpfel.', '.bpfeb.')).ext;
    // Byte swaps move instructions, and clang reads some bitfields with one more record (a
    // byte_sz) on big-endian: what is relocated must agree, not where or how often.
    const accesses = (x: BtfExt) => new Set(x.coreRelo.blocks.flatMap((b) => b.records.map((r) => `${b.section} ${r.typeId} ${r.access} ${r.kind}`)));
    assert.equal(eb.coreRelo.recordSize, el.coreRelo.recordSize, `${rel}: CO-RE record size`);
    assert.deepEqual(accesses(eb), accesses(el), `${rel}: CO-RE records differ between byte orders`);
    // Code size may differ (byte swaps), so functions may start elsewhere; which FUNC each one is may not.
    const funcs = (x: BtfExt) => x.funcInfo.blocks.map((b) => [b.section, b.records.map((r) => r.typeId)]);
    assert.deepEqual(funcs(eb), funcs(el), `${rel}: func_info differs between byte orders`);
    twins++;
  }
  assert.ok(twins >= 10);
});

test('records larger than the fields known keep their stride (libbpf accepts such sections too)', () => {
  const { ext, btf } = load('bpf/core.clang19.bpfel.o.gz');
  const wide: BtfExt = {
    ...ext,
    funcInfo: { ...ext.funcInfo, recordSize: 16 },
    lineInfo: { ...ext.lineInfo, recordSize: 24 },
    coreRelo: { ...ext.coreRelo, recordSize: 20 },
  };
  const bytes = encodeBtfExt(wide);
  const back = parseBtfExt(bytes, btf);
  assert.equal(back.lineInfo.recordSize, 24);
  assert.deepEqual(back.coreRelo.blocks, ext.coreRelo.blocks);
  assert.deepEqual(back.lineInfo.blocks, ext.lineInfo.blocks);
  assert.deepEqual(back.funcInfo.blocks, ext.funcInfo.blocks);
});

/** A named change to a copy of a little-endian section. */
type Mutation = [name: string, change: (b: Uint8Array, dv: DataView, ext: BtfExt) => Uint8Array];

function mutations(): Mutation[] {
  const hdr = 32;
  const set = (at: number, v: number) => (b: Uint8Array, dv: DataView) => { dv.setUint32(at, v >>> 0, true); return b; };
  const setInfo = (which: 'func' | 'line' | 'core', rel: number, v: number) => (b: Uint8Array, dv: DataView) => {
    const off = dv.getUint32(which === 'func' ? 8 : which === 'line' ? 16 : 24, true);
    dv.setUint32(hdr + off + rel, v >>> 0, true);
    return b;
  };
  return [
    ['unchanged', (b) => b],
    ['cut to 7 bytes', (b) => b.subarray(0, 7)],
    ['cut to 20 bytes', (b) => b.subarray(0, 20)],
    ['cut to 31 bytes', (b) => b.subarray(0, 31)],
    ['last byte cut', (b) => b.subarray(0, b.length - 1)],
    ['last record cut', (b) => b.subarray(0, b.length - 16)],
    ['magic 0x1234', (b, dv) => { dv.setUint16(0, 0x1234, true); return b; }],
    ['version 2', (b) => { b[2] = 2; return b; }],
    ['flags 1', (b) => { b[3] = 1; return b; }],
    ['hdr_len 16', set(4, 16)],
    ['hdr_len 8', set(4, 8)],
    ['hdr_len past the end', (b, dv) => { dv.setUint32(4, b.length + 4, true); return b; }],
    ['func_info_off 2', set(8, 2)],
    ['func_info_off 0xfffffff0', set(8, 0xfffffff0)],
    ['func_info_len 0xffffffff', set(12, 0xffffffff)],
    ['func_info_len 2', set(12, 2)],
    ['line_info_off past the end', (b, dv) => { dv.setUint32(16, b.length, true); return b; }],
    ['line_info_len 3', set(20, 3)],
    ['core_relo_len 2', set(28, 2)],
    ['core_relo_off + 4', (b, dv) => { dv.setUint32(24, dv.getUint32(24, true) + 4, true); return b; }],
    ['func_info record size 0', setInfo('func', 0, 0)],
    ['func_info record size 4', setInfo('func', 0, 4)],
    ['func_info record size 6', setInfo('func', 0, 6)],
    ['func_info record size 7', setInfo('func', 0, 7)],
    ['func_info record size 12', setInfo('func', 0, 12)],
    ['line_info record size 12', setInfo('line', 0, 12)],
    ['line_info record size 20', setInfo('line', 0, 20)],
    ['core_relo record size 8', setInfo('core', 0, 8)],
    ['core_relo record size 18', setInfo('core', 0, 18)],
    ['core_relo record size 0', setInfo('core', 0, 0)],
    ['func_info num_info 0', setInfo('func', 8, 0)],
    ['func_info num_info 2', setInfo('func', 8, 2)],
    ['func_info num_info 0xffffffff', setInfo('func', 8, 0xffffffff)],
    ['line_info num_info 1000', setInfo('line', 8, 1000)],
    ['line_info num_info 1', setInfo('line', 8, 1)],
    ['core_relo num_info 0x10000001', setInfo('core', 8, 0x10000001)],
    ['core_relo num_info 18', setInfo('core', 8, 18)],
  ];
}

test('malformed sections: refused exactly when libbpf (btf_ext__new) refuses them', (t) => {
  const helper = buildCHelper('btf_ext_new', { libbpf: true });
  if ('skipped' in helper) return loudSkip(t, helper.skipped);
  const { raw, btf, ext } = load('bpf/core.clang19.bpfel.o.gz');
  const cases = mutations();
  const files: string[] = [];
  const ours: string[] = [];
  cases.forEach(([name, change], i) => {
    const copy = new Uint8Array(raw);
    const bytes = change(copy, new DataView(copy.buffer), ext);
    const path = join(scratchDir(), `ext-mutation-${i}.bin`);
    writeFileSync(path, bytes);
    files.push(path);
    try {
      parseBtfExt(bytes, btf);
      ours.push('ok');
    } catch (e) {
      assert.ok(isBtfError(e), `${name}: threw ${String(e)}`);
      // btf_ext__new does not look at strings; a record read at the wrong stride may name one that does not exist.
      ours.push(e.code === 'bad-string-offset' ? 'ok' : `error (${e.code}: ${e.message})`);
    }
  });
  const r = spawnSync(helper.path, files, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const theirs = r.stdout.trim().split('\n');
  assert.equal(theirs.length, cases.length);
  const disagreements = cases.flatMap(([name], i) => {
    const libbpfOk = theirs[i] === 'ok';
    return libbpfOk === (ours[i] === 'ok') ? [] : [`${name}: libbpf ${theirs[i]}, btfkit ${ours[i]}`];
  });
  assert.deepEqual(disagreements, []);
  // Both refuse a good share of the cases; otherwise the comparison would say little.
  assert.ok(theirs.filter((x) => x !== 'ok').length >= 20);
});

/** The BtfError parseBtfExt throws for these bytes. */
function errorOf(bytes: Uint8Array, strings = load('bpf/core.clang19.bpfel.o.gz').btf, littleEndian?: boolean): BtfError {
  try {
    parseBtfExt(bytes, strings, { littleEndian, file: 'x.o' });
  } catch (e) {
    assert.ok(e instanceof BtfError, `not a BtfError: ${String(e)}`);
    return e;
  }
  assert.fail('no error');
}

test('each malformation is a BtfError naming the field and the byte', () => {
  const { raw } = load('bpf/core.clang19.bpfel.o.gz');
  const cases = new Map(mutations());
  const run = (name: string) => {
    const copy = new Uint8Array(raw);
    return errorOf(cases.get(name)!(copy, new DataView(copy.buffer), undefined as never));
  };
  const expect = (name: string, code: string, offset: number, text: RegExp) => {
    const e = run(name);
    assert.equal(e.code, code, `${name}: ${e.message}`);
    assert.equal(e.offset, offset, `${name}: ${e.message}`);
    assert.equal(e.file, 'x.o');
    assert.match(e.message, text, name);
  };
  const lineStart = 32 + 20;
  const coreStart = 32 + 752;
  expect('cut to 7 bytes', 'truncated', 0, /7 bytes/);
  expect('magic 0x1234', 'bad-magic', 0, /magic is 0x1234/);
  expect('version 2', 'bad-version', 2, /version is 2/);
  expect('flags 1', 'bad-header', 3, /flags/);
  expect('hdr_len 16', 'bad-header', 4, /hdr_len is 16/);
  expect('hdr_len past the end', 'truncated', 4, /hdr_len/);
  expect('func_info_off 2', 'bad-section', 8, /func_info_off 2 is not a multiple of 4/);
  expect('func_info_off 0xfffffff0', 'truncated', 8, /func_info .* runs past the end/);
  expect('func_info_len 0xffffffff', 'truncated', 8, /func_info \(4294967295 bytes/);
  expect('line_info_len 3', 'bad-section', 20, /line_info_len is 3/);
  expect('func_info record size 0', 'bad-size', 32, /func_info record size is 0/);
  expect('func_info record size 6', 'bad-size', 32, /smaller than the 8 bytes/);
  expect('func_info record size 7', 'bad-size', 32, /smaller than the 8 bytes/);
  expect('line_info record size 12', 'bad-size', lineStart, /line_info record size is 12/);
  expect('core_relo record size 18', 'bad-size', coreStart, /core_relo record size 18 is not a multiple of 4/);
  expect('func_info num_info 0', 'bad-vlen', 32 + 8, /num_info 0/);
  expect('func_info num_info 0xffffffff', 'truncated', 32 + 8, /4294967295 records of 8 bytes/);
  expect('core_relo num_info 0x10000001', 'truncated', coreStart + 8, /268435457 records/);
  expect('last record cut', 'truncated', 24, /core_relo .* runs past the end/);

  // String offsets are checked against .BTF: a section name, and a CO-RE access string.
  const strEnd = load('bpf/core.clang19.bpfel.o.gz').btf.endStringOffset;
  const badName = new Uint8Array(raw);
  new DataView(badName.buffer).setUint32(32 + 4, strEnd + 100, true);
  let e = errorOf(badName);
  assert.equal(e.code, 'bad-string-offset');
  assert.equal(e.offset, 36);
  assert.match(e.message, /func_info sec_name_off \d+ lies outside/);
  const badAccess = new Uint8Array(raw);
  new DataView(badAccess.buffer).setUint32(coreStart + 4 + 8 + 8, strEnd, true);
  e = errorOf(badAccess);
  assert.equal(e.code, 'bad-string-offset');
  assert.equal(e.offset, coreStart + 4 + 8 + 8);
  assert.match(e.message, /access_str_off/);

  // The byte order must be the ELF's.
  e = errorOf(raw, undefined, false);
  assert.equal(e.code, 'bad-magic');
  assert.match(e.message, /little-endian but its ELF file is big-endian/);
});

test('a huge num_info is refused before anything is allocated for it', () => {
  const { raw, btf } = load('bpf/core.clang19.bpfel.o.gz');
  const copy = new Uint8Array(raw);
  new DataView(copy.buffer).setUint32(32 + 8, 0xffffffff, true);
  const before = process.memoryUsage().heapUsed;
  assert.throws(() => parseBtfExt(copy, btf), (e: unknown) => isBtfError(e) && e.code === 'truncated');
  assert.ok(process.memoryUsage().heapUsed - before < 64 << 20);
});

test('the writer refuses what it cannot encode', () => {
  const { ext } = load('bpf/core.clang19.bpfel.o.gz');
  const throwsArg = (x: BtfExt) => assert.throws(() => encodeBtfExt(x), (e: unknown) => isBtfError(e) && e.code === 'bad-argument');
  throwsArg({ ...ext, header: { ...ext.header, hdrLen: 24 } });
  throwsArg({ ...ext, lineInfo: { ...ext.lineInfo, recordSize: 10 } });
  throwsArg({ ...ext, funcInfo: { recordSize: 8, blocks: [{ section: 'x', sectionNameOffset: 1, records: [] }] } });
  const lines = ext.lineInfo.blocks[0]!;
  throwsArg({ ...ext, lineInfo: { recordSize: 16, blocks: [{ ...lines, records: [{ ...lines.records[0]!, column: 1024 }] }] } });
  // Without CO-RE records, a v1 header is written and read back.
  const v1 = encodeBtfExt({ ...ext, header: { ...ext.header, hdrLen: 24 }, coreRelo: { recordSize: 16, blocks: [] } });
  assert.equal(new DataView(v1.buffer).getUint32(4, true), 24);
  const back = parseBtfExt(v1, load('bpf/core.clang19.bpfel.o.gz').btf);
  assert.equal(back.header.coreReloOff, undefined);
  assert.deepEqual(back.lineInfo, ext.lineInfo);
});
