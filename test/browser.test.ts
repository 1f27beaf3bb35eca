/**
 * The library core runs in a browser: esbuild bundles the package's browser-safe entry points
 * (`btfkit`, `btfkit/c`, `btfkit/query`, `btfkit/core`, `btfkit/modules`, `btfkit/elf`, by name, through the package's
 * exports) for the browser (which fails outright if anything in them reaches a node:* module), headless Chromium runs it
 * on real inputs embedded in a page, and what it computes must equal what Node computes with
 * the same code, and the goldens: the 6.18 kernel's sorted vmlinux.h, a Debian 6.1 module
 * split on its base, a big-endian BPF object read from its ELF file, and a malformed blob
 * ending in a BtfError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import * as core from '../src/index.js';
import * as c from '../src/entry/c.js';
import * as elf from '../src/entry/elf.js';
import * as ext from '../src/entry/ext.js';
import * as modules from '../src/entry/modules.js';
import * as vocabulary from '../src/entry/query.js';
import * as load from '../src/entry/load.js';
import * as coreRelocation from '../src/entry/core.js';
import { parseElf, sectionData } from '../src/elf/elf.js';
import { fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const BROWSERS = ['chromium-headless-shell', 'chromium', 'chromium-browser', 'google-chrome'];
const browser = BROWSERS.find((b) => spawnSync(b, ['--version'], { encoding: 'utf8' }).status === 0);

/** What the page's bundle holds: every browser-safe entry point's names in one object. */
const btfkit = { ...core, ...c, ...elf, ...ext, ...modules, ...vocabulary, ...load, ...coreRelocation };
const BROWSER_ENTRIES = ['btfkit', 'btfkit/c', 'btfkit/query', 'btfkit/core', 'btfkit/elf', 'btfkit/ext', 'btfkit/modules', 'btfkit/load'];

/** FNV-1a over bytes: a digest both sides compute without any crypto API. */
function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return `${bytes.length}:${h.toString(16)}`;
}

/**
 * The work done on both sides, given the library and the inputs; returns digests and findings.
 * Written as a plain function so the page can run its source text unchanged.
 */
function workload(lib: typeof btfkit, inputs: Record<string, Uint8Array>, digest: (b: Uint8Array) => string): Record<string, string> {
  const out: Record<string, string> = {};
  const sinkOf = (f: (sink: core.ByteSink) => void) => {
    const sink = new lib.ByteSink();
    f(sink);
    return digest(sink.toBytes());
  };
  const vmlinux = lib.Btf.parse(inputs.vmlinux!);
  out.vmlinuxTypes = String(vmlinux.endId - 1);
  out.vmlinuxCheck = String(lib.checkBtf(vmlinux).length);
  out.vmlinuxHeader = sinkOf((s) => lib.dumpC(vmlinux, s));
  out.vmlinuxRaw = sinkOf((s) => lib.dumpRaw(vmlinux, s));
  const base = lib.Btf.parse(inputs.debianBase!);
  const module = lib.loadModuleBtf(inputs.afKey!, base);
  out.moduleVerdict = lib.checkSplit(inputs.afKey!, base).verdict;
  out.moduleRaw = sinkOf((s) => lib.dumpRaw(module, s, { ids: Array.from({ length: module.endId - module.firstId }, (_, i) => module.firstId + i) }));
  const object = lib.loadBtf(inputs.bpfObject!);
  out.objectEndian = object.littleEndian ? 'little' : 'big';
  out.objectJson = sinkOf((s) => lib.dumpJson(object, s));
  const bpf = lib.parseBpfObject(inputs.bpfObject!);
  out.objectExt = digest(lib.encodeBtfExt(bpf.ext!));
  out.objectCoreRelocations = bpf.programs.map((p) => `${p.name}: ${p.coreRelocations.map((r) => `${r.insnOffset}/${r.kind}/${r.access}`).join(' ')}`).join('; ');
  out.minimizedBtf = digest(lib.minimizeBtf([inputs.bpfObject!], vmlinux).vmlinux);
  out.objectInsns = digest(new TextEncoder().encode(bpf.programs.map((p) => lib.decodeInsns(p.bytes, bpf.littleEndian).map((i) => lib.formatInsn(i)).join('\n')).join('\n')));
  try {
    lib.Btf.parse(inputs.vmlinux!.subarray(0, 4000));
    out.truncated = 'parsed';
  } catch (e) {
    out.truncated = lib.isBtfError(e) ? `BtfError ${e.code}` : `other ${String(e)}`;
  }
  return out;
}

function inputs(): Record<string, Uint8Array> {
  return {
    vmlinux: fixture('golden/running-6.18/vmlinux.btf.gz'),
    debianBase: fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'),
    afKey: fixture('golden/debian-6.1.0-50-cloud/modules/af_key.btf.gz'),
    bpfObject: fixture('bpf/core.clang19.bpfeb.o.gz'),
  };
}

test('the core runs in headless Chromium and computes what Node computes', async (t) => {
  if (!browser) return loudSkip(t, `no headless browser (${BROWSERS.join(', ')}); .ci/run installs chromium-headless-shell`);
  // Bundling for the browser fails if the entry reaches Node's built-in modules.
  const bundled = await build({
    stdin: { contents: BROWSER_ENTRIES.map((e) => `export * from '${e}';`).join('\n'), resolveDir: process.cwd() },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'btfkit',
    write: false,
    logLevel: 'silent',
  });
  const data = inputs();
  const expected = workload(btfkit, data, fnv1a);
  // The goldens, not only Node, say what the browser must produce.
  assert.equal(expected.vmlinuxHeader, fnv1a(fixture('golden/running-6.18/vmlinux.sorted.h.gz')));
  assert.equal(expected.vmlinuxRaw, fnv1a(fixture('golden/running-6.18/vmlinux.raw.txt.gz')));
  assert.equal(expected.objectJson, fnv1a(fixture('bpf/core.clang19.bpfeb.o.json.gz')));
  // Re-encoding .BTF.ext gives clang's bytes back, and the object has the CO-RE records its source asks for.
  assert.equal(expected.objectExt, fnv1a(sectionData(parseElf(data.bpfObject!), '.BTF.ext')!));
  assert.match(expected.objectCoreRelocations!, /^tp_btf\/sched_process_exec: (\d+\/\d+\/[\d:]+ ?){19}$/);

  const dir = mkdtempSync(join(tmpdir(), 'btfkit-browser-'));
  try {
    const embedded = Object.entries(data).map(([k, v]) => `${JSON.stringify(k)}: "${Buffer.from(v).toString('base64')}"`).join(',\n');
    const page = `<!doctype html><html><body><pre id="out">not run</pre>
<script>${bundled.outputFiles[0]!.text}</script>
<script>
const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const raw = {${embedded}};
const inputs = {};
for (const k in raw) inputs[k] = fromBase64(raw[k]);
const out = document.getElementById('out');
try {
  const result = (${workload.toString()})(btfkit, inputs, ${fnv1a.toString()});
  result.userAgent = navigator.userAgent;
  out.textContent = JSON.stringify(result);
} catch (e) {
  out.textContent = JSON.stringify({ error: String(e && e.stack || e) });
}
// Keep the dumped page small: drop the bundle and the inputs.
for (const s of document.querySelectorAll('script')) s.remove();
</script></body></html>`;
    const file = join(dir, 'page.html');
    writeFileSync(file, page);
    const r = spawnSync(browser, ['--headless', '--no-sandbox', '--disable-gpu', '--virtual-time-budget=60000', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${file}`],
      { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 120_000 });
    assert.equal(r.status, 0, `${browser} failed: ${r.stderr.split('\n').slice(-5).join('\n')}`);
    const m = /<pre id="out">([^<]*)<\/pre>/.exec(r.stdout);
    assert.ok(m, `no result in the page: ${r.stdout.slice(0, 300)}`);
    const got = JSON.parse(m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as Record<string, string>;
    assert.equal(got.error, undefined, got.error);
    const userAgent = got.userAgent;
    delete got.userAgent;
    assert.deepEqual(got, expected);
    assert.equal(got.truncated, 'BtfError truncated');
    assert.equal(got.moduleVerdict, 'matched');
    t.diagnostic(`${browser}: ${userAgent}; ${Object.keys(expected).length} results equal Node's`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
