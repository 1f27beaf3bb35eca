/**
 * BPF instructions (src/bpf/insn.ts) against llvm-objdump 19's disassembly of clang's objects:
 * test/fixtures/bpf-insn (cpu v1 to v4, both byte orders; the disassembly committed beside each
 * object by tools/make-insn-fixtures.sh) and test/fixtures/bpf (disassembled here when
 * llvm-objdump-19 is installed). Every instruction's text must equal llvm-objdump's, which
 * checks opcode, registers, off and imm; and encoding gives the bytes back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeInsn, decodeInsns, encodeInsn, encodeInsns, formatInsn, InsnClass, InsnMode, InsnPatcher, InsnSize,
  isCall, isExit, isLdImm64, LD_IMM64, memAccessSize, withMemAccessSize,
} from '../src/bpf/insn.js';
import { parseElf, SectionFlag, sectionBytes, type ElfFile } from '../src/elf/elf.js';
import { isBtfError } from '../src/errors.js';
import { scratchDir } from './helpers/cc.js';
import { FIXTURES, fixture, fixtureText } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

/** llvm-objdump's text per section and slot index, branch-target symbols removed. */
function parseObjdump(text: string): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  let section: Map<number, string> | undefined;
  for (const line of text.split('\n')) {
    const head = /^Disassembly of section (.*):$/.exec(line);
    if (head) out.set(head[1]!, (section = new Map()));
    const m = /^\s+(\d+):\s+(.*?)\s*$/.exec(line);
    if (m && section) section.set(Number(m[1]), m[2]!.replace(/\s*<[^>]*>$/, ''));
  }
  return out;
}

function programSections(elf: ElfFile) {
  return elf.sections.filter((s) => s.flags & SectionFlag.Exec && s.size > 0);
}

/**
 * Compares every instruction's text with llvm-objdump's. `alu32` is llvm-objdump's text with
 * --mattr=+alu32, the only way it decodes 32-bit atomics with fetch (without it they are
 * `<unknown>` or, for fetch_add, shown as a plain add): used for those instructions alone.
 */
function compareWithObjdump(name: string, bytes: Uint8Array, plain: string, alu32?: string): number {
  const elf = parseElf(bytes);
  const theirs = parseObjdump(plain);
  const theirs32 = alu32 === undefined ? undefined : parseObjdump(alu32);
  let n = 0;
  for (const s of programSections(elf)) {
    const code = sectionBytes(elf, s);
    const insns = decodeInsns(code, elf.littleEndian);
    const lines = theirs.get(s.name);
    assert.ok(lines, `${name}: llvm-objdump has no section ${s.name}`);
    assert.equal(insns.length, lines.size, `${name} ${s.name}: instruction count`);
    for (const insn of insns) {
      const atomic32 = insn.code === (InsnClass.Stx | InsnMode.Atomic | InsnSize.W);
      const expected: string | undefined = (atomic32 ? theirs32?.get(s.name) : lines)?.get(insn.index);
      assert.equal(formatInsn(insn), expected, `${name} ${s.name} instruction ${insn.index} (${Buffer.from(code.subarray(insn.index * 8, insn.index * 8 + 8)).toString('hex')})`);
      n++;
    }
    assert.ok(Buffer.from(encodeInsns(insns, elf.littleEndian)).equals(Buffer.from(code)), `${name} ${s.name}: re-encoded instructions differ`);
  }
  return n;
}

const INSN_OBJECTS = readdirSync(join(FIXTURES, 'bpf-insn')).filter((f) => f.endsWith('.o.gz')).sort();

test('the instruction fixtures cover cpu v1 to v4 in both byte orders', () => {
  for (const part of ['.v1.', '.v3.', '.v4.', '.bpfel.', '.bpfeb.', 'clang14', 'clang19']) {
    assert.ok(INSN_OBJECTS.some((f) => f.includes(part)), `no instruction fixture with ${part}`);
  }
});

for (const obj of INSN_OBJECTS) {
  test(`${obj}: every instruction reads as llvm-objdump 19 reads it, and encodes back`, () => {
    const stem = `bpf-insn/${obj.slice(0, -3)}`;
    const n = compareWithObjdump(obj, fixture(`bpf-insn/${obj}`), fixtureText(`${stem}.objdump.txt.gz`), fixtureText(`${stem}.objdump-alu32.txt.gz`));
    assert.ok(n > 100);
  });
}

test('the BPF fixtures read as llvm-objdump 19 reads them (run here)', (t) => {
  const objects = readdirSync(join(FIXTURES, 'bpf')).filter((f) => f.endsWith('.o.gz'));
  for (const obj of objects) {
    const bytes = fixture(`bpf/${obj}`);
    const path = join(scratchDir(), obj.slice(0, -3));
    writeFileSync(path, bytes);
    const r = spawnSync('llvm-objdump-19', ['-d', '--no-show-raw-insn', path], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return loudSkip(t, `llvm-objdump-19 did not run: ${r.error?.message ?? r.stderr}`);
    compareWithObjdump(obj, bytes, r.stdout);
  }
});

test('the register byte: dst is the low nibble in bpfel, the high nibble in bpfeb', () => {
  // r3 = *(u32 *)(r7 + 0x10): opcode 0x61, dst 3, src 7.
  const el = Uint8Array.of(0x61, 0x73, 0x10, 0x00, 0, 0, 0, 0);
  const eb = Uint8Array.of(0x61, 0x37, 0x00, 0x10, 0, 0, 0, 0);
  for (const [bytes, le] of [[el, true], [eb, false]] as const) {
    const insn = decodeInsn(bytes, 0, le);
    assert.deepEqual(insn, { code: 0x61, dst: 3, src: 7, off: 16, imm: 0 });
    assert.equal(formatInsn(insn), 'r3 = *(u32 *)(r7 + 0x10)');
    assert.deepEqual(encodeInsn(insn, le), bytes);
  }
});

test('classification helpers', () => {
  const ld = decodeInsns(Uint8Array.of(0x18, 0x01, 0, 0, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff), true)[0]!;
  assert.ok(isLdImm64(ld));
  assert.equal(ld.imm64, 0xffffffff12345678n);
  assert.equal(formatInsn(ld), 'r1 = -0xedcba988 ll');
  assert.ok(isCall({ code: 0x85, dst: 0, src: 0, off: 0, imm: 1 }));
  assert.ok(isExit({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }));
  assert.equal(memAccessSize(0x61), 4);
  assert.equal(memAccessSize(0x79), 8);
  assert.equal(memAccessSize(0x07), undefined);
  assert.equal(withMemAccessSize(0x79, 2), 0x69);
  assert.throws(() => withMemAccessSize(0x07, 4), (e: unknown) => isBtfError(e) && e.code === 'bad-argument');
  assert.throws(() => withMemAccessSize(0x61, 3), (e: unknown) => isBtfError(e) && e.code === 'bad-argument');
  assert.equal(formatInsn({ code: 0xff, dst: 0, src: 0, off: 0, imm: 0 }), '<unknown>');
});

test('malformed instruction streams are BtfErrors naming the byte', () => {
  const expectError = (bytes: Uint8Array, code: string, offset: number, text: RegExp) => {
    assert.throws(() => decodeInsns(bytes, true), (e: unknown) => isBtfError(e) && e.code === code && e.offset === offset && text.test(e.message));
  };
  expectError(new Uint8Array(12), 'truncated', 8, /12 bytes, not a multiple of 8/);
  expectError(Uint8Array.of(0xb7, 0, 0, 0, 0, 0, 0, 0, LD_IMM64, 1, 0, 0, 0, 0, 0, 0), 'truncated', 8, /no second slot/);
  const badSecond = new Uint8Array(16);
  badSecond[0] = LD_IMM64;
  badSecond[8] = 0x07;
  expectError(badSecond, 'bad-input', 8, /second slot of ld_imm64 at instruction 0 is not empty/);
  assert.throws(() => decodeInsn(new Uint8Array(8), 4, true), (e: unknown) => isBtfError(e) && e.code === 'truncated');
  assert.throws(() => encodeInsn({ code: 0x61, dst: 16, src: 0, off: 0, imm: 0 }, true), (e: unknown) => isBtfError(e) && e.code === 'bad-argument');
  assert.throws(() => encodeInsn({ code: 0x61, dst: 0, src: 0, off: 0x8000, imm: 0 }, true), (e: unknown) => isBtfError(e) && e.code === 'bad-argument');
});

test('InsnPatcher rewrites imm, off, the 64-bit constant and the access size in place, in both byte orders', () => {
  for (const le of [true, false]) {
    const code = encodeInsns([
      { code: 0x61, dst: 1, src: 2, off: 8, imm: 0 }, // r1 = *(u32 *)(r2 + 0x8)
      { code: 0xb7, dst: 3, src: 0, off: 0, imm: 5 }, // r3 = 0x5
      { code: LD_IMM64, dst: 4, src: 0, off: 0, imm: 1, next: { code: 0, dst: 0, src: 0, off: 0, imm: 0 } },
    ], le);
    const p = new InsnPatcher(code, le);
    assert.equal(p.off(0), 8);
    p.setOff(0, -24);
    p.setMemSize(0, 8);
    assert.equal(p.imm(8), 5);
    p.setImm(8, 0xfffffff0);
    assert.equal(p.imm64(16), 1n);
    p.setImm64(16, 0x1122334455667788n);
    const back = decodeInsns(code, le).map((i) => formatInsn(i));
    assert.deepEqual(back, ['r1 = *(u64 *)(r2 - 0x18)', 'r3 = -0x10', 'r4 = 0x1122334455667788 ll']);
    assert.equal(p.memSize(0), 8);
    assert.throws(() => p.imm64(8), (e: unknown) => isBtfError(e) && e.code === 'bad-argument');
    assert.throws(() => p.imm64(24), (e: unknown) => isBtfError(e) && e.code === 'bad-argument');
    assert.throws(() => p.setOff(0, 40000), (e: unknown) => isBtfError(e) && e.code === 'bad-argument');
    assert.throws(() => p.imm(4), (e: unknown) => isBtfError(e) && e.code === 'bad-argument');
  }
});
