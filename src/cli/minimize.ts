import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TypeSet } from '../btf/typeset.js';
import { minimizeBtf, type MinimizedBtf } from '../core/minimize.js';
import { readInput, SYSFS_BTF_DIR } from '../node/files.js';
import { KernelBtf } from '../node/sysfs.js';
import { CommandError, parse, UsageError } from './args.js';
import { loadInput } from './inputs.js';
import { printError, warn, writeOutputFile } from './output.js';

/** `btfkit minimize OBJ... [--target BTF|DIR] -o OUT [--split]`: bpftool's gen min_core_btf, modules included. */
export function minimize(args: string[]): number {
  const { values, positionals } = parse(args, {
    target: { type: 'string' },
    output: { type: 'string', short: 'o' },
    split: { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UsageError('minimize needs at least one BPF object');
  if (!values.output) throw new UsageError('minimize needs -o OUT');
  const out = values.output as string;
  const targetPath = (values.target as string | undefined) ?? SYSFS_BTF_DIR;
  const target = isDirectory(targetPath) ? new KernelBtf(targetPath).typeSet() : new TypeSet(loadInput(targetPath, undefined));
  // Whole objects: instructions and relocations too, not only the .BTF sections.
  const objects = positionals.map((file) => ({ bytes: readInput(file, { wholeElf: true }), file }));
  const split = values.split === true;
  const min = minimizeBtf(objects, target, { layout: split ? 'split' : 'standalone' });
  if (split) {
    try {
      mkdirSync(out, { recursive: true });
    } catch (e) {
      throw new CommandError(`cannot create the folder ${out}: ${(e as Error).message}`);
    }
    writeOutputFile(join(out, 'vmlinux'), min.vmlinux);
    for (const m of min.modules) writeOutputFile(join(out, m.name), m.bytes);
  } else {
    writeOutputFile(out, min.vmlinux);
  }
  for (const clash of min.clashes) warn(`${clash}: kept from both, one blob makes each a CO-RE candidate for the other's relocations (--split keeps them apart)`);
  printError(`btfkit: ${summary(min, positionals.length)}\n`);
  return 0;
}

function summary(min: MinimizedBtf, objects: number): string {
  const from = [...min.ids].filter(([, ids]) => ids.size > 0).map(([name, ids]) => `${ids.size} from ${name}`);
  return `${min.relocations} CO-RE relocations in ${objects} object(s): kept ${min.types} types (${from.join(', ') || 'none'}), ${min.members} members`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
