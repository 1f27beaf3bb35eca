/**
 * Bounded input: whatever a file, device, pipe or compressed stream holds, btfkit reads no more
 * than a BTF or ELF file can need, inflates no more than the input limit, and ends in one error
 * line within seconds. Peak memory is measured inside the CLI process: a --require hook writes
 * its VmHWM from /proc/self/status when it exits, so the decompressor programs it runs do not
 * count and a process that never ends shows up as a timeout. (getrusage's maxrss would not do:
 * Linux carries it across exec, from the forked copy of this test process.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BtfError } from '../src/errors.js';
import { Btf } from '../src/btf/btf.js';
import { btfExtent } from '../src/format/header.js';
import { btfSections, parseElf, sectionData, SectionFlag, SectionType } from '../src/elf/elf.js';
import { readSymbols } from '../src/elf/symbols.js';
import { parseBpfObject } from '../src/bpf/object.js';
import { checkSplit } from '../src/split/check.js';
import { decompressModule, readMaybeCompressed } from '../src/node/compressed.js';
import { DEFAULT_MAX_INPUT_SIZE, loadBtfFile, MAX_INPUT_ENV, readInput } from '../src/node/files.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { DATA_DIR, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const CLI = join(process.cwd(), 'dist', 'btfkit.cjs');
const MiB = 1 << 20;
const HUGE = 1500 * MiB;
const work = mkdtempSync(join(tmpdir(), 'btfkit-limits-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

const HOOK = join(work, 'maxrss.cjs');
writeFileSync(HOOK, `process.on('exit', () => {
  const fs = require('node:fs');
  const kib = /^VmHWM:\\s+(\\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  fs.writeFileSync(process.env.BTFKIT_TEST_MAXRSS_FILE, kib ? kib[1] : 'NaN');
});
`);

interface CliRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  seconds: number;
  /** Peak resident memory of the btfkit process, MiB; NaN when it did not exit by itself. */
  maxRssMiB: number;
}

let runs = 0;

/**
 * Runs the shipped CLI with the memory hook. With `stdinFrom`, its stdin is a pipe fed by
 * `cat FILE... /dev/zero` (an endless stream after the file); the pipeline runs under `timeout`
 * so a btfkit that never stops reading is killed, not orphaned.
 */
function btfkit(args: string[], opts: { env?: Record<string, string>; stdinFrom?: string[] } = {}): CliRun {
  const rssFile = join(work, `rss.${runs++}`);
  const env = { ...process.env, ...opts.env, BTFKIT_TEST_MAXRSS_FILE: rssFile };
  const start = process.hrtime.bigint();
  const r = opts.stdinFrom
    ? spawnSync('sh', ['-c', 'files=$1; shift; cat $files /dev/zero | timeout -s KILL 20 "$@"', 'sh', opts.stdinFrom.join(' '), process.execPath, '--require', HOOK, CLI, ...args], { env, timeout: 30_000, killSignal: 'SIGKILL', maxBuffer: 256 * MiB })
    : spawnSync(process.execPath, ['--require', HOOK, CLI, ...args], { env, timeout: 20_000, killSignal: 'SIGKILL', maxBuffer: 256 * MiB });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const maxRssMiB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : NaN;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString(), seconds, maxRssMiB };
}

/** Exit 1 with one `btfkit: error:` line matching `message`, within `seconds` and under `rssMiB`. */
function assertFailsBounded(r: CliRun, message: RegExp, bounds: { seconds: number; rssMiB: number }): void {
  assert.equal(r.code, 1, `exit status ${r.code} after ${r.seconds.toFixed(1)} s; stderr: ${r.stderr}`);
  assert.equal(r.stdout.length, 0);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^btfkit: error: /);
  assert.match(lines[0]!, message);
  assert.ok(r.seconds < bounds.seconds, `took ${r.seconds.toFixed(1)} s`);
  assert.ok(r.maxRssMiB < bounds.rssMiB, `peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
}

function have(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

const OBJECT = fixture('bpf/types.clang19.bpfel.o.gz');
const objectFile = join(work, 'types.o');
writeFileSync(objectFile, OBJECT);
const rawBtf = sectionData(parseElf(OBJECT), '.BTF')!;
const rawFile = join(work, 'types.btf');
writeFileSync(rawFile, rawBtf);
const BPFTOOL_RAW = fixture('bpf/types.clang19.bpfel.o.raw.txt.gz');

test('dump /dev/zero ends at once with one error line', () => {
  const r = btfkit(['dump', '/dev/zero']);
  assertFailsBounded(r, /^btfkit: error: \/dev\/zero: .*character device/, { seconds: 5, rssMiB: 150 });
});

test('a 1.5 GB sparse file with a bad magic is refused after its first bytes', () => {
  const file = join(work, 'sparse-zeros.bin');
  writeFileSync(file, 'this is not BTF');
  truncateSync(file, HUGE);
  const r = btfkit(['dump', file]);
  assertFailsBounded(r, /sparse-zeros\.bin\b.*: not raw BTF, an ELF file or a gzip, xz or zstd file/, { seconds: 3, rssMiB: 150 });
});

test('raw BTF in a 1.5 GB file is read up to the end of its sections', () => {
  const file = join(work, 'sparse-tail.btf');
  writeFileSync(file, rawBtf);
  truncateSync(file, HUGE);
  const r = btfkit(['dump', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Buffer.compare(r.stdout, BPFTOOL_RAW), 0);
  assert.ok(r.seconds < 3 && r.maxRssMiB < 150, `${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
});

/**
 * Writes `elf` (ELF64 little-endian) with one more section of `holeSize` bytes that the file
 * holds as a hole, the way a vmlinux carries hundreds of MB of DWARF btfkit never needs. The
 * section header table moves past the hole, to the end of the file, as linkers place it.
 */
function writeWithHugeSection(elf: Uint8Array, holeSize: number, path: string): void {
  const parsed = parseElf(elf);
  assert.ok(parsed.is64 && parsed.littleEndian);
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  const holeAt = (elf.length + 7) & ~7;
  const newShoff = holeAt + holeSize;
  const table = new Uint8Array((shnum + 1) * shentsize);
  table.set(elf.subarray(shoff, shoff + shnum * shentsize));
  const added = new DataView(table.buffer, shnum * shentsize, shentsize);
  added.setUint32(4, SectionType.Progbits, true);
  added.setBigUint64(24, BigInt(holeAt), true);
  added.setBigUint64(32, BigInt(holeSize), true);
  added.setBigUint64(48, 1n, true);
  const head = elf.slice();
  const hv = new DataView(head.buffer);
  hv.setBigUint64(40, BigInt(newShoff), true);
  hv.setUint16(60, shnum + 1, true);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head, 0, head.length, 0);
    writeSync(fd, table, 0, table.length, newShoff);
  } finally {
    closeSync(fd);
  }
}

test('an ELF file with 1.5 GB of sections btfkit does not need is read section by section', () => {
  const file = join(work, 'huge.o');
  writeWithHugeSection(OBJECT, HUGE, file);
  const r = btfkit(['dump', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Buffer.compare(r.stdout, BPFTOOL_RAW), 0);
  assert.ok(r.seconds < 3 && r.maxRssMiB < 150, `${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
});

/**
 * A decompression bomb: 24 copies of one compressed frame (or stream, or member) of 64 MiB of
 * zeros, which every decompressor reads as one 1.5 GiB output, from a file of a few hundred KB.
 */
function bomb(kind: 'gzip' | 'xz' | 'zstd'): string {
  const zeros = new Uint8Array(64 * MiB);
  let frame: Uint8Array;
  if (kind === 'gzip') {
    frame = gzipSync(zeros, { level: 9 });
  } else {
    const r = spawnSync(kind, kind === 'xz' ? ['-1', '-c', '-T1'] : ['-19', '-c', '-q'], { input: zeros, maxBuffer: 16 * MiB });
    assert.equal(r.status, 0, r.stderr?.toString());
    frame = r.stdout;
  }
  const file = join(work, `bomb.ko.${kind}`);
  const fd = openSync(file, 'w');
  for (let i = 0; i < 24; i++) writeSync(fd, frame);
  closeSync(fd);
  return file;
}

for (const kind of ['xz', 'gzip', 'zstd'] as const) {
  test(`a ${kind} bomb stops at the input limit, in seconds, under 400 MiB`, (t) => {
    if (kind !== 'gzip' && !have(kind)) return loudSkip(t, `${kind} is not installed`);
    const file = bomb(kind);
    const r = btfkit(['dump', file]);
    assertFailsBounded(r, new RegExp(`bomb\\.ko\\.${kind}: ${kind} output exceeds the 128 MiB input limit`), { seconds: 8, rssMiB: 400 });
  });
}

test('a pipe is read up to the end of the raw BTF it carries, however much follows', () => {
  const r = btfkit(['dump', '/dev/stdin'], { stdinFrom: [rawFile] });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Buffer.compare(r.stdout, BPFTOOL_RAW), 0);
  assert.ok(r.seconds < 5 && r.maxRssMiB < 150, `${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
});

test('an ELF file from an endless pipe stops at the input limit', () => {
  const r = btfkit(['dump', '/dev/stdin'], { stdinFrom: [objectFile] });
  assertFailsBounded(r, /\/dev\/stdin: .*larger than the 128 MiB input limit/, { seconds: 8, rssMiB: 400 });
});

test(`${'BTFKIT_MAX_INPUT_MIB'} sets the limit; a bad value is an error`, () => {
  const vmlinux = join(work, 'vmlinux.btf');
  writeFileSync(vmlinux, fixture('golden/running-6.18/vmlinux.btf.gz'));
  assert.ok(readFileSync(vmlinux).length > MiB);
  const r = btfkit(['dump', vmlinux], { env: { [MAX_INPUT_ENV]: '1' } });
  assertFailsBounded(r, /vmlinux\.btf: .*past the 1 MiB input limit/, { seconds: 5, rssMiB: 200 });
  const bad = btfkit(['dump', rawFile], { env: { [MAX_INPUT_ENV]: 'lots' } });
  assertFailsBounded(bad, /BTFKIT_MAX_INPUT_MIB/, { seconds: 5, rssMiB: 200 });
  assert.equal(btfkit(['dump', rawFile], { env: { [MAX_INPUT_ENV]: '4096' } }).code, 0);
});

test('the Node loaders take the limit as an option and name it (code limit) when it is hit', () => {
  const gz = join(work, 'zeros.ko.gz');
  writeFileSync(gz, gzipSync(new Uint8Array(MiB)));
  const limited = (e: unknown) => e instanceof BtfError && e.code === 'limit' && e.file === gz && /gzip output exceeds the 64 KiB input limit/.test(e.message);
  assert.throws(() => readInput(gz, { maxInputSize: 64 * 1024 }), limited);
  assert.throws(() => loadBtfFile(gz, { maxInputSize: 64 * 1024 }), limited);
  assert.throws(() => readMaybeCompressed(gz, { maxInputSize: 64 * 1024 }), limited);
  assert.throws(() => decompressModule(gzipSync(new Uint8Array(MiB)), 'gzip', gz, 64 * 1024), limited);
  assert.equal(readInput(gz).length, MiB);
  assert.equal(DEFAULT_MAX_INPUT_SIZE, 128 * MiB);
  assert.throws(() => loadBtfFile(rawFile, { maxInputSize: 100 }), (e: unknown) => e instanceof BtfError && e.code === 'limit' && /past the 100-byte input limit/.test(e.message));
  assert.ok(loadBtfFile(rawFile).ownTypeCount > 0);
});

test('readInput: trailing bytes of a raw BTF file are kept (check reports them); ELF files keep their layout', () => {
  const file = join(work, 'trailing.btf');
  writeFileSync(file, Buffer.concat([rawBtf, Buffer.alloc(7, 0x41)]));
  assert.equal(btfExtent(rawBtf), rawBtf.length);
  assert.deepEqual(readInput(file), new Uint8Array(readFileSync(file)));
  const elf = parseElf(readInput(objectFile));
  assert.equal(elf.bytes.length, OBJECT.length);
  assert.deepEqual(sectionData(elf, '.BTF'), rawBtf);
  assert.deepEqual(sectionData(elf, '.BTF.ext'), sectionData(parseElf(OBJECT), '.BTF.ext'));
  assert.deepEqual(sectionData(elf, '.symtab'), sectionData(parseElf(OBJECT), '.symtab'));
});

test('readInput reads /sys/kernel/btf/vmlinux whole, whatever size fstat reports for it', (t) => {
  const sysfs = '/sys/kernel/btf/vmlinux';
  if (!existsSync(sysfs)) return loudSkip(t, `${sysfs} does not exist here`);
  const bytes = readInput(sysfs);
  assert.deepEqual(bytes, new Uint8Array(readFileSync(sysfs)));
  assert.ok(Btf.parse(bytes).ownTypeCount > 1000);
});

test('directories and missing files are named as such', () => {
  assert.throws(() => readInput(work), (e: unknown) => e instanceof BtfError && /is a directory/.test(e.message));
  assert.throws(() => readInput(join(work, 'missing')), (e: unknown) => e instanceof BtfError && /no such file/.test(e.message));
});

test('real modules read section by section give what the whole files give: .BTF*, symbols where .BTF_ids needs them, split verdicts', (t) => {
  const build = fetchedBuilds()[0];
  if (!build) return loudSkip(t, `no kernel build under ${DATA_DIR} (run tools/fetch-debian-kernel.sh)`);
  const modules = findModules(join(build, 'modules'));
  const base = Btf.parse(new Uint8Array(readFileSync(join(build, 'vmlinux.btf'))));
  const bigint = (_: string, v: unknown) => (typeof v === 'bigint' ? String(v) : v);
  const wholes = modules.map((f) => new Uint8Array(readFileSync(f)));
  const hasIds = wholes.map((w) => btfSections(parseElf(w)).has('.BTF_ids'));
  // Every 20th module, the largest (which holds the most that is not BTF), every tenth with .BTF_ids.
  const largest = Math.max(...wholes.map((w) => w.length));
  let idsSeen = 0;
  const sample = modules.filter((_, i) => i % 20 === 0 || wholes[i]!.length === largest || (hasIds[i] && idsSeen++ % 10 === 0));
  let withSymbols = 0;
  for (const file of sample) {
    const whole = wholes[modules.indexOf(file)]!;
    const image = readInput(file);
    assert.equal(image.length, whole.length, file);
    const [a, b] = [parseElf(whole), parseElf(image)];
    assert.equal(JSON.stringify(b.sections, bigint), JSON.stringify(a.sections, bigint), file);
    assert.deepEqual(btfSections(b), btfSections(a), file);
    if (btfSections(a).has('.BTF_ids')) {
      withSymbols++;
      assert.equal(JSON.stringify(readSymbols(b), bigint), JSON.stringify(readSymbols(a), bigint), file);
    } else {
      // Nothing reads a module's symbols but the .BTF_ids check: its symbol table stays unread.
      assert.ok(readSymbols(a).some((s) => s.name !== ''), `${file} has named symbols`);
      assert.ok(readSymbols(b).every((s) => s.name === '' && s.section === 0), `${file}: symbols left unread`);
    }
    assert.equal(checkSplit(image, base).summary, checkSplit(whole, base).summary, file);
  }
  assert.ok(withSymbols > 0, 'the sample holds modules with .BTF_ids');
  t.diagnostic(`${sample.length} of ${modules.length} modules in ${build}, ${withSymbols} with .BTF_ids (of ${hasIds.filter(Boolean).length})`);
});

test('a BPF object is read as its loader reads it: the library parses what readInput gives as it parses the file', () => {
  for (const name of ['core.clang19.bpfel.o', 'attach.clang14.bpfeb.o']) {
    const whole = fixture(`bpf/${name}.gz`);
    const path = join(work, name);
    writeFileSync(path, whole);
    const read = readInput(path);
    const elf = parseElf(whole);
    const loaded = (s: (typeof elf.sections)[number] | undefined): boolean => s !== undefined && ((s.flags & (SectionFlag.Alloc | SectionFlag.Exec)) !== 0
      || s.name.startsWith('.BTF') || s.type === SectionType.Symtab || s.type === SectionType.Strtab
      || ((s.type === SectionType.Rel || s.type === SectionType.Rela) && loaded(elf.sections[s.info])));
    let skipped = 0;
    for (const s of elf.sections) {
      if (!loaded(s) || s.type === SectionType.Nobits) {
        skipped++;
        continue;
      }
      assert.ok(Buffer.from(sectionData(parseElf(read), s.name)!).equals(Buffer.from(sectionData(elf, s.name)!)), `${name}: ${s.name} read`);
    }
    assert.ok(skipped > 0, `${name}: some sections (DWARF) are left unread`);
    const bigint = (_: string, v: unknown) => (typeof v === 'bigint' ? String(v) : v);
    const parsed = JSON.stringify(parseBpfObject(read, { file: path }).programs, bigint);
    assert.equal(parsed, JSON.stringify(parseBpfObject(whole, { file: path }).programs, bigint), name);
  }
});
