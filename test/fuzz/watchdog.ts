/**
 * A watchdog thread for the fuzz CLI. The target runs synchronously on the main thread, so an
 * input that hangs or balloons memory can only be caught from outside it: before each input the
 * main thread copies the bytes into shared memory; this thread polls the clock and the process
 * RSS every 25 ms, and when an input overstays {@link HANG_MS} or grows RSS past the limit
 * (measured from the first poll that saw it running) it saves the input as a crasher, says so
 * on stderr and kills the process (exit status non-zero).
 *
 * Run as a plain script (e.g. by `node --test`), this file does nothing.
 */
import { writeSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { crasherText, saveCrasher, type InputMonitor } from './engine.js';
import type { FuzzInput } from './mutate.js';
import { onOperation } from './target.js';

/** An input still running after this long is declared hung (slow-but-finished inputs are reported by the loop). */
export const HANG_MS = 10_000;
const POLL_MS = 25;
const CTRL_BYTES = 128;
const META_BYTES = 64 * 1024;
/** Where the name of the running operation is kept (inside the meta region's tail). */
const OP_OFFSET = META_BYTES - 512;

interface WatchdogData {
  sab: SharedArrayBuffer;
  dataBytes: number;
  crashDir: string;
  runSeed: number;
  memoryLimit: number;
}

/** Main-thread side: publishes each input to the watchdog thread. */
export class Watchdog implements InputMonitor {
  private readonly ctrl: Int32Array;
  private readonly times: Float64Array;
  private readonly meta: Uint8Array;
  private readonly data: Uint8Array;
  private readonly worker: Worker;
  private readonly encoder = new TextEncoder();

  constructor(opts: { crashDir: string; runSeed: number; memoryLimit: number; maxInputBytes: number }) {
    const dataBytes = opts.maxInputBytes;
    const sab = new SharedArrayBuffer(CTRL_BYTES + META_BYTES + dataBytes);
    this.ctrl = new Int32Array(sab, 0, 16);
    this.times = new Float64Array(sab, 64, 8);
    this.meta = new Uint8Array(sab, CTRL_BYTES, META_BYTES);
    this.data = new Uint8Array(sab, CTRL_BYTES + META_BYTES, dataBytes);
    const wd: WatchdogData = { sab, dataBytes, crashDir: opts.crashDir, runSeed: opts.runSeed, memoryLimit: opts.memoryLimit };
    this.worker = new Worker(new URL('./watchdog.js', import.meta.url), { workerData: wd });
    this.worker.unref();
    const opRegion = this.meta.subarray(OP_OFFSET);
    onOperation((op) => {
      this.ctrl[5] = this.encoder.encodeInto(op, opRegion).written;
    });
  }

  begin(index: number, input: FuzzInput): void {
    const base = input.baseBytes;
    const fits = input.bytes.length + (base?.length ?? 0) <= this.data.length;
    if (fits) {
      this.data.set(input.bytes, 0);
      if (base) this.data.set(base, input.bytes.length);
    }
    const meta = JSON.stringify({
      seedName: input.seed.name, steps: input.steps,
      fixtureBase: input.seed.base?.kind === 'fixture' ? input.seed.base.path : undefined,
    });
    const { written } = this.encoder.encodeInto(meta, this.meta.subarray(0, OP_OFFSET));
    this.ctrl[5] = 0;
    this.ctrl[1] = index;
    this.ctrl[2] = fits ? input.bytes.length : -1;
    this.ctrl[3] = fits && base ? base.length : -1;
    this.ctrl[4] = written;
    this.times[0] = Date.now();
    Atomics.store(this.ctrl, 0, 1);
  }

  end(): void {
    Atomics.store(this.ctrl, 0, 0);
  }

  /** Lets the watchdog go (the process can then exit normally). */
  async stop(): Promise<void> {
    onOperation(undefined);
    await this.worker.terminate();
  }
}

function watch(wd: WatchdogData): void {
  const ctrl = new Int32Array(wd.sab, 0, 16);
  const times = new Float64Array(wd.sab, 64, 8);
  const meta = new Uint8Array(wd.sab, CTRL_BYTES, META_BYTES);
  const data = new Uint8Array(wd.sab, CTRL_BYTES + META_BYTES, wd.dataBytes);
  // RSS when this thread first saw the current input running: growth is measured from there.
  let seenIndex = -1;
  let seenRss = 0;
  const tick = () => {
    if (Atomics.load(ctrl, 0) !== 1) return;
    const index = ctrl[1]!;
    const elapsed = Date.now() - times[0]!;
    const rss = process.memoryUsage.rss();
    if (index !== seenIndex) {
      seenIndex = index;
      seenRss = rss;
    }
    const growth = rss - seenRss;
    let why: string | undefined;
    const op = new TextDecoder().decode(meta.slice(OP_OFFSET, OP_OFFSET + ctrl[5]!)) || '(starting)';
    if (elapsed > HANG_MS) why = `hang: input still running after ${elapsed} ms, in ${op}`;
    else if (growth > wd.memoryLimit) why = `memory: RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB while the input ran, in ${op} (limit ${wd.memoryLimit / 2 ** 20} MiB)`;
    if (!why || Atomics.load(ctrl, 0) !== 1 || ctrl[1] !== index) return;
    const info = JSON.parse(new TextDecoder().decode(meta.slice(0, ctrl[4]!))) as { seedName: string; steps: string[]; fixtureBase?: string };
    const lines = [`CRASH #${index} (${why.split(':')[0]}) on ${info.seedName}: ${why}`, ...info.steps.map((s) => `  mutation: ${s}`)];
    const len = ctrl[2]!;
    if (len >= 0) {
      const bytes = data.slice(0, len);
      const baseLen = ctrl[3]!;
      const baseBytes = baseLen >= 0 ? data.slice(len, len + baseLen) : undefined;
      const seed = { name: info.seedName, bytes, weight: 0, base: info.fixtureBase ? { kind: 'fixture' as const, path: info.fixtureBase, btf: undefined as never } : undefined };
      const files = saveCrasher(wd.crashDir, { bytes, baseBytes, seed }, (base) => crasherText({
        kind: why!.split(':')[0]!, message: why!, stack: '', steps: info.steps, seedName: info.seedName, index, runSeed: wd.runSeed, base,
      }));
      for (const f of files) lines.push(`  saved ${f}`);
    } else {
      lines.push(`  input too large to copy; reproduce with --seed ${wd.runSeed} --only ${index}`);
    }
    writeSync(2, lines.join('\n') + '\n');
    process.kill(process.pid, 'SIGKILL');
  };
  setInterval(tick, POLL_MS);
}

if (!isMainThread && parentPort && workerData && (workerData as WatchdogData).sab) watch(workerData as WatchdogData);
