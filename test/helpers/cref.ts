import type { Btf } from '../../src/btf/btf.js';
import { ByteSink } from '../../src/dump/sink.js';
import { C_EPILOGUE, C_PRELUDE, sortedTypeIds, TypeTable } from '../../src/dump/c/index.js';
import { CContext, CText } from '../../src/dump/c/context.js';
import { dumpType } from '../../src/dump/c/order.js';
import { writeKfuncs } from '../../src/dump/c/prelude.js';

/**
 * The sorted header the slow way, as bpftool v7.8 writes it: every type in the fully sorted
 * order (hash and id breaking every tie), from the second entry on, then the kfuncs. dumpC
 * sorts only what can show (hashes for some runs, the last rank hardly at all); its output
 * must equal this.
 */
export function referenceSortedHeader(btf: Btf): Uint8Array {
  const table = new TypeTable(btf);
  const sink = new ByteSink();
  const ctx = new CContext(table, new CText(sink, 1 << 30));
  ctx.out.put(C_PRELUDE);
  const order = sortedTypeIds(table);
  for (let i = 1; i < order.length; i++) dumpType(ctx, order[i]!);
  writeKfuncs(ctx);
  ctx.out.put(C_EPILOGUE);
  return sink.toBytes();
}
