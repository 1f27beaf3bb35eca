import { dumpJson, dumpRaw } from '../dump/raw.js';
import { dumpC, resolveRoot } from '../dump/c/index.js';
import { loadBtfFile, SYSFS_VMLINUX } from '../node/files.js';
import { parse, UsageError } from './args.js';
import { stdoutSink } from './output.js';
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
  const file = positionals[0] ?? SYSFS_VMLINUX;
  tuneForShortRun();
  const btf = loadBtfFile(file, { base: values.base as string | undefined });
  const roots = multi.root?.map((r) => resolveRoot(btf, r));
  const sink = stdoutSink();
  if (format === 'json') dumpJson(btf, sink, { ids: roots });
  else if (format === 'c') dumpC(btf, sink, { sorted: !values.unsorted, roots });
  else dumpRaw(btf, sink, { ids: roots });
  sink.flush();
  return 0;
}
