import { WireKind as Kind } from '../../format/kinds.js';
import { Rec } from '../../format/records.js';
import type { CContext } from './context.js';
import { writeDecl } from './decl.js';

/** What bpftool writes before the types: include guard, CO-RE pragma, kfunc attribute macros. */
export const C_PRELUDE = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif

#ifndef __weak
#define __weak __attribute__((weak))
#endif

#ifndef __bpf_fastcall
#if __has_attribute(bpf_fastcall)
#define __bpf_fastcall __attribute__((bpf_fastcall))
#else
#define __bpf_fastcall
#endif
#endif

`;

/** What bpftool writes after the types. */
export const C_EPILOGUE = `#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
`;

/** The declaration tag the kernel puts on functions BPF programs may call. */
export const KFUNC_TAG = 'bpf_kfunc';
/** The declaration tag on kfuncs that follow the bpf_fastcall convention. */
export const FASTCALL_TAG = 'bpf_fastcall';

/**
 * The functions tagged `bpf_kfunc` (a DECL_TAG on the function itself), sorted by name so the
 * section does not move with type ids; functions with the same name keep id order.
 */
export function kfuncIds(ctx: CContext): { kfuncs: number[]; fastcall: Set<number> } {
  const t = ctx.table;
  const kfuncs: number[] = [];
  const fastcall = new Set<number>();
  for (let id = 1; id < t.count; id++) {
    // component_idx is an i32 read as a u32: -1 (the tag is on the whole function) is 0xffffffff.
    if (t.kind[id] !== Kind.DeclTag || t.words[t.first[id]! + Rec.DECL_TAG_COMPONENT_IDX_WORD] !== 0xffffffff) continue;
    const fn = t.ref[id]!;
    if (t.kind[fn] !== Kind.Func) continue;
    const tag = t.nameOff[id]!;
    if (t.equalsAt(tag, KFUNC_TAG)) kfuncs.push(fn);
    else if (t.equalsAt(tag, FASTCALL_TAG)) fastcall.add(fn);
  }
  const names = kfuncs.map((id) => t.name(id));
  const order = kfuncs.map((_, i) => i);
  order.sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  return { kfuncs: order.map((i) => kfuncs[i]!), fastcall };
}

/**
 * The kfunc prototypes, `extern` and weak so a program still loads on a kernel without them,
 * behind `BPF_NO_KFUNC_PROTOTYPES` for programs that declare their own.
 */
export function writeKfuncs(ctx: CContext): void {
  const out = ctx.out;
  const t = ctx.table;
  out.put('\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n');
  const { kfuncs, fastcall } = kfuncIds(ctx);
  for (const fn of kfuncs) {
    out.put(fastcall.has(fn) ? 'extern __bpf_fastcall ' : 'extern ');
    writeDecl(ctx, t.ref[fn]!, t.nameOff[fn]!, 0);
    out.put(' __weak __ksym;\n');
  }
  out.put('#endif\n\n');
}
