import { BtfError } from '../errors.js';
import type { Btf } from '../btf/btf.js';
import { KIND_NAMES, kindFromName, kindName } from '../format/kinds.js';
import { moduleNameOf } from '../elf/compress.js';
import { defaultBasePath, loadBtfFile, readInput, readModule, SYSFS_VMLINUX } from '../node/files.js';
import { checkSplit, selfContained } from '../split/check.js';
import { loadModuleBtf, type ModuleSections } from '../split/load.js';
import { checkModulesInBackground, refusal, type BackgroundChecks } from '../node/background-check.js';
import { makeStandalone, splitOnBase, toSplitAppearance } from '../split/forms.js';
import { mergeModules } from '../split/merge.js';
import { dedupModules } from '../dedup/dedup.js';
import { parse, UsageError } from './args.js';
import { typeSetOf } from './inputs.js';
import { print, printError, printing, writeOutputFile } from './output.js';

export function standalone(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    force: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('standalone takes one module file');
  if (!values.output) throw new UsageError('standalone needs -o OUT');
  const file = positionals[0]!;
  const basePath = (values.base as string | undefined) ?? defaultBasePath(file) ?? SYSFS_VMLINUX;
  const base = loadBtfFile(basePath);
  const bytes = readInput(file);
  refuseMismatch(bytes, base, file, values.force as boolean);
  const mod = loadModuleBtf(bytes, base, file);
  writeOutputFile(values.output as string, makeStandalone(mod));
  return 0;
}

export function split(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    renumber: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('split takes one input file');
  if (!values.output) throw new UsageError('split needs -o OUT');
  if (!values.base) throw new UsageError('split needs --base BASE');
  const file = positionals[0]!;
  const base = loadBtfFile(values.base as string);
  const own = selfContained(readInput(file));
  if (!own) throw new BtfError('bad-argument', 'input is split BTF already; split takes self-contained BTF (from btfkit standalone, or a standalone module)', { file });
  if (values.renumber) {
    writeOutputFile(values.output as string, toSplitAppearance(own, base));
  } else {
    const r = splitOnBase(own, base);
    writeOutputFile(values.output as string, r.bytes);
    printError(`btfkit: ${r.kept} types kept in the split BTF, ${r.mappedToBase} mapped onto base types\n`);
  }
  return 0;
}

export async function merge(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    force: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    dedup: { type: 'boolean', default: false },
  });
  if (positionals.length === 0) throw new UsageError('merge needs at least one module');
  if (!values.output) throw new UsageError('merge needs -o OUT');
  const base = loadBtfFile((values.base as string | undefined) ?? SYSFS_VMLINUX);
  // Many modules are checked on a second thread while this one merges (see background-check.ts);
  // a few are checked in line, which costs less than starting a thread.
  const force = values.force as boolean;
  const background = !force && positionals.length >= BACKGROUND_CHECK_MIN ? checkModulesInBackground(base, positionals) : undefined;
  const checked = <T>(work: () => T): Promise<T> => settleAfterChecks(background, work);
  const modules = await checked(() => positionals.map((file, index) => atModule(index, () => {
    const sections = readModule(file);
    if (!background) refuseMismatch(sections, base, file, force);
    return { name: moduleNameOf(file), btf: loadModuleBtf(sections, base, file) };
  })));
  if (values.dedup) {
    // Merged and deduplicated in one pass: the merged blob is never written.
    const d = await checked(() => dedupModules(base, modules));
    await everyModuleAccepted(background);
    writeOutputFile(values.output as string, d.bytes);
    const counts = { inputTypes: d.inputTypes, outputTypes: d.outputTypes };
    if (values.json) return printing(0, () => print(JSON.stringify(counts) + '\n'));
    printError(`btfkit: ${modules.length} modules, ${counts.inputTypes} types merged, ${counts.outputTypes} after dedup\n`);
    return 0;
  }
  const r = await checked(() => mergeModules(base, modules));
  await everyModuleAccepted(background);
  writeOutputFile(values.output as string, r.bytes);
  if (values.json) return printing(0, () => print(JSON.stringify(r.modules) + '\n'));
  for (const m of r.modules) printError(`${m.name}: ids ${m.firstId}..${m.endId - 1} (were ${m.originalFirstId}..${m.originalFirstId + m.endId - m.firstId - 1})\n`);
  return 0;
}

/** Writing a module's types out only makes sense on the base it was built for. */
export function refuseMismatch(module: Uint8Array | ModuleSections, base: Btf, file: string, force: boolean): void {
  if (force) return;
  const r = checkSplit(module, base, { file, maxEvidence: 1 });
  if (r.verdict === 'mismatched') throw refusal(r.summary, file);
}

/** From how many modules on `merge` checking on a second thread pays for starting it (~50 ms). */
const BACKGROUND_CHECK_MIN = 64;

/** An error while reading or loading module `index`, to be weighed against the checks of the modules before it. */
class ModuleFailure {
  constructor(readonly index: number, readonly error: unknown) {}
}

function atModule<T>(index: number, work: () => T): T {
  try {
    return work();
  } catch (e) {
    throw new ModuleFailure(index, e);
  }
}

/**
 * Runs `work`; when it fails while checks run in the background, the command fails as it would
 * had every module been checked before it was read: with the first problem in module order (a
 * check's refusal of module i comes before a failure to read or load module i or a later one,
 * and before any failure of the merge itself).
 */
async function settleAfterChecks<T>(checks: BackgroundChecks | undefined, work: () => T): Promise<T> {
  try {
    return work();
  } catch (e) {
    const failedAt = e instanceof ModuleFailure ? e.index : Infinity;
    const problem = await checks?.firstProblem();
    if (problem && problem.index <= failedAt) throw problem.error;
    throw e instanceof ModuleFailure ? e.error : e;
  }
}

/** Waits for the background checks; throws the first module's refusal. */
async function everyModuleAccepted(checks: BackgroundChecks | undefined): Promise<void> {
  const problem = await checks?.firstProblem();
  if (problem) throw problem.error;
}

export function find(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    kind: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length === 0) throw new UsageError('find takes a NAME and optionally module files');
  const [name, ...files] = positionals as [string, ...string[]];
  const kindText = values.kind as string | undefined;
  const kind = kindText === undefined ? undefined : kindFromName(kindText);
  if (kindText !== undefined && kind === undefined) {
    throw new UsageError(`unknown kind '${kindText}' (one of ${KIND_NAMES.slice(1).map((k) => k.toLowerCase()).join(', ')})`);
  }
  const { set, searched } = typeSetOf(files, values.base as string | undefined);
  const hits = set.find(name, kind);
  if (hits.length === 0) printError(`btfkit: no ${kind === undefined ? 'type' : kindName(kind)} named '${name}' in ${searched}\n`);
  return printing(hits.length ? 0 : 1, () => {
    if (values.json) {
      print(JSON.stringify(hits.map((h) => ({ module: h.module, id: h.id, kind: kindName(h.kind) }))) + '\n');
    } else {
      for (const h of hits) print(`${h.module}\t[${h.id}] ${kindName(h.kind)} '${name}'\n`);
    }
  });
}
