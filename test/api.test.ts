import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../src/index.js';
import * as nodeApi from '../src/node/index.js';
import { fixture } from './helpers/paths.js';

test('the package entry points export runtime values a JavaScript user can call', () => {
  // A const enum would vanish from the emitted JavaScript: Kind must exist at run time.
  assert.equal(api.Kind.Struct, 4);
  assert.equal(api.Kind.Enum64, 19);
  for (const name of ['Btf', 'BtfError', 'BtfBuilder', 'ByteSink', 'dumpRaw', 'dumpJson', 'dumpC', 'cHeader', 'cDeclaration', 'CDumper', 'checkBtf', 'convertBtf', 'loadBtf', 'parseElf', 'checkSplit', 'mergeModules', 'makeStandalone', 'splitOnBase']) {
    assert.equal(typeof (api as Record<string, unknown>)[name], 'function', name);
  }
  for (const name of ['loadBtfFile', 'readInput', 'KernelBtf']) {
    assert.equal(typeof (nodeApi as Record<string, unknown>)[name], 'function', name);
  }
});

test('the README library example runs as written', () => {
  const { Btf, Kind, BtfBuilder, ByteSink, dumpRaw, checkBtf } = api;
  const vmlinux = Btf.parse(fixture('golden/running-6.18/vmlinux.btf.gz'));
  const id = vmlinux.findOne('task_struct', Kind.Struct);
  const task = vmlinux.type(id);
  assert.ok(task.kind === Kind.Struct);
  assert.equal(vmlinux.sizeof(id), task.size);
  assert.ok(task.members.length > 100);
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1);
  b.addStruct('pair', 8, [{ name: 'a', type: int, bitOffset: 0 }, { name: 'b', type: int, bitOffset: 32 }]);
  const bytes = b.encode({ endian: 'little', layout: true });
  const btf = Btf.parse(bytes);
  assert.deepEqual(checkBtf(btf), []);
  const sink = new ByteSink();
  dumpRaw(btf, sink);
  assert.equal(new TextDecoder().decode(sink.toBytes()), "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n[2] STRUCT 'pair' size=8 vlen=2\n\t'a' type_id=1 bits_offset=0\n\t'b' type_id=1 bits_offset=32\n");

  const { cHeader, cDeclaration, CDumper } = api;
  assert.ok(cHeader(vmlinux).includes('\nstruct task_struct {\n'));
  assert.equal(cDeclaration(vmlinux, vmlinux.findOne('bpf_task_acquire', Kind.Func)), 'struct task_struct *bpf_task_acquire(struct task_struct *p)');
  const dumper = new CDumper(vmlinux);
  assert.ok(dumper.dumpTypeText(id).includes('\nstruct task_struct {\n'));
  const file = dumper.dumpTypeText(vmlinux.findOne('file', Kind.Struct));
  assert.ok(file.includes('struct file {\n') && !file.includes('struct task_struct {'));
});
