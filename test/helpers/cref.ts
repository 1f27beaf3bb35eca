import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

// bpftool 7.1 (Debian 12) as an oracle for unsorted headers: what it writes differs from v7.8
// only by the prelude, the kfunc section and the mode attributes of enums.

export function haveBpftool(): boolean {
  return spawnSync('bpftool', ['version'], { encoding: 'utf8' }).status === 0;
}

/** bpftool 7.1's prelude: the include guard and the CO-RE pragma, nothing else. */
const PRELUDE_71 = '#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n';

/**
 * The type definitions of a v7.8-style header, in the form bpftool 7.1 (libbpf 1.1) writes them:
 * without the kfunc section and the `mode(byte)`/`mode(word)` attributes, which came later.
 */
export function bodyAs71(text: string): string {
  assert.ok(text.startsWith(C_PRELUDE));
  const end = text.indexOf('\n/* BPF kfuncs */\n');
  assert.ok(end >= 0, 'kfunc section');
  return text.slice(C_PRELUDE.length, end).replace(/ __attribute__\(\(mode\((byte|word)\)\)\)/g, '');
}

export function body71(text: string): string {
  assert.ok(text.startsWith(PRELUDE_71) && text.endsWith(C_EPILOGUE), 'bpftool 7.1 prelude and epilogue');
  return text.slice(PRELUDE_71.length, text.length - C_EPILOGUE.length);
}
