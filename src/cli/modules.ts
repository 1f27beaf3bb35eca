import { BtfError } from '../errors.js';
import type { Btf } from '../btf/btf.js';
import { KIND_NAMES, kindFromName, kindName } from '../format/kinds.js';
import { moduleNameOf } from '../elf/compress.js';
import { defaultBasePath, loadBtfFile, readInput, readModule, SYSFS_VMLINUX } from '../node/files.js';
import { checkSplit, selfContained } from '../split/check.js';
import { loadModuleBtf, type ModuleSections } from '../split/load.js';
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
  const sections = readModule(file);
  refuseMismatch(sections, base, file, values.force as boolean);
  const mod = loadModuleBtf(sections, base, file);
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

export function merge(args: string[]): number {
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
  const modules = positionals.map((file) => {
    const sections = readModule(file);
    refuseMismatch(sections, base, file, values.force as boolean);
    return { name: moduleNameOf(file), btf: loadModuleBtf(sections, base, file) };
  });
  if (values.dedup) {
    // Merged and deduplicated in one pass: the merged blob is never written.
    const d = dedupModules(base, modules);
    writeOutputFile(values.output as string, d.bytes);
    const counts = { inputTypes: d.inputTypes, outputTypes: d.outputTypes };
    if (values.json) return printing(0, () => print(JSON.stringify(counts) + '\n'));
    printError(`btfkit: ${modules.length} modules, ${counts.inputTypes} types merged, ${counts.outputTypes} after dedup\n`);
    return 0;
  }
  const r = mergeModules(base, modules);
  writeOutputFile(values.output as string, r.bytes);
  if (values.json) return printing(0, () => print(JSON.stringify(r.modules) + '\n'));
  for (const m of r.modules) printError(`${m.name}: ids ${m.firstId}..${m.endId - 1} (were ${m.originalFirstId}..${m.originalFirstId + m.endId - m.firstId - 1})\n`);
  return 0;
}

/** Writing a module's types out only makes sense on the base it was built for. */
export function refuseMismatch(module: Uint8Array | ModuleSections, base: Btf, file: string, force: boolean): void {
  if (force) return;
  const r = checkSplit(module, base, { file, maxEvidence: 1 });
  if (r.verdict === 'mismatched') {
    throw new BtfError('bad-base', `does not match this base (${r.summary}); see 'btfkit check', or pass --force`, { file });
  }
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
