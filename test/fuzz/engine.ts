/**
 * The fuzz loop shared by the CLI (test/fuzz/run.ts) and the in-test run (test/fuzz.test.ts):
 * input i is generated from (seed, i) alone, run through the target, timed and its memory
 * growth measured; crashes are grouped by signature and, when asked, saved as regression inputs.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { buildCorpus, pickSeed, type Corpus, type Seed } from './corpus.js';
import { scanBtf, type ScannedBtf } from './encode.js';
import { mutate, type FuzzInput } from './mutate.js';
import { Rng } from './rng.js';
import { Crash, describe, runTarget, type TargetOutcome } from './target.js';
export { OPERATION_GROUPS } from './target.js';

/**
 * CPU time one input may take (user + system, whole process). CPU time rather than wall time:
 * on a shared machine the wall clock also counts other processes' turns; a real hang is caught
 * on the wall clock by the watchdog.
 */
export const PER_INPUT_LIMIT_MS = 1000;
export const MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;

/** Something that watches each input from outside the loop (the CLI's watchdog thread). */
export interface InputMonitor {
  begin(index: number, input: FuzzInput): void;
  end(): void;
}

export interface FuzzOptions {
  seed: number;
  inputs: number;
  /** Stop after this many seconds even if fewer inputs ran. */
  timeLimitSec?: number;
  /** Run only this input index (reproduction). */
  only?: number;
  /** Where to save crashing inputs; nothing is saved when unset. */
  crashDir?: string;
  monitor?: InputMonitor;
  /** Progress and crash lines go here. */
  log?: (line: string) => void;
  progressEverySec?: number;
  corpus?: Corpus;
  /** Operation groups to leave out of the target (see {@link OPERATION_GROUPS}). */
  skip?: ReadonlySet<string>;
}

export interface CrashRecord {
  signature: string;
  kind: 'exception' | 'timeout' | 'memory';
  index: number;
  seedName: string;
  message: string;
  stack: string;
  steps: string[];
  /** Files written for it (empty when not saved). */
  files: string[];
  occurrences: number;
}

export interface FuzzSummary {
  seed: number;
  inputs: number;
  parsed: number;
  seconds: number;
  parseErrors: Map<string, number>;
  opErrors: Map<string, number>;
  checkCodes: Map<string, number>;
  /** Most CPU time one input took, and which. */
  slowestMs: number;
  slowestIndex: number;
  slowestSeed: string;
  /** Most wall time one input took. */
  slowestWallMs: number;
  /** Largest rise of the process's peak RSS during one input. */
  maxRssGrowth: number;
  crashes: CrashRecord[];
  /** Exceptions inside the fuzzer's own mutators: bugs in the fuzzer, not in btfkit. */
  harnessErrors: string[];
}

const scans = new WeakMap<Seed, ScannedBtf | undefined>();

function seedScan(seed: Seed): ScannedBtf | undefined {
  if (!scans.has(seed)) scans.set(seed, seed.elf ? undefined : scanBtf(seed.bytes));
  return scans.get(seed);
}

/** Input `index` of run `seed`: the same bytes every time. */
export function generateInput(corpus: Corpus, seed: number, index: number): FuzzInput {
  const rng = new Rng(seed, index);
  const s = pickSeed(corpus, rng);
  return mutate(s, corpus, rng, s.large ? seedScan(s) : undefined);
}

/** The base a fuzz input is parsed on. */
export function baseOf(input: FuzzInput) {
  if (input.baseBytes) return input.baseBytes;
  return input.seed.base?.kind === 'fixture' ? input.seed.base.btf : undefined;
}

/** Crash signature: the operation, the exception type and the first frame in btfkit's sources. */
export function signatureOf(e: Crash): string {
  const cause = e.cause;
  const name = cause instanceof Error ? cause.name : typeof cause;
  const stack = cause instanceof Error ? cause.stack ?? '' : '';
  const frame = stack.split('\n').find((l) => /\/src\//.test(l)) ?? stack.split('\n')[1] ?? '';
  const where = frame.replace(/^\s*at\s+/, '').replace(/\(.*\/(src\/[^)]*)\)/, '($1)').replace(/file:\/\/\S*\/(src\/\S*)/, '$1');
  const op = e.operation.replace(/\(\d+\)/g, '(N)').replace(/\(".*"\)/, '(NAME)');
  return `${op} | ${name} | ${where}`;
}

function inc(m: Map<string, number>, k: string, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/** Describes a saved crasher for humans and for the regression test (the `base:` line). */
export function crasherText(c: { kind: string; message: string; stack: string; steps: string[]; seedName: string; index: number; runSeed: number; base: string; ms?: number }): string {
  return [
    `btfkit fuzz crasher (${c.kind})`,
    `exception: ${c.message}`,
    `base: ${c.base}`,
    `seed blob: ${c.seedName}`,
    `reproduce: npm run fuzz -- --seed ${c.runSeed} --only ${c.index}`,
    ...(c.ms !== undefined ? [`time: ${c.ms.toFixed(1)} ms`] : []),
    'mutations:',
    ...c.steps.map((s) => `  - ${s}`),
    ...(c.stack ? ['stack:', ...c.stack.split('\n').map((l) => `  ${l}`)] : ['stack: none (the input did not throw; it was measured or stopped from outside)']),
    '',
  ].join('\n');
}

/** Writes `<hash>.bin.gz` (and `<hash>.base.bin.gz` for a mutated base) plus `<hash>.txt`. */
export function saveCrasher(dir: string, input: { bytes: Uint8Array; baseBytes?: Uint8Array; seed: Seed }, text: (base: string) => string): string[] {
  mkdirSync(dir, { recursive: true });
  const h = createHash('sha256').update(input.bytes);
  if (input.baseBytes) h.update(input.baseBytes);
  const hash = h.digest('hex').slice(0, 16);
  const files = [join(dir, `${hash}.bin.gz`), join(dir, `${hash}.txt`)];
  writeFileSync(files[0]!, gzipSync(input.bytes, { level: 9 }));
  let base = 'none';
  if (input.baseBytes) {
    base = `file ${hash}.base.bin.gz`;
    files.push(join(dir, `${hash}.base.bin.gz`));
    writeFileSync(files[2]!, gzipSync(input.baseBytes, { level: 9 }));
  } else if (input.seed.base?.kind === 'fixture') {
    base = `fixture ${input.seed.base.path}`;
  }
  writeFileSync(files[1]!, text(base));
  return files;
}

/** Runs the fuzz loop. */
export function runFuzz(opts: FuzzOptions): FuzzSummary {
  const corpus = opts.corpus ?? buildCorpus();
  const log = opts.log ?? (() => {});
  const summary: FuzzSummary = {
    seed: opts.seed, inputs: 0, parsed: 0, seconds: 0,
    parseErrors: new Map(), opErrors: new Map(), checkCodes: new Map(),
    slowestMs: 0, slowestIndex: -1, slowestSeed: '', slowestWallMs: 0, maxRssGrowth: 0, crashes: [], harnessErrors: [],
  };
  const bySignature = new Map<string, CrashRecord>();
  const start = performance.now();
  let lastProgress = start;
  const first = opts.only ?? 0;
  const last = opts.only !== undefined ? opts.only + 1 : opts.inputs;

  const record = (kind: CrashRecord['kind'], signature: string, index: number, input: FuzzInput, message: string, stack: string, ms?: number) => {
    const known = bySignature.get(signature);
    if (known) {
      known.occurrences++;
      return;
    }
    const c: CrashRecord = { signature, kind, index, seedName: input.seed.name, message, stack, steps: input.steps, files: [], occurrences: 1 };
    bySignature.set(signature, c);
    summary.crashes.push(c);
    if (opts.crashDir) {
      c.files = saveCrasher(opts.crashDir, input, (base) => crasherText({ kind, message, stack, steps: input.steps, seedName: input.seed.name, index, runSeed: opts.seed, base, ms }));
    }
    log(`CRASH #${index} (${kind}) on ${input.seed.name}: ${message}`);
    log(`  signature: ${signature}`);
    for (const s of input.steps) log(`  mutation: ${s}`);
    log(stack.split('\n').slice(0, 12).map((l) => `  ${l}`).join('\n'));
    for (const f of c.files) log(`  saved ${f}`);
  };

  for (let index = first; index < last; index++) {
    if (opts.timeLimitSec !== undefined && performance.now() - start > opts.timeLimitSec * 1000) break;
    let input: FuzzInput;
    try {
      input = generateInput(corpus, opts.seed, index);
    } catch (e) {
      summary.harnessErrors.push(`#${index}: ${describe(e)}`);
      log(`fuzzer bug generating input #${index}: ${e instanceof Error ? e.stack : String(e)}`);
      continue;
    }
    const base = baseOf(input);
    // Peak RSS (getrusage) is cheap to read and catches a spike even when it is freed again
    // before the input ends; a spike below an earlier peak is left to the watchdog's sampling.
    const peak0 = process.resourceUsage().maxRSS * 1024;
    opts.monitor?.begin(index, input);
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    let outcome: TargetOutcome | undefined;
    let crash: Crash | undefined;
    try {
      outcome = runTarget(input.bytes, base, { variant: index, skip: opts.skip });
    } catch (e) {
      crash = e instanceof Crash ? e : new Crash('target', e);
    }
    const cpu = process.cpuUsage(cpu0);
    const ms = (cpu.user + cpu.system) / 1000;
    const wallMs = performance.now() - t0;
    if (wallMs > summary.slowestWallMs) summary.slowestWallMs = wallMs;
    opts.monitor?.end();
    const growth = process.resourceUsage().maxRSS * 1024 - peak0;
    summary.inputs++;

    if (crash) {
      const cause = crash.cause;
      const stack = cause instanceof Error ? cause.stack ?? '' : String(cause);
      record('exception', signatureOf(crash), index, input, crash.message, stack);
    } else if (outcome) {
      if (outcome.parseError !== undefined) inc(summary.parseErrors, outcome.parseError);
      else summary.parsed++;
      for (const c of outcome.opErrors) inc(summary.opErrors, c);
      for (const c of outcome.checkCodes) inc(summary.checkCodes, c);
    }
    if (ms > summary.slowestMs) {
      summary.slowestMs = ms;
      summary.slowestIndex = index;
      summary.slowestSeed = input.seed.name;
    }
    if (ms > PER_INPUT_LIMIT_MS) {
      record('timeout', `timeout | ${input.seed.name.replace(/\d+/g, 'N')} | ${outcome?.parseError ?? 'parsed'}`, index, input, `timeout: input took ${ms.toFixed(0)} ms of CPU, ${wallMs.toFixed(0)} ms wall (limit ${PER_INPUT_LIMIT_MS} ms of CPU)`, '', ms);
    }
    if (growth > summary.maxRssGrowth) summary.maxRssGrowth = growth;
    if (growth > MEMORY_LIMIT_BYTES) {
      record('memory', `memory | ${input.seed.name.replace(/\d+/g, 'N')}`, index, input, `memory: peak RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB (limit ${MEMORY_LIMIT_BYTES / 2 ** 20} MiB)`, '');
    }

    const now = performance.now();
    if (opts.progressEverySec !== undefined && now - lastProgress > opts.progressEverySec * 1000) {
      lastProgress = now;
      const secs = (now - start) / 1000;
      log(`[fuzz] ${summary.inputs}/${last - first} inputs, ${(summary.inputs / secs).toFixed(0)}/s, parsed ${summary.parsed}, slowest ${summary.slowestMs.toFixed(0)} ms, crashes ${summary.crashes.length}`);
    }
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}

function fmtMap(m: Map<string, number>): string {
  if (m.size === 0) return '-';
  return [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(' ');
}

/** The one-line final summary. */
export function summaryLine(s: FuzzSummary): string {
  const occurrences = s.crashes.reduce((n, c) => n + c.occurrences, 0);
  return [
    `fuzz summary: seed=${s.seed} inputs=${s.inputs} parsed=${s.parsed} time=${s.seconds.toFixed(1)}s rate=${(s.inputs / Math.max(s.seconds, 1e-9)).toFixed(0)}/s`,
    `parse errors: ${fmtMap(s.parseErrors)}`,
    `op errors: ${fmtMap(s.opErrors)}`,
    `check: ${fmtMap(s.checkCodes)}`,
    `slowest=${s.slowestMs.toFixed(1)}ms cpu (#${s.slowestIndex} ${s.slowestSeed}), ${s.slowestWallMs.toFixed(1)}ms wall`,
    `max peak-rss rise=${(s.maxRssGrowth / 2 ** 20).toFixed(1)}MiB`,
    `crashes=${s.crashes.length} unique / ${occurrences} inputs`,
    ...(s.harnessErrors.length ? [`fuzzer bugs=${s.harnessErrors.length}`] : []),
  ].join(' | ');
}
