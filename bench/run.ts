/**
 * Benchmarks: `npm run bench` (= `tsc -p . && node dist/bench/run.js [--runs N] [--micro-runs N]`).
 *
 * 1. Whole-process wall time of the btfkit CLI next to bpftool on the same files in the same
 *    run: the golden Linux 6.18 vmlinux BTF (decompressed to a temp file) and the running
 *    kernel's /sys/kernel/btf/vmlinux. Each row alternates the two tools run by run (so load
 *    drifts hit both alike) after one warm-up run each, and reports medians. Output goes to
 *    /dev/null. A row whose command fails is skipped and says so.
 * 2. In-process micro timings of the library alone (no process start-up, no output I/O).
 *
 * The results table is printed and written to bench/results.md. `BPFTOOL=/path/to/bpftool`
 * picks another bpftool than the one on PATH.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Btf } from '../src/btf/btf.js';
import { checkBtf } from '../src/btf/check.js';
import { dumpJson, dumpRaw } from '../src/dump/raw.js';
import { ByteSink } from '../src/dump/sink.js';
import { relocateObject } from '../src/core/object.js';
import { parseBpfObject } from '../src/bpf/object.js';
import { dedupModules } from '../src/dedup/dedup.js';
import { moduleNameOf } from '../src/elf/compress.js';
import { loadBtfFile, readModule } from '../src/node/files.js';
import { loadModuleBtf } from '../src/split/load.js';

/** The CLI as the package ships it, built next to this file (dist/bench/run.js → dist/btfkit.cjs). */
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'btfkit.cjs');
/** Like the tests, the bench runs from the repository root (npm run bench). */
const ROOT = process.env.BTFKIT_ROOT ?? process.cwd();
const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden', 'running-6.18', 'vmlinux.btf.gz');
const SYSFS = '/sys/kernel/btf/vmlinux';
const RESULTS = join(ROOT, 'bench', 'results.md');

interface Command {
  argv: string[];
  /** Exit statuses that mean success besides 0 (`btfkit core` exits 5 when it poisoned a relocation). */
  okStatus?: number[];
}

interface Row {
  input: string;
  operation: string;
  btfkit?: number[];
  bpftool?: number[];
  note?: string;
}

function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** The q-quantile of `xs` by linear interpolation between closest ranks (q = 0.5: the median). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** `min–max` of a sample, for the spread columns. */
function range(xs: number[] | undefined, digits = 0): string {
  if (!xs?.length) return '–';
  return `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
}

/** Runs a command with stdout to /dev/null; wall time in ms, or the failure. */
function timeCommand(cmd: Command, devNull: number): { ms: number } | { error: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd.argv[0]!, cmd.argv.slice(1), { stdio: ['ignore', devNull, 'pipe'], maxBuffer: 1 << 24 });
  const ms = performance.now() - t0;
  if (r.error) return { error: r.error.message };
  if (r.status !== 0 && !(r.status !== null && cmd.okStatus?.includes(r.status))) return { error: `exit ${r.status ?? r.signal}: ${(r.stderr?.toString() ?? '').trim().split('\n')[0]}` };
  return { ms };
}

/** btfkit/bpftool for each run of one row, each pair timed back to back. */
function perRunRatios(r: Row): number[] | undefined {
  const a = r.btfkit;
  const b = r.bpftool;
  if (!a?.length || !b?.length || a.length !== b.length) return undefined;
  return a.map((ms, i) => ms / b[i]!);
}

function which(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function benchPair(input: string, operation: string, btfkit: Command, bpftool: Command | undefined, runs: number, devNull: number): Row {
  const row: Row = { input, operation };
  const tools: [keyof Pick<Row, 'btfkit' | 'bpftool'>, Command | undefined][] = [['btfkit', btfkit], ['bpftool', bpftool]];
  const notes: string[] = [];
  const live = tools.filter(([name, cmd]) => {
    if (!cmd) {
      notes.push(`${name}: not available`);
      return false;
    }
    const warm = timeCommand(cmd, devNull);
    if ('error' in warm) {
      notes.push(`${name} failed (${warm.error}): \`${cmd.argv.join(' ')}\``);
      return false;
    }
    row[name] = [];
    return true;
  });
  for (let i = 0; i < runs; i++) {
    for (const [name, cmd] of i % 2 ? [...live].reverse() : live) {
      const r = timeCommand(cmd!, devNull);
      if ('error' in r) {
        notes.push(`${name} failed on run ${i + 1}: ${r.error}`);
        delete row[name];
        continue;
      }
      row[name]?.push(r.ms);
    }
  }
  if (notes.length) row.note = notes.join('; ');
  return row;
}

/** True when the CLI accepts `dump --format c` (another part of the project adds it). */
function cliSupportsC(file: string, devNull: number): boolean {
  const r = spawnSync(process.execPath, [CLI, 'dump', file, '--format', 'c'], { stdio: ['ignore', devNull, 'pipe'] });
  return r.status === 0;
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? '–' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

interface Micro {
  operation: string;
  ms: number[];
}

/** Times `op` `runs` times after one warm-up, with `setup` (untimed) before each run. */
function micro<S>(operation: string, runs: number, setup: () => S, op: (s: S) => unknown): Micro {
  op(setup());
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = setup();
    const t0 = performance.now();
    op(s);
    ms.push(performance.now() - t0);
  }
  return { operation, ms };
}

function microBench(bytes: Uint8Array, runs: number): Micro[] {
  const parsed = Btf.parse(bytes);
  const out: Micro[] = [
    micro('Btf.parse (header, strings, type index)', runs, () => undefined, () => Btf.parse(bytes)),
    micro('checkBtf (every kernel rule)', runs, () => Btf.parse(bytes), (b) => {
      const errors = checkBtf(b);
      if (errors.length) throw new Error(`golden vmlinux fails checkBtf: ${errors[0]!.message}`);
    }),
    micro('dumpRaw to a ByteSink', runs, () => new ByteSink(), (s) => dumpRaw(parsed, s)),
    micro('dumpJson to a ByteSink', runs, () => new ByteSink(), (s) => dumpJson(parsed, s)),
    micro("find('task_struct'), first call (builds the name index)", runs, () => Btf.parse(bytes), (b) => b.find('task_struct')),
    micro("find('task_struct'), index built", runs, () => parsed, (b) => b.find('task_struct')),
  ];
  return out;
}

/** What a reader needs to reproduce a row: the machine, its load, the tools' versions. */
function environment(bpftool: string | undefined, loadAtStart: number[]): string[] {
  const cpu = cpus();
  const bpftoolLines = bpftool ? spawnSync(bpftool, ['--version'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim()).filter(Boolean) : ['not installed'];
  const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores at ${cpu[0]?.speed ?? '?'} MHz, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; ${osType()} ${release()} (${arch()})`,
    `- load average (1, 5, 15 min) at start ${fmtLoad(loadAtStart)}, at end ${fmtLoad(loadavg())}`,
    `- node ${process.version}; ${bpftool ?? 'bpftool'}: ${bpftoolLines.join(', ')}`,
  ];
}

/** Docs that carry the latest summary between {@link SUMMARY_BEGIN} and {@link SUMMARY_END}. */
const SUMMARY_DOCS = ['README.md', 'docs/BENCHMARKS.md'];
const SUMMARY_BEGIN = '<!-- bench-summary:begin (npm run bench writes this block from bench/results.md; do not edit) -->';
const SUMMARY_END = '<!-- bench-summary:end -->';

/**
 * The block the docs show: one line per operation on the golden vmlinux with both medians and
 * the paired ratio's spread, under the machine it ran on. Written by the bench, never by hand,
 * so the docs cannot claim a figure this run did not measure (test/docs.test.ts checks).
 */
function summaryBlock(rows: Row[], env: string[], runs: number): string {
  const out = [SUMMARY_BEGIN, '', `Measured by \`npm run bench\` (${runs} runs per row, each tool alternating):`, '', ...env.filter((l) => !l.startsWith('- load')), '',
    '| operation, golden 6.18 vmlinux | btfkit ms (min–max) | bpftool ms (min–max) | btfkit/bpftool per run: median [quartiles] |',
    '|---|---:|---:|---:|'];
  for (const r of rows.filter((x) => x.input === 'golden 6.18 vmlinux' || x.input === '(process start-up)')) {
    const per = perRunRatios(r);
    const label = r.input === '(process start-up)' ? 'process start-up alone (`node -e \'\'` vs `bpftool version`)' : r.operation;
    out.push(`| ${label} | ${fmt(r.btfkit?.length ? median(r.btfkit) : undefined)} (${range(r.btfkit)}) | ${fmt(r.bpftool?.length ? median(r.bpftool) : undefined)} (${range(r.bpftool)}) | ${per ? `**${median(per).toFixed(2)}×** [${quantile(per, 0.25).toFixed(2)}–${quantile(per, 0.75).toFixed(2)}]` : '–'} |`);
  }
  out.push('', SUMMARY_END);
  return out.join('\n');
}

function replaceSummary(doc: string, summary: string, name: string): string {
  const a = doc.indexOf(SUMMARY_BEGIN);
  const b = doc.indexOf(SUMMARY_END);
  if (a < 0 || b < a) throw new Error(`${name} has no bench summary block (${SUMMARY_BEGIN} ... ${SUMMARY_END})`);
  return doc.slice(0, a) + summary + doc.slice(b + SUMMARY_END.length);
}

function main(): number {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      'micro-runs': { type: 'string', default: '5' },
      // `--only core` / `--only merge`: those rows alone, printed and written nowhere (to time them by themselves).
      only: { type: 'string' },
      // Another results file (e.g. against a hand-built bpftool): the docs' summary is left alone.
      out: { type: 'string' },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  const microRuns = Number(values['micro-runs']);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(microRuns) || microRuns < 1) {
    process.stderr.write('usage: node dist/bench/run.js [--runs N] [--micro-runs N] [--out FILE] [--only core|merge]\n');
    return 2;
  }
  if (values.only !== undefined && values.only !== 'core' && values.only !== 'merge') {
    process.stderr.write(`bench: --only takes 'core' or 'merge', not '${values.only}'\n`);
    return 2;
  }
  if (!existsSync(CLI)) {
    process.stderr.write(`bench: ${CLI} is missing; run 'tsc -p .' first (npm run bench does)\n`);
    return 1;
  }
  const loadAtStart = loadavg();
  const tmp = mkdtempSync(join(tmpdir(), 'btfkit-bench-'));
  const devNull = openSync('/dev/null', 'w');
  if (values.only === 'merge') {
    try {
      const merged = mergeDedupRows(process.execPath, tmp, runs, microRuns, devNull);
      if ('skipped' in merged) {
        process.stdout.write(`merge rows skipped: ${merged.skipped}\n`);
        return 0;
      }
      const lines = merged.rows.map((r) => {
        const per = perRunRatios(r);
        return `| ${r.operation} | ${fmt(r.btfkit?.length ? median(r.btfkit) : undefined)} (${range(r.btfkit)}) | ${fmt(r.bpftool?.length ? median(r.bpftool) : undefined)} (${range(r.bpftool)}) | ${per ? `**${median(per).toFixed(2)}×** [${quantile(per, 0.25).toFixed(2)}–${quantile(per, 0.75).toFixed(2)}]` : '–'} |${r.note ? ` ${r.note}` : ''}`;
      });
      process.stdout.write([`## ${merged.label}, whole process (median of ${runs} runs)`, '', '| operation | btfkit ms | libbpf harness ms | paired ratio |', '|---|---:|---:|---:|', ...lines, '', ...mergeInProcessLines(merged, microRuns), ''].join('\n'));
      return 0;
    } finally {
      closeSync(devNull);
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  if (values.only === 'core') {
    try {
      const core = coreRows(process.execPath, tmp, runs, microRuns, devNull);
      process.stdout.write(`${coreLines(core, runs, microRuns).join('\n')}\n`);
      return 0;
    } finally {
      closeSync(devNull);
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  try {
    const goldenBytes = gunzipSync(readFileSync(GOLDEN));
    const goldenFile = join(tmp, 'vmlinux-6.18.btf');
    writeFileSync(goldenFile, goldenBytes);
    const inputs: [string, string][] = [['golden 6.18 vmlinux', goldenFile]];
    const skipped: string[] = [];
    try {
      readFileSync(SYSFS);
      inputs.push(['/sys/kernel/btf/vmlinux', SYSFS]);
    } catch (e) {
      skipped.push(`${SYSFS}: not readable here (${(e as Error).message}); its rows are left out`);
    }
    const bpftool = process.env.BPFTOOL ?? which('bpftool');
    if (!bpftool) skipped.push('bpftool is not installed: its column is empty');
    const node = process.execPath;
    const withC = cliSupportsC(goldenFile, devNull);
    if (!withC) skipped.push("the CLI has no `dump --format c` yet: the C dump row is left out");

    const rows: Row[] = [];
    for (const [label, file] of inputs) {
      const bt = (argv: string[]) => (bpftool ? { argv: [bpftool, ...argv] } : undefined);
      process.stderr.write(`bench: ${label}\n`);
      const load = bpftool ? bpftoolLoadCommand(bpftool, file, devNull) : undefined;
      if (load?.note && !skipped.includes(load.note)) skipped.push(load.note);
      rows.push(benchPair(label, 'load + check', { argv: [node, CLI, 'check', file] }, load?.command, runs, devNull));
      rows.push(benchPair(label, 'raw dump', { argv: [node, CLI, 'dump', file, '--format', 'raw'] }, bt(['btf', 'dump', 'file', file, 'format', 'raw']), runs, devNull));
      rows.push(benchPair(label, 'JSON dump', { argv: [node, CLI, 'dump', file, '--format', 'json'] }, bt(['-j', 'btf', 'dump', 'file', file]), runs, devNull));
      if (withC) {
        // Debian's bpftool 7.1 writes the header in BTF order (sorting came later), so the like-for-like
        // row is btfkit --unsorted; the sorted row shows what bpftool v7.8's default costs btfkit.
        // bpftool 7.1 writes BTF order with `format c` and knows no `unsorted`; v7.8 sorts by
        // default and takes `format c unsorted` for BTF order: each row runs like for like.
        const unsortedArgs = bpftool && bpftoolTakesUnsorted(bpftool, file, devNull) ? ['format', 'c', 'unsorted'] : ['format', 'c'];
        rows.push(benchPair(label, 'C dump (unsorted)', { argv: [node, CLI, 'dump', file, '--format', 'c', '--unsorted'] }, bt(['btf', 'dump', 'file', file, ...unsortedArgs]), runs, devNull));
        rows.push(benchPair(label, 'C dump (sorted, v7.8 default)', { argv: [node, CLI, 'dump', file, '--format', 'c'] }, bt(['btf', 'dump', 'file', file, 'format', 'c']), runs, devNull));
      }
    }
    const merged = mergeDedupRows(node, tmp, runs, microRuns, devNull);
    if ('skipped' in merged) skipped.push(merged.skipped);
    else rows.push(...merged.rows);
    const core = coreRows(node, tmp, runs, microRuns, devNull);
    if ('skipped' in core) skipped.push(core.skipped);
    else rows.push(core.row);
    rows.push({ input: '(process start-up)', operation: 'node / bpftool with no work', ...startupRow(node, bpftool, runs, devNull) });

    process.stderr.write('bench: in-process micro timings\n');
    const micros = microBench(new Uint8Array(goldenBytes.buffer, goldenBytes.byteOffset, goldenBytes.byteLength), microRuns);

    const lines: string[] = [
      '# btfkit benchmark results',
      '',
      ...environment(bpftool, loadAtStart),
      '',
      `## Whole process, btfkit CLI vs bpftool (median of ${runs} runs, after 1 warm-up each; output to /dev/null)`,
      '',
      '| input | operation | btfkit ms: median (min–max) | bpftool ms: median (min–max) | ratio of medians | paired ratio: median [quartiles] (min–max) | runs |',
      '|---|---|---:|---:|---:|---:|---:|',
    ];
    for (const r of rows) {
      const a = r.btfkit?.length ? median(r.btfkit) : undefined;
      const b = r.bpftool?.length ? median(r.bpftool) : undefined;
      const ratio = a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}×` : '–';
      const per = perRunRatios(r);
      const paired = per === undefined ? '–'
        : `**${median(per).toFixed(2)}×** [${quantile(per, 0.25).toFixed(2)}–${quantile(per, 0.75).toFixed(2)}] (${range(per, 2)})`;
      lines.push(`| ${r.input} | ${r.operation} | ${fmt(a)} (${range(r.btfkit)}) | ${fmt(b)} (${range(r.bpftool)}) | ${ratio} | ${paired} | ${Math.max(r.btfkit?.length ?? 0, r.bpftool?.length ?? 0)} |`);
    }
    lines.push('', 'The ratio of medians divides the two medians. The paired ratio is taken run by run: each run times both tools back to back, so a slow spell of the machine (on a shared VM they come and go within seconds) weighs on both sides of a pair instead of on whichever tool it happened to hit; the table gives the median of those per-run ratios, their quartiles and their extremes. A second `npm run bench` on the same machine lands inside the quartiles most of the time, not always: compare the spread before reading a difference between two results files.');
    lines.push('', 'Commands: btfkit `node dist/btfkit.cjs check FILE`, `... dump FILE --format raw|json|c`; bpftool `bpftool btf dump file FILE format raw root_id 1` (bpftool has no check command: this loads and validates the whole blob and prints one type), `... format raw`, `bpftool -j btf dump file FILE`, `... format c`. The start-up row is `node -e \'\'` and `bpftool version`.');
    const notes = [...skipped, ...rows.filter((r) => r.note).map((r) => `${r.input}, ${r.operation}: ${r.note}`)];
    if (notes.length) lines.push('', 'Skipped or failed:', '', ...notes.map((n) => `- ${n}`));
    lines.push(
      '',
      `## In-process, library only (golden 6.18 vmlinux, ${goldenBytes.length} bytes; median of ${microRuns} runs after 1 warm-up)`,
      '',
      '| operation | median ms | min ms | max ms |',
      '|---|---:|---:|---:|',
      ...micros.map((m) => `| ${m.operation} | ${fmt(median(m.ms))} | ${fmt(Math.min(...m.ms))} | ${fmt(Math.max(...m.ms))} |`),
      '',
    );
    if (!('skipped' in merged)) lines.push(...mergeInProcessLines(merged, microRuns), '');
    if (!('skipped' in core)) lines.push(...coreInProcessLines(core, microRuns), '');
    const summary = summaryBlock(rows, environment(bpftool, loadAtStart), runs);
    lines.push('## Summary (copied into README.md and docs/BENCHMARKS.md)', '', summary, '');
    const text = lines.join('\n');
    process.stdout.write(text);
    const out = values.out ? resolve(values.out) : RESULTS;
    writeFileSync(out, text);
    process.stderr.write(`bench: written to ${out}\n`);
    if (!values.out) {
      for (const doc of SUMMARY_DOCS) {
        const path = join(ROOT, doc);
        writeFileSync(path, replaceSummary(readFileSync(path, 'utf8'), summary, doc));
        process.stderr.write(`bench: summary updated in ${doc}\n`);
      }
    }
    return 0;
  } finally {
    closeSync(devNull);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * bpftool has no check command; loading a file runs libbpf's full sanity check, so the baseline
 * is the cheapest command that loads: print one type (`root_id 1`, bpftool 7.3 and later). Older
 * bpftool (Debian 12 ships 7.1) lacks `root_id`: then the raw dump is piped into `head -c 4096`,
 * which closes the pipe so bpftool stops at its first flush after loading.
 */
/** What {@link mergeDedupRows} measured. */
interface MergeRows {
  label: string;
  rows: Row[];
  /** In process, per pass: reading + merging, then deduplicating. */
  btfkit: { read: number[]; dedup: number[] };
  libbpf: { read: number[]; dedup: number[] };
  /** Whole process under /usr/bin/time: wall and user + sys seconds per run, per command. */
  cpu: { command: string; wall: number[]; cpu: number[] }[];
}

/**
 * Every module of the first Debian build under data/ merged on its vmlinux in module-name order
 * and deduplicated: `btfkit merge --dedup` next to the same done with libbpf 1.1 in C
 * (test/helpers/btf_dedup.c --merge: btf__add_type per module type, then btf__dedup), whose
 * output the tests hold btfkit's to byte for byte. The libbpf harness takes the bpftool column.
 * A second row runs `--force`, which skips btfkit's base check (libbpf checks nothing); then
 * CPU time (V8 compiles on background threads); then both in process.
 */
function mergeDedupRows(node: string, tmp: string, runs: number, microRuns: number, devNull: number): MergeRows | { skipped: string } {
  const data = join(ROOT, 'data');
  const build = existsSync(data)
    ? readdirSync(data).sort().map((d) => join(data, d)).find((d) => existsSync(join(d, 'build')) && existsSync(join(d, 'vmlinux.btf')))
    : undefined;
  if (!build) return { skipped: 'no Debian build under data/ (tools/fetch-debian-kernel.sh): the merge + dedup rows are left out' };
  const harness = join(tmp, 'btf_dedup');
  const cc = spawnSync('cc', ['-O2', '-o', harness, join(ROOT, 'test', 'helpers', 'btf_dedup.c'), '-lbpf'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return { skipped: `the libbpf merge + dedup harness does not build here (${cc.error?.message ?? cc.stderr.trim().split('\n')[0]}): its rows are left out` };
  const modules: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.ko')) modules.push(join(d, e.name));
    }
  };
  walk(join(build, 'modules'));
  const nameOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  modules.sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  const base = join(build, 'vmlinux.btf');
  const label = `${modules.length} modules of ${build.slice(build.lastIndexOf('/') + 1)}`;
  process.stderr.write(`bench: ${label}\n`);
  const out = join(tmp, 'btfkit-merged.btf');
  const checked = { argv: [node, CLI, 'merge', '--dedup', '--base', base, ...modules, '-o', out] };
  const forced = { argv: [node, CLI, 'merge', '--dedup', '--force', '--base', base, ...modules, '-o', out] };
  const libbpf = { argv: [harness, '--merge', join(tmp, 'libbpf-merged.btf'), base, ...modules] };
  const rows = [
    benchPair(label, 'merge + dedup (bpftool column: libbpf 1.1 harness)', checked, libbpf, runs, devNull),
    benchPair(label, 'merge + dedup, --force: no base check (bpftool column: libbpf 1.1 harness)', forced, libbpf, runs, devNull),
  ];
  const cpu = [['btfkit merge --dedup', checked], ['btfkit merge --dedup --force', forced], ['libbpf 1.1 harness', libbpf]] as const;
  const cpuRuns = Math.max(3, Math.min(runs, 5));
  const cpuTimes = existsSync('/usr/bin/time') ? cpu.map(([command, cmd]) => ({ command, ...timedUnderTime(cmd, cpuRuns, devNull) })) : [];

  // In process: the library's read + load of every module and dedupModules (no base check, as
  // libbpf), and the harness's own clock around btf__parse_split + btf__add_type and btf__dedup.
  const baseBtf = loadBtfFile(base);
  const pass = () => {
    const t0 = performance.now();
    const loaded = modules.map((f) => ({ name: moduleNameOf(f), btf: loadModuleBtf(readModule(f), baseBtf, f) }));
    const t1 = performance.now();
    dedupModules(baseBtf, loaded);
    return [t1 - t0, performance.now() - t1] as const;
  };
  // V8 takes a few passes over a thousand modules to finish compiling dedup's loops.
  for (let i = 0; i < MERGE_WARMUPS; i++) pass();
  const btfkit = { read: [] as number[], dedup: [] as number[] };
  const lib = { read: [] as number[], dedup: [] as number[] };
  for (let i = 0; i < microRuns; i++) {
    const [read, dedup] = pass();
    btfkit.read.push(read);
    btfkit.dedup.push(dedup);
    const r = spawnSync(harness, libbpf.argv.slice(1), { encoding: 'utf8' });
    const num = (key: string) => Number(new RegExp(`^${key} ([\\d.]+)$`, 'm').exec(r.stdout)?.[1] ?? NaN);
    if (r.status === 0) {
      lib.read.push(num('read_ms'));
      lib.dedup.push(num('dedup_ms'));
    }
  }
  return { label, rows, btfkit, libbpf: lib, cpu: cpuTimes };
}

/** In-process passes of merge + dedup before the timed ones. */
const MERGE_WARMUPS = 3;

/** Runs `cmd` `n` times under /usr/bin/time: wall and user + sys seconds of each run. */
function timedUnderTime(cmd: Command, n: number, devNull: number): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', ...cmd.argv], { stdio: ['ignore', devNull, 'pipe'], maxBuffer: 1 << 24 });
    const m = /(\d+\.\d+) (\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr?.toString() ?? '');
    if (r.status !== 0 || !m) continue;
    wall.push(Number(m[1]));
    cpu.push(Number(m[2]) + Number(m[3]));
  }
  return { wall, cpu };
}

function mergeInProcessLines(m: MergeRows, microRuns: number): string[] {
  const total = (x: { read: number[]; dedup: number[] }) => x.read.map((r, i) => r + x.dedup[i]!);
  const cell = (xs: number[]) => (xs.length ? `${fmt(median(xs))} (${range(xs)})` : '–');
  const bt = total(m.btfkit);
  const lt = total(m.libbpf);
  const lines = [
    `## Merge + dedup of ${m.label}: CPU time, and in process`,
    '',
  ];
  if (m.cpu.length) {
    lines.push(
      `Whole process under \`/usr/bin/time\` (median of ${m.cpu[0]!.wall.length} runs): btfkit's CPU time exceeds its wall time because V8 compiles the hot code on background threads while the main thread runs it; \`--force\` skips the check of every module against the base, as the libbpf harness checks nothing.`,
      '',
      '| command | wall s: median (min–max) | user + sys s: median (min–max) |',
      '|---|---:|---:|',
      ...m.cpu.map((c) => `| ${c.command} | ${c.wall.length ? `${median(c.wall).toFixed(2)} (${range(c.wall, 2)})` : '–'} | ${c.cpu.length ? `${median(c.cpu).toFixed(2)} (${range(c.cpu, 2)})` : '–'} |`),
      '',
    );
  }
  lines.push(
    `In process (median of ${microRuns} passes after ${MERGE_WARMUPS} warm-ups, alternating with the harness; no base check on either side): btfkit \`readModule\` + \`loadModuleBtf\` per module, then \`dedupModules\`; libbpf, test/helpers/btf_dedup.c's own clock around \`btf__parse\` of the base, \`btf__parse_split\` + \`btf__add_type\` per module, then \`btf__dedup\`. A warm pass is what a long-running process (a server, a browser tab) sees; the whole-process rows above also pay node's start-up and V8 compiling btfkit while it runs.`,
    '',
    '| side | read + merge ms | dedup ms | total ms |',
    '|---|---:|---:|---:|',
    `| btfkit | ${cell(m.btfkit.read)} | ${cell(m.btfkit.dedup)} | ${cell(bt)} |`,
    `| libbpf 1.1 | ${cell(m.libbpf.read)} | ${cell(m.libbpf.dedup)} | ${cell(lt)} |`,
    `| ratio of medians, btfkit/libbpf | ${m.btfkit.read.length && m.libbpf.read.length ? `${(median(m.btfkit.read) / median(m.libbpf.read)).toFixed(2)}×` : '–'} | ${m.btfkit.dedup.length && m.libbpf.dedup.length ? `${(median(m.btfkit.dedup) / median(m.libbpf.dedup)).toFixed(2)}×` : '–'} | ${bt.length && lt.length ? `**${(median(bt) / median(lt)).toFixed(2)}×**` : '–'} |`,
  );
  return lines;
}

function bpftoolLoadCommand(bpftool: string, file: string, devNull: number): { command: Command; note?: string } {
  const rootId = { argv: [bpftool, 'btf', 'dump', 'file', file, 'format', 'raw', 'root_id', '1'] };
  if (!('error' in timeCommand(rootId, devNull))) return { command: rootId };
  const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
  return {
    command: { argv: ['sh', '-c', `${q(bpftool)} btf dump file ${q(file)} format raw | head -c 4096 > /dev/null`] },
    note: `this bpftool has no \`root_id\`: its load + check baseline is \`bpftool btf dump file FILE format raw | head -c 4096\` (loads and validates everything, then stops at the first output flush)`,
  };
}

/** True when this bpftool has `format c unsorted` (v7.6 and later), so its plain `format c` sorts. */
function bpftoolTakesUnsorted(bpftool: string, file: string, devNull: number): boolean {
  return !('error' in timeCommand({ argv: [bpftool, 'btf', 'dump', 'file', file, 'format', 'c', 'unsorted'] }, devNull));
}

/** The floor under every whole-process number: starting the runtime and doing nothing. */
function startupRow(node: string, bpftool: string | undefined, runs: number, devNull: number): Pick<Row, 'btfkit' | 'bpftool' | 'note'> {
  const r = benchPair('', '', { argv: [node, '-e', ''] }, bpftool ? { argv: [bpftool, 'version'] } : undefined, runs, devNull);
  return { btfkit: r.btfkit, bpftool: r.bpftool, note: r.note };
}

process.exitCode = main();

/** The CO-RE rows: whole process (a {@link Row}) and in process (each side's own timings). */
interface CoreRows {
  row: Row;
  /** ms per pass over every object: btfkit's relocateObject, libbpf's open + load + close. */
  btfkitMs: number[];
  libbpfMs: number[];
  objects: string[];
  target: string;
  /** Objects left out, and why. */
  leftOut: string[];
}

/**
 * CO-RE relocation of the corpus's little-endian objects against one vmlinux BTF (the running
 * kernel's, copied to a file; else the first Debian build under data/), btfkit next to libbpf
 * 1.1 through bench/core_relocate.c (stopped right after relocation). An object enters only when
 * the harness's `--check` shows libbpf applied every CO-RE relocation it has before the stop
 * (libbpf aborts at an ambiguity; kfunc externs resolve against the running kernel first).
 * Needs root: libbpf creates the objects' maps and loads their BTF inside bpf_object__load.
 */
function coreRows(node: string, tmp: string, runs: number, microRuns: number, devNull: number): CoreRows | { skipped: string } {
  const what = 'the CO-RE relocation rows are left out';
  if (process.platform !== 'linux') return { skipped: `not Linux: ${what}` };
  if (process.getuid?.() !== 0) return { skipped: `not root (libbpf's bpf_object__load creates maps and loads BTF): ${what}` };
  let target: string;
  let targetLabel: string;
  try {
    target = join(tmp, 'vmlinux-running.btf');
    writeFileSync(target, readFileSync(SYSFS));
    targetLabel = `running kernel's vmlinux (${release()})`;
  } catch {
    const data = join(ROOT, 'data');
    const build = existsSync(data) ? readdirSync(data).sort().find((d) => existsSync(join(data, d, 'vmlinux.btf'))) : undefined;
    if (!build) return { skipped: `neither ${SYSFS} nor a Debian build under data/: ${what}` };
    target = join(data, build, 'vmlinux.btf');
    targetLabel = `${build} vmlinux`;
  }
  const harness = join(tmp, 'core_relocate');
  const cc = spawnSync('cc', ['-O2', '-o', harness, join(ROOT, 'bench', 'core_relocate.c'), '-lbpf'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return { skipped: `the libbpf CO-RE harness does not build here (${cc.error?.message ?? cc.stderr.trim().split('\n')[0]}): ${what}` };

  const dir = join(ROOT, 'test', 'fixtures', 'bpf');
  const objects: string[] = [];
  const leftOut: string[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.bpfel.o.gz')).sort()) {
    const bytes = gunzipSync(readFileSync(join(dir, f)));
    if (!hasCoreRecords(bytes)) continue;
    const file = join(tmp, f.replace(/\.gz$/, ''));
    writeFileSync(file, bytes);
    const check = spawnSync(harness, ['--check', target, file], { encoding: 'utf8' });
    if (check.status === 3) return { skipped: `bpf() is unusable here (${check.stderr.trim().split('\n').pop()}): ${what}` };
    if (check.status !== 0) {
      leftOut.push(`${f.replace(/\.gz$/, '')} (${check.stderr.trim().split('\n').pop()!.replace(/^.*libbpf stopped before this harness's handler: /, '')})`);
      continue;
    }
    objects.push(file);
  }
  if (objects.length === 0) return { skipped: `no object relocates completely with libbpf here (${leftOut.join('; ')}): ${what}` };
  const label = `${objects.length} CO-RE objects on the ${targetLabel}`;
  process.stderr.write(`bench: ${label}\n`);
  const row = benchPair(label, 'CO-RE relocation (bpftool column: libbpf 1.1 harness)',
    { argv: [node, CLI, 'core', ...objects, '--target', target], okStatus: [5] },
    { argv: [harness, target, ...objects] }, runs, devNull);
  const names = objects.map((o) => o.slice(o.lastIndexOf('/') + 1));
  if (leftOut.length) row.note = [row.note, `left out: ${leftOut.join('; ')}`].filter(Boolean).join('; ');

  // In process: libbpf parses the target inside bpf_object__load (once per object), and reads
  // the object and target files there: btfkit's timed region reads and parses the same.
  const pass = () => {
    for (const o of objects) relocateObject(new Uint8Array(readFileSync(o)), Btf.parse(new Uint8Array(readFileSync(target))), { file: o });
  };
  const btfkitMs = micro('relocateObject', microRuns, () => undefined, pass).ms;
  const timed = spawnSync(harness, ['--runs', String(microRuns), target, ...objects], { encoding: 'utf8' });
  const libbpfMs = timed.status === 0 ? [...timed.stdout.matchAll(/^ms ([\d.]+)$/gm)].map((m) => Number(m[1])) : [];
  if (timed.status !== 0) row.note = [row.note, `libbpf in-process timing failed: ${timed.stderr.trim().split('\n').pop()}`].filter(Boolean).join('; ');
  return { row, btfkitMs, libbpfMs, objects: names, target: targetLabel, leftOut };
}

/** True when a BPF object's `.BTF.ext` has CO-RE records. */
function hasCoreRecords(bytes: Uint8Array): boolean {
  try {
    return (parseBpfObject(bytes).ext?.coreRelo.blocks.length ?? 0) > 0;
  } catch {
    return false;
  }
}

function coreInProcessLines(core: CoreRows, microRuns: number): string[] {
  const b = core.btfkitMs;
  const l = core.libbpfMs;
  return [
    `## In-process CO-RE relocation, btfkit vs libbpf 1.1 (median of ${microRuns} passes after 1 warm-up)`,
    '',
    `Each pass relocates ${core.objects.join(', ')} against the ${core.target}. btfkit: \`relocateObject\` per object, reading the object and the target file and parsing the target inside the timed pass; libbpf: bench/core_relocate.c's \`bpf_object__open_file\` + \`bpf_object__load\` (stopped after relocation) + \`bpf_object__close\` per object, timed with \`clock_gettime\`.`,
    '',
    '| side | median ms | min ms | max ms |',
    '|---|---:|---:|---:|',
    `| btfkit relocateObject | ${fmt(b.length ? median(b) : undefined)} | ${fmt(b.length ? Math.min(...b) : undefined)} | ${fmt(b.length ? Math.max(...b) : undefined)} |`,
    `| libbpf 1.1 open + load | ${fmt(l.length ? median(l) : undefined)} | ${fmt(l.length ? Math.min(...l) : undefined)} | ${fmt(l.length ? Math.max(...l) : undefined)} |`,
    `| ratio of medians, btfkit/libbpf | ${b.length && l.length ? `${(median(b) / median(l)).toFixed(2)}×` : '–'} | | |`,
  ];
}

/** `--only core`: the whole-process row and the in-process table, as they would appear in results.md. */
function coreLines(core: CoreRows | { skipped: string }, runs: number, microRuns: number): string[] {
  if ('skipped' in core) return [`CO-RE rows skipped: ${core.skipped}`];
  const r = core.row;
  const per = perRunRatios(r);
  return [
    `## Whole process (median of ${runs} runs)`,
    '',
    '| input | operation | btfkit ms: median (min–max) | libbpf harness ms: median (min–max) | paired ratio: median [quartiles] |',
    '|---|---|---:|---:|---:|',
    `| ${r.input} | ${r.operation} | ${fmt(r.btfkit?.length ? median(r.btfkit) : undefined)} (${range(r.btfkit)}) | ${fmt(r.bpftool?.length ? median(r.bpftool) : undefined)} (${range(r.bpftool)}) | ${per ? `**${median(per).toFixed(2)}×** [${quantile(per, 0.25).toFixed(2)}–${quantile(per, 0.75).toFixed(2)}]` : '–'} |`,
    ...(r.note ? ['', `Note: ${r.note}`] : []),
    '',
    ...coreInProcessLines(core, microRuns),
  ];
}
