import { BtfError } from '../errors.js';
import type { Btf } from '../btf/btf.js';
import { dumpJson, dumpRaw } from '../dump/raw.js';
import { dumpC } from '../dump/c/index.js';
import { loadBtfFile, SYSFS_VMLINUX } from '../node/files.js';
import { parse, UsageError } from './args.js';
import { stdoutSink } from './output.js';

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
  const btf = loadBtfFile(file, { base: values.base as string | undefined });
  const roots = multi.root?.map((r) => resolveRoot(btf, r));
  const sink = stdoutSink();
  if (format === 'json') dumpJson(btf, sink, { ids: roots });
  else if (format === 'c') dumpC(btf, sink, { sorted: !values.unsorted, roots });
  else dumpRaw(btf, sink, { ids: roots });
  sink.flush();
  return 0;
}

/** A root given as an id or a type name; a name must be unique (else say which ids carry it). */
function resolveRoot(btf: Btf, root: string): number {
  if (/^\d+$/.test(root)) {
    const id = Number(root);
    if (!btf.has(id)) throw new BtfError('bad-type-id', `--root ${root}: no type with that id (ids run from 1 to ${btf.endId - 1})`);
    return id;
  }
  const m = /^(struct|union|enum|typedef)\s+(.+)$/.exec(root);
  const name = m ? m[2]! : root;
  let ids = btf.find(name);
  if (m) {
    const kinds: Record<string, number[]> = { struct: [4], union: [5], enum: [6, 19], typedef: [8] };
    ids = ids.filter((id) => kinds[m[1]!]!.includes(btf.kind(id)));
  }
  if (ids.length === 0) throw new BtfError('bad-input', `--root ${root}: no type of that name`);
  if (ids.length > 1) throw new BtfError('bad-input', `--root ${root}: ${ids.length} types have that name (ids ${ids.slice(0, 10).join(', ')}); give an id or 'struct NAME'`);
  return ids[0]!;
}
