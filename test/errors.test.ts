/**
 * Error codes say what kind of thing went wrong (README "Errors" lists them): a malformed
 * input, something asked for that is not there or not one thing, a bad argument, a failing
 * system (with the system's error as `cause`), a limit. `isBtfError` recognises a BtfError
 * made by any copy of btfkit, in any realm, where `instanceof` cannot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { BTF_ERROR_CODES, BtfError, isBtfError, type BtfErrorCode } from '../src/errors.js';
import { Kind } from '../src/format/kinds.js';
import { parseKernelVersion } from '../src/format/kernels.js';
import { maybeDecompress } from '../src/node/compressed.js';
import { loadBtfFile, readInput } from '../src/node/files.js';
import { KernelBtf } from '../src/node/sysfs.js';
import { loadSplitChain } from '../src/split/load.js';
import { fixture } from './helpers/paths.js';

const work = mkdtempSync(join(tmpdir(), 'btfkit-errors-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

/** What `f` throws, checked to be a BtfError with `code`. */
function thrown(code: BtfErrorCode, f: () => unknown): BtfError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof BtfError, `expected a BtfError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected a ${code} error`);
}

test('findOne: no type of that name is not-found, several are ambiguous', () => {
  const b = new BtfBuilder();
  const int = b.addInt('twice', 4, 1);
  b.addStruct('twice', 4, [{ name: 'x', type: int, bitOffset: 0 }]);
  const btf = Btf.parse(b.encode());
  assert.match(thrown('not-found', () => btf.findOne('nowhere')).message, /no type named 'nowhere'/);
  assert.match(thrown('ambiguous', () => btf.findOne('twice')).message, /2 types are named 'twice' \(ids 1, 2\)/);
  assert.equal(btf.findOne('twice', Kind.Int), int);
});

test('a file that cannot be read is an io error naming it, with the system error as cause', () => {
  const missing = join(work, 'missing.btf');
  const e = thrown('io', () => readInput(missing));
  assert.equal(e.file, missing);
  assert.equal((e.cause as NodeJS.ErrnoException).code, 'ENOENT');
  assert.equal(thrown('io', () => loadBtfFile(missing)).file, missing);
  assert.match(thrown('io', () => readInput(work)).message, /is a directory/);
  assert.match(thrown('io', () => readInput('/dev/zero')).message, /character device/);
});

test('KernelBtf: a module it does not have is not-found; a directory it cannot list is io', () => {
  const dir = join(work, 'sysfs');
  const listed = new KernelBtf(dir);
  const e = thrown('io', () => listed.moduleNames());
  assert.equal((e.cause as NodeJS.ErrnoException).code, 'ENOENT');
  assert.match(thrown('not-found', () => new KernelBtf(work).module('no_such_module')).message, /no BTF for a module named 'no_such_module'/);
});

test('bad arguments and options are bad-argument errors', () => {
  thrown('bad-argument', () => readInput(join(work, 'x'), { maxInputSize: 0 }));
  thrown('bad-argument', () => parseKernelVersion('next year'));
  thrown('bad-argument', () => loadSplitChain([]));
  thrown('bad-argument', () => new BtfBuilder().addInt('x', 3, 0));
  const btf = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  thrown('bad-argument', () => btf.fieldOffset(btf.findOne('task_struct', Kind.Struct), 'se..vruntime'));
  thrown('not-found', () => btf.fieldOffset(btf.findOne('task_struct', Kind.Struct), 'se.no_such_member'));
});

test('compressed data that does not inflate is bad-input, with the decompressor error as cause', () => {
  const good = gzipSync(new Uint8Array(4096));
  const bad = good.slice();
  bad.fill(0xa5, 10, 30); // the deflate stream, not the gzip magic
  const e = thrown('bad-input', () => maybeDecompress(bad, 'bad.ko.gz'));
  assert.equal(e.file, 'bad.ko.gz');
  assert.ok(e.cause instanceof Error && (e.cause as NodeJS.ErrnoException).code?.startsWith('Z_'), String(e.cause));
});

test('inFile keeps the cause', () => {
  const cause = new Error('EIO');
  const e = new BtfError('io', 'cannot read', {}, { cause }).inFile('f.btf');
  assert.equal(e.cause, cause);
  assert.equal(e.message, 'f.btf: cannot read');
  assert.equal('cause' in new BtfError('truncated', 'x').inFile('f'), false);
});

test('isBtfError: true for BtfErrors, false for look-alikes and everything else', () => {
  assert.equal(isBtfError(new BtfError('io', 'x')), true);
  let parseError: unknown;
  try {
    Btf.parse(new Uint8Array(3));
  } catch (e) {
    parseError = e;
  }
  assert.equal(isBtfError(parseError), true);
  for (const other of [new Error('x'), { name: 'BtfError', code: 'io', message: 'x' }, Object.assign(new Error('x'), { name: 'BtfError', code: 'io' }), null, undefined, 'BtfError', 7]) {
    assert.equal(isBtfError(other), false, String(other));
  }
});

test('isBtfError recognises a BtfError of another copy of btfkit, where instanceof does not', async () => {
  // The same file under another URL is another module instance: another BtfError class, as
  // with two installed copies of the package.
  const copy = (await import(new URL('../src/errors.js?another-copy', import.meta.url).href)) as typeof import('../src/errors.js');
  assert.notEqual(copy.BtfError, BtfError);
  const theirs = new copy.BtfError('not-found', 'x');
  assert.equal(theirs instanceof BtfError, false);
  assert.equal(isBtfError(theirs), true);
  assert.equal(copy.isBtfError(new BtfError('io', 'y')), true);
});

test('isBtfError recognises a BtfError from another realm (a node:vm context), both ways', () => {
  // The module's compiled JavaScript, run as a script in a fresh context with its own globals.
  const source = readFileSync(new URL('../src/errors.js', import.meta.url), 'utf8').replace(/^export /gm, '');
  const realm = runInNewContext(`${source}\n({ BtfError, isBtfError, make: () => new BtfError('limit', 'z') })`) as {
    isBtfError: (e: unknown) => boolean; make: () => Error;
  };
  const foreign = realm.make();
  assert.equal(foreign instanceof Error, false, 'the context has its own Error');
  assert.equal(foreign instanceof BtfError, false);
  assert.equal(isBtfError(foreign), true);
  assert.equal((foreign as BtfError).code, 'limit');
  assert.equal(realm.isBtfError(new BtfError('io', 'y')), true);
  assert.equal(realm.isBtfError(new Error('y')), false);
});

test('README documents every error code once, and no other', () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('### Errors'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('|')));
  const documented = [...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), [...BTF_ERROR_CODES].sort());
  assert.equal(new Set(documented).size, documented.length);
});
