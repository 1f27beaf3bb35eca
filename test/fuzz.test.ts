/**
 * Fuzzing as a test: every saved crasher (test/fixtures/crashers/) must now end in a BtfError
 * or succeed, within the per-input time limit; and a short deterministic fuzz run must find no
 * crash. Inputs run in a worker thread so that one that still hangs fails its test instead of
 * stalling the whole suite. The long run is `npm run fuzz` (test/fuzz/run.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Btf } from '../src/btf/btf.js';
import { BtfError } from '../src/errors.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { buildCorpus } from './fuzz/corpus.js';
import { generateInput, PER_INPUT_LIMIT_MS } from './fuzz/engine.js';
import type { ReplayJob, ReplayMessage } from './fuzz/replay.js';
import { Crash, runTarget } from './fuzz/target.js';
import { mutateCoreRecords } from './fuzz/core.js';
import { Rng } from './fuzz/rng.js';
import { parseBpfObject } from '../src/bpf/object.js';
import { relocateObject } from '../src/core/object.js';

const CRASHERS = join(FIXTURES, 'crashers');
const SHORT_RUN_SEED = 20261124;
const SHORT_RUN_INPUTS = 2000;
/** No word from the worker for this long means the input it is on hangs. */
const STALL_MS = 10_000;
/** A crasher has a 1 s budget; one silent for this long still hangs. */
const CRASHER_STALL_MS = 3_000;

/** Runs a job in the replay worker; stops it when it stalls. */
function runJob(job: ReplayJob, stallMs: number): Promise<{ messages: ReplayMessage[]; stalledOn?: string }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fuzz/replay.js', import.meta.url), { workerData: job });
    const messages: ReplayMessage[] = [];
    let current = '(startup)';
    let last = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - last > stallMs) {
        clearInterval(timer);
        void worker.terminate().then(() => resolve({ messages, stalledOn: current }));
      }
    }, 250);
    worker.on('message', (m: ReplayMessage) => {
      messages.push(m);
      last = Date.now();
      if (m.type === 'start') current = m.name;
      if (m.type === 'done') {
        clearInterval(timer);
        void worker.terminate().then(() => resolve({ messages }));
      }
    });
    worker.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
  });
}

const crasherFiles = existsSync(CRASHERS)
  ? readdirSync(CRASHERS).filter((f) => f.endsWith('.bin.gz') && !f.endsWith('.base.bin.gz')).sort()
  : [];

test('saved crashers exist (regression inputs are collected)', () => {
  assert.ok(crasherFiles.length > 0, `no crashers under ${CRASHERS}`);
});

for (const file of crasherFiles) {
  test(`crasher ${file} ends in a BtfError or succeeds, within ${PER_INPUT_LIMIT_MS} ms of CPU`, async () => {
    const { messages, stalledOn } = await runJob({ mode: 'crashers', dir: CRASHERS, files: [file] }, CRASHER_STALL_MS);
    assert.equal(stalledOn, undefined, `${file} still hangs (no result after ${CRASHER_STALL_MS} ms); see ${file.replace('.bin.gz', '.txt')}`);
    const r = messages.find((m): m is Extract<ReplayMessage, { type: 'result' }> => m.type === 'result');
    assert.ok(r, 'the worker reported no result');
    assert.equal(r.crash, undefined, `${file} still crashes: ${r.crash}\n${r.stack ?? ''}`);
    assert.ok(r.ms < PER_INPUT_LIMIT_MS, `${file} took ${r.ms.toFixed(0)} ms of CPU (limit ${PER_INPUT_LIMIT_MS} ms)`);
  });
}

test(`short deterministic fuzz run (seed ${SHORT_RUN_SEED}, ${SHORT_RUN_INPUTS} inputs) finds no crash`, async () => {
  const { messages, stalledOn } = await runJob({ mode: 'fuzz', seed: SHORT_RUN_SEED, inputs: SHORT_RUN_INPUTS }, STALL_MS);
  assert.equal(stalledOn, undefined, `input ${stalledOn} hangs; reproduce with: npm run fuzz -- --seed ${SHORT_RUN_SEED} --only ${stalledOn?.slice(1)}`);
  const s = messages.find((m): m is Extract<ReplayMessage, { type: 'summary' }> => m.type === 'summary');
  assert.ok(s, 'the fuzz worker reported no summary');
  process.stderr.write(`${s.line}\n`);
  assert.deepEqual(s.harnessErrors, [], 'the fuzzer itself failed');
  const report = s.crashes.map((c) => `#${c.index} ${c.message}\n  ${c.signature}\n  mutations: ${c.steps.join('; ')}\n  reproduce: npm run fuzz -- --seed ${SHORT_RUN_SEED} --only ${c.index}\n${c.stack}`).join('\n\n');
  assert.equal(s.crashes.length, 0, `crashes:\n${report}`);
  // A run where (almost) nothing parses, or nothing fails, would be testing very little.
  const parsed = Number(/ parsed=(\d+)/.exec(s.line)?.[1]);
  assert.ok(parsed >= SHORT_RUN_INPUTS * 0.2 && parsed <= SHORT_RUN_INPUTS * 0.9, `parsed ${parsed} of ${SHORT_RUN_INPUTS}: mutations are too gentle or too destructive`);
});

test('the same seed and index always give the same input', () => {
  const corpus = buildCorpus();
  for (const index of [0, 1, 77, 1999]) {
    const a = generateInput(corpus, 5, index);
    const b = generateInput(corpus, 5, index);
    assert.deepEqual(a.steps, b.steps);
    assert.equal(a.seed.name, b.seed.name);
    assert.ok(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)), `input ${index} differs between two generations`);
  }
  assert.notDeepEqual(generateInput(corpus, 5, 3).bytes, generateInput(corpus, 6, 3).bytes);
});

test('inputs that once broke the fuzzer itself now generate', () => {
  // [run seed, input index, what broke]
  const cases: [number, number, string][] = [
    [20261124, 690506, 'growHeader on a blob whose hdr_len claims more bytes than it has (RangeError)'],
  ];
  const corpus = buildCorpus();
  for (const [seed, index, what] of cases) {
    assert.doesNotThrow(() => generateInput(corpus, seed, index), `seed ${seed} input ${index}: ${what}`);
  }
});

test('the oracle reports a non-BtfError as a crash', () => {
  // A base whose every property read throws a TypeError stands in for a decoder bug.
  const hostileBase = new Proxy({}, { get() { throw new TypeError('boom'); } }) as Btf;
  const module = fixture('golden/debian-6.1.0-50-cloud/modules/8021q.btf.gz');
  assert.throws(() => runTarget(module, hostileBase), (e: unknown) => e instanceof Crash && /TypeError: boom/.test(e.message));
  // And a BtfError is an answer, not a crash.
  const outcome = runTarget(module.subarray(0, 10));
  assert.equal(outcome.parseError, 'truncated');
});

test('CO-RE record mutations reach the engine: the object still parses and the hostile records come back as decisions', () => {
  const object = fixture('bpf/core_fields.clang19.bpfel.o.gz');
  const own = parseBpfObject(object).btf!;
  const rng = new Rng(0xc0de, 10);
  let relocated = 0;
  const reasons = new Set<string>();
  const steps = new Set<string>();
  for (let i = 0; i < 150; i++) {
    const m = mutateCoreRecords(object, rng)!;
    assert.ok(m, 'the fixture has CO-RE records to mutate');
    for (const step of m.steps) steps.add(/: (type id|access offset|access|kind|insn offset) /.exec(step)?.[1] ?? step);
    let result;
    try {
      result = relocateObject(m.bytes, own);
    } catch (e) {
      assert.ok(e instanceof BtfError, `relocateObject threw ${String(e)}`);
      continue;
    }
    relocated++;
    for (const r of result.relocations) if (r.result === 'error') reasons.add(r.reason!.replace(/\d+/g, 'N'));
  }
  assert.deepEqual([...steps].sort(), ['access', 'access offset', 'insn offset', 'kind', 'type id'], 'every kind of record mutation occurs');
  assert.ok(relocated >= 100, `only ${relocated} of 150 mutated objects could be relocated: the mutation breaks the objects instead of their records`);
  const all = [...reasons].join('\n');
  for (const expected of [/unknown CO-RE relocation kind/, /local type id N does not exist/, /access .* step N/, /holds N, not the expected N/]) {
    assert.match(all, expected, `no relocation failed with ${expected}`);
  }
});
