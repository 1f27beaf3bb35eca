/**
 * Real-data sweep: every build fetched into DATA_DIR by tools/fetch-debian-kernel.sh (its
 * vmlinux.btf and the split .BTF of every module), and the running kernel's /sys/kernel/btf,
 * dumped by btfkit and by bpftool; the dumps must be equal byte for byte. Every blob also goes
 * through convertBtf: unchanged it must come back byte-identical, and big-endian and back too.
 *
 * bpftool runs in batch mode (`bpftool --base-btf B batch file F`), one process for all the raw
 * dumps of a build and one for all the JSON dumps: a process per module costs ~35 ms, mostly
 * re-parsing the base, which for a thousand modules is minutes. A sample of modules is also
 * dumped by separate bpftool runs, to prove that cutting the batch output apart is faithful.
 *
 * Without data this skips loudly; with BTFKIT_REQUIRE_DATA=1 (set by .ci/run) it fails instead.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadBtf } from '../src/btf/source.js';
import { Btf } from '../src/btf/btf.js';
import { BtfError } from '../src/errors.js';
import { dumpJson, dumpRaw } from '../src/dump/raw.js';
import { ByteSink } from '../src/dump/sink.js';
import { convertBtf } from '../src/build/convert.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { DATA_DIR } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

const BPFTOOL = process.env.BPFTOOL ?? 'bpftool';
const REQUIRE_DATA = process.env.BTFKIT_REQUIRE_DATA === '1';
/** Mismatches shown in full in a failure message; the rest are only counted. */
const SHOWN = 10;
const SYSFS = '/sys/kernel/btf';

/** What bpftool printed for one file. */
interface BpftoolDump {
  ok: boolean;
  out: Buffer;
  err: string;
}

interface BpftoolDumps {
  raw: BpftoolDump;
  json: BpftoolDump;
}

function run(args: string[]): Promise<BpftoolDump> {
  return new Promise((resolve) => {
    execFile(BPFTOOL, args, { encoding: 'buffer', maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: stdout, err: stderr.toString('utf8').trim() });
    });
  });
}

/** `bpftool version`'s output, the separator between raw dumps in a batch; undefined without bpftool. */
const versionBanner: Buffer | undefined = (() => {
  try {
    return execFileSync(BPFTOOL, ['version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
})();

const baseArgs = (base: string | undefined) => (base ? ['--base-btf', base] : []);

/** One file dumped by its own bpftool processes. */
async function dumpAlone(file: string, base: string | undefined): Promise<BpftoolDumps> {
  const [raw, json] = await Promise.all([
    run([...baseArgs(base), 'btf', 'dump', 'file', file, 'format', 'raw']),
    run(['-j', ...baseArgs(base), 'btf', 'dump', 'file', file]),
  ]);
  return { raw, json };
}

/** Index just past the JSON object or array starting at `pos` (bpftool escapes `"` and `\\` in strings), or -1. */
function skipJsonValue(b: Buffer, pos: number): number {
  if (b[pos] !== 0x7b && b[pos] !== 0x5b) return -1;
  let depth = 0;
  for (let i = pos; i < b.length; i++) {
    const c = b[i];
    if (c === 0x22) {
      for (i++; i < b.length && b[i] !== 0x22; i++) if (b[i] === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
    } else if ((c === 0x7d || c === 0x5d) && --depth === 0) {
      return i + 1;
    }
  }
  return -1;
}

/**
 * The per-command dumps in a JSON batch's output, `[{"command":[...],"output":{...}},...]`,
 * up to the first failed command (whose output is `{"error":...}`, and which ends the batch).
 */
function splitJsonBatch(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const head = Buffer.from('{"command":');
  const mid = Buffer.from(',"output":');
  const good = Buffer.from('{"types":');
  let i = 1;
  while (i < b.length && b.subarray(i, i + head.length).equals(head)) {
    const cmdEnd = skipJsonValue(b, i + head.length);
    if (cmdEnd < 0 || !b.subarray(cmdEnd, cmdEnd + mid.length).equals(mid)) break;
    const start = cmdEnd + mid.length;
    const end = skipJsonValue(b, start);
    if (end < 0 || !b.subarray(start, start + good.length).equals(good)) break;
    // A lone run ends its one JSON document with a newline; inside the batch array it has none.
    out.push(Buffer.concat([b.subarray(start, end), Buffer.from('\n')]));
    i = end + 2; // past the element's closing brace and the comma
  }
  return out;
}

/** The raw dumps in a raw batch's output: each command is followed by a `version` command. */
function splitRawBatch(b: Buffer, banner: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let at = b.indexOf(banner, start); at >= 0; at = b.indexOf(banner, start)) {
    out.push(b.subarray(start, at));
    start = at + banner.length;
  }
  return out;
}

/**
 * Dumps every file with bpftool in batch mode. A batch stops at the first file bpftool cannot
 * read; that file is then dumped alone (to record its error) and the batch resumes after it.
 */
async function dumpBatched(files: readonly string[], base: string | undefined, banner: Buffer): Promise<BpftoolDumps[]> {
  const results: BpftoolDumps[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'btfkit-sweep-'));
  try {
    while (results.length < files.length) {
      const rest = files.slice(results.length);
      // make_args splits on blanks and treats quotes and '#' specially: such names go alone.
      if (/[\s"'#\\]/.test(rest[0]!)) {
        results.push(await dumpAlone(rest[0]!, base));
        continue;
      }
      const n = rest.findIndex((f) => /[\s"'#\\]/.test(f));
      const batch = n < 0 ? rest : rest.slice(0, n);
      const rawCmds = join(dir, 'raw'), jsonCmds = join(dir, 'json');
      writeFileSync(rawCmds, batch.map((f) => `btf dump file ${f} format raw\nversion\n`).join(''));
      writeFileSync(jsonCmds, batch.map((f) => `btf dump file ${f}\n`).join(''));
      const [raw, json] = await Promise.all([
        run([...baseArgs(base), 'batch', 'file', rawCmds]),
        run(['-j', ...baseArgs(base), 'batch', 'file', jsonCmds]),
      ]);
      const raws = splitRawBatch(raw.out, banner);
      const jsons = splitJsonBatch(json.out);
      const done = Math.min(raws.length, jsons.length, batch.length);
      for (let k = 0; k < done; k++) {
        results.push({ raw: { ok: true, out: raws[k]!, err: '' }, json: { ok: true, out: jsons[k]!, err: '' } });
      }
      if (done < batch.length) results.push(await dumpAlone(batch[done]!, base));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** Skips loudly, or fails when real data is required (CI). */
function missing(t: TestContext, reason: string): void {
  if (REQUIRE_DATA) assert.fail(`BTFKIT_REQUIRE_DATA=1 but ${reason}`);
  loudSkip(t, reason);
}

function render(dump: typeof dumpRaw, btf: Btf): Buffer {
  const sink = new ByteSink();
  dump(btf, sink);
  const b = sink.toBytes();
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Where two dumps first differ (line, and the text around that byte), or undefined when byte-identical. */
function firstDifference(ours: Buffer, theirs: Buffer): string | undefined {
  if (ours.equals(theirs)) return undefined;
  let at = 0;
  while (at < ours.length && at < theirs.length && ours[at] === theirs[at]) at++;
  const lineStart = ours.lastIndexOf(10, at - 1) + 1;
  let line = 1;
  for (let i = ours.indexOf(10); i >= 0 && i < lineStart; i = ours.indexOf(10, i + 1)) line++;
  // JSON dumps are one line: show the neighbourhood of the difference, not the line's start.
  const from = Math.max(lineStart, at - 120);
  const near = (b: Buffer) => {
    const nl = b.indexOf(10, at);
    return JSON.stringify(b.subarray(from, Math.min(nl < 0 ? b.length : nl, at + 120)).toString('latin1'));
  };
  return `line ${line}, byte ${at} (${ours.length} vs ${theirs.length} bytes): btfkit ${near(ours)}, bpftool ${near(theirs)}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}


/** Tallies of one sweep, reported as test diagnostics. */
class Tally {
  compared = 0;
  equal = 0;
  differing = 0;
  bothRejected = 0;
  converted = 0;
  readonly problems: string[] = [];
}

/**
 * Checks one blob against bpftool's dumps of it, and its conversions. `bigBase` is the
 * big-endian copy of the blob's base (undefined for a base blob). Returns the parsed blob.
 */
function checkBlob(label: string, dumps: BpftoolDumps, tally: Tally, load: () => Btf, bigBase: Btf | undefined): Btf | undefined {
  const { raw, json } = dumps;
  let btf: Btf;
  try {
    btf = load();
  } catch (e) {
    if (!(e instanceof BtfError)) {
      tally.compared++;
      tally.differing++;
      tally.problems.push(`${label}: btfkit threw a non-BtfError: ${String(e)}`);
    } else if (!raw.ok && !json.ok) {
      // Both reject it (a module built without BTF, say): agreement, though not a comparison.
      tally.bothRejected++;
    } else {
      tally.compared++;
      tally.differing++;
      tally.problems.push(`${label}: btfkit rejects what bpftool dumps: ${e.message}`);
    }
    return undefined;
  }
  tally.compared++;
  if (!raw.ok || !json.ok) {
    tally.differing++;
    tally.problems.push(`${label}: bpftool failed where btfkit parsed: ${raw.err || json.err}`);
    return btf;
  }
  const rawDiff = firstDifference(render(dumpRaw, btf), raw.out);
  const jsonDiff = firstDifference(render(dumpJson, btf), json.out);
  if (rawDiff || jsonDiff) {
    tally.differing++;
    if (rawDiff) tally.problems.push(`${label} raw dump: ${rawDiff}`);
    if (jsonDiff) tally.problems.push(`${label} JSON dump: ${jsonDiff}`);
  } else {
    tally.equal++;
  }

  try {
    if (!sameBytes(convertBtf(btf), btf.bytes)) tally.problems.push(`${label}: convertBtf with no option changed the bytes`);
    const big = Btf.parse(convertBtf(btf, { endian: 'big' }), { base: bigBase });
    if (big.littleEndian) tally.problems.push(`${label}: convertBtf endian=big gave little-endian BTF`);
    const bigRaw = firstDifference(render(dumpRaw, big), raw.out);
    if (bigRaw) tally.problems.push(`${label}: raw dump of the big-endian conversion: ${bigRaw}`);
    if (!sameBytes(convertBtf(big, { endian: 'little' }), btf.bytes)) tally.problems.push(`${label}: big-endian and back is not byte-identical`);
    tally.converted++;
  } catch (e) {
    tally.problems.push(`${label}: conversion threw: ${e instanceof Error ? e.message : String(e)}`);
  }
  return btf;
}

/** The big-endian copy of a base, made once and shared by its modules' conversions. */
function bigTwinOf(base: Btf): Btf {
  return Btf.parse(convertBtf(base, { endian: 'big' }));
}

/**
 * Sweeps a base and its split modules: bpftool dumps them all (batched), btfkit parses and
 * dumps each, and a sample is re-dumped by lone bpftool runs to check the batch splitting.
 */
async function sweep(t: TestContext, what: string, basePath: string, modules: readonly string[], label: (m: string) => string): Promise<void> {
  const banner = versionBanner!;
  const started = performance.now();
  const tally = new Tally();
  const base = checkBlob(label(basePath), await dumpAlone(basePath, undefined), tally, () => loadBtf(readBytes(basePath), { file: basePath }), undefined);
  assert.ok(base, `${basePath} did not parse: ${tally.problems.join('; ')}`);
  const bigBase = bigTwinOf(base);

  const bpftoolStarted = performance.now();
  const dumps = await dumpBatched(modules, basePath, banner);
  const bpftoolSeconds = (performance.now() - bpftoolStarted) / 1000;
  const sample = [...new Set([0, modules.length >> 1, modules.length - 1])].filter((i) => i >= 0 && i < modules.length);
  for (const i of sample) {
    const alone = await dumpAlone(modules[i]!, basePath);
    assert.ok(alone.raw.out.equals(dumps[i]!.raw.out), `${label(modules[i]!)}: raw dump cut from bpftool's batch differs from a lone run`);
    assert.ok(alone.json.out.equals(dumps[i]!.json.out), `${label(modules[i]!)}: JSON dump cut from bpftool's batch differs from a lone run`);
  }

  modules.forEach((m, i) => {
    checkBlob(label(m), dumps[i]!, tally, () => loadBtf(readBytes(m), { base, file: m }), bigBase);
  });

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  t.diagnostic(
    `${what}: ${modules.length} modules; blobs compared ${tally.compared} (vmlinux included), equal ${tally.equal}, ` +
      `differing ${tally.differing}, rejected by both ${tally.bothRejected}, round-tripped ${tally.converted}; ` +
      `${seconds}s (bpftool batches ${bpftoolSeconds.toFixed(1)}s)`,
  );
  for (const p of tally.problems.slice(0, SHOWN)) t.diagnostic(p);
  assert.ok(tally.compared > 0, `${what}: nothing was compared`);
  assert.deepEqual(
    tally.problems.slice(0, SHOWN),
    [],
    `${what}: ${tally.problems.length} problem(s), ${tally.differing} blob(s) dumped differently from bpftool`,
  );
}


const found = fetchedBuilds();

if (found.length === 0) {
  test('real-data sweep over DATA_DIR', (t) => {
    missing(t, `no fetched kernel build in ${DATA_DIR} (run tools/fetch-debian-kernel.sh ${relative(process.cwd(), DATA_DIR) || '.'})`);
  });
}

for (const dir of found) {
  const name = relative(DATA_DIR, dir);
  test(`${name}: vmlinux and every module dump like bpftool`, async (t) => {
    if (!versionBanner) return missing(t, `${BPFTOOL} not runnable`);
    const modules = findModules(join(dir, 'modules'));
    const declared = Number(/^modules=(\d+)$/m.exec(readFileSync(join(dir, 'build'), 'utf8'))?.[1] ?? NaN);
    // The marker records how many modules the package had; a partial copy must not pass quietly.
    assert.equal(modules.length, declared, `${name}: module count differs from the build marker`);
    await sweep(t, name, join(dir, 'vmlinux.btf'), modules, (p) => `${name}/${relative(dir, p)}`);
  });
}

test('/sys/kernel/btf: vmlinux and loaded modules dump like bpftool', async (t) => {
  const vmlinuxPath = join(SYSFS, 'vmlinux');
  if (!existsSync(vmlinuxPath)) return loudSkip(t, `${vmlinuxPath} does not exist (kernel without CONFIG_DEBUG_INFO_BTF?)`);
  if (!versionBanner) return missing(t, `${BPFTOOL} not runnable`);
  const modules = readdirSync(SYSFS)
    .filter((m) => m !== 'vmlinux')
    .map((m) => join(SYSFS, m))
    .filter((p) => statSync(p).isFile())
    .sort();
  if (modules.length === 0) t.diagnostic('no module BTF under /sys/kernel/btf (no module with BTF is loaded)');
  await sweep(t, SYSFS, vmlinuxPath, modules, (p) => p);
});
