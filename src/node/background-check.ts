import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Btf } from '../btf/btf.js';
import { BtfError, isBtfError, type BtfErrorCode } from '../errors.js';
import { checkSplit } from '../split/check.js';
import { readModule } from './files.js';
import type { ReadOptions } from './input.js';

/*
 * `btfkit merge` checks that every module was built on the base (checkSplit) before it writes
 * anything. The check reads each module once more and walks all its references: on a thousand
 * modules that is a third of the command. Nothing the merge does depends on the verdicts except
 * whether to write at all, so a worker thread checks while the main thread merges, and the
 * command reports the first problem in module order, as checking first would.
 */

/** The role a worker started from this file plays (its workerData.role). */
const ROLE = 'btfkit-check-modules';

interface CheckRequest {
  role: typeof ROLE;
  /** The base's raw BTF, and its own base's before it when it is split: innermost first. */
  baseChain: Uint8Array[];
  paths: string[];
  readOptions: ReadOptions;
}

/** An error as it crosses from the worker: enough to throw the same one in the main thread. */
type WireError =
  | { btf: true; code: BtfErrorCode; detail: string; typeId?: number; offset?: number; member?: number; file?: string }
  | { btf: false; message: string };

/** What the worker posts: the first module it could not accept (index into `paths`), or none. */
type CheckReply = { index: number; error?: WireError };

/** A problem with module `index`: the error the command fails with. */
export interface ModuleProblem {
  index: number;
  error: Error;
}

/** Checks running beside the caller; see {@link checkModulesInBackground}. */
export interface BackgroundChecks {
  /** Resolves when every module is checked: the first one refused, in `paths` order, or undefined. */
  firstProblem(): Promise<ModuleProblem | undefined>;
  /** Stops the worker (the caller failed first, or no longer needs the answer). */
  stop(): void;
}

/**
 * Starts a worker thread that reads every module of `paths` and refuses the first whose BTF
 * does not match `base` (the `bad-base` error {@link refusal} builds), or that cannot be read
 * or parsed (that error). The base (with its own bases, if it is split) is copied to the worker.
 */
export function checkModulesInBackground(base: Btf, paths: string[], readOptions: ReadOptions = {}): BackgroundChecks {
  // Copies of the blobs alone: a view's whole buffer would be cloned (an ELF vmlinux's image).
  const baseChain: Uint8Array[] = [];
  for (let b: Btf | undefined = base; b; b = b.base) baseChain.unshift(b.bytes.slice());
  const request: CheckRequest = { role: ROLE, baseChain, paths, readOptions };
  // The CLI ships as one CommonJS bundle: there this file's URL is the bundle's, whose entry
  // starts the check when it finds itself in a worker (src/cli/main.ts).
  const worker = new Worker(new URL(import.meta.url), { workerData: request });
  let settled = false;
  const answer = new Promise<ModuleProblem | undefined>((resolve, reject) => {
    worker.once('message', (reply: CheckReply) => {
      settled = true;
      void worker.terminate();
      resolve(reply.error ? { index: reply.index, error: fromWire(reply.error) } : undefined);
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the module check thread stopped (exit code ${code}) before it answered`));
    });
  });
  // Unhandled until asked for: a caller that fails first never asks.
  answer.catch(() => undefined);
  return {
    firstProblem: () => answer,
    stop: () => {
      settled = true;
      void worker.terminate();
    },
  };
}

/** The error `btfkit merge` (and the commands that take a module on a base) fail with for a mismatched module. */
export function refusal(summary: string, file: string): BtfError {
  return new BtfError('bad-base', `does not match this base (${summary}); see 'btfkit check', or pass --force`, { file });
}

/** The worker's side: checks the modules in order and posts the first problem. */
export function runCheckWorker(): void {
  const request = workerData as CheckRequest;
  let base: Btf | undefined;
  for (const bytes of request.baseChain) base = Btf.parse(bytes, base ? { base } : {});
  let reply: CheckReply = { index: -1 };
  for (let index = 0; index < request.paths.length; index++) {
    const file = request.paths[index]!;
    try {
      const r = checkSplit(readModule(file, request.readOptions), base!, { file, maxEvidence: 1 });
      if (r.verdict === 'mismatched') throw refusal(r.summary, file);
    } catch (e) {
      reply = { index, error: toWire(e) };
      break;
    }
  }
  parentPort!.postMessage(reply);
}

function toWire(e: unknown): WireError {
  if (isBtfError(e)) {
    return {
      btf: true, code: e.code, detail: e.detail, typeId: e.typeId, offset: e.offset, member: e.member, file: e.file,
    };
  }
  return { btf: false, message: e instanceof Error ? e.message : String(e) };
}

function fromWire(w: WireError): Error {
  if (!w.btf) return new Error(w.message);
  const where = {
    ...(w.typeId !== undefined ? { typeId: w.typeId } : {}),
    ...(w.offset !== undefined ? { offset: w.offset } : {}),
    ...(w.member !== undefined ? { member: w.member } : {}),
    ...(w.file !== undefined ? { file: w.file } : {}),
  };
  return new BtfError(w.code, w.detail, where);
}

/** True in a worker this file started. */
export function isCheckWorker(): boolean {
  return !isMainThread && (workerData as { role?: unknown } | null)?.role === ROLE;
}

// Started directly (the library's ES modules, not the CLI bundle): the worker runs this file.
if (isCheckWorker() && !import.meta.url.endsWith('.cjs')) runCheckWorker();
