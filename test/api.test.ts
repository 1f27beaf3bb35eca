import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../src/index.js';
import * as cApi from '../src/entry/c.js';
import * as elfApi from '../src/entry/elf.js';
import * as modulesApi from '../src/entry/modules.js';
import * as nodeApi from '../src/node/index.js';
import { fixture } from './helpers/paths.js';

test('the package entry points export runtime values a JavaScript user can call', () => {
  // A const enum would vanish from the emitted JavaScript: Kind must exist at run time.
  assert.equal(api.Kind.Struct, 4);
  assert.equal(api.Kind.Enum64, 19);
  assert.equal(api.Kind.Void, 0);
  assert.equal(typeof api.describeKind, 'function');
  const functions: [Record<string, unknown>, string[]][] = [
    [api, ['Btf', 'BtfError', 'isBtfError', 'BtfBuilder', 'ByteSink', 'dumpRaw', 'dumpJson', 'checkBtf', 'convertBtf', 'loadBtf']],
    [cApi, ['dumpC', 'cHeader', 'cDeclaration', 'CDumper']],
    [elfApi, ['parseElf']],
    [modulesApi, ['loadModuleBtf', 'checkSplit', 'mergeModules', 'makeStandalone', 'splitOnBase']],
    [nodeApi, ['loadBtfFile', 'readInput', 'KernelBtf']],
  ];
  for (const [entry, names] of functions) {
    for (const name of names) assert.equal(typeof entry[name], 'function', name);
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
  const se = vmlinux.fieldOffset(id, 'se.vruntime');
  assert.equal(se.path.map((s) => s.name).join('.'), 'se.vruntime');
  assert.ok(vmlinux.fieldOffset(vmlinux.findOne('sk_buff', Kind.Struct), 'dev').path.length > 1);
  assert.equal(vmlinux.fieldOffset(id, 'comm[3]').bitOffset, vmlinux.fieldOffset(id, 'comm').bitOffset + 3 * 8);
  const [hash] = vmlinux.findEnumerator('BPF_MAP_TYPE_HASH');
  assert.equal(hash?.name, 'BPF_MAP_TYPE_HASH');
  assert.equal(vmlinux.name(hash.type), 'bpf_map_type');
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1);
  b.addStruct('pair', 8, [{ name: 'a', type: int, bitOffset: 0 }, { name: 'b', type: int, bitOffset: 32 }]);
  const bytes = b.encode({ endian: 'little', layout: true });
  const btf = Btf.parse(bytes);
  assert.deepEqual(checkBtf(btf), []);
  const sink = new ByteSink();
  dumpRaw(btf, sink);
  assert.equal(new TextDecoder().decode(sink.toBytes()), "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n[2] STRUCT 'pair' size=8 vlen=2\n\t'a' type_id=1 bits_offset=0\n\t'b' type_id=1 bits_offset=32\n");

  const { cHeader, cDeclaration, CDumper } = cApi;
  assert.ok(cHeader(vmlinux).includes('\nstruct task_struct {\n'));
  assert.equal(cDeclaration(vmlinux, vmlinux.findOne('bpf_task_acquire', Kind.Func)), 'struct task_struct *bpf_task_acquire(struct task_struct *p)');
  const dumper = new CDumper(vmlinux);
  assert.ok(dumper.dumpTypeText(id).includes('\nstruct task_struct {\n'));
  const file = dumper.dumpTypeText(vmlinux.findOne('file', Kind.Struct));
  assert.ok(file.includes('struct file {\n') && !file.includes('struct task_struct {'));
});

test('the README library example, taken from README.md, compiles and runs as printed', async () => {
  const { readFileSync, writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const { join, resolve } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const ts = (await import('typescript')).default;
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Library'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README has a ts block under ## Library');
  const js = ts.transpileModule(m[1]!, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  // Inside the package, `btfkit` and `btfkit/...` resolve to the package itself (its exports).
  const script = resolve('dist/test/readme-example.mjs');
  writeFileSync(script, js);
  // The files the example names, in the directory it runs in.
  const cwd = mkdtempSync(join(tmpdir(), 'btfkit-readme-'));
  try {
    writeFileSync(join(cwd, 'vmlinux-6.1.0-50.btf'), fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
    writeFileSync(join(cwd, '8021q.btf'), fixture('golden/debian-6.1.0-50-cloud/modules/8021q.btf.gz'));
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, [script], { cwd, encoding: 'utf8', env, maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, `README example failed:\n${r.stderr}`);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^se \d+ 0$/m, 'it printed task_struct members');
    assert.match(r.stdout, /^not-found$/m, 'it caught the BtfError of a missing type and printed its code');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
