import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BtfError } from '../src/errors.js';
import { Btf } from '../src/btf/btf.js';
import { Kind } from '../src/format/kinds.js';
import { loadBtf } from '../src/btf/source.js';
import {
  parseElf, sectionData, btfSections, elfBtfSection, elfRole, findSection, sectionBytes, ElfType, Machine, SectionType, SectionFlag,
  type ElfFile,
} from '../src/elf/elf.js';
import { readSymbols } from '../src/elf/symbols.js';
import { readRelocations, relocationSections, relocationsFor } from '../src/elf/relocations.js';
import { detectCompression, moduleNameOf } from '../src/elf/compress.js';
import { decompressModule, readMaybeCompressed } from '../src/node/compressed.js';
import { loudSkip } from './helpers/skip.js';

const work = mkdtempSync(join(tmpdir(), 'btfkit-elf-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

const C_SOURCE = `
struct point { int x; long y; char tag[3]; };
int counter = 1;
static int hidden;
__attribute__((section("license"))) char LICENSE[] = "GPL";
int touch(struct point *p) { hidden += p->x; return p->x + counter; }
`;

function have(cmd: string, args: string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

/** Compiles C_SOURCE for a clang target; undefined when clang cannot (reason in `why`). */
function compile(target: string, extra: string[] = []): Uint8Array | undefined {
  const src = join(work, 'src.c');
  writeFileSync(src, C_SOURCE);
  const out = join(work, `${target}.o`);
  const r = spawnSync('clang', ['-target', target, '-O2', '-c', src, '-o', out, ...extra], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return new Uint8Array(readFileSync(out));
}

interface ReadobjSection { Index: number; Name: { Value: string }; Type: { RawValue: number }; Flags: { RawFlags: number }; Offset: number; Size: number; Link: number; Info: number; AddressAlignment: number; EntrySize: number; Address: number }
interface ReadobjSymbol { Name: { Value: string }; Value: number; Size: number; Binding: { RawValue: number }; Type: { RawValue: number }; Section: { RawValue: number } }

/** llvm-readobj's JSON view of sections and symbols: the oracle for headers and symbol tables. */
function readobj(file: string): { sections: ReadobjSection[]; symbols: ReadobjSymbol[] } {
  const r = spawnSync('llvm-readobj', ['--elf-output-style=JSON', '--sections', '--symbols', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Record<string, { Sections: { Section: ReadobjSection }[]; Symbols: { Symbol: ReadobjSymbol }[] }>[];
  const body = Object.values(doc[0]!)[0]!;
  return { sections: body.Sections.map((s) => s.Section), symbols: body.Symbols.map((s) => s.Symbol) };
}

/** GNU readelf's relocation listing: offset, r_info (as written) and addend per entry, per section. */
function readelfRelocs(file: string): Map<string, { offset: bigint; info: bigint; addend: bigint | undefined }[]> {
  const r = spawnSync('readelf', ['-W', '-r', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, { offset: bigint; info: bigint; addend: bigint | undefined }[]>();
  let cur: { offset: bigint; info: bigint; addend: bigint | undefined }[] | undefined;
  for (const line of r.stdout.split('\n')) {
    const head = /^Relocation section '([^']+)'/.exec(line);
    if (head) {
      cur = [];
      out.set(head[1]!, cur);
      continue;
    }
    const m = /^([0-9a-f]+)\s+([0-9a-f]+)\s+\S+/.exec(line);
    if (!m || !cur) continue;
    const add = /([+-]) ([0-9a-f]+)\s*$/.exec(line);
    cur.push({ offset: BigInt('0x' + m[1]), info: BigInt('0x' + m[2]), addend: add ? (add[1] === '-' ? -1n : 1n) * BigInt('0x' + add[2]) : undefined });
  }
  return out;
}

function compareWithTools(bytes: Uint8Array, label: string): ElfFile {
  const file = join(work, `${label}.bin`);
  writeFileSync(file, bytes);
  const elf = parseElf(bytes);
  const oracle = readobj(file);
  assert.equal(elf.sections.length, oracle.sections.length, 'section count');
  for (const o of oracle.sections) {
    const s = elf.sections[o.Index]!;
    assert.deepEqual(
      { name: s.name, type: s.type, flags: s.flags, offset: s.offset, size: s.size, link: s.link, info: s.info, align: s.addralign, entsize: s.entsize, addr: s.addr },
      { name: o.Name.Value, type: o.Type.RawValue, flags: o.Flags.RawFlags, offset: o.Offset, size: o.Size, link: o.Link, info: o.Info, align: o.AddressAlignment, entsize: o.EntrySize, addr: BigInt(o.Address) },
      `${label} section ${o.Index}`,
    );
  }
  const syms = readSymbols(elf);
  assert.equal(syms.length, oracle.symbols.length, 'symbol count');
  oracle.symbols.forEach((o, i) => {
    const s = syms[i]!;
    // llvm-readobj shows a section symbol by its section's name.
    const name = s.type === 3 && s.name === '' ? elf.sections[s.section]?.name ?? '' : s.name;
    assert.deepEqual(
      { name, value: s.value, size: s.size, bind: s.bind, type: s.type, section: s.section },
      { name: o.Name.Value, value: BigInt(o.Value), size: o.Size, bind: o.Binding.RawValue, type: o.Type.RawValue, section: o.Section.RawValue },
      `${label} symbol ${i}`,
    );
  });
  const relocs = readelfRelocs(file);
  const ours = relocationSections(elf);
  assert.equal(ours.length, relocs.size, 'relocation section count');
  for (const r of ours) {
    const expected = relocs.get(r.section.name);
    assert.ok(expected, `readelf lists ${r.section.name}`);
    const entries = readRelocations(elf, r.section);
    assert.equal(entries.length, expected.length, `${r.section.name} entry count`);
    entries.forEach((e, i) => {
      const x = expected[i]!;
      const info = elf.is64 ? (BigInt(e.symbol) << 32n) | BigInt(e.type) : BigInt((e.symbol << 8) | e.type);
      assert.equal(e.offset, x.offset, `${r.section.name}[${i}] offset`);
      assert.equal(info, x.info, `${r.section.name}[${i}] info`);
      if (r.rela) assert.equal(e.addend, x.addend ?? 0n, `${r.section.name}[${i}] addend`);
    });
  }
  return elf;
}

const toolsPresent = () => have('clang') && have('llvm-readobj') && have('readelf');

for (const [target, is64, le] of [['bpf', true, true], ['bpfeb', true, false]] as const) {
  test(`BPF object (${target}): sections, symbols, relocations match llvm-readobj/readelf; .BTF and .BTF.ext found`, (t) => {
    if (!toolsPresent()) return loudSkip(t, 'clang, llvm-readobj or readelf is not installed');
    const bytes = compile(target, ['-g']);
    if (!bytes) return loudSkip(t, `clang cannot build for -target ${target}`);
    const elf = compareWithTools(bytes, target);
    assert.equal(elf.is64, is64);
    assert.equal(elf.littleEndian, le);
    assert.equal(elf.machine, Machine.Bpf);
    assert.equal(elf.type, ElfType.Rel);
    assert.equal(elfRole(elf), 'bpf-object');
    const btf = btfSections(elf);
    assert.ok(btf.has('.BTF') && btf.has('.BTF.ext'), `BTF sections: ${[...btf.keys()].join(', ')}`);
    // The BTF is in the object's byte order and describes the source's struct.
    const parsed = loadBtf(bytes);
    assert.equal(parsed.littleEndian, le);
    const point = parsed.type(parsed.findOne('point', Kind.Struct));
    assert.ok(point.kind === Kind.Struct);
    assert.deepEqual(point.members.map((m) => m.name), ['x', 'y', 'tag']);
    // CO-RE will read .BTF.ext's relocations against .text.
    assert.ok(relocationsFor(elf, '.BTF.ext').length === 1);
    assert.ok(readSymbols(elf).some((s) => s.name === 'touch' && s.type === 2));
  });
}

for (const [target, le] of [['i386-linux-gnu', true], ['powerpc-linux-gnu', false], ['mips-linux-gnu', false], ['x86_64-linux-gnu', true]] as const) {
  test(`clang ${target} object: ELF${target.startsWith('x86_64') ? '64' : '32'} ${le ? 'LSB' : 'MSB'} headers, symbols and relocations match the tools`, (t) => {
    if (!toolsPresent()) return loudSkip(t, 'clang, llvm-readobj or readelf is not installed');
    const bytes = compile(target);
    if (!bytes) return loudSkip(t, `clang cannot build for -target ${target}`);
    const elf = compareWithTools(bytes, target);
    assert.equal(elf.littleEndian, le);
    assert.equal(elf.is64, target.startsWith('x86_64'));
    assert.ok(readSymbols(elf).some((s) => s.name === 'counter'));
  });
}

/**
 * Writes a minimal relocatable ELF32 by hand: null, .shstrtab, .BTF, .strtab, .symtab,
 * .rel.BTF. Every value is chosen here, so the test knows what a reader must find.
 */
function craftElf32(btf: Uint8Array, le: boolean): Uint8Array {
  const shstr = '\0.shstrtab\0.BTF\0.strtab\0.symtab\0.rel.BTF\0';
  const name = (s: string) => shstr.indexOf(`\0${s}\0`) + 1;
  const strtab = '\0btf_sym\0';
  const align4 = (n: number) => (n + 3) & ~3;
  let off = 52;
  const shstrOff = off; off = align4(off + shstr.length);
  const btfOff = off; off = align4(off + btf.length);
  const strOff = off; off = align4(off + strtab.length);
  const symOff = off; off += 32; // null symbol + one
  const relOff = off; off += 8;
  const shoff = align4(off);
  const total = shoff + 6 * 40;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, le ? 1 : 2, 1, 0]);
  dv.setUint16(16, ElfType.Rel, le);
  dv.setUint16(18, Machine.PowerPC, le);
  dv.setUint32(20, 1, le);
  dv.setUint32(32, shoff, le);
  dv.setUint16(40, 52, le);
  dv.setUint16(46, 40, le);
  dv.setUint16(48, 6, le);
  dv.setUint16(50, 1, le);
  out.set(new TextEncoder().encode(shstr), shstrOff);
  out.set(btf, btfOff);
  out.set(new TextEncoder().encode(strtab), strOff);
  // symbol 1: btf_sym, value 8, size 4, GLOBAL OBJECT, section 2 (.BTF)
  dv.setUint32(symOff + 16, 1, le);
  dv.setUint32(symOff + 20, 8, le);
  dv.setUint32(symOff + 24, 4, le);
  out[symOff + 28] = (1 << 4) | 1;
  dv.setUint16(symOff + 30, 2, le);
  // one REL entry: offset 12, symbol 1, type 7
  dv.setUint32(relOff, 12, le);
  dv.setUint32(relOff + 4, (1 << 8) | 7, le);
  const sh = (i: number, nm: number, type: number, o: number, size: number, link = 0, info = 0, ent = 0, flags = 0) => {
    const p = shoff + i * 40;
    dv.setUint32(p, nm, le); dv.setUint32(p + 4, type, le); dv.setUint32(p + 8, flags, le);
    dv.setUint32(p + 16, o, le); dv.setUint32(p + 20, size, le); dv.setUint32(p + 24, link, le);
    dv.setUint32(p + 28, info, le); dv.setUint32(p + 32, 4, le); dv.setUint32(p + 36, ent, le);
  };
  sh(1, name('.shstrtab'), SectionType.Strtab, shstrOff, shstr.length);
  sh(2, name('.BTF'), SectionType.Progbits, btfOff, btf.length);
  sh(3, name('.strtab'), SectionType.Strtab, strOff, strtab.length);
  sh(4, name('.symtab'), SectionType.Symtab, symOff, 32, 3, 1, 16);
  sh(5, name('.rel.BTF'), SectionType.Rel, relOff, 8, 4, 2, 8, SectionFlag.InfoLink);
  return out;
}

for (const le of [true, false]) {
  test(`crafted ELF32 ${le ? 'little' : 'big'}-endian: sections, symbol, relocation and the .BTF inside`, (t) => {
    // A minimal blob in the same byte order: header and one INT 'int'.
    const blob = new Uint8Array(24 + 16 + 5);
    const dv = new DataView(blob.buffer);
    dv.setUint16(0, 0xeb9f, le); blob[2] = 1; dv.setUint32(4, 24, le);
    dv.setUint32(8, 0, le); dv.setUint32(12, 16, le); dv.setUint32(16, 16, le); dv.setUint32(20, 5, le);
    dv.setUint32(24, 1, le); dv.setUint32(28, Kind.Int << 24, le); dv.setUint32(32, 4, le); dv.setUint32(36, (1 << 24) | 32, le);
    blob.set([0, 0x69, 0x6e, 0x74, 0], 40);
    const bytes = craftElf32(blob, le);
    const elf = parseElf(bytes);
    assert.equal(elf.is64, false);
    assert.equal(elf.littleEndian, le);
    assert.deepEqual(elf.sections.map((s) => s.name), ['', '.shstrtab', '.BTF', '.strtab', '.symtab', '.rel.BTF']);
    assert.deepEqual(sectionData(elf, '.BTF'), blob);
    const syms = readSymbols(elf);
    assert.deepEqual(syms.map((s) => [s.name, s.value, s.size, s.bind, s.type, s.section]), [['', 0n, 0, 0, 0, 0], ['btf_sym', 8n, 4, 1, 1, 2]]);
    const [rel] = relocationsFor(elf, '.BTF');
    assert.ok(rel);
    assert.deepEqual(readRelocations(elf, rel.section), [{ offset: 12n, type: 7, symbol: 1, addend: 0n }]);
    const btf = loadBtf(bytes);
    assert.equal(btf.littleEndian, le);
    assert.equal(btf.name(1), 'int');
    if (have('readelf')) {
      const file = join(work, `crafted32-${le}.o`);
      writeFileSync(file, bytes);
      const r = spawnSync('readelf', ['-W', '-S', '-s', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /ELF32|\.BTF\s+PROGBITS/);
      assert.match(r.stdout, /btf_sym/);
    } else loudSkip(t, 'readelf is not installed: crafted ELF checked against its own construction only');
  });
}

/** A deterministic PRNG so fuzz failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

function exerciseAll(bytes: Uint8Array): void {
  const elf = parseElf(bytes);
  for (const s of elf.sections) sectionBytes(elf, s);
  btfSections(elf);
  readSymbols(elf);
  for (const r of relocationSections(elf)) readRelocations(elf, r.section);
  elfRole(elf);
}

test('malformed ELF: truncations and corrupted headers end in BtfError, never another exception', (t) => {
  let bytes = have('clang') ? compile('bpf', ['-g']) : undefined;
  if (!bytes) {
    loudSkip(t, 'clang is not available: fuzzing the crafted ELF32 only');
  }
  const seeds: Uint8Array[] = [craftElf32(new Uint8Array([0x9f, 0xeb, 1, 0]), true), craftElf32(new Uint8Array(8), false)];
  if (bytes) seeds.push(bytes);
  const random = rng(0xb7f);
  let errors = 0;
  let parsed = 0;
  for (const seed of seeds) {
    for (let cut = 0; cut < seed.length; cut += Math.max(1, Math.floor(seed.length / 200))) {
      try { exerciseAll(seed.subarray(0, cut)); parsed++; } catch (e) {
        assert.ok(e instanceof BtfError, `truncated at ${cut}: ${String(e)}`);
        errors++;
      }
    }
    for (let round = 0; round < 1500; round++) {
      const copy = seed.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) {
        // Most damage in the headers, where the reader's trust starts.
        const headerBias = random() < 0.6;
        const shoff = seed.length - 40 * 6;
        const at = headerBias ? Math.floor(random() * 64) : random() < 0.5 ? Math.max(0, shoff) + Math.floor(random() * 240) : Math.floor(random() * copy.length);
        if (at < copy.length) copy[at] = Math.floor(random() * 256);
      }
      try { exerciseAll(copy); parsed++; } catch (e) {
        assert.ok(e instanceof BtfError, `round ${round}: ${String(e)}`);
        assert.equal(e.code, e.code === 'no-btf' ? 'no-btf' : 'bad-elf');
        errors++;
      }
    }
  }
  assert.ok(errors > 100 && parsed > 100, `both outcomes seen (errors ${errors}, parsed ${parsed})`);
});

test('specific ELF defects name what is wrong', () => {
  const good = craftElf32(new Uint8Array(8), true);
  const expectBad = (mutate: (b: Uint8Array, dv: DataView) => void, pattern: RegExp) => {
    const b = good.slice();
    mutate(b, new DataView(b.buffer));
    assert.throws(() => exerciseAll(b), (e: unknown) => e instanceof BtfError && e.code === 'bad-elf' && pattern.test(e.message));
  };
  const shoff = new DataView(good.buffer).getUint32(32, true);
  expectBad((b) => { b[4] = 3; }, /unknown ELF class 3/);
  expectBad((b) => { b[5] = 0; }, /data encoding/);
  expectBad((_, dv) => dv.setUint32(32, 0x7fffff00, true), /past the end/);
  expectBad((_, dv) => dv.setUint16(48, 0xfff0, true), /section headers .* run past the end/);
  expectBad((_, dv) => dv.setUint16(50, 40, true), /name table index 40 is out of range/);
  expectBad((_, dv) => dv.setUint32(shoff + 2 * 40 + 20, 0x10000000, true), /section 2 contents .* past the end/);
  expectBad((_, dv) => dv.setUint32(shoff + 4 * 40 + 24, 9, true), /not a string table/);
  expectBad((_, dv) => dv.setUint32(shoff + 4 * 40 + 20, 20, true), /not a multiple/);
  expectBad((_, dv) => dv.setUint32(shoff + 2 * 40, 4000, true), /outside its string table/);
  assert.throws(() => parseElf(new Uint8Array([1, 2, 3])), (e: unknown) => e instanceof BtfError && /not an ELF/.test(e.message));
  // Section 2 renamed to '.strtab': the file then has no .BTF.
  const noBtf = good.slice();
  new DataView(noBtf.buffer).setUint32(shoff + 2 * 40, 16, true);
  assert.equal(parseElf(noBtf).sections[2]!.name, '.strtab');
  assert.throws(() => elfBtfSection(noBtf), (e: unknown) => e instanceof BtfError && e.code === 'no-btf');
});

test('SHF_COMPRESSED sections are refused rather than read as garbage', () => {
  const b = craftElf32(new Uint8Array(8), true);
  const dv = new DataView(b.buffer);
  const shoff = dv.getUint32(32, true);
  dv.setUint32(shoff + 2 * 40 + 8, SectionFlag.Compressed, true);
  const elf = parseElf(b);
  assert.throws(() => sectionBytes(elf, findSection(elf, '.BTF')!), /compressed \(SHF_COMPRESSED\)/);
});

test('module and kernel image roles; module names as the kernel spells them', () => {
  const b = craftElf32(new Uint8Array(8), true);
  assert.equal(elfRole(parseElf(b)), 'other');
  assert.equal(moduleNameOf('/lib/modules/6.1.0/kernel/sound/snd-hda-intel.ko.zst'), 'snd_hda_intel');
  assert.equal(moduleNameOf('xfs.ko'), 'xfs');
  assert.equal(moduleNameOf('nf_tables.btf'), 'nf_tables');
});

test('compressed modules (.ko.gz, .ko.xz, .ko.zst) read transparently; corrupt data is a BtfError', (t) => {
  const plain = craftElf32(new Uint8Array(8), false);
  const src = join(work, 'm.ko');
  writeFileSync(src, plain);
  writeFileSync(`${src}.gz`, gzipSync(plain));
  assert.equal(detectCompression(gzipSync(plain)), 'gzip');
  assert.deepEqual(readMaybeCompressed(`${src}.gz`), plain);
  assert.deepEqual(readMaybeCompressed(src), plain);
  for (const [tool, ext, kind] of [['xz', 'xz', 'xz'], ['zstd', 'zst', 'zstd']] as const) {
    if (!have(tool)) {
      loudSkip(t, `${tool} is not installed: .ko.${ext} not exercised`);
      continue;
    }
    const r = spawnSync(tool, ['-q', '-k', '-f', src], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const packed = new Uint8Array(readFileSync(`${src}.${ext}`));
    assert.equal(detectCompression(packed), kind);
    const unpacked = readMaybeCompressed(`${src}.${ext}`);
    assert.deepEqual(unpacked, plain);
    assert.equal(parseElf(unpacked).sections.length, 6);
    const broken = packed.slice();
    broken.fill(0x55, 12);
    assert.throws(() => decompressModule(broken, kind, `${src}.${ext}`), (e: unknown) => e instanceof BtfError && e.file === `${src}.${ext}`);
  }
  const gz = gzipSync(plain);
  assert.throws(() => decompressModule(gz.subarray(0, gz.length - 9), 'gzip'), (e: unknown) => e instanceof BtfError);
  assert.throws(() => decompressModule(gzipSync(new Uint8Array(4096)), 'gzip', undefined, 100), (e: unknown) => e instanceof BtfError);
});

test('a real module (.ko from the data set, when present) yields .BTF identical to what objcopy extracts', (t) => {
  const ko = process.env.BTFKIT_DATA ? join(process.env.BTFKIT_DATA) : join(process.cwd(), 'data');
  const r = spawnSync('sh', ['-c', `ls ${ko}/*/modules/net/key/af_key.ko 2>/dev/null | head -1`], { encoding: 'utf8' });
  const file = r.stdout.trim();
  if (!file) return loudSkip(t, `no af_key.ko under ${ko} (run tools/fetch-debian-kernel.sh)`);
  if (!have('objcopy')) return loudSkip(t, 'objcopy is not installed');
  const out = join(work, 'af_key.btf');
  // .BTF of a module is not allocated, so `-O binary` would write nothing: dump the section instead.
  const oc = spawnSync('objcopy', [`--dump-section=.BTF=${out}`, file, join(work, 'af_key.discard.o')], { encoding: 'utf8' });
  assert.equal(oc.status, 0, oc.stderr);
  const bytes = new Uint8Array(readFileSync(file));
  const elf = parseElf(bytes);
  assert.equal(elfRole(elf), 'module');
  assert.deepEqual(sectionData(elf, '.BTF'), new Uint8Array(readFileSync(out)));
  assert.ok(Btf.parse(sectionData(elf, '.BTF')!, { base: Btf.parse(new Uint8Array(readFileSync(join(file, '../../../../vmlinux.btf')))) }).ownTypeCount > 0);
});
