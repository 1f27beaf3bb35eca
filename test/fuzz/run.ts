/**
 * The fuzz CLI: `node dist/test/fuzz/run.js --inputs N --seed S [--time-limit SEC]`
 * (`npm run fuzz -- --inputs 100000`). Prints progress, every crash as it is found, and a final
 * summary line; exits 1 when anything crashed, was too slow or used too much memory. Crashing
 * inputs are saved gzipped under test/fixtures/crashers/ and become regression tests.
 *
 * Extra options: `--only I` reruns input I of the seed; `--crash-dir DIR`; `--no-save`;
 * `--no-vmlinux` leaves the whole-kernel seeds out; `--skip alignof,c` leaves operation groups
 * out of the target (check, raw, json, views, resolve, sizeof, alignof, find, c, ext, core) so the rest can
 * be fuzzed while a known bug is open.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCorpus } from './corpus.js';
import { MEMORY_LIMIT_BYTES, OPERATION_GROUPS, runFuzz, summaryLine } from './engine.js';
import { Watchdog } from './watchdog.js';
import { FIXTURES } from '../helpers/paths.js';

const USAGE = 'usage: node dist/test/fuzz/run.js --inputs N --seed S [--time-limit SEC] [--only I] [--crash-dir DIR] [--no-save] [--no-vmlinux] [--skip OPS]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        inputs: { type: 'string', default: '10000' },
        seed: { type: 'string', default: '1' },
        'time-limit': { type: 'string' },
        only: { type: 'string' },
        'crash-dir': { type: 'string' },
        'no-save': { type: 'boolean', default: false },
        'no-vmlinux': { type: 'boolean', default: false },
        skip: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} takes a non-negative integer, not '${v}'`);
    return n;
  };
  let inputs: number, seed: number, timeLimit: number | undefined, only: number | undefined;
  try {
    inputs = num('inputs', values.inputs)!;
    seed = num('seed', values.seed)!;
    timeLimit = num('time-limit', values['time-limit']);
    only = num('only', values.only);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const skip = new Set((values.skip ?? '').split(',').filter((x) => x !== ''));
  for (const g of skip) {
    if (!(OPERATION_GROUPS as readonly string[]).includes(g)) {
      process.stderr.write(`--skip: unknown operation group '${g}' (${OPERATION_GROUPS.join(', ')})\n`);
      return 2;
    }
  }
  const crashDir = values['no-save'] ? undefined : values['crash-dir'] ?? join(FIXTURES, 'crashers');

  const t0 = Date.now();
  const corpus = buildCorpus({ withVmlinux: !values['no-vmlinux'] });
  const maxSeed = Math.max(...corpus.seeds.map((s) => s.bytes.length + (s.base?.kind === 'bytes' ? s.base.bytes.length : 0)));
  process.stdout.write(`fuzz: ${corpus.seeds.length} seeds (largest ${maxSeed} bytes) ready in ${Date.now() - t0} ms; seed ${seed}, ${only !== undefined ? `only input ${only}` : `${inputs} inputs`}${timeLimit !== undefined ? `, time limit ${timeLimit} s` : ''}${skip.size ? `, skipping ${[...skip].join(',')}` : ''}\n`);

  const watchdog = new Watchdog({ crashDir: crashDir ?? join(FIXTURES, 'crashers'), runSeed: seed, memoryLimit: MEMORY_LIMIT_BYTES, maxInputBytes: 2 * maxSeed + (1 << 20) });
  const summary = runFuzz({
    seed, inputs, timeLimitSec: timeLimit, only, crashDir, corpus, monitor: watchdog, skip,
    log: (l) => process.stdout.write(l + '\n'), progressEverySec: 10,
  });
  await watchdog.stop();
  process.stdout.write(summaryLine(summary) + '\n');
  for (const c of summary.crashes) {
    process.stdout.write(`crash: ${c.signature} — ${c.occurrences} input(s), first #${c.index}${c.files.length ? `, saved ${c.files[0]}` : ''}\n`);
  }
  return summary.crashes.length || summary.harnessErrors.length ? 1 : 0;
}

// `node --test dist/test/` also executes this file; run only when invoked as the fuzz CLI.
if (process.env.NODE_TEST_CONTEXT === undefined) {
  main().then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
}
