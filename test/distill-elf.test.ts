/**
 * The ELF section writer behind `btfkit distill/relocate/rebase/stamp` (src/elf/write.ts),
 * judged by binutils: objects compiled here (ELF64 little-endian by cc, ELF32 and big-endian
 * ELF64 by clang when it is present), edited, and read back with objcopy and objdump.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseElf, sectionBytes } from '../src/elf/elf.js';
import { editElfSections } from '../src/elf/write.js';
import { isBtfError } from '../src/errors.js';
import { loudSkip } from './helpers/skip.js';

const dir = mkdtempSync(join(tmpdir(), 'btfkit-elfwrite-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

const SOURCE = `
int counter = 3;
static int hidden[16];
const char message[] = "hello";
int bump(int x) { hidden[x & 15]++; return counter += x; }
int use(void) { return bump(message[0]); }
`;

/** Compiles SOURCE with `cmd` (cc or clang and its flags); undefined with the reason when it cannot. */
function compile(t: TestContext, name: string, cmd: string[], source = SOURCE): Uint8Array | undefined {
  const src = join(dir, 'obj.c');
  writeFileSync(src, source);
  const out = join(dir, `${name}.o`);
  const r = spawnSync(cmd[0]!, [...cmd.slice(1), '-c', '-O1', '-o', out, src], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    loudSkip(t, `cannot compile with ${cmd.join(' ')}: ${r.error?.message ?? r.stderr.trim().split('\n')[0]}`);
    return undefined;
  }
  return new Uint8Array(readFileSync(out));
}

function tool(name: string, args: string[]): string {
  const r = spawnSync(name, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function save(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** objdump's view of symbols and relocations, which names sections rather than numbering them. */
function symbolsAndRelocs(file: string, llvm = false): string {
  return tool(llvm ? 'llvm-objdump' : 'objdump', ['-t', '-r', file]).split('\n').filter((l) => !l.includes('file format')).join('\n');
}

/** Which object each test compiles, and whether binutils reads it (it does not know BPF: LLVM's tools then). */
const TARGETS: [string, string[], boolean][] = [
  ['x86_64 (ELF64 little-endian)', ['cc'], false],
  ['i386 (ELF32 little-endian)', ['clang', '--target=i386-linux-gnu'], false],
  ['bpfeb (ELF64 big-endian)', ['clang', '--target=bpfeb'], true],
];

for (const [what, cmd, llvm] of TARGETS) {
  const objcopy = llvm ? 'llvm-objcopy' : 'objcopy';
  test(`ELF writer, ${what}: replaced and added sections hold the new bytes, everything else is as it was; removal gives the original back`, (t) => {
    const obj = compile(t, what.split(' ')[0]!, cmd);
    if (!obj) return;
    const tag = what.split(' ')[0]!;
    const orig = save(`${tag}-orig.o`, obj);
    const newData = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
    const added = new Uint8Array([1, 2, 3, 4, 5]);
    const edited = editElfSections(obj, { set: { '.data': newData.subarray(0, parseElf(obj).sections.find((s) => s.name === '.data')!.size), '.BTF.base': added } });
    const editedPath = save(`${tag}-edited.o`, edited);
    const dumped = join(dir, 'dumped');
    tool(objcopy, ['--dump-section', `.BTF.base=${dumped}`, editedPath, join(dir, 'scratch.o')]);
    assert.deepEqual(new Uint8Array(readFileSync(dumped)), added);
    tool(objcopy, ['--dump-section', `.data=${dumped}`, editedPath, join(dir, 'scratch.o')]);
    assert.deepEqual(new Uint8Array(readFileSync(dumped)), newData.subarray(0, readFileSync(dumped).length));
    assert.equal(symbolsAndRelocs(editedPath, llvm), symbolsAndRelocs(orig, llvm));
    // Every other section: same contents as objcopy dumps them from the original.
    const before = parseElf(obj);
    const after = parseElf(edited);
    for (const s of before.sections) {
      if (s.index === 0 || s.name === '.data' || s.index === before.shstrndx || s.type === 8) continue;
      const a = after.sections.find((x) => x.name === s.name)!;
      assert.deepEqual(sectionBytes(after, a), sectionBytes(before, s), s.name);
    }
    // Removing what was added and putting .data back: the same sections, symbols and relocations.
    const restored = editElfSections(edited, { set: { '.data': sectionBytes(before, before.sections.find((s) => s.name === '.data')!) }, remove: ['.BTF.base'] });
    const restoredPath = save(`${tag}-restored.o`, restored);
    assert.equal(symbolsAndRelocs(restoredPath, llvm), symbolsAndRelocs(orig, llvm));
    assert.deepEqual(parseElf(restored).sections.map((s) => s.name), before.sections.map((s) => s.name));
  });
}

test('ELF writer: removing a section in the middle renumbers symbols, relocations and links (objdump reads the same)', (t) => {
  // A section no symbol or relocation points at, placed before sections that symbols live in.
  const obj = compile(t, 'middle', ['cc'], `__asm__(".section .dropme,\\"a\\"\\n.byte 1\\n.previous");\n${SOURCE}`);
  if (!obj) return;
  const elf = parseElf(obj);
  const victim = elf.sections.find((s) => s.name === '.dropme')!;
  assert.ok(elf.sections.some((s) => s.index > victim.index && s.name === '.rodata'), 'the compiler put .rodata after .dropme');
  const orig = save('middle-orig.o', obj);
  const out = save('middle-out.o', editElfSections(obj, { remove: ['.dropme'] }));
  assert.equal(symbolsAndRelocs(out), symbolsAndRelocs(orig));
  assert.ok(!tool('readelf', ['-SW', out]).includes('.dropme'));
  assert.match(symbolsAndRelocs(out), /\.rodata\s.*message/);
});

test('ELF writer: refuses to remove a section symbols are defined in, and to rewrite a linked file', (t) => {
  const obj = compile(t, 'refuse', ['cc']);
  if (!obj) return;
  assert.throws(() => editElfSections(obj, { remove: ['.text'] }), (e) => isBtfError(e) && e.code === 'bad-argument' && /\.text cannot be removed/.test(e.message));
  const exe = join(dir, 'prog');
  const r = spawnSync('cc', ['-o', exe, '-x', 'c', '-'], { input: 'int main(void) { return 0; }\n' });
  if (r.status !== 0) return;
  assert.throws(() => editElfSections(new Uint8Array(readFileSync(exe)), { set: { '.BTF': new Uint8Array(4) } }), (e) => isBtfError(e) && e.code === 'bad-argument' && /relocatable/.test(e.message));
});

test('ELF writer: an alignment no compiler asks for is a bad-elf error, not an output that large', (t) => {
  const obj = compile(t, 'align', ['cc']);
  if (!obj) return;
  const elf = parseElf(obj);
  const data = elf.sections.find((s) => s.name === '.data')!;
  const shoff = Number(new DataView(obj.buffer, obj.byteOffset).getBigUint64(40, true));
  const hostile = obj.slice();
  new DataView(hostile.buffer).setBigUint64(shoff + data.index * 64 + 48, 1n << 40n, true);
  assert.throws(() => editElfSections(hostile, { set: { '.BTF': new Uint8Array(8) } }), (e) => isBtfError(e) && e.code === 'bad-elf' && /\.data\) asks for 1099511627776-byte alignment/.test(e.message));
  assert.throws(() => editElfSections(obj, { set: { '.bss': new Uint8Array(8) } }), (e) => isBtfError(e) && e.code === 'bad-argument' && /SHT_NOBITS/.test(e.message));
});
