import { dumpJson, dumpRaw } from '../dump/raw.js';
import { dumpC, resolveRoot } from '../dump/c/index.js';
import { SYSFS_VMLINUX } from '../node/files.js';
import { parse, UsageError } from './args.js';
import { loadInput } from './inputs.js';
import { printing, stdoutSink } from './output.js';
import { tuneForShortRun } from './tuning.js';

export function dump(args: string[]): number {
  const { values, positionals, multi } = parse(args, {
    base: { type: 'string' },
    format: { type: 'string', default: 'raw' },
    unsorted: { type: 'boolean', default: false },
    root: { type: 'string', multiple: true },
  });
  if (positionals.length > 1) throw new UsageError('dump takes one FILE');
  const format = values.format as string;
  if (format !== 'raw' && format !== 'json' && format !== 'c') throw new UsageError(`unknown format '${format}' (raw, json or c)`);
  if (values.unsorted && format !== 'c') throw new UsageError('--unsorted applies to --format c only');
  for (const root of multi.root ?? []) {
    // bpftool v7.8 takes root_id 0 and prints `[0] UNKNOWN '(anon)'` (raw) or nothing (c) for
    // it, which only hides the mistake.
    if (/^\s*(0x0*|0+)\s*$/i.test(root)) throw new UsageError('--root 0 is void, not a type: type ids start at 1');
  }
  const file = positionals[0] ?? SYSFS_VMLINUX;
  tuneForShortRun();
  const btf = loadInput(file, values.base as string | undefined);
  const roots = multi.root?.map((r) => resolveRoot(btf, r));
  const sink = stdoutSink();
  return printing(0, () => {
    if (format === 'json') dumpJson(btf, sink, { ids: roots });
    else if (format === 'c') dumpC(btf, sink, { sorted: !values.unsorted, roots });
    else dumpRaw(btf, sink, { ids: roots });
    sink.flush();
  });
}
