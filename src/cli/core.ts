import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Btf } from '../btf/btf.js';
import { TypeSet } from '../btf/typeset.js';
import { coreQueries, relocateObject, type ObjectCoreRelocation } from '../core/object.js';
import { parseBpfObject } from '../bpf/object.js';
import { CoreKind, coreKindName } from '../core/kinds.js';
import { moduleNameOf } from '../elf/compress.js';
import { loadBtfFile, readInput, SYSFS_BTF_DIR } from '../node/files.js';
import { KernelBtf } from '../node/sysfs.js';
import { loadModuleBtf } from '../split/load.js';
import { parse, UsageError } from './args.js';
import { print, printing, writeOutputFile } from './output.js';

/** Exit code when some relocation was poisoned or failed (every one is still printed). */
export const EXIT_UNRESOLVED = 5;

interface Target { label: string; set: TypeSet }

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The targets of `btfkit core`: each --target a vmlinux BTF (raw or ELF) or a folder laid out
 * like /sys/kernel/btf; with --base, the --target files are modules on that base, all of them
 * one target; with neither, the running kernel.
 */
function targetsOf(targets: string[], basePath: string | undefined): Target[] {
  if (basePath !== undefined) {
    const base = loadBtfFile(basePath);
    const modules = targets.map((f) => [moduleNameOf(f), () => loadModuleBtf(readInput(f), base, f)] as [string, () => Btf]);
    return [{ label: targets.length ? `${basePath} + ${targets.join(', ')}` : basePath, set: new TypeSet(base, modules) }];
  }
  if (targets.length === 0) return [{ label: SYSFS_BTF_DIR, set: new KernelBtf().typeSet() }];
  return targets.map((t) => ({ label: t, set: isDirectory(t) ? new KernelBtf(t).typeSet() : new TypeSet(loadBtfFile(t)) }));
}

/** A value for JSON: a number where it is exact, else its decimal text. */
function jsonValue(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** One relocation as `btfkit core --json` writes it (schema in docs/CORE.md). */
function relocationJson(r: ObjectCoreRelocation): unknown {
  const d = r.decision;
  return {
    section: r.section,
    insnOffset: r.insnOffset,
    kind: coreKindName(d.record.kind),
    local: { id: d.record.typeId, name: d.local.name, access: d.record.access, spec: d.local.spec },
    target: d.target ? { btf: d.target.btf, id: d.target.typeId, spec: d.target.spec } : null,
    candidates: d.candidates,
    result: r.result,
    patches: r.patch.patches.map((p) => ({ field: p.field, from: jsonValue(p.from), to: jsonValue(p.to) })),
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
  };
}

/** One line a person can act on. */
function relocationLine(r: ObjectCoreRelocation): string {
  const d = r.decision;
  const where = `${r.section}+0x${r.insnOffset.toString(16)}`;
  const local = d.local.spec || `[${d.record.typeId}] access ${d.record.access}`;
  const head = `${where} ${coreKindName(d.record.kind)} ${local}`;
  if (r.result === 'error') return `${head}: error: ${r.reason}\n`;
  if (r.result === 'poisoned') {
    const why = d.target
      ? `${d.target.btf} ${d.target.spec}: ${r.reason ?? 'cannot be patched'}`
      : r.reason ?? `${d.candidates.considered} candidate${d.candidates.considered === 1 ? '' : 's'}, none matched`;
    return `${head}: poisoned (${why})\n`;
  }
  const target = d.target
    ? `${d.target.btf} ${d.target.spec}`
    : d.record.kind === CoreKind.TypeIdLocal ? 'the object itself' : `not found (${d.candidates.considered} candidate${d.candidates.considered === 1 ? '' : 's'})`;
  const patches = r.patch.patches.map((p) => `${p.field} ${p.from} → ${p.to}`).join(', ');
  return `${head} → ${target}${patches ? `: ${patches}` : ''}\n`;
}

/** `btfkit core OBJ... [--target BTF|DIR]... [--base BASE] [--json] [-o OUT]`. */
export function core(args: string[]): number {
  const { values, positionals, multi } = parse(args, {
    target: { type: 'string', multiple: true },
    base: { type: 'string' },
    json: { type: 'boolean', default: false },
    output: { type: 'string', short: 'o' },
  });
  if (positionals.length === 0) throw new UsageError('core takes one or more BPF object files');
  const targets = targetsOf(multi.target ?? [], values.base as string | undefined);
  const out = values.output as string | undefined;
  if (out !== undefined && (positionals.length !== 1 || targets.length !== 1)) {
    throw new UsageError('-o OUT writes one relocated object: give one object and one target');
  }
  const runs: { file: string; target: string; relocations: ObjectCoreRelocation[]; patched: Uint8Array }[] = [];
  // Instructions and relocations too, not only the .BTF sections.
  const inputs = positionals.map((file) => ({ file, bytes: readInput(file, { wholeElf: true }) }));
  // Every object's local types looked up in one pass over each kernel.
  const queries = coreQueries(inputs.map(({ file, bytes }) => parseBpfObject(bytes, { file })));
  for (const target of targets) target.set.prefetchCoreCandidates(queries);
  for (const { file, bytes } of inputs) {
    for (const target of targets) {
      const r = relocateObject(bytes, target.set, { file });
      runs.push({ file, target: target.label, relocations: r.relocations, patched: r.patched });
    }
  }
  if (out !== undefined) writeOutputFile(out, runs[0]!.patched);
  const unresolved = runs.some((run) => run.relocations.some((r) => r.result !== 'patched'));
  return printing(unresolved ? EXIT_UNRESOLVED : 0, () => {
    if (values.json) {
      print(JSON.stringify(runs.map((run) => ({ file: run.file, target: run.target, relocations: run.relocations.map(relocationJson) }))) + '\n');
      return;
    }
    for (const run of runs) {
      const count = (what: string) => run.relocations.filter((r) => r.result === what).length;
      print(`# ${basename(run.file)} on ${run.target}: ${run.relocations.length} relocations, ${count('patched')} patched, ${count('poisoned')} poisoned, ${count('error')} failed\n`);
      for (const r of run.relocations) print(relocationLine(r));
    }
  });
}
