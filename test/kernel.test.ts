/**
 * The running kernel as judge: blobs btfkit writes go through bpf(BPF_BTF_LOAD), whose BTF
 * verifier is the strictest reader there is. The kernel reads only native-endian BTF with the
 * classic 24-byte header (6.18 answers a layout section with E2BIG "Unsupported btf_header" and
 * foreign-endian BTF with EINVAL "btf_header not found"), so big-endian and layout blobs are
 * judged through their converted native, layout-free equivalents.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { convertBtf } from '../src/build/convert.js';
import { Kind } from '../src/format/kinds.js';
import { kernelLoad } from './helpers/kernel.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const NATIVE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 'little' : 'big';
const FOREIGN = NATIVE === 'little' ? 'big' : 'little';

/** The kernel's verdict, or undefined after a loud skip. */
function judge(t: TestContext, bytes: Uint8Array): { ok: boolean; log: string } | undefined {
  const verdict = kernelLoad(bytes);
  if ('skipped' in verdict) {
    loudSkip(t, verdict.skipped);
    return undefined;
  }
  return verdict;
}

function accepted(t: TestContext, bytes: Uint8Array, what: string): boolean {
  const verdict = judge(t, bytes);
  if (!verdict) return false;
  assert.ok(verdict.ok, `kernel rejected ${what}:\n${verdict.log.slice(-4000)}`);
  return true;
}

test('the judge can fail: the kernel rejects a pointer to a type that does not exist', (t) => {
  const b = new BtfBuilder();
  b.addInt('int', 4, 1);
  b.addRecord(Kind.Ptr, 0, 0, false, 7);
  const verdict = judge(t, b.encode({ endian: NATIVE }));
  if (!verdict) return;
  assert.equal(verdict.ok, false);
  assert.match(verdict.log, /\[2\] PTR/);
});

test('builder blobs are accepted: self-referencing list, bitfields, enums, a BPF program\'s functions and data', (t) => {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1);
  const u64 = b.addInt('unsigned long long', 8, 0);
  const list = b.addStruct('list_head', 16, [
    { name: 'next', type: b.nextId + 1, bitOffset: 0 },
    { name: 'prev', type: b.nextId + 1, bitOffset: 64 },
  ]);
  const listPtr = b.addPtr(list);
  const flags = b.addStruct('flags', 8, [
    { name: 'a', type: u64, bitOffset: 0, bitfieldSize: 1 },
    { name: 'b', type: u64, bitOffset: 1, bitfieldSize: 62 },
    { name: 'c', type: int, bitOffset: 32 + 31, bitfieldSize: 1 },
  ]);
  b.addEnum('state', 4, [{ name: 'ST_A', value: -5 }, { name: 'ST_B', value: 3 }]);
  b.addEnum64('big_mask', 8, [{ name: 'HIGH_BIT', value: 1n << 63n }, { name: 'ALL', value: (1n << 64n) - 1n }]);
  b.addEnum64('neg64', 8, [{ name: 'NEG', value: -(2n ** 60n) }]);
  const proto = b.addFuncProto(int, [{ name: 'head', type: listPtr }, { name: 'f', type: b.addPtr(flags) }]);
  const func = b.addFunc('walk', proto, 1);
  b.addDeclTag('hot', func, -1);
  b.addDeclTag('nonnull', func, 0);
  const counter = b.addVar('counter', u64, 1);
  const head = b.addVar('head', list, 0);
  b.addDatasec('.bss', 24, [{ type: counter, offset: 0, size: 8 }, { type: head, offset: 8, size: 16 }]);
  b.addTypedef('list_t', b.addConst(b.addVolatile(list)));
  b.addFloat('float', 4);
  b.addFwd('later', 'struct');
  const bytes = b.encode({ endian: NATIVE });
  Btf.parse(bytes);
  if (!accepted(t, bytes, 'the builder blob')) return;
  // The same types written big-endian / with a layout section and converted back.
  accepted(t, convertBtf(Btf.parse(b.encode({ endian: FOREIGN })), { endian: NATIVE }), 'the foreign-endian blob converted to native');
  accepted(t, convertBtf(Btf.parse(b.encode({ endian: NATIVE, layout: true })), { layout: false }), 'the layout blob converted without layout');
});

test('foreign-endian BTF is rejected by the kernel as it is, and accepted once converted', (t) => {
  const b = new BtfBuilder();
  b.addPtr(b.addInt('int', 4, 1));
  const foreign = b.encode({ endian: FOREIGN });
  const verdict = judge(t, foreign);
  if (!verdict) return;
  assert.equal(verdict.ok, false, 'the kernel only reads native-endian BTF');
  t.diagnostic(`kernel on ${FOREIGN}-endian BTF: ${verdict.log.trim().replace(/\n/g, ' | ')}`);
  accepted(t, convertBtf(Btf.parse(foreign), { endian: NATIVE }), 'the converted blob');
});

test('a layout blob converted without its layout section is accepted; what the kernel says of the layout blob itself is reported', (t) => {
  const b = new BtfBuilder();
  b.addPtr(b.addInt('int', 4, 1));
  const layoutBlob = b.encode({ endian: NATIVE, layout: true });
  const verdict = judge(t, layoutBlob);
  if (!verdict) return;
  // Not asserted: kernels that know the layout section may accept it; 6.18 does not.
  t.diagnostic(`kernel on a layout-section blob: ${verdict.ok ? 'accepted' : verdict.log.trim().replace(/\n/g, ' | ')}`);
  accepted(t, convertBtf(Btf.parse(layoutBlob), { layout: false }), 'the layout blob without its layout');
  // A zero-padded 32-byte header is the v1 header with reserved zero bytes; old kernels accept it.
  accepted(t, b.encode({ endian: NATIVE, headerLength: 32 }), 'a 32-byte header without layout');
});

test('the 6.18 vmlinux BTF, rewritten by convertBtf, is accepted', (t) => {
  // libbpf 1.8 wrote this one with a layout section and its own string table; without the layout it is loadable.
  const layoutBlob = Btf.parse(fixture('golden/running-6.18/vmlinux.layout.btf.gz'));
  if (!accepted(t, convertBtf(layoutBlob, { layout: false, endian: NATIVE }), 'vmlinux.layout.btf without layout')) return;
  const vmlinux = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
  const foreign = Btf.parse(convertBtf(vmlinux, { endian: FOREIGN }));
  accepted(t, convertBtf(foreign, { endian: NATIVE }), 'vmlinux.btf after a round trip through the other byte order');
});

test('the Debian 6.1 vmlinux BTF, copied type by type with re-added names, is accepted', (t) => {
  const base = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
  const copy = new BtfBuilder();
  copy.addAll(base, { remapStrings: true });
  accepted(t, copy.encode({ endian: NATIVE }), 'the Debian 6.1 vmlinux copy');
});
