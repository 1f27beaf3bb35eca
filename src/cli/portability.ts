import { basename } from 'node:path';
import { checkPortability, type PortabilityFinding, type PortabilityResult } from '../load/portability.js';
import { readInput, SYSFS_BTF_DIR } from '../node/files.js';
import { kernelTargets, type KernelTarget } from '../node/kernels.js';
import { parse, UsageError } from './args.js';
import { print, printing } from './output.js';

/** Exit code when some object would not load on some kernel (everything is still printed). */
export const EXIT_DOES_NOT_LOAD = 5;

interface Cell { file: string; target: string; result: PortabilityResult }

function where(f: PortabilityFinding): string {
  const fn = f.program !== null ? ` ${f.program}` : '';
  const insn = f.insn !== null ? ` insn ${f.insn}` : '';
  return `${f.kind} ${f.section}${fn}${insn}`;
}

/** The text table: one row per object, one column per kernel, then the first reason of each failing cell. */
function printTable(files: string[], targets: KernelTarget[], cells: Cell[]): void {
  const names = files.map((f) => basename(f));
  const cellText = (c: Cell) => {
    const fatal = c.result.findings.filter((f) => f.fatal).length;
    return fatal === 0 ? 'ok' : `${fatal} problem${fatal === 1 ? '' : 's'}`;
  };
  const header = ['', ...targets.map((_, k) => `[${k + 1}]`)];
  const rows = files.map((file, o) => [names[o]!, ...targets.map((_, k) => cellText(cells[o * targets.length + k]!))]);
  const widths = header.map((h, col) => Math.max(h.length, ...rows.map((r) => r[col]!.length)));
  const line = (r: string[]) => r.map((v, col) => (col === r.length - 1 ? v : v.padEnd(widths[col]!))).join('  ').trimEnd() + '\n';
  targets.forEach((t, k) => print(`[${k + 1}] ${t.label}\n`));
  print(line(header));
  for (const r of rows) print(line(r));
  const failing = cells.filter((c) => !c.result.ok);
  if (failing.length) print('\n');
  for (const c of failing) {
    const k = targets.findIndex((t) => t.label === c.target) + 1;
    const first = c.result.findings.find((f) => f.fatal)!;
    print(`${basename(c.file)} on [${k}]: ${where(first)}: ${first.reason}\n`);
  }
}

/** `btfkit portability OBJ... [--target BTF|DIR]... [--json]`. */
export function portability(args: string[]): number {
  const { values, positionals, multi } = parse(args, {
    target: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length === 0) throw new UsageError('portability takes one or more BPF object files');
  const given = multi.target ?? [];
  const targets = given.length ? given.flatMap((t) => kernelTargets(t)) : kernelTargets(SYSFS_BTF_DIR);
  const cells: Cell[] = [];
  for (const file of positionals) {
    const bytes = readInput(file, { wholeElf: true });
    for (const target of targets) cells.push({ file, target: target.label, result: checkPortability(bytes, target.set, { file }) });
  }
  const allOk = cells.every((c) => c.result.ok);
  return printing(allOk ? 0 : EXIT_DOES_NOT_LOAD, () => {
    if (values.json) {
      print(JSON.stringify(cells.map((c) => ({ file: c.file, target: c.target, ...c.result }))) + '\n');
      return;
    }
    printTable(positionals, targets, cells);
  });
}
