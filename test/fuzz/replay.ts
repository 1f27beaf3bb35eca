/**
 * Worker side of test/fuzz.test.ts. The target is synchronous, so a regression input that still
 * hangs could only be stopped from another thread: the test runs this file as a worker, which
 * reports each input as it starts and finishes, and terminates it when an input overstays.
 *
 * Run as a plain script (e.g. by `node --test`), this file does nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Btf } from '../../src/btf/btf.js';
import { fixture } from '../helpers/paths.js';
import { debianBaseBtf, DEBIAN_BASE } from './corpus.js';
import { runFuzz, summaryLine, type FuzzSummary } from './engine.js';
import { Crash, describe, runTarget } from './target.js';

/** What the test asks the worker to do. */
export type ReplayJob =
  | { mode: 'crashers'; dir: string; files: string[] }
  | { mode: 'fuzz'; seed: number; inputs: number };

/** Messages the worker sends back. */
export type ReplayMessage =
  | { type: 'start'; name: string }
  | { type: 'result'; name: string; ms: number; crash?: string; stack?: string; parseError?: string }
  | { type: 'summary'; line: string; crashes: { signature: string; index: number; message: string; stack: string; steps: string[] }[]; slowestMs: number; harnessErrors: string[] }
  | { type: 'done' };

function gunzipFile(path: string): Uint8Array {
  const b = gunzipSync(readFileSync(path));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The base a saved crasher names on its `base:` line. */
export function crasherBase(dir: string, text: string): Btf | Uint8Array | undefined {
  const line = /^base: (.*)$/m.exec(text)?.[1]?.trim() ?? 'none';
  if (line === 'none') return undefined;
  if (line.startsWith('file ')) return gunzipFile(join(dir, line.slice(5)));
  if (line.startsWith('fixture ')) {
    const path = line.slice(8);
    return path === DEBIAN_BASE ? debianBaseBtf() : fixture(path);
  }
  throw new Error(`unreadable base line '${line}'`);
}

function post(m: ReplayMessage): void {
  parentPort!.postMessage(m);
}

function replay(job: Extract<ReplayJob, { mode: 'crashers' }>): void {
  for (const name of job.files) {
    post({ type: 'start', name });
    const bytes = gunzipFile(join(job.dir, name));
    const text = readFileSync(join(job.dir, name.replace(/\.bin\.gz$/, '.txt')), 'utf8');
    const base = crasherBase(job.dir, text);
    // CPU time, as the fuzz loop measures it (see PER_INPUT_LIMIT_MS).
    const cpu0 = process.cpuUsage();
    const ms = () => {
      const c = process.cpuUsage(cpu0);
      return (c.user + c.system) / 1000;
    };
    try {
      const outcome = runTarget(bytes, base);
      post({ type: 'result', name, ms: ms(), parseError: outcome.parseError });
    } catch (e) {
      const cause = e instanceof Crash ? e.cause : e;
      post({ type: 'result', name, ms: ms(), crash: describe(e), stack: cause instanceof Error ? cause.stack : undefined });
    }
  }
}

function fuzz(job: Extract<ReplayJob, { mode: 'fuzz' }>): void {
  const summary: FuzzSummary = runFuzz({
    seed: job.seed, inputs: job.inputs,
    monitor: { begin: (index) => post({ type: 'start', name: `#${index}` }), end: () => {} },
  });
  post({
    type: 'summary', line: summaryLine(summary), slowestMs: summary.slowestMs, harnessErrors: summary.harnessErrors,
    crashes: summary.crashes.map((c) => ({ signature: c.signature, index: c.index, message: c.message, stack: c.stack, steps: c.steps })),
  });
}

if (!isMainThread && parentPort && workerData && typeof (workerData as ReplayJob).mode === 'string') {
  const job = workerData as ReplayJob;
  if (job.mode === 'crashers') replay(job);
  else fuzz(job);
  post({ type: 'done' });
}
