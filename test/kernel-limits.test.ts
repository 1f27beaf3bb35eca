/**
 * What a given kernel's BPF_BTF_LOAD refuses although the 2026 format allows it: vlen above
 * 65535, the layout section, blobs over 16 MiB, and (for `kernelVersion`) kinds, kind_flag uses,
 * linkages, sizes and names that arrived after that release. The running kernel (6.18 here)
 * judges every blob whose verdict it can give; the release each feature arrived in is stated
 * here from the kernel sources, independently of src/ (docs/KERNELS.md says where each comes from).
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { checkBtf, type CheckOptions } from '../src/btf/check.js';
import { BtfBuilder } from '../src/build/builder.js';
import { convertBtf } from '../src/build/convert.js';
import { BtfError } from '../src/errors.js';
import { assemble, info } from './helpers/assemble.js';
import { Crafter, K, bitfield, type Built } from './helpers/craft.js';
import { kernelLoad } from './helpers/kernel.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const MiB = 1 << 20;

/** Every release from the one BTF arrived in to the newest btfkit knows, oldest first. */
const RELEASES = [
  '4.18', '4.19', '4.20',
  ...Array.from({ length: 20 }, (_, i) => `5.${i}`),
  ...Array.from({ length: 19 }, (_, i) => `6.${i}`),
];

function before(version: string): string {
  const i = RELEASES.indexOf(version);
  assert.ok(i > 0, `no release before ${version} in the list`);
  return RELEASES[i - 1]!;
}

/** [code, type id, byte offset, element] of every problem. */
function shape(errors: readonly BtfError[]): unknown[] {
  return errors.map((e) => (e.member === undefined ? [e.code, e.typeId, e.offset] : [e.code, e.typeId, e.offset, e.member]));
}

function check(bytes: Uint8Array, opts: CheckOptions): BtfError[] {
  return checkBtf(Btf.parse(bytes), { maxErrors: 1_000_000, ...opts });
}

/** The running kernel's verdict; undefined (after a loud skip) when it cannot be asked. */
function kernelVerdict(t: TestContext, bytes: Uint8Array): { ok: boolean; log: string } | undefined {
  const [major = 0, minor = 0] = release().split('.').map(Number);
  if (major < 6 || (major === 6 && minor < 18)) {
    loudSkip(t, `kernel ${release()} is older than 6.18, whose verdicts these cases record`);
    return undefined;
  }
  const v = kernelLoad(bytes);
  if ('skipped' in v) {
    loudSkip(t, v.skipped);
    return undefined;
  }
  return v;
}

const rec = (b: Built, id: number) => b.offsetOf(id);
/** The layout section libbpf 1.8 writes for kinds 0..19 (info_sz, elem_sz), from include/uapi/linux/btf.h. */
const STANDARD_LAYOUT = [
  [0, 0], [4, 0], [0, 0], [12, 0], [0, 12], [0, 12], [0, 8], [0, 0], [0, 0], [0, 0], [0, 0],
  [0, 0], [0, 0], [0, 8], [4, 0], [0, 12], [0, 0], [4, 0], [0, 0], [0, 12],
].map(([infoSize, elemSize]) => ({ infoSize: infoSize!, elemSize: elemSize! }));
const infoWord = (b: Built, id: number) => b.offsetOf(id) + 4;

// ------------------------------------------------------------------ limits of every kernel up to 6.18

/** An `int` and a struct of `n` int members: vlen `n`. */
function wideStruct(n: number): Uint8Array {
  const c = new Crafter();
  c.int('int', 4, 32, 1);
  c.struct('wide', n * 4, Array.from({ length: n }, (_, i) => ({ name: 'm', type: 1, offset: i * 32 })));
  return c.build().bytes;
}

function wideEnum(n: number): Uint8Array {
  const c = new Crafter();
  c.enum('many', 4, Array.from({ length: n }, (_, i) => ({ name: `E${i}`, value: i })));
  return c.build().bytes;
}

/** An `int` followed by one string long enough to make the blob exactly `total` bytes. */
function blobOfSize(total: number): Uint8Array {
  const fixed = 24 + 16 + '\0int\0'.length + 1;
  const strings = new Uint8Array('\0int\0'.length + (total - fixed) + 1);
  strings.set(new TextEncoder().encode('\0int\0'));
  strings.fill(0x78, 5, strings.length - 1);
  const bytes = assemble({ words: [1, info(K.INT), 4, 32], strings });
  assert.equal(bytes.length, total);
  return bytes;
}

describe('check --kernel: the limits every kernel up to 6.18 shares', () => {
  test('a struct of 70,000 members is refused at its info word; 65,535 members load', (t) => {
    const wide = wideStruct(70_000);
    assert.deepEqual(shape(check(wide, {})), [], 'the 2026 format allows a 24-bit vlen');
    const errors = check(wide, { kernel: true });
    assert.deepEqual(shape(errors), [['unsupported', 2, 24 + 16 + 4]]);
    assert.match(errors[0]!.message, /^type \[2\], at byte 44 \(0x2c\): STRUCT 'wide' has 70000 members; kernels up to 6\.18 accept at most 65535/);
    assert.deepEqual(shape(check(wideStruct(65_535), { kernel: true })), []);
    const refused = kernelVerdict(t, wide);
    if (!refused) return;
    assert.equal(refused.ok, false);
    assert.match(refused.log, /Invalid btf_info/);
    assert.equal(kernelVerdict(t, wideStruct(65_535))?.ok, true);
  });

  test('an enum of 66,000 values is refused', (t) => {
    const many = wideEnum(66_000);
    assert.deepEqual(shape(check(many, {})), []);
    const errors = check(many, { kernel: true });
    assert.deepEqual(shape(errors), [['unsupported', 1, 24 + 4]]);
    assert.match(errors[0]!.detail, /ENUM 'many' has 66000 values; kernels up to 6\.18 accept at most 65535/);
    assert.equal(kernelVerdict(t, many)?.ok, false);
  });

  test('a layout section is refused at layout_off; a 32-byte header of zeros loads', (t) => {
    const c = new Crafter();
    c.int('int', 4, 32, 1);
    const layout = c.build({ layout: true }).bytes;
    const padded = c.build({ hdrLen: 32 }).bytes;
    assert.deepEqual(shape(check(layout, {})), []);
    const errors = check(layout, { kernel: true });
    assert.deepEqual(shape(errors), [['unsupported', undefined, 24]]);
    assert.match(errors[0]!.detail, /layout section.*kernels up to 6\.18/);
    assert.deepEqual(shape(check(padded, { kernel: true })), []);
    const v = kernelVerdict(t, layout);
    if (!v) return;
    assert.equal(v.ok, false);
    assert.match(v.log, /Unsupported btf_header/);
    assert.equal(kernelVerdict(t, padded)?.ok, true);
  });

  test('BPF_BTF_LOAD takes at most 16 MiB', (t) => {
    const limit = blobOfSize(16 * MiB);
    const over = blobOfSize(16 * MiB + 1);
    assert.deepEqual(shape(check(limit, { kernel: true })), []);
    assert.deepEqual(shape(check(over, {})), []);
    const errors = check(over, { kernel: true });
    assert.deepEqual(shape(errors), [['unsupported', undefined, undefined]]);
    assert.match(errors[0]!.detail, /16777217 bytes.*16 MiB/);
    const v = kernelVerdict(t, over);
    if (!v) return;
    assert.equal(v.ok, false);
    assert.match(v.log, /E2BIG/);
    assert.equal(kernelVerdict(t, limit)?.ok, true);
  });

  test('kinds above ENUM64 are refused as before, and kernel: true equals the newest version', () => {
    const c = new Crafter();
    c.int('int', 4, 32, 1);
    c.raw([0, (20 << 24) | 1, 0, 7, 8], 4, 4);
    const built = c.build({ layout: [...STANDARD_LAYOUT, { infoSize: 4, elemSize: 4 }] });
    assert.deepEqual(shape(check(built.bytes, {})), []);
    assert.deepEqual(shape(check(built.bytes, { kernel: true })), [['unsupported', undefined, 24], ['bad-kind', 2, infoWord(built, 2)]]);
    assert.deepEqual(shape(check(built.bytes, { kernelVersion: '6.18' })), shape(check(built.bytes, { kernel: true })));
  });

  test('versions are checked: malformed or pre-BTF versions are a bad-argument BtfError', () => {
    const bytes = wideEnum(2);
    for (const v of ['banana', '6', '4.17', '3.10', '']) {
      assert.throws(() => check(bytes, { kernelVersion: v }), (e: unknown) => e instanceof BtfError && e.code === 'bad-argument', v);
    }
    // What `uname -r` prints works too; the patch level and suffix are ignored.
    assert.deepEqual(shape(check(bytes, { kernelVersion: '6.1.0-56-cloud-amd64' })), []);
    assert.deepEqual(shape(check(bytes, { kernelVersion: '7.3' })), []);
  });
});

// ------------------------------------------------------------------ what arrived when

interface Feature {
  name: string;
  /** The first release whose BPF_BTF_LOAD accepts it (docs/KERNELS.md gives the source). */
  since: string;
  make(c: Crafter): void;
  /** [type id, byte offset, element?] of each thing the release before `since` refuses. */
  refused(b: Built): [number, number, number?][];
}

const features: Feature[] = [
  {
    name: 'FUNC and FUNC_PROTO', since: '5.0',
    make: (c) => { c.int('int', 4, 32, 1); const p = c.proto(1, [{ name: 'x', type: 1 }]); c.func('f', p, 0); },
    refused: (b) => [[2, infoWord(b, 2)], [3, infoWord(b, 3)]],
  },
  {
    name: 'kind_flag bitfields in a STRUCT', since: '5.0',
    make: (c) => { c.int('int', 4, 32, 1); c.struct('s', 4, [{ name: 'a', type: 1, offset: bitfield(0, 3) }], true); },
    refused: (b) => [[2, infoWord(b, 2)]],
  },
  {
    name: 'a FWD of a union (kind_flag)', since: '5.0',
    make: (c) => { c.fwd('u', true); },
    refused: (b) => [[1, infoWord(b, 1)]],
  },
  {
    name: 'a 128-bit INT', since: '5.1',
    make: (c) => { c.int('__int128', 16, 128, 1); },
    refused: (b) => [[1, rec(b, 1) + 12]],
  },
  {
    name: 'VAR and DATASEC', since: '5.2',
    make: (c) => { c.int('int', 4, 32, 1); const v = c.var('x', 1, 1); c.datasec('.data', 4, [{ type: v, offset: 0, size: 4 }]); },
    refused: (b) => [[2, infoWord(b, 2)], [3, infoWord(b, 3)]],
  },
  {
    name: 'a VAR and a DATASEC with dots in their names', since: '5.2',
    make: (c) => { c.int('int', 4, 32, 1); const v = c.var('x.y', 1, 1); c.datasec('.data..percpu', 4, [{ type: v, offset: 0, size: 4 }]); },
    refused: (b) => [[2, infoWord(b, 2)], [3, infoWord(b, 3)]],
  },
  {
    name: 'an 8-byte ENUM', since: '5.4',
    make: (c) => { c.enum('e', 8, [{ name: 'A', value: 1 }]); },
    refused: (b) => [[1, rec(b, 1) + 8]],
  },
  {
    name: 'a 1-byte ENUM', since: '5.4',
    make: (c) => { c.enum('e', 1, [{ name: 'A', value: 1 }]); },
    refused: (b) => [[1, rec(b, 1) + 8]],
  },
  {
    name: 'a global FUNC', since: '5.6',
    make: (c) => { c.int('int', 4, 32, 1); const p = c.proto(1, []); c.func('f', p, 1); },
    refused: (b) => [[3, infoWord(b, 3)]],
  },
  {
    name: 'FLOAT', since: '5.13',
    make: (c) => { c.float('double', 8); },
    refused: (b) => [[1, infoWord(b, 1)]],
  },
  {
    name: 'DECL_TAG on a struct and on a typedef', since: '5.16',
    make: (c) => {
      c.int('int', 4, 32, 1);
      const s = c.struct('s', 4, [{ name: 'a', type: 1, offset: 0 }]);
      c.declTag('hot', s, 0);
      const td = c.typedef('s_t', s);
      c.declTag('cold', td, -1);
    },
    refused: (b) => [[3, infoWord(b, 3)], [5, infoWord(b, 5)]],
  },
  {
    name: 'TYPE_TAG', since: '5.17',
    make: (c) => { c.int('int', 4, 32, 1); c.ptr(c.typeTag('user', 1)); },
    refused: (b) => [[2, infoWord(b, 2)]],
  },
  {
    name: 'ENUM64', since: '6.0',
    make: (c) => { c.enum64('big', 8, [{ name: 'HIGH', value: 1n << 40n }]); },
    refused: (b) => [[1, infoWord(b, 1)]],
  },
  {
    name: 'a signed ENUM (kind_flag)', since: '6.0',
    make: (c) => { c.enum('e', 4, [{ name: 'NEG', value: -1 }], true); },
    refused: (b) => [[1, infoWord(b, 1)]],
  },
  {
    name: 'a 129-byte name', since: '6.1',
    make: (c) => { c.int('int', 4, 32, 1); c.typedef('a'.repeat(129), 1); },
    refused: (b) => [[2, rec(b, 2)]],
  },
  {
    name: 'a 512-byte enumerator name', since: '6.1',
    make: (c) => { c.enum('e', 4, [{ name: 'E'.repeat(512), value: 1 }]); },
    refused: (b) => [[1, b.elemOffset(1, 0), 0]],
  },
  {
    name: 'dots in the names of a FUNC, a typedef and a member', since: '6.4',
    make: (c) => {
      c.int('int', 4, 32, 1);
      const p = c.proto(1, []);
      c.func('asan.module_ctor', p, 0);
      c.typedef('a.b', 1);
      c.struct('s', 4, [{ name: 'm.n', type: 1, offset: 0 }]);
    },
    refused: (b) => [[3, rec(b, 3)], [4, rec(b, 4)], [5, b.elemOffset(5, 0), 0]],
  },
  {
    name: 'a DATASEC name outside [A-Za-z0-9_.]', since: '6.9',
    make: (c) => { c.int('int', 4, 32, 1); const v = c.var('x', 1, 1); c.datasec('?.struct_ops', 4, [{ type: v, offset: 0, size: 4 }]); },
    refused: (b) => [[3, rec(b, 3)]],
  },
  {
    name: 'DECL_TAG with kind_flag (an attribute)', since: '6.15',
    make: (c) => { c.int('int', 4, 32, 1); const v = c.var('x', 1, 1); c.declTag('aligned(8)', v, -1, true); },
    refused: (b) => [[3, infoWord(b, 3)]],
  },
  {
    name: 'TYPE_TAG with kind_flag (an attribute)', since: '6.15',
    make: (c) => { c.int('int', 4, 32, 1); c.ptr(c.typeTag('address_space(1)', 1, true)); },
    refused: (b) => [[2, infoWord(b, 2)]],
  },
];

describe('check --kernel-version: what arrived when', () => {
  for (const f of features) {
    test(`${f.name}: refused before ${f.since}, accepted from ${f.since} on and by the running kernel`, (t) => {
      const c = new Crafter();
      f.make(c);
      const built = c.build();
      const old = before(f.since);
      const errors = check(built.bytes, { kernelVersion: old });
      const want = f.refused(built).map(([id, at, member]) => (member === undefined ? ['unsupported', id, at] : ['unsupported', id, at, member]));
      assert.deepEqual(shape(errors), want, errors.map(String).join('\n'));
      for (const e of errors) assert.match(e.detail, new RegExp(`Linux ${old.replace('.', '\\.')}\\b.*\\b${f.since.replace('.', '\\.')}\\b`), e.message);
      assert.deepEqual(check(built.bytes, { kernelVersion: f.since }).map(String), []);
      assert.deepEqual(check(built.bytes, { kernel: true }).map(String), []);
      const v = kernelVerdict(t, built.bytes);
      if (v) assert.ok(v.ok, `the running kernel refused it:\n${v.log}`);
    });
  }

  test('a 128-byte name is still fine for 6.0', () => {
    const c = new Crafter();
    c.int('int', 4, 32, 1);
    c.typedef('a'.repeat(128), 1);
    assert.deepEqual(check(c.build().bytes, { kernelVersion: '6.0' }).map(String), []);
  });
});

describe('version rules on real kernels', () => {
  const debian61 = fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz');

  test('the Debian 6.1 vmlinux passes 6.1, and fails 5.10 only for FLOAT, ENUM64 and signed enums', () => {
    assert.deepEqual(check(debian61, { kernelVersion: '6.1' }).map(String), []);
    const btf = Btf.parse(debian61);
    // What 5.10 lacks, found from the records themselves.
    const lacking = new Set<number>();
    for (let id = 1; id < btf.endId; id++) {
      const word = btf.u32(btf.typeOffsets[id - 1]! + 4);
      const kind = (word >>> 24) & 0x1f;
      if (kind === K.FLOAT || kind === K.ENUM64 || (kind === K.ENUM && word >>> 31)) lacking.add(id);
    }
    assert.ok(lacking.size > 0);
    const errors = check(debian61, { kernelVersion: '5.10' });
    assert.deepEqual(errors.filter((e) => e.code !== 'unsupported').map(String), []);
    assert.deepEqual([...new Set(errors.map((e) => e.typeId))].sort((a, b) => a! - b!), [...lacking].sort((a, b) => a - b));
  });

  test('the 6.18 vmlinux the running kernel exported passes --kernel and 6.18', () => {
    const v618 = fixture('golden/running-6.18/vmlinux.btf.gz');
    assert.deepEqual(check(v618, { kernel: true }).map(String), []);
    assert.deepEqual(check(v618, { kernelVersion: '6.18' }).map(String), []);
  });
});

// ------------------------------------------------------------------ the builder and convert

function refuses(fn: () => unknown, typeId: number | undefined, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BtfError, String(e));
    assert.equal(e.code, 'unsupported', e.message);
    assert.equal(e.typeId, typeId, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('encode({ forKernel }) refuses what the target cannot read', () => {
  test('a layout section', () => {
    const b = new BtfBuilder();
    b.addInt('int', 4, 1);
    assert.ok(b.encode({ layout: true }).length > 0);
    refuses(() => b.encode({ layout: true, forKernel: '6.18' }), undefined, /layout section.*6\.18/);
    refuses(() => b.encode({ layout: true, forKernel: true }), undefined, /layout section/);
    assert.deepEqual(b.encode({ forKernel: '6.18' }), b.encode());
  });

  test('a struct of 70,000 members', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, 1);
    b.addStruct('wide', 70_000 * 4, Array.from({ length: 70_000 }, (_, i) => ({ name: 'm', type: int, bitOffset: i * 32 })));
    assert.deepEqual(checkBtf(Btf.parse(b.encode())).map(String), []);
    refuses(() => b.encode({ forKernel: true }), 2, /70000 members.*65535/);
  });

  test('kinds and kind_flag uses the target release lacks', () => {
    const b = new BtfBuilder();
    b.addInt('int', 4, 1);
    const dbl = b.addFloat('double', 8);
    refuses(() => b.encode({ forKernel: '5.12' }), dbl, /FLOAT.*Linux 5\.12.*5\.13/);
    assert.deepEqual(b.encode({ forKernel: '5.13' }), b.encode());
    const e = new BtfBuilder();
    const neg = e.addEnum('e', 4, [{ name: 'NEG', value: -1 }]);
    refuses(() => e.encode({ forKernel: '5.19' }), neg, /6\.0/);
    assert.throws(() => e.encode({ forKernel: 'soon' }), (x: unknown) => x instanceof BtfError && x.code === 'bad-argument');
  });

  test('convertBtf: the Debian 6.1 vmlinux converts for 6.1 as it is, and is refused for 5.10', () => {
    const btf = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
    assert.deepEqual(convertBtf(btf, { forKernel: '6.1' }), btf.bytes);
    // The first record 5.10 cannot read, found from the records themselves.
    let first = 0;
    for (let id = 1; id < btf.endId && !first; id++) {
      const word = btf.u32(btf.typeOffsets[id - 1]! + 4);
      const kind = (word >>> 24) & 0x1f;
      if (kind === K.FLOAT || kind === K.ENUM64 || (kind === K.ENUM && word >>> 31)) first = id;
    }
    refuses(() => convertBtf(btf, { forKernel: '5.10' }), first, /Linux 5\.10/);
  });
});

// ------------------------------------------------------------------ the CLI

describe('CLI: check --kernel-version, convert --for-kernel', () => {
  const cli = join(process.cwd(), 'dist', 'btfkit.cjs');
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-klimits-'));
  const d61 = join(dir, 'd61.btf');
  writeFileSync(d61, fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args], { maxBuffer: 1 << 28 });
    return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };

  test('check', () => {
    assert.equal(run('check', d61, '--kernel-version', '6.1').code, 0);
    const old = run('check', d61, '--kernel-version', '5.10');
    assert.equal(old.code, 1);
    assert.match(old.stdout, /^ {2}unsupported: .*type \[\d+\].*Linux 5\.10 refuses/m);
    const [report] = JSON.parse(run('check', d61, '--kernel-version', '5.10', '--json').stdout);
    assert.ok(report.errors.every((e: { code: string }) => e.code === 'unsupported'));
    assert.ok(report.errors.some((e: { message: string }) => /FLOAT .*Linux 5\.10 does not know \(FLOAT arrived in 5\.13\)/.test(e.message)));
    assert.equal(run('check', d61, '--kernel-version', 'banana').code, 2);
    const wide = join(dir, 'wide.btf');
    writeFileSync(wide, wideStruct(70_000));
    assert.equal(run('check', wide).code, 0);
    assert.equal(run('check', wide, '--kernel').code, 1);
  });

  test('convert', () => {
    const out = join(dir, 'out.btf');
    assert.equal(run('convert', d61, '-o', out, '--for-kernel', '6.1').code, 0);
    // --for-kernel rewrites what the release lacks (test/sanitize.test.ts has the details) ...
    const r = run('convert', d61, '-o', out, '--for-kernel', '5.10');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(run('check', out, '--kernel-version', '5.10').code, 0);
    // ... and refuses what cannot be rewritten, in one line.
    const wide = join(dir, 'wide.btf');
    writeFileSync(wide, wideStruct(70_000));
    const w = run('convert', wide, '-o', out, '--for-kernel', '5.10');
    assert.equal(w.code, 1);
    assert.match(w.stderr, /^btfkit: error: .*70000 members.*Linux 5\.10/);
    assert.equal(w.stderr.trimEnd().split('\n').length, 1);
    assert.equal(run('convert', d61, '-o', out, '--for-kernel', 'x').code, 2);
  });
});
